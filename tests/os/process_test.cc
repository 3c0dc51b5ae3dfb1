// ProcessRunner's parts through its one entry point: spawning (exit codes, a missing program, a
// namespace), feeding stdin while output drains, the gate, and the timeout.
#include "os/process.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "dataplane/netns_fixture.h"

namespace brindle::os {
namespace {

using namespace std::chrono_literals;

TEST(OsProcessTest, ExitCodeAndBothOutputsAreReported) {
  ProcessRunner runner;
  auto out = runner.run({{"sh", "-c", "echo out; echo err >&2; exit 3"}});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->exitCode, 3);
  EXPECT_EQ(out->out, "out\n");
  EXPECT_EQ(out->err, "err\n");
}

TEST(OsProcessTest, AnEnvironmentGivenIsTheWholeEnvironment) {
  ProcessRunner runner;
  Command env({"/usr/bin/env"});
  env.env = {"CNI_COMMAND=ADD", "B=2"};
  auto out = runner.run(env);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->out, "CNI_COMMAND=ADD\nB=2\n");
  ::setenv("BRINDLE_PROCESS_TEST", "inherited", 1);
  out = runner.run({{"env"}});
  ASSERT_TRUE(out);
  EXPECT_NE(out->out.find("BRINDLE_PROCESS_TEST=inherited\n"), std::string::npos);
}

TEST(OsProcessTest, AProgramThatCannotRunIsExitCode127) {
  ProcessRunner runner;
  auto out = runner.run({{"brindle-no-such-program"}});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->exitCode, 127);
  EXPECT_NE(out->err.find("cannot exec brindle-no-such-program"), std::string::npos) << out->err;
  EXPECT_EQ(runner.run(Command{}).code(), ErrorCode::kInvalid);
}

// 8 MiB through cat: stdin is written while stdout drains, or both sides would block on full
// pipes.
TEST(OsProcessTest, LargeInputIsFedWhileOutputDrains) {
  std::string input;
  for (int i = 0; input.size() < (8u << 20); ++i) input += "line " + std::to_string(i) + "\n";
  ProcessRunner runner;
  auto out = runner.run({{"cat"}, input});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->exitCode, 0);
  EXPECT_EQ(out->out, input);
}

TEST(OsProcessTest, GateHoldsTheRestOfTheInput) {
  ProcessRunner runner;
  Command cat({"cat"}, "first\nsecond\n");
  cat.gateAt = 6;
  int calls = 0;
  cat.gate = [&] {
    ++calls;
    return true;
  };
  auto out = runner.run(cat);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->exitCode, 0);
  EXPECT_EQ(out->out, "first\nsecond\n");
  EXPECT_EQ(calls, 1);
  // A closed gate kills the program before it reads the rest.
  cat.gate = [&] {
    ++calls;
    return false;
  };
  out = runner.run(cat);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->exitCode, 128 + 9);
  EXPECT_EQ(out->out.find("second"), std::string::npos);
  EXPECT_EQ(out->err, "stopped before its input was complete");
  EXPECT_EQ(calls, 2);
  // A program that quits without reading: the gate is still called exactly once.
  Command quit({"true"}, std::string(1 << 20, 'x'));
  quit.gateAt = 1 << 19;
  quit.gate = [&] {
    ++calls;
    return true;
  };
  out = runner.run(quit);
  ASSERT_TRUE(out);
  EXPECT_EQ(calls, 3);
}

TEST(OsProcessTest, TimeoutKillsAProgramThatRunsTooLong) {
  ProcessRunner runner;
  Command sleeper({"sleep", "30"});
  sleeper.timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  auto out = runner.run(sleeper);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->exitCode, 128 + 9);
  EXPECT_EQ(out->err, "timed out after 200 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  // A program done in time is not disturbed; the gate of a timed-out run is still called.
  Command quick({"cat"}, "fast\n");
  quick.timeout = 10s;
  out = runner.run(quick);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->exitCode, 0);
  EXPECT_EQ(out->out, "fast\n");
  bool gateCalled = false;
  Command stuck({"sleep", "30"}, std::string(1 << 20, 'x'));
  stuck.gateAt = 1 << 19;  // sleep never reads: the gate is never reached by writing
  stuck.gate = [&] { return gateCalled = true; };
  stuck.timeout = 200ms;
  out = runner.run(stuck);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->exitCode, 128 + 9);
  EXPECT_TRUE(gateCalled);
}

TEST(OsProcessTest, RunsInsideANamedNamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  dataplane::testing::TestNetns ns;
  ProcessRunner inside(ns.name());
  auto links = inside.run({{"ip", "-o", "link", "show"}});
  ASSERT_TRUE(links);
  EXPECT_EQ(links->exitCode, 0) << links->err;
  // A fresh namespace has nothing but its loopback.
  EXPECT_EQ(std::count(links->out.begin(), links->out.end(), '\n'), 1) << links->out;
  EXPECT_NE(links->out.find(": lo:"), std::string::npos) << links->out;
  auto self = [](ProcessRunner& runner) {
    auto out = runner.run({{"readlink", "/proc/self/ns/net"}});
    return out ? out->out : "";
  };
  ProcessRunner host;
  EXPECT_NE(self(inside), self(host));
  ProcessRunner missing("brindle-no-such-netns");
  EXPECT_EQ(missing.run({{"true"}}).code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace brindle::os
