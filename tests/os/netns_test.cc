// runInNetns: the function runs inside the namespace (named or by path), the caller's thread
// never leaves its own, and a missing namespace is kNotFound.
#include "os/netns.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "dataplane/netns_fixture.h"

namespace brindle::os {
namespace {

std::string threadNetns() {
  return std::filesystem::read_symlink("/proc/thread-self/ns/net").string();
}

TEST(OsNetnsTest, NamesAndPaths) {
  EXPECT_EQ(netnsPath("blue"), "/var/run/netns/blue");
  EXPECT_EQ(netnsPath("/proc/1/ns/net"), "/proc/1/ns/net");
}

TEST(OsNetnsTest, MissingNamespaceIsNotFound) {
  bool ran = false;
  Status s = runInNetns("brindle-no-such-netns", [&] {
    ran = true;
    return Status::ok();
  });
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.message().rfind("network namespace brindle-no-such-netns: ", 0), 0u) << s.message();
  EXPECT_FALSE(ran);
  EXPECT_EQ(openNetns("/nonexistent/ns").code(), ErrorCode::kNotFound);
}

TEST(OsNetnsTest, RunsOnAThreadInsideTheNamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  dataplane::testing::TestNetns ns;
  const std::string own = threadNetns();
  for (const std::string& name : {ns.name(), netnsPath(ns.name())}) {
    std::string seen;
    Status s = runInNetns(name, [&] {
      seen = threadNetns();
      return makeError(ErrorCode::kConflict, "from inside");
    });
    EXPECT_EQ(s.code(), ErrorCode::kConflict);  // fn's Status comes back as it was
    EXPECT_NE(seen, own);
    EXPECT_EQ(threadNetns(), own);
  }
  std::string seen;
  ASSERT_TRUE(runInNetns("", [&] {
    seen = threadNetns();
    return Status::ok();
  }));
  EXPECT_EQ(seen, own);
}

}  // namespace
}  // namespace brindle::os
