// A brindlectl test fixture: a private embedded store in a temp directory, selected with a
// --config file, and a way to run commands in-process and capture their output.
#pragma once

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "cli/app.h"
#include "testutil/temp_dir.h"

namespace brindle::cli {

struct RunResult {
  int code = 0;
  std::string out;
  std::string err;
};

class CliFixture : public ::testing::Test {
 protected:
  CliFixture() {
    config_ = dir_.write("brindlectl.cfg",
                         "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\n"
                         "spec:\n  datastoreType: local\n  storePath: " +
                             dir_.file("store.db") + "\n");
  }

  // Runs brindlectl against the fixture's store.
  RunResult run(std::vector<std::string> args, const std::string& stdinText = "") {
    args.insert(args.begin(), {"--config", config_});
    return runRaw(args, stdinText);
  }

  // Runs brindlectl with exactly `args` (no --config added) and an empty environment.
  RunResult runRaw(const std::vector<std::string>& args, const std::string& stdinText = "") {
    std::istringstream in(stdinText);
    std::ostringstream out, err;
    Io io{in, out, err, {}};
    RunResult r;
    r.code = runBrindlectl(args, io);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  // Runs and expects success, returning stdout.
  std::string ok(const std::vector<std::string>& args, const std::string& stdinText = "") {
    RunResult r = run(args, stdinText);
    EXPECT_EQ(r.code, 0) << "brindlectl failed: " << r.err;
    return r.out;
  }

  static std::string example(const std::string& rel) {
    return std::string(BRINDLE_EXAMPLES_DIR) + "/" + rel;
  }

  testutil::TempDir dir_;
  std::string config_;
};

}  // namespace brindle::cli
