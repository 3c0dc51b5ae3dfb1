// DataplaneDriver against the simulators: the order of a batch (sets before rules, routes only
// after every table), per-family ipsets, interface renames and floating IPs.
#include "agent/dataplane_driver.h"

#include <gtest/gtest.h>

#include "agent/metrics.h"
#include "dataplane/testing/fake_ipset.h"
#include "dataplane/testing/fake_iptables.h"
#include "dataplane/testing/fake_route_netlink.h"
#include "rules/names.h"

namespace brindle::agent {
namespace {

using dataplane::IpVersion;
using dataplane::TableName;

Cidr cidr(const std::string& s) { return *Cidr::parse(s); }

class DriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    iptables_.setIpsetExists([this](const std::string& s) { return ipset_.has(s); });
    netlink_.addLink("cali1");
    netlink_.addLink("cali2");
    DataplaneDeps deps;
    for (auto v : {IpVersion::kV4, IpVersion::kV6}) {
      for (auto t : {TableName::kRaw, TableName::kMangle, TableName::kNat, TableName::kFilter}) {
        tables_.push_back(std::make_unique<dataplane::IptablesTable>(t, v, iptables_));
        deps.tables.push_back({v, t, tables_.back().get()});
      }
    }
    deps.ipsets = &ipsets_;
    deps.routes = &routes_;
    defineAgentMetrics(metrics_);
    deps.metrics = &metrics_;
    deps.afterApplyUntilDone = [this] {
      ++otherBackendRemovals_;
      return otherBackendRemoved_;
    };
    driver_ = std::make_unique<DataplaneDriver>(deps, rules::RendererConfig{});
  }

  calc::WorkloadEndpoint endpoint(const std::string& iface) {
    calc::WorkloadEndpoint ep;
    ep.id = "default/w1";
    ep.interfaceName = iface;
    ep.addresses = {cidr("10.65.0.1/32"), cidr("fd00::1/128")};
    ep.profileIds = {"open"};
    return ep;
  }

  void addEndpoint(const std::string& iface) {
    calc::ParsedRules open;
    open.ingress.push_back({});
    open.egress.push_back({});
    driver_->onProfileActive("open", open);
    driver_->onWorkloadEndpointUpdate(endpoint(iface));
    driver_->onRouteUpdate({cidr("10.65.0.1/32"), iface});
    driver_->onInSync();
  }

  bool hasFilterChain(IpVersion v, const std::string& chain) {
    return iptables_.hasChain(v, "filter", chain);
  }

  // Neither family has our cali-PREROUTING or a hook in `hooks` of `table`.
  void expectNothingOursIn(const std::string& table, const std::vector<std::string>& hooks) {
    for (auto v : {IpVersion::kV4, IpVersion::kV6}) {
      EXPECT_FALSE(iptables_.hasChain(v, table, "cali-PREROUTING")) << table;
      for (const auto& hook : hooks) EXPECT_TRUE(iptables_.rules(v, table, hook).empty()) << hook;
    }
  }
  // No restore so far has named `table` at all (which would have created it in the kernel).
  void expectNeverWritten(const std::string& table) {
    for (const auto& input : iptables_.restoreInputs()) {
      EXPECT_EQ(input.find("*" + table), std::string::npos) << input;
    }
  }

  int otherBackendRemovals_ = 0;     // calls of the hook that removes the other backend
  bool otherBackendRemoved_ = true;  // what it returns
  Metrics metrics_;
  dataplane::testing::FakeIptables iptables_;
  dataplane::testing::FakeIpset ipset_;
  dataplane::testing::FakeRouteNetlink netlink_;
  dataplane::testing::FakeSysctl sysctl_;
  std::vector<std::unique_ptr<dataplane::IptablesTable>> tables_;
  dataplane::IpSetsImpl ipsets_{ipset_};
  dataplane::RouteTable routes_{netlink_, sysctl_};
  std::unique_ptr<DataplaneDriver> driver_;
};

