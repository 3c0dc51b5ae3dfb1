// node::moduleState and isFailure on made-up /proc/modules, modules.builtin/dep and kernel
// configs: each source counts, alternatives count, '-' and '_' are one.
#include "node/kernel.h"

#include <gtest/gtest.h>

namespace brindle::node {
namespace {

const KernelModule& module(const std::string& name) {
  for (const auto& m : kernelModules()) {
    if (m.name == name) return m;
  }
  throw std::runtime_error("no module " + name);
}

TEST(KernelModules, StateFromEachSource) {
  KernelFacts f;
  f.procModules = "xt_set 16384 4 - Live 0x0\nip_set 45056 1 xt_set, Live 0x0\n";
  f.modulesBuiltin = "kernel/net/ipv4/netfilter/ip_tables.ko\n";
  f.modulesDep =
      "kernel/net/netfilter/xt_conntrack.ko.xz: kernel/net/netfilter/nf_conntrack.ko\n"
      "kernel/net/netfilter/xt_set_extra.ko: \n";
  f.kernelConfig =
      "CONFIG_NETFILTER_XT_MATCH_MULTIPORT=y\nCONFIG_NET_IPIP=m\n"
      "# CONFIG_NETFILTER_XT_MATCH_ADDRTYPE is not set\n";
  f.sysModule = {"nf_conntrack_netlink"};
  EXPECT_EQ(moduleState(module("xt_set"), f), ModuleState::kLoaded);
  EXPECT_EQ(moduleState(module("ip_set"), f), ModuleState::kLoaded);
  EXPECT_EQ(moduleState(module("nf_conntrack_netlink"), f), ModuleState::kLoaded);
  EXPECT_EQ(moduleState(module("ip_tables"), f), ModuleState::kBuiltin);
  EXPECT_EQ(moduleState(module("xt_conntrack"), f), ModuleState::kLoadable);
  EXPECT_EQ(moduleState(module("xt_multiport"), f), ModuleState::kBuiltin);
  EXPECT_EQ(moduleState(module("ipip"), f), ModuleState::kLoadable);
  EXPECT_EQ(moduleState(module("xt_addrtype"), f), ModuleState::kMissing);
}

TEST(KernelModules, AlternativesAndDashes) {
  KernelFacts f;
  f.procModules = "ipt_rpfilter 16384 0 - Live 0x0\n";
  EXPECT_EQ(moduleState(module("xt_rpfilter"), f), ModuleState::kLoaded);
  f.procModules = "";
  f.modulesDep = "kernel/net/netfilter/xt-set.ko: \n";  // not a real name, but '-' is '_'
  EXPECT_EQ(moduleState(module("xt_set"), f), ModuleState::kLoadable);
}

TEST(KernelModules, MissingIpipFailsOnlyWhenAPoolUsesIt) {
  ModuleCheck ipip{&module("ipip"), ModuleState::kMissing, ""};
  EXPECT_FALSE(isFailure(ipip, false));
  EXPECT_TRUE(isFailure(ipip, true));
  ModuleCheck v6{&module("ip6_tables"), ModuleState::kMissing, ""};
  EXPECT_FALSE(isFailure(v6, true));  // optional
  ModuleCheck set{&module("ip_set"), ModuleState::kMissing, ""};
  EXPECT_TRUE(isFailure(set, false));
  set.state = ModuleState::kBuiltin;
  EXPECT_FALSE(isFailure(set, false));
}

}  // namespace
}  // namespace brindle::node
