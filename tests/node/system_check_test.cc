// node::checkSystem on made-up kernel facts, /proc/sys and PATH: each requirement is one line,
// a missing program or required module is a FAIL naming the fix, optional ones only warn.
#include "node/system_check.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "testutil/temp_dir.h"

namespace brindle::node {
namespace {

// Every module built in (by its config option) except those named.
KernelFacts kernelWithout(const std::set<std::string>& missing) {
  KernelFacts f;
  f.release = "6.1.0-18-amd64";
  for (const auto& m : kernelModules()) {
    if (missing.count(m.name) == 0) f.kernelConfig += m.configOptions.front() + "=y\n";
  }
  return f;
}

std::string executable(const testutil::TempDir& dir, const std::string& name) {
  const std::string path = dir.write("bin/" + name, "#!/bin/sh\n");
  ::chmod(path.c_str(), 0755);
  return path;
}

const CheckLine* find(const std::vector<CheckLine>& lines, const std::string& what) {
  for (const auto& l : lines) {
    if (l.what == what) return &l;
  }
  return nullptr;
}

class SystemCheck : public ::testing::Test {
 protected:
  SystemCheck() {
    for (const char* p : {"bird", "birdc", "iptables-restore", "iptables-save", "ip6tables-restore",
                          "ip6tables-save", "ipset", "nft", "ip", "modprobe"}) {
      executable(dir_, p);
    }
    in_.path = "/nonexistent:" + dir_.file("bin");
    in_.procSys = dir_.file("sys");
    dir_.write("sys/net/ipv4/ip_forward", "1\n");
    dir_.write("sys/net/ipv6/conf/all/forwarding", "1\n");
    dir_.write("sys/net/netfilter/nf_conntrack_max", "262144\n");
    in_.kernel = kernelWithout({});
    in_.ipipNeeded = false;
  }

  std::vector<CheckLine> check() { return checkSystem(in_, runner_); }

  testutil::TempDir dir_;
  SystemInputs in_;
  os::ProcessRunner runner_;
};

TEST_F(SystemCheck, AllPresentIsAllOk) {
  const auto lines = check();
  for (const auto& l : lines) EXPECT_EQ(l.level, CheckLevel::kOk) << l.what << ": " << l.detail;
  EXPECT_FALSE(anyFailed(lines));
  ASSERT_NE(find(lines, "bird"), nullptr);
  EXPECT_EQ(find(lines, "bird")->detail, dir_.file("bin/bird"));
  ASSERT_NE(find(lines, "kernel 6.1.0-18-amd64"), nullptr);
  ASSERT_NE(find(lines, "module xt_set"), nullptr);
  EXPECT_EQ(find(lines, "module xt_set")->detail, "built in");
  const std::string text = formatChecks(lines);
  EXPECT_NE(text.find("OK   bird: " + dir_.file("bin/bird") + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("System meets the requirements"), std::string::npos) << text;
}

TEST_F(SystemCheck, MissingBirdFailsWithTheFix) {
  std::remove(dir_.file("bin/bird").c_str());
  const auto lines = check();
  EXPECT_TRUE(anyFailed(lines));
  const std::string text = formatChecks(lines);
  EXPECT_NE(text.find("FAIL bird: not found on PATH (BGP daemon): apt-get install bird2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("1 check(s) failed"), std::string::npos) << text;
}

TEST_F(SystemCheck, OptionalThingsOnlyWarn) {
  std::remove(dir_.file("bin/modprobe").c_str());
  std::remove(dir_.file("sys/net/ipv6/conf/all/forwarding").c_str());
  dir_.write("sys/net/ipv4/ip_forward", "0\n");
  in_.kernel = kernelWithout({"ip6_tables", "ipip"});
  const auto lines = check();
  EXPECT_FALSE(anyFailed(lines)) << formatChecks(lines);
  for (const char* what : {"modprobe", "sysctl net.ipv6.conf.all.forwarding",
                           "sysctl net.ipv4.ip_forward", "module ip6_tables", "module ipip"}) {
    ASSERT_NE(find(lines, what), nullptr) << what;
    EXPECT_EQ(find(lines, what)->level, CheckLevel::kWarn) << what;
  }
  EXPECT_NE(find(lines, "module ipip")->detail.find("none does"), std::string::npos);
  EXPECT_NE(find(lines, "sysctl net.ipv4.ip_forward")->detail.find("node run sets it"),
            std::string::npos);

  // Pools unknown: still a warning, saying why.
  in_.ipipNeeded.reset();
  in_.poolsError = "etcd unavailable";
  auto unknown = check();
  EXPECT_EQ(find(unknown, "module ipip")->level, CheckLevel::kWarn);
  EXPECT_NE(find(unknown, "module ipip")->detail.find("could not be read: etcd unavailable"),
            std::string::npos);

  // A pool uses IPIP: now ipip is required.
  in_.ipipNeeded = true;
  auto needed = check();
  EXPECT_EQ(find(needed, "module ipip")->level, CheckLevel::kFail);
  EXPECT_NE(find(needed, "module ipip")->detail.find("CONFIG_NET_IPIP"), std::string::npos);
}

TEST_F(SystemCheck, RequiredModuleAndOldKernelFail) {
  in_.kernel = kernelWithout({"xt_set"});
  in_.kernel.release = "2.6.18-old";
  const auto lines = check();
  ASSERT_NE(find(lines, "module xt_set"), nullptr);
  EXPECT_EQ(find(lines, "module xt_set")->level, CheckLevel::kFail);
  ASSERT_NE(find(lines, "kernel 2.6.18-old"), nullptr);
  EXPECT_EQ(find(lines, "kernel 2.6.18-old")->level, CheckLevel::kFail);
}

TEST(KernelVersion, ComparesLeadingNumbers) {
  EXPECT_EQ(compareKernelVersions("2.6.24", "2.6.24"), 0);
  EXPECT_EQ(compareKernelVersions("2.6.24-1-generic", "2.6.24"), 0);
  EXPECT_EQ(compareKernelVersions("2.6.9", "2.6.24"), -1);
  EXPECT_EQ(compareKernelVersions("3.0", "2.6.24"), 1);
  EXPECT_EQ(compareKernelVersions("6.18.44-fc-v1272", "2.6.24"), 1);
  EXPECT_EQ(compareKernelVersions("2.6", "2.6.24"), -1);
}

TEST(FindOnPath, FirstExecutableInOrder) {
  testutil::TempDir a, b;
  executable(b, "tool");
  a.write("bin/tool", "not executable");
  const std::string path = a.file("bin") + ":" + b.file("bin");
  EXPECT_EQ(findOnPath("tool", path), b.file("bin/tool"));
  executable(a, "tool");
  EXPECT_EQ(findOnPath("tool", path), a.file("bin/tool"));
  EXPECT_EQ(findOnPath("other", path), "");
  EXPECT_EQ(findOnPath("tool", ""), "");
}

}  // namespace
}  // namespace brindle::node