TEST_F(DriverTest, FirstApplyProgramsBothFamilies) {
  addEndpoint("cali1");
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_FALSE(driver_->dirty());
  EXPECT_TRUE(hasFilterChain(IpVersion::kV4, "cali-tw-cali1"));
  EXPECT_TRUE(hasFilterChain(IpVersion::kV6, "cali-tw-cali1"));
  EXPECT_TRUE(hasFilterChain(IpVersion::kV4, "cali-pri-open"));
  ASSERT_NE(netlink_.find(cidr("10.65.0.1/32")), nullptr);
  // Nothing changed: the next apply runs no program.
  int restores = iptables_.restoreCalls();
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_EQ(iptables_.restoreCalls(), restores);
}

TEST_F(DriverTest, IpSetsAreSplitPerFamily) {
  driver_->onIpSetAdded("s:abc");
  driver_->onIpSetMembersAdded("s:abc", {cidr("10.0.0.1/32"), cidr("fd00::1/128")});
  ASSERT_TRUE(driver_->apply().isOk());
  auto v4 = rules::ipSetName("s:abc", IpVersion::kV4);
  auto v6 = rules::ipSetName("s:abc", IpVersion::kV6);
  ASSERT_TRUE(ipset_.has(v4));
  ASSERT_TRUE(ipset_.has(v6));
  EXPECT_EQ(ipset_.set(v4).members, (std::set<std::string>{"10.0.0.1"}));
  EXPECT_EQ(ipset_.set(v6).family, "inet6");
  EXPECT_EQ(ipset_.set(v6).members, (std::set<std::string>{"fd00::1"}));
  driver_->onIpSetMembersRemoved("s:abc", {cidr("10.0.0.1/32")});
  driver_->onIpSetRemoved("s:abc");
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_FALSE(ipset_.has(v4));
  EXPECT_FALSE(ipset_.has(v6));
}

TEST_F(DriverTest, FailedIpsetRestoreWritesNoRuleAndNoRoute) {
  addEndpoint("cali1");
  driver_->onIpSetAdded("s:abc");
  ipset_.failNextRestore();
  EXPECT_FALSE(driver_->apply().isOk());
  EXPECT_EQ(iptables_.restoreCalls(), 0);  // the tables wait for their sets
  EXPECT_EQ(netlink_.find(cidr("10.65.0.1/32")), nullptr);
  EXPECT_TRUE(driver_->dirty());
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_TRUE(hasFilterChain(IpVersion::kV4, "cali-tw-cali1"));
  EXPECT_NE(netlink_.find(cidr("10.65.0.1/32")), nullptr);
}

TEST_F(DriverTest, FailedTableRestoreKeepsTheWorkloadUnrouted) {
  addEndpoint("cali1");
  iptables_.failNextRestore();
  EXPECT_FALSE(driver_->apply().isOk());
  // Fail closed: the route that would make the workload reachable waits for its policy.
  EXPECT_EQ(netlink_.find(cidr("10.65.0.1/32")), nullptr);
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_NE(netlink_.find(cidr("10.65.0.1/32")), nullptr);
}

// The other backend's rules go once ours are all in, and their removal is tried again after
// each later apply until it succeeds: left there, they would judge packets by an old policy.
TEST_F(DriverTest, OtherBackendIsRemovedAfterAGoodApplyAndRetriedUntilItIs) {
  addEndpoint("cali1");
  otherBackendRemoved_ = false;
  iptables_.failNextRestore();
  EXPECT_FALSE(driver_->apply().isOk());
  EXPECT_EQ(otherBackendRemovals_, 0);  // ours are not in: the other backend still guards
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_EQ(otherBackendRemovals_, 1);
  driver_->requestResync();
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_EQ(otherBackendRemovals_, 2);
  otherBackendRemoved_ = true;
  driver_->requestResync();
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_EQ(otherBackendRemovals_, 3);
  driver_->requestResync();
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_EQ(otherBackendRemovals_, 3);
}

