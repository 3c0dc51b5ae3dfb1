// Test namespaces (and two small helpers): each created with a unique "brdp-<pid>-<n>" name and always deleted (the
// destructor also runs when an assertion fails). Never touches namespaces it did not create.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "dataplane/chain.h"
#include "os/process.h"

namespace brindle::dataplane::testing {

// Runs a command on the host (or in `netns`) and returns stdout; a failure is a test failure.
inline std::string sh(const std::vector<std::string>& argv, const std::string& netns = "",
                      const std::string& input = "") {
  os::ProcessRunner runner(netns);
  auto out = runner.run({argv, input});
  EXPECT_TRUE(out && out->exitCode == 0)
      << os::commandText({argv, ""}) << ": " << (out ? out->err : out.message());
  return out ? out->out : "";
}

// Exit code only, for commands expected to fail sometimes (ping).
inline int shCode(const std::vector<std::string>& argv, const std::string& netns = "") {
  os::ProcessRunner runner(netns);
  auto out = runner.run({argv, ""});
  return out ? out->exitCode : -1;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

inline Rule rule(Match match, Action action) {
  return Rule{std::move(match), std::move(action), ""};
}

class TestNetns {
 public:
  TestNetns() {
    static std::atomic<int> counter{0};
    name_ = "brdp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    sh({"ip", "netns", "add", name_});
    sh({"ip", "link", "set", "lo", "up"}, name_);
  }
  ~TestNetns() {
    os::ProcessRunner runner;
    (void)runner.run({{"ip", "netns", "delete", name_}, ""});
  }
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

}  // namespace brindle::dataplane::testing
