// node::livePid: a pid file counts only while its process lives and runs the expected program
// (a pid reused after a crash is not the agent); fileTail keeps the last lines.
#include "node/agent_process.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "testutil/temp_dir.h"

namespace brindle::node {
namespace {

TEST(AgentProcess, LivePidChecksTheProcessAndItsArguments) {
  testutil::TempDir dir;
  const std::string file = dir.write("agent.pid", std::to_string(::getpid()) + "\n");
  EXPECT_EQ(livePid(file), ::getpid());
  EXPECT_EQ(livePid(file, {"--nodename", "n1"}), 0);          // this test binary is not an agent
  EXPECT_EQ(livePid(dir.write("gone.pid", "4194304\n")), 0);  // above any pid_max
  EXPECT_EQ(livePid(dir.write("junk.pid", "abc\n")), 0);
  EXPECT_EQ(livePid(dir.file("missing.pid")), 0);
}

TEST(AgentProcess, FileTail) {
  testutil::TempDir dir;
  const std::string log = dir.write("agent.log", "a\nb\nc\nd\n");
  EXPECT_EQ(fileTail(log, 2), "c\nd\n");
  EXPECT_EQ(fileTail(log, 10), "a\nb\nc\nd\n");
  EXPECT_EQ(fileTail(dir.file("none.log"), 3), "");
}

}  // namespace
}  // namespace brindle::node