TEST_F(DriverTest, PendingRoutesAndInterfaceGroupsAreRetried) {
  addEndpoint("cali1");
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_FALSE(driver_->retryPendingRoutes());
  // A device group for an interface that does not exist yet.
  routes_.setInterfaceGroup("cali9", dataplane::kWorkloadGroupFirst);
  ASSERT_TRUE(routes_.apply());
  EXPECT_TRUE(driver_->retryPendingRoutes());
  EXPECT_TRUE(driver_->dirty());
  netlink_.addLink("cali9");
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_EQ(netlink_.group("cali9"), dataplane::kWorkloadGroupFirst);
  EXPECT_FALSE(driver_->retryPendingRoutes());
}

TEST_F(DriverTest, InterfaceRenameReplacesTheEndpointChains) {
  addEndpoint("cali1");
  ASSERT_TRUE(driver_->apply().isOk());
  driver_->onWorkloadEndpointUpdate(endpoint("cali2"));
  driver_->onRouteUpdate({cidr("10.65.0.1/32"), "cali2"});
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_FALSE(hasFilterChain(IpVersion::kV4, "cali-tw-cali1"));
  EXPECT_TRUE(hasFilterChain(IpVersion::kV4, "cali-tw-cali2"));
  std::string dispatch;
  for (const auto& r : iptables_.rules(IpVersion::kV4, "filter", "cali-to-wl-dispatch")) {
    dispatch += r + "\n";
  }
  EXPECT_EQ(dispatch.find("cali1"), std::string::npos) << dispatch;
  EXPECT_NE(dispatch.find("cali2"), std::string::npos) << dispatch;
  driver_->onWorkloadEndpointRemove("default/w1");
  driver_->onProfileInactive("open");
  driver_->onRouteRemove(cidr("10.65.0.1/32"));
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_FALSE(hasFilterChain(IpVersion::kV4, "cali-tw-cali2"));
  EXPECT_FALSE(hasFilterChain(IpVersion::kV6, "cali-pri-open"));
  EXPECT_EQ(netlink_.find(cidr("10.65.0.1/32")), nullptr);
  EXPECT_EQ(driver_->endpointCount(), 0u);
}

TEST_F(DriverTest, FloatingIpsAndNatOutgoingFollowTheirInputs) {
  addEndpoint("cali1");
  auto ep = endpoint("cali1");
  ep.ipNats = {{*IpAddr::parse("10.65.0.1"), *IpAddr::parse("192.0.2.10")}};
  driver_->onWorkloadEndpointUpdate(ep);
  driver_->onIpSetAdded(std::string(calc::kAllPoolsIpSetId));
  driver_->onIpSetAdded(std::string(calc::kMasqPoolsIpSetId));
  driver_->onIpPoolUpdate({cidr("10.65.0.0/16"), true, false});
  ASSERT_TRUE(driver_->apply().isOk());
  auto dnat = iptables_.rules(IpVersion::kV4, "nat", "cali-fip-dnat");
  ASSERT_EQ(dnat.size(), 1u);
  EXPECT_NE(dnat[0].find("192.0.2.10"), std::string::npos);
  EXPECT_EQ(iptables_.rules(IpVersion::kV6, "nat", "cali-fip-dnat").size(), 0u);
  EXPECT_EQ(iptables_.rules(IpVersion::kV4, "nat", "cali-nat-outgoing").size(), 1u);
  driver_->onIpPoolRemove(cidr("10.65.0.0/16"));
  driver_->onWorkloadEndpointUpdate(endpoint("cali1"));
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_EQ(iptables_.rules(IpVersion::kV4, "nat", "cali-fip-dnat").size(), 0u);
  EXPECT_EQ(iptables_.rules(IpVersion::kV4, "nat", "cali-nat-outgoing").size(), 0u);
  // With nothing left to NAT, the nat table loses our chains and hooks altogether.
  EXPECT_FALSE(iptables_.hasChain(IpVersion::kV4, "nat", "cali-POSTROUTING"));
  EXPECT_TRUE(iptables_.rules(IpVersion::kV4, "nat", "POSTROUTING").empty());
}

