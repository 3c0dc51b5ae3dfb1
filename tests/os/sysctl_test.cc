// ProcSysctlWriter and readSysctl: against a scratch root (every error path, no root needed) and
// inside a namespace, whose /proc/sys/net is its own.
#include "os/sysctl.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "dataplane/netns_fixture.h"
#include "os/netns.h"

namespace brindle::os {
namespace {

namespace fs = std::filesystem;

TEST(OsSysctlTest, WritesEverySettingAndReportsTheFirstFailure) {
  const fs::path root =
      fs::temp_directory_path() / ("brindle-sysctl-" + std::to_string(::getpid()));
  fs::create_directories(root / "net/ipv4");
  std::ofstream(root / "net/ipv4/ip_forward") << "0\n";
  std::ofstream(root / "net/ipv4/other") << "0\n";
  ProcSysctlWriter writer("", root.string());
  Status s = writer.write({{"net/ipv4/missing", "1", false},
                           {"net/ipv4/ip_forward", "1"},
                           {"net/ipv6/absent", "1", true},
                           {"net/ipv4/gone", "1", false},
                           {"net/ipv4/other", "2"}});
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.message().rfind("sysctl net/ipv4/missing: ", 0), 0u) << s.message();
  EXPECT_EQ(readSysctl("net/ipv4/ip_forward", root.string()), "1");
  EXPECT_EQ(readSysctl("net/ipv4/other", root.string()), "2");
  EXPECT_EQ(readSysctl("net/ipv4/missing", root.string()), "");
  EXPECT_TRUE(writer.write({{"net/ipv6/absent", "1", true}}));
  fs::remove_all(root);
}

TEST(OsSysctlTest, NamespaceHasItsOwnSettings) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  dataplane::testing::TestNetns ns;
  const std::string host = readSysctl("net/ipv4/conf/lo/forwarding");
  const std::string want = host == "1" ? "0" : "1";
  ProcSysctlWriter writer(ns.name());
  ASSERT_TRUE(writer.write({{"net/ipv4/conf/lo/forwarding", want}}));
  std::string inside;
  ASSERT_TRUE(runInNetns(ns.name(), [&] {
    inside = readSysctl("net/ipv4/conf/lo/forwarding");
    return Status::ok();
  }));
  EXPECT_EQ(inside, want);
  EXPECT_EQ(readSysctl("net/ipv4/conf/lo/forwarding"), host);
  EXPECT_EQ(writer.write({{"net/ipv4/conf/nosuchlink/forwarding", "1"}}).code(),
            ErrorCode::kNotFound);
}

}  // namespace
}  // namespace brindle::os
