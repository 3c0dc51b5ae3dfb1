// A brindlectl test fixture: a private store selected with a --config file, and a way to run
// commands in-process and capture their output. The store is an embedded one in a temp directory
// or, with BRINDLE_TEST_DATASTORE=etcdv3, the etcd at BRINDLE_TEST_ETCD_ENDPOINTS (else
// ETCD_ENDPOINTS) with /calico/ emptied before each test (ctest's cli_test_etcd entry does this).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "cli/app.h"
#include "config/datastore_config.h"
#include "config/open_datastore.h"
#include "datastore/etcd/etcd_client.h"
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
    const char* type = std::getenv("BRINDLE_TEST_DATASTORE");
    if (type != nullptr && std::string(type) == "etcdv3") {
      useEtcd();
      return;
    }
    config_ = dir_.write("brindlectl.cfg",
                         "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\n"
                         "spec:\n  datastoreType: local\n  storePath: " +
                             dir_.file("store.db") + "\n");
  }

  // A client of the store the fixture's config names (local or etcd).
  datastore::ClientPtr openStore() {
    auto cfg = config::loadDatastoreConfig(config_, {});
    EXPECT_TRUE(cfg.isOk()) << cfg.message();
    if (!cfg.isOk()) return nullptr;
    auto client = config::openDatastore(*cfg);
    EXPECT_TRUE(client.isOk()) << client.message();
    return client.isOk() ? std::move(client).value() : nullptr;
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

 private:
  void useEtcd() {
    const char* list = std::getenv("BRINDLE_TEST_ETCD_ENDPOINTS");
    if (list == nullptr) list = std::getenv("ETCD_ENDPOINTS");
    if (list == nullptr || *list == '\0') {
      ADD_FAILURE() << "BRINDLE_TEST_DATASTORE=etcdv3 needs BRINDLE_TEST_ETCD_ENDPOINTS";
      return;
    }
    config_ = dir_.write("brindlectl.cfg",
                         "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\n"
                         "spec:\n  datastoreType: etcdv3\n  etcdEndpoints: \"" +
                             std::string(list) + "\"\n");
    datastore::etcd::EtcdOptions options;
    std::stringstream in(list);
    for (std::string ep; std::getline(in, ep, ',');) {
      if (!ep.empty()) options.endpoints.push_back(ep);
    }
    auto client = datastore::etcd::openEtcdClient(options);
    ASSERT_TRUE(client.isOk()) << client.message();
    auto wiped = (*client)->deletePrefix("/calico/");
    ASSERT_TRUE(wiped.isOk()) << wiped.message();
  }
};

}  // namespace brindle::cli