TEST_F(DriverTest, NoNatTableWithoutSomethingToNat) {
  addEndpoint("cali1");
  ASSERT_TRUE(driver_->apply().isOk());
  // A nat table we never write registers no nat hooks in the kernel.
  expectNothingOursIn("nat", {"PREROUTING", "POSTROUTING"});
  expectNeverWritten("nat");
  // A masquerading pool (of either family) brings the table for both families.
  driver_->onIpSetAdded(std::string(calc::kAllPoolsIpSetId));
  driver_->onIpSetAdded(std::string(calc::kMasqPoolsIpSetId));
  driver_->onIpPoolUpdate({cidr("10.65.0.0/16"), true, false});
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_EQ(iptables_.rules(IpVersion::kV4, "nat", "cali-nat-outgoing").size(), 1u);
  EXPECT_TRUE(iptables_.hasChain(IpVersion::kV6, "nat", "cali-POSTROUTING"));
  EXPECT_EQ(iptables_.rules(IpVersion::kV4, "nat", "POSTROUTING").size(), 1u);
}

TEST_F(DriverTest, MangleTableOnlyWhileThereIsAHostEndpoint) {
  addEndpoint("cali1");
  ASSERT_TRUE(driver_->apply().isOk());
  // Without a host endpoint the mangle chains would decide nothing, and every packet would walk
  // their hook: none is written.
  expectNothingOursIn("mangle", {"PREROUTING"});
  expectNeverWritten("mangle");
  calc::HostEndpoint hep;
  hep.id = "eth0";
  hep.interfaceName = "eth0";
  hep.profileIds = {"open"};
  driver_->onHostEndpointUpdate(hep);
  ASSERT_TRUE(driver_->apply().isOk());
  for (auto v : {IpVersion::kV4, IpVersion::kV6}) {
    EXPECT_EQ(iptables_.rules(v, "mangle", "cali-PREROUTING").size(), 4u);
    EXPECT_EQ(iptables_.rules(v, "mangle", "PREROUTING").size(), 1u);
  }
  // The last host endpoint gone: chains and hook go with it.
  driver_->onHostEndpointRemove("eth0");
  ASSERT_TRUE(driver_->apply().isOk());
  expectNothingOursIn("mangle", {"PREROUTING"});
}

}  // namespace
}  // namespace brindle::agent

namespace brindle::agent {
namespace {

calc::ParsedRule allowFrom(const std::string& net) {
  calc::ParsedRule r;
  r.source.nets = {cidr(net)};
  return r;
}

// A policy whose second rule the kernel refuses (the fake refuses any rule naming 10.9.9.9):
// that rule becomes a DROP, the rest of the batch and every later change still reach the kernel,
// and the refusal is named until the policy changes or the kernel takes it.
TEST_F(DriverTest, RefusedRuleIsIsolatedAndEverythingElseIsProgrammed) {
  addEndpoint("cali1");
  ASSERT_TRUE(driver_->apply().isOk());
  iptables_.refuseRulesContaining("10.9.9.9");
  calc::ParsedRules bad;
  bad.ingress = {allowFrom("10.1.0.0/24"), allowFrom("10.9.9.9/32"), allowFrom("10.2.0.0/16")};
  calc::ParsedRules good;
  good.ingress = {allowFrom("10.3.0.0/16")};
  calc::PolicyId badId{"default", "bad"}, goodId{"default", "good"};
  driver_->onPolicyActive(badId, bad);
  driver_->onPolicyActive(goodId, good);
  auto ep = endpoint("cali1");
  ep.tiers = {calc::TierInfo{"default", {goodId, badId}, {}}};
  driver_->onWorkloadEndpointUpdate(ep);
  ASSERT_TRUE(driver_->apply().isOk());
  const std::string chain = rules::policyChainName(badId, true);
  auto kernel = iptables_.rules(IpVersion::kV4, "filter", chain);
  ASSERT_EQ(kernel.size(), 6u);  // three Allow rules: MARK + RETURN each
  EXPECT_NE(kernel[0].find("10.1.0.0/24"), std::string::npos);
  EXPECT_NE(kernel[2].find("-j DROP"), std::string::npos) << kernel[2];
  EXPECT_NE(kernel[4].find("10.2.0.0/16"), std::string::npos);
  EXPECT_TRUE(hasFilterChain(IpVersion::kV4, rules::policyChainName(goodId, true)));
  std::string tw;
  for (const auto& r : iptables_.rules(IpVersion::kV4, "filter", "cali-tw-cali1")) tw += r + "\n";
  EXPECT_NE(tw.find(chain), std::string::npos) << tw;  // the endpoint uses the policy (with DROP)
  for (const auto& c : iptables_.chainNames(IpVersion::kV4, "filter")) {
    EXPECT_EQ(c.rfind("cali-probe-", 0), std::string::npos) << "scratch chain left: " << c;
  }
  auto refused = driver_->refusedRules();
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0].find("policy bad ingress rule 1"), std::string::npos) << refused[0];
  EXPECT_NE(metrics_.render().find("brindle_dataplane_refused_rules{kind=\"policy\",name=\"bad\","
                                   "direction=\"ingress\",rule=\"1\",ip_version=\"4\"} 1"),
            std::string::npos)
      << metrics_.render();
  EXPECT_EQ(metrics_.value(metric::kRefusals), 1);

  // A later change elsewhere costs one restore per family, no probe: the failure is not retried.
  int restores = iptables_.restoreCalls();
  calc::WorkloadEndpoint other = endpoint("cali2");
  other.id = "default/w2";
  other.addresses = {cidr("10.65.0.2/32")};
  driver_->onWorkloadEndpointUpdate(other);
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_TRUE(hasFilterChain(IpVersion::kV4, "cali-tw-cali2"));
  EXPECT_LE(iptables_.restoreCalls() - restores, 2);
  EXPECT_EQ(driver_->refusedRules().size(), 1u);

  // The kernel takes it after a resync (a module loaded): the real rule replaces the DROP.
  iptables_.refuseRulesContaining("");
  driver_->requestResync();
  ASSERT_TRUE(driver_->apply().isOk());
  kernel = iptables_.rules(IpVersion::kV4, "filter", chain);
  ASSERT_EQ(kernel.size(), 6u);
  EXPECT_NE(kernel[2].find("10.9.9.9"), std::string::npos) << kernel[2];
  EXPECT_TRUE(driver_->refusedRules().empty());
  EXPECT_EQ(metrics_.render().find("brindle_dataplane_refused_rules{"), std::string::npos);
}

TEST_F(DriverTest, RefusalWhileRepairingDriftIsFoundInUnchangedPolicies) {
  // The policy went in long ago; someone flushed its chain and the kernel now refuses the rule
  // (a module unloaded): the resync's rewrite is refused, though no policy changed.
  addEndpoint("cali1");
  calc::PolicyId id{"default", "old"};
  calc::ParsedRules rules;
  rules.ingress = {allowFrom("10.1.0.0/24"), allowFrom("10.9.9.9/32")};
  driver_->onPolicyActive(id, rules);
  ASSERT_TRUE(driver_->apply().isOk());
  const std::string chain = rules::policyChainName(id, true);
  ASSERT_TRUE(iptables_.run({{"iptables", "-F", chain}, ""}));
  iptables_.refuseRulesContaining("10.9.9.9");
  driver_->requestResync();
  ASSERT_TRUE(driver_->apply().isOk());
  auto kernel = iptables_.rules(IpVersion::kV4, "filter", chain);
  ASSERT_EQ(kernel.size(), 4u);
  EXPECT_NE(kernel[0].find("10.1.0.0/24"), std::string::npos);
  EXPECT_NE(kernel[2].find("-j DROP"), std::string::npos) << kernel[2];
  ASSERT_EQ(driver_->refusedRules().size(), 1u);
  EXPECT_NE(driver_->refusedRules()[0].find("policy old ingress rule 1"), std::string::npos);
}

TEST_F(DriverTest, ChangedPolicyReplacesItsRefusedStandIn) {
  addEndpoint("cali1");
  iptables_.refuseRulesContaining("10.9.9.9");
  calc::PolicyId id{"default", "p"};
  calc::ParsedRules rules;
  rules.egress = {allowFrom("10.9.9.9/32")};
  driver_->onPolicyActive(id, rules);
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_EQ(driver_->refusedRules().size(), 1u);
  // The same rules again (the calc re-sends them): the stand-in stays, nothing is written.
  int restores = iptables_.restoreCalls();
  driver_->onPolicyActive(id, rules);
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_EQ(iptables_.restoreCalls(), restores);
  rules.egress = {allowFrom("10.8.0.0/16")};
  driver_->onPolicyActive(id, rules);
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_TRUE(driver_->refusedRules().empty());
  auto kernel = iptables_.rules(IpVersion::kV4, "filter", rules::policyChainName(id, false));
  ASSERT_FALSE(kernel.empty());
  EXPECT_NE(kernel[0].find("10.8.0.0/16"), std::string::npos);
  driver_->onPolicyInactive(id);
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_FALSE(hasFilterChain(IpVersion::kV4, rules::policyChainName(id, false)));
}

// An agent of the previous naming (its own rule hashes, the seed's policy chain names, set names
// of the older selector hashing) left its state behind: one apply of ours converges, sweeping
// its chains, rules and sets while keeping what is not ours.
TEST_F(DriverTest, StateOfThePreviousNamingIsSweptInOneApply) {
  const std::string oldSet = "cali40s:OldSelectorHashingOld12";
  ASSERT_TRUE(
      ipset_.run({{"ipset", "restore"},
                  "create " + oldSet + " hash:net family inet\nadd " + oldSet + " 10.65.9.9\n"}));
  const std::string old =
      "*filter\n:cali-pi-namespace-default - [0:0]\n:cali-pri-open - [0:0]\n"
      ":cali-INPUT - [0:0]\n"
      "-A cali-pi-namespace-default -m set --match-set " +
      oldSet +
      " src -m comment --comment \"cali:OldLayoutRule01\" -j MARK --set-xmark "
      "0x1000000/0x1000000\n"
      "-A cali-pri-open -m comment --comment \"cali:OldLayoutRule02\" -j ACCEPT\n"
      "-A cali-INPUT -m comment --comment \"cali:OldLayoutRule03\" -j cali-pi-namespace-default\n"
      "-A INPUT -m comment --comment \"cali:OldLayoutHook01\" -j cali-INPUT\n"
      "-A INPUT -s 192.0.2.1/32 -j DROP\n"
      "COMMIT\n";
  ASSERT_TRUE(ipset_.has(oldSet));
  auto restored = iptables_.run({{"iptables-restore", "--noflush"}, old});
  ASSERT_TRUE(restored && restored->exitCode == 0) << (restored ? restored->err : "");

  addEndpoint("cali1");
  driver_->onPolicyActive({"default", "default.namespace-default"}, calc::ParsedRules{});
  ASSERT_TRUE(driver_->apply().isOk());

  const std::string saved = iptables_.save(IpVersion::kV4, "filter");
  EXPECT_EQ(saved.find("OldLayout"), std::string::npos) << saved;
  EXPECT_FALSE(hasFilterChain(IpVersion::kV4, "cali-pi-namespace-default"));
  EXPECT_TRUE(hasFilterChain(IpVersion::kV4, "cali-pi-_Y4KNKRMQaNT1FAV4QBc"));
  EXPECT_TRUE(hasFilterChain(IpVersion::kV4, "cali-pri-open"));
  auto input = iptables_.rules(IpVersion::kV4, "filter", "INPUT");
  ASSERT_EQ(input.size(), 2u) << saved;
  EXPECT_NE(input[0].find("-j cali-INPUT"), std::string::npos);
  EXPECT_EQ(input[1], "-s 192.0.2.1/32 -j DROP");  // not ours: kept
  EXPECT_FALSE(ipset_.has(oldSet));
  // And nothing is left to do.
  int restores = iptables_.restoreCalls();
  driver_->requestResync();
  ASSERT_TRUE(driver_->apply().isOk());
  EXPECT_EQ(iptables_.restoreCalls(), restores);
}

}  // namespace
}  // namespace brindle::agent
