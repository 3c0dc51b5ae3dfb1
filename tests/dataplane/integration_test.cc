// The writers against the real kernel (root; label `integration`): iptables-nft and ip6tables
// restore/save, ipset and netlink routes inside throw-away namespaces, plus a ping smoke test.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "dataplane/ipsets_impl.h"
#include "dataplane/iptables_table.h"
#include "dataplane/iptables_writer.h"
#include "dataplane/refusal.h"
#include "dataplane/route_table.h"
#include "netns_fixture.h"

namespace brindle::dataplane {
namespace {

using testing::sh;
using testing::shCode;
using testing::TestNetns;

using testing::contains;
using testing::rule;

void desire(IptablesTable& table, const std::string& v4orv6Source) {
  table.updateChain({"cali-FORWARD",
                     {rule(Match().inInterface("cali+"), Action::jump("cali-from-wl")),
                      rule(Match().outInterface("cali+"), Action::jump("cali-to-wl"))}});
  table.updateChain(
      {"cali-from-wl",
       {rule(Match().sourceNet(v4orv6Source), Action::accept()), rule({}, Action::drop())}});
  table.updateChain({"cali-to-wl",
                     {rule(Match().protocol("tcp").destPorts("80"), Action::accept()),
                      rule({}, Action::drop())}});
  table.setRuleInsertions("FORWARD", {rule({}, Action::jump("cali-FORWARD"))});
}

class IntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  }
};

TEST_F(IntegrationTest, IptablesNftRestoreSaveForeignRulesRestartAndDrift) {
  TestNetns ns;
  EXPECT_TRUE(contains(sh({"iptables", "--version"}), "nf_tables"));
  for (IpVersion v : {IpVersion::kV4, IpVersion::kV6}) {
    std::string ipt = v == IpVersion::kV4 ? "iptables" : "ip6tables";
    std::string src = v == IpVersion::kV4 ? "10.65.0.0/16" : "fd00:65::/64";
    sh({ipt, "-A", "FORWARD", "-s", src, "-j", "DROP"}, ns.name());  // a foreign rule
    os::ProcessRunner runner(ns.name());
    {
      IptablesTable table(TableName::kFilter, v, runner);
      desire(table, src);
      ASSERT_TRUE(table.apply()) << ipt;
    }
    std::string saved = sh({ipt + "-save", "-t", "filter"}, ns.name());
    EXPECT_TRUE(contains(saved, ":cali-from-wl")) << saved;
    // Ours on top of the foreign rule.
    size_t ours = saved.find("-A FORWARD -m comment --comment \"cali:");
    size_t foreign = saved.find("-A FORWARD -s " + src);
    ASSERT_NE(ours, std::string::npos) << saved;
    ASSERT_NE(foreign, std::string::npos) << saved;
    EXPECT_LT(ours, foreign);

    // Restart with the same state: reads, writes nothing.
    IptablesTable table(TableName::kFilter, v, runner);
    desire(table, src);
    ASSERT_TRUE(table.apply());
    EXPECT_EQ(table.stats().restores, 0) << table.lastRestoreInput();

    // Drift: someone flushes a chain; the next resync repairs it.
    sh({ipt, "-F", "cali-to-wl"}, ns.name());
    table.requestResync();
    ASSERT_TRUE(table.apply());
    EXPECT_EQ(table.stats().restores, 1);
    saved = sh({ipt + "-save", "-t", "filter"}, ns.name());
    EXPECT_TRUE(contains(saved, "-A cali-to-wl -p tcp")) << saved;

    // Incremental change (-R, -A) and removal of everything ours.
    table.updateChain(
        {"cali-to-wl",
         {rule(Match().protocol("tcp").destPorts("8080"), Action::accept()),
          rule(Match().protocol("udp"), Action::accept()), rule({}, Action::drop())}});
    ASSERT_TRUE(table.apply()) << table.lastRestoreInput();
    table.requestResync();
    ASSERT_TRUE(table.apply());
    EXPECT_EQ(table.stats().restores, 2);  // the re-read found the kernel as written
    for (const char* c : {"cali-FORWARD", "cali-from-wl", "cali-to-wl"}) table.removeChain(c);
    table.setRuleInsertions("FORWARD", {});
    ASSERT_TRUE(table.apply()) << table.lastRestoreInput();
    saved = sh({ipt + "-save", "-t", "filter"}, ns.name());
    EXPECT_FALSE(contains(saved, "cali")) << saved;
    EXPECT_TRUE(contains(saved, "-A FORWARD -s " + src + " -j DROP")) << saved;
  }
}

TEST_F(IntegrationTest, RulesOfAnOlderLayoutAreRewrittenWithTheCommentAfterTheMatch) {
  TestNetns ns;
  // What an agent writing the comment first left behind (its hashes are not ours).
  sh({"iptables-restore", "--noflush"}, ns.name(),
     "*filter\n:cali-to-wl - [0:0]\n"
     "-A cali-to-wl -m comment --comment \"cali:OldLayoutRule01\" -p tcp --dport 80 -j ACCEPT\n"
     "-I FORWARD 1 -m comment --comment \"cali:OldLayoutHook01\" -j cali-to-wl\nCOMMIT\n");
  ASSERT_TRUE(contains(sh({"iptables-save", "-t", "filter"}, ns.name()), "cali:OldLayoutHook01"));
  os::ProcessRunner runner(ns.name());
  IptablesTable table(TableName::kFilter, IpVersion::kV4, runner);
  table.updateChain(
      {"cali-to-wl", {rule(Match().protocol("tcp").destPorts("80"), Action::accept())}});
  table.setRuleInsertions("FORWARD", {rule({}, Action::jump("cali-to-wl"))});
  ASSERT_TRUE(table.apply()) << table.lastRestoreInput();
  const std::string saved = sh({"iptables-save", "-t", "filter"}, ns.name());
  const std::string hash = ruleHashes(
      "cali-to-wl", {rule(Match().protocol("tcp").destPorts("80"), Action::accept())})[0];
  EXPECT_TRUE(contains(
      saved, "-A cali-to-wl -p tcp -m multiport --dports 80 -m comment --comment \"cali:" + hash +
                 "\" -j ACCEPT"))
      << saved;
  EXPECT_FALSE(contains(saved, "OldLayout")) << saved;
  EXPECT_EQ(saved.find("-A FORWARD"), saved.rfind("-A FORWARD")) << "one hook: " << saved;
  // And it is now in sync: a restart writes nothing.
  IptablesTable again(TableName::kFilter, IpVersion::kV4, runner);
  again.updateChain(
      {"cali-to-wl", {rule(Match().protocol("tcp").destPorts("80"), Action::accept())}});
  again.setRuleInsertions("FORWARD", {rule({}, Action::jump("cali-to-wl"))});
  ASSERT_TRUE(again.apply());
  EXPECT_EQ(again.stats().restores, 0) << again.lastRestoreInput();
}

TEST_F(IntegrationTest, IptablesNatAndRawTablesFromScratch) {
  TestNetns ns;
  os::ProcessRunner runner(ns.name());
  IptablesTable nat(TableName::kNat, IpVersion::kV4, runner);
  nat.updateChain(
      {"cali-nat-outgoing",
       {rule(Match().sourceNet("10.65.0.0/16").notDestNet("10.65.0.0/16"), Action::masquerade())}});
  nat.setRuleInsertions("POSTROUTING", {rule({}, Action::jump("cali-nat-outgoing"))});
  ASSERT_TRUE(nat.apply()) << nat.lastRestoreInput();
  IptablesTable raw(TableName::kRaw, IpVersion::kV4, runner);
  raw.updateChain(
      {"cali-PREROUTING", {rule(Match().inInterface("cali+"), Action::setMark(0x0, 0xf000000))}});
  raw.setRuleInsertions("PREROUTING", {rule({}, Action::jump("cali-PREROUTING"))});
  ASSERT_TRUE(raw.apply()) << raw.lastRestoreInput();
  EXPECT_TRUE(contains(sh({"iptables-save", "-t", "nat"}, ns.name()), "-j MASQUERADE"));
  EXPECT_TRUE(contains(sh({"iptables-save", "-t", "raw"}, ns.name()), "-j cali-PREROUTING"));
  // The host's tables never saw any of it.
  EXPECT_FALSE(contains(sh({"iptables-save", "-t", "nat"}), "cali-nat-outgoing"));
}

// An agent's cold start, small: 250 policy chains, 250 endpoint chains jumping to them, a
// dispatch chain jumping to those, and the hooks.
void desireColdStart(IptablesTable& raw, IptablesTable& filter) {
  raw.updateChain(
      {"cali-PREROUTING", {rule(Match().inInterface("cali+"), Action::setMark(0x0, 0xf000000))}});
  raw.setRuleInsertions("PREROUTING", {rule({}, Action::jump("cali-PREROUTING"))});
  Chain dispatch{"cali-to-wl-dispatch", {}};
  for (int i = 0; i < 250; ++i) {
    std::string id = std::to_string(i);
    filter.updateChain(
        {"cali-pi-p" + id, {rule(Match().protocol("tcp").destPorts("80"), Action::accept())}});
    filter.updateChain({"cali-tw-cali" + id,
                        {rule({}, Action::jump("cali-pi-p" + id)), rule({}, Action::drop())}});
    dispatch.rules.push_back(
        rule(Match().outInterface("cali" + id), Action::goTo("cali-tw-cali" + id)));
  }
  filter.updateChain(dispatch);
  filter.setRuleInsertions("FORWARD", {rule({}, Action::jump("cali-to-wl-dispatch"))});
}

// The writer's early waves with the real iptables-nft-restore (or ip6tables-nft-restore): many
// new chains in several transactions and concurrent runs, jump targets first, and the hook
// last, behind the gate; then a restart that writes nothing.
void expectEarlyWavesAndGate(IpVersion version) {
  TestNetns ns;
  os::ProcessRunner runner(ns.name());
  const std::string save = version == IpVersion::kV6 ? "ip6tables-save" : "iptables-save";
  IptablesTable raw(TableName::kRaw, version, runner);
  IptablesTable filter(TableName::kFilter, version, runner);
  IptablesWriter writer({&raw, &filter});
  desireColdStart(raw, filter);
  bool hookedBeforeGate = true;
  ASSERT_TRUE(writer.apply([&] {
    // The early sections may be in already; the hook must not be.
    hookedBeforeGate = contains(sh({save, "-t", "filter"}, ns.name()), "-A FORWARD -m comment");
    return Status::ok();
  })) << filter.lastRestoreInput().substr(0, 4000);
  EXPECT_FALSE(hookedBeforeGate);
  std::string saved = sh({save}, ns.name());
  EXPECT_TRUE(contains(saved, "-A FORWARD -m comment"));
  EXPECT_TRUE(contains(saved, "-A PREROUTING -m comment"));
  EXPECT_TRUE(contains(saved, "-A cali-tw-cali249 -m comment"));
  EXPECT_GT(std::count(saved.begin(), saved.end(), '\n'), 750);
  // Two early waves (policy chains, then endpoint chains; each wave's lanes concurrent) and
  // the final restore; one save.
  EXPECT_GE(writer.stats().restores, 3);
  EXPECT_EQ(writer.stats().restoreErrors, 0);
  EXPECT_EQ(writer.stats().saves, 1);
  // A restart (fresh writers, same kernel): one save, nothing to write.
  IptablesTable raw2(TableName::kRaw, version, runner);
  IptablesTable filter2(TableName::kFilter, version, runner);
  IptablesWriter writer2({&raw2, &filter2});
  desireColdStart(raw2, filter2);
  ASSERT_TRUE(writer2.apply());
  EXPECT_EQ(writer2.stats().restores, 0) << filter2.lastRestoreInput().substr(0, 2000);
}

TEST_F(IntegrationTest, IptablesWriterEarlyWavesAndGateWithRealRestore) {
  expectEarlyWavesAndGate(IpVersion::kV4);
}

TEST_F(IntegrationTest, Ip6tablesWriterEarlyWavesAndGateWithRealRestore) {
  expectEarlyWavesAndGate(IpVersion::kV6);
}

TEST_F(IntegrationTest, ProbesFindTheRuleTheRealKernelRefusesAndLeaveNothing) {
  // What the agent does after a refused restore (docs/dataplane.md, "Refused rules"): scratch
  // chains, bisection. iptables-nft's kernel refuses a negated catch-all ("! -s 0.0.0.0/0":
  // RULE_APPEND, Invalid argument) and its parser refuses two -s; both name a line.
  TestNetns ns;
  os::ProcessRunner runner(ns.name());
  std::vector<Rule> rules = {
      rule(Match().sourceNet("10.0.0.0/8"), Action::accept()),
      rule(Match().notSourceNet("0.0.0.0/0"), Action::drop()),
      rule(Match().protocol("tcp").destPorts("80"), Action::accept()),
      rule(Match().sourceNet("10.0.0.0/8").notSourceNet("10.1.0.0/16"), Action::drop()),
      rule({}, Action::ret())};
  auto whole = probeRules(runner, "iptables-restore", TableName::kFilter, {rules});
  ASSERT_TRUE(whole) << whole.message();
  EXPECT_FALSE(whole->accepted);
  EXPECT_TRUE(namesInputLine(whole->error)) << whole->error;
  int probes = 0;
  auto refused = findRefused(rules.size(), [&](const std::vector<size_t>& subset) -> Result<bool> {
    ++probes;
    std::vector<Rule> some;
    for (size_t i : subset) some.push_back(rules[i]);
    auto r = probeRules(runner, "iptables-restore", TableName::kFilter, {some});
    if (!r) return r.status().error();
    return r->accepted;
  });
  ASSERT_TRUE(refused) << refused.message();
  EXPECT_EQ(*refused, (std::vector<size_t>{1, 3}));
  EXPECT_LE(probes, 7);
  // Accepted probes were deleted again: no scratch chain, nothing in the kernel chains.
  std::string saved = sh({"iptables-save", "-t", "filter"}, ns.name());
  EXPECT_FALSE(contains(saved, "cali-probe")) << saved;
}

TEST_F(IntegrationTest, IpsetsArePerNamespaceSwapAndSweep) {
  TestNetns ns;
  os::ProcessRunner runner(ns.name());
  std::string setName = "cali40s:it-" + std::to_string(::getpid() % 100000);
  {
    IpSetsImpl sets(runner);
    std::set<std::string> members;
    for (int i = 0; i < 200; ++i)
      members.insert("10.65." + std::to_string(i / 250) + "." + std::to_string(i % 250));
    sets.replaceMembers({setName, "hash:net", IpVersion::kV4}, members);
    sets.replaceMembers({"cali60s:it", "hash:net", IpVersion::kV6}, {"fd00::1", "fd00:1::/64"});
    sets.replaceMembers({"cali40s:gone", "hash:ip", IpVersion::kV4}, {"10.0.0.1"});
    ASSERT_TRUE(sets.applyUpdates()) << sets.lastRestoreInput();
    // A rule uses the set (the set existed before the rule).
    sh({"iptables", "-A", "INPUT", "-m", "set", "--match-set", setName, "src", "-j", "ACCEPT"},
       ns.name());
    std::set<std::string> other;
    for (int i = 0; i < 200; ++i) other.insert("10.66.0." + std::to_string(i));
    sets.replaceMembers({setName, "hash:net", IpVersion::kV4}, other);  // rewrite via swap
    ASSERT_TRUE(sets.applyUpdates()) << sets.lastRestoreInput();
    EXPECT_EQ(sets.stats().rewrites, 1);
  }
  std::string inside = sh({"ipset", "list", "-n"}, ns.name());
  EXPECT_TRUE(contains(inside, setName));
  EXPECT_FALSE(contains(sh({"ipset", "list", "-n"}), setName)) << "ipsets should be per netns";
  std::string saved = sh({"ipset", "save", setName}, ns.name());
  EXPECT_TRUE(contains(saved, "add " + setName + " 10.66.0.7\n"));
  EXPECT_FALSE(contains(saved, "10.65.0.7"));

  // Restart: same desired sets minus one; nothing rewritten, the stale set swept.
  IpSetsImpl sets(runner);
  sets.replaceMembers({setName, "hash:net", IpVersion::kV4}, [] {
    std::set<std::string> m;
    for (int i = 0; i < 200; ++i) m.insert("10.66.0." + std::to_string(i));
    return m;
  }());
  sets.replaceMembers({"cali60s:it", "hash:net", IpVersion::kV6}, {"fd00::1/128", "fd00:1::/64"});
  ASSERT_TRUE(sets.applyUpdates());
  EXPECT_EQ(sets.stats().restores, 0) << sets.lastRestoreInput();
  ASSERT_TRUE(sets.applyDeletions());
  inside = sh({"ipset", "list", "-n"}, ns.name());
  EXPECT_FALSE(contains(inside, "cali40s:gone"));
  EXPECT_TRUE(contains(inside, "cali60s:it"));
  // Still used by the rule: cannot be destroyed, reported.
  sets.removeSet(setName);
  ASSERT_TRUE(sets.applyUpdates());
  EXPECT_FALSE(sets.applyDeletions());
}

TEST_F(IntegrationTest, RoutesWithOurProtocolOnAVethAndSysctls) {
  TestNetns ns;
  sh({"ip", "link", "add", "caliA", "type", "veth", "peer", "name", "wlA"}, ns.name());
  sh({"ip", "link", "set", "caliA", "up"}, ns.name());
  sh({"ip", "link", "add", "eth9", "type", "veth", "peer", "name", "eth9p"}, ns.name());
  sh({"ip", "link", "set", "eth9", "up"}, ns.name());
  sh({"ip", "addr", "add", "192.168.77.1/24", "dev", "eth9"}, ns.name());
  sh({"ip", "route", "add", "10.99.0.0/24", "via", "192.168.77.2"}, ns.name());  // foreign

  auto nl = openLibnlRouteNetlink(ns.name());
  ASSERT_TRUE(nl) << nl.message();
  os::ProcSysctlWriter sysctl(ns.name());
  RouteTable routes(**nl, sysctl);
  routes.setWorkloadRoute(*Cidr::parse("10.65.0.5/32"), "caliA");
  routes.setWorkloadRoute(*Cidr::parse("fd00:65::5/128"), "caliA");
  routes.setWorkloadRoute(*Cidr::parse("10.65.0.6/32"), "caliB");  // interface not there yet
  routes.setBlackholeRoute(*Cidr::parse("10.65.0.0/26"));
  routes.setBlackholeRoute(*Cidr::parse("fd00:65::/122"));
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(routes.pendingRoutes(), std::vector<Cidr>{*Cidr::parse("10.65.0.6/32")});

  std::string v4 = sh({"ip", "route", "show", "proto", "80"}, ns.name());
  EXPECT_TRUE(contains(v4, "10.65.0.5 dev caliA scope link")) << v4;
  EXPECT_TRUE(contains(v4, "blackhole 10.65.0.0/26")) << v4;
  std::string v6 = sh({"ip", "-6", "route", "show", "proto", "80"}, ns.name());
  EXPECT_TRUE(contains(v6, "fd00:65::5 dev caliA")) << v6;
  EXPECT_TRUE(contains(v6, "blackhole fd00:65::/122")) << v6;
  EXPECT_EQ(sh({"cat", "/proc/sys/net/ipv4/conf/caliA/proxy_arp"}, ns.name()), "1\n");
  EXPECT_EQ(sh({"cat", "/proc/sys/net/ipv4/neigh/caliA/proxy_delay"}, ns.name()), "0\n");
  EXPECT_EQ(sh({"cat", "/proc/sys/net/ipv4/conf/caliA/forwarding"}, ns.name()), "1\n");
  EXPECT_EQ(sh({"cat", "/proc/sys/net/ipv6/conf/caliA/forwarding"}, ns.name()), "1\n");
  // Nothing reached the host's routing table.
  EXPECT_FALSE(contains(sh({"ip", "route", "show", "proto", "80"}), "caliA"));

  // The interface appears: the pending route lands on the next apply.
  sh({"ip", "link", "add", "caliB", "type", "veth", "peer", "name", "wlB"}, ns.name());
  sh({"ip", "link", "set", "caliB", "up"}, ns.name());
  ASSERT_TRUE(routes.apply());
  EXPECT_TRUE(routes.pendingRoutes().empty());
  EXPECT_TRUE(
      contains(sh({"ip", "route", "show", "proto", "80"}, ns.name()), "10.65.0.6 dev caliB"));

  // Restart: a new table with less wanted sweeps our stale routes only.
  auto nl2 = openLibnlRouteNetlink(ns.name());
  ASSERT_TRUE(nl2);
  RouteTable restarted(**nl2, sysctl);
  restarted.setWorkloadRoute(*Cidr::parse("10.65.0.5/32"), "caliA");
  ASSERT_TRUE(restarted.apply());
  EXPECT_EQ(restarted.stats().replaced, 0);
  v4 = sh({"ip", "route", "show"}, ns.name());
  EXPECT_TRUE(contains(v4, "10.65.0.5 dev caliA")) << v4;
  EXPECT_FALSE(contains(v4, "10.65.0.6")) << v4;
  EXPECT_FALSE(contains(v4, "blackhole")) << v4;
  EXPECT_TRUE(contains(v4, "10.99.0.0/24 via 192.168.77.2")) << v4;
  EXPECT_FALSE(contains(sh({"ip", "-6", "route", "show", "proto", "80"}, ns.name()), "blackhole"));
}

TEST_F(IntegrationTest, DeviceGroupsOfWorkloadInterfacesAndTheSweepOfOurRange) {
  TestNetns ns;
  sh({"ip", "link", "add", "caliG", "type", "veth", "peer", "name", "wlG"}, ns.name());
  sh({"ip", "link", "add", "caliS", "type", "veth", "peer", "name", "wlS"},
     ns.name());  // ours, from a previous run
  sh({"ip", "link", "set", "dev", "caliS", "group", "268435461"}, ns.name());  // 0x10000005
  sh({"ip", "link", "add", "eth9", "type", "veth", "peer", "name", "eth9p"},
     ns.name());  // an administrator's group
  sh({"ip", "link", "set", "dev", "eth9", "group", "5"}, ns.name());
  auto groupOf = [&](const std::string& link) {
    std::string shown = sh({"ip", "-d", "link", "show", "dev", link}, ns.name());
    auto at = shown.find(" group ");
    return at == std::string::npos ? shown : shown.substr(at + 7, shown.find(' ', at + 7) - at - 7);
  };

  auto nl = openLibnlRouteNetlink(ns.name());
  ASSERT_TRUE(nl) << nl.message();
  os::ProcSysctlWriter sysctl(ns.name());
  RouteTable routes(**nl, sysctl);
  routes.setInterfaceGroup("caliG", kWorkloadGroupFirst + 1);
  routes.setInterfaceGroup("caliH", kWorkloadGroupFirst + 2);  // not there yet
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(groupOf("caliG"), "268435457");
  EXPECT_EQ(groupOf("caliS"), "default");
  EXPECT_EQ(groupOf("eth9"), "5");
  EXPECT_EQ(routes.pendingInterfaceGroups(), std::vector<std::string>{"caliH"});
  auto links = (*nl)->listLinks();
  ASSERT_TRUE(links);
  auto caliG =
      std::find_if(links->begin(), links->end(), [](auto& l) { return l.name == "caliG"; });
  ASSERT_NE(caliG, links->end());
  EXPECT_EQ(caliG->group, kWorkloadGroupFirst + 1);

  sh({"ip", "link", "add", "caliH", "type", "veth", "peer", "name", "wlH"}, ns.name());
  ASSERT_TRUE(routes.apply());
  EXPECT_TRUE(routes.pendingInterfaceGroups().empty());
  EXPECT_EQ(groupOf("caliH"), "268435458");

  routes.removeInterfaceGroup("caliG");
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(groupOf("caliG"), "default");
  EXPECT_EQ(groupOf("caliH"), "268435458");
  // A vanished link is kNotFound, as a route to it would be.
  int index = caliG->index;
  sh({"ip", "link", "del", "caliG"}, ns.name());
  EXPECT_EQ((*nl)->setLinkGroup(index, kWorkloadGroupFirst).code(), ErrorCode::kNotFound);
}

TEST_F(IntegrationTest, RenderedChainDecidesWhetherAPingGetsThrough) {
  TestNetns a, b;
  sh({"ip", "link", "add", "veth-a", "type", "veth", "peer", "name", "veth-b", "netns", b.name()},
     a.name());
  sh({"ip", "addr", "add", "10.201.0.1/24", "dev", "veth-a"}, a.name());
  sh({"ip", "link", "set", "veth-a", "up"}, a.name());
  sh({"ip", "addr", "add", "10.201.0.2/24", "dev", "veth-b"}, b.name());
  sh({"ip", "link", "set", "veth-b", "up"}, b.name());
  std::vector<std::string> ping = {"ping", "-c", "1", "-W", "1", "10.201.0.2"};
  ASSERT_EQ(shCode(ping, a.name()), 0);

  os::ProcessRunner runner(b.name());
  IptablesTable table(TableName::kFilter, IpVersion::kV4, runner);
  table.updateChain({"cali-INPUT", {rule(Match().protocol("icmp"), Action::drop())}});
  table.setRuleInsertions("INPUT", {rule({}, Action::jump("cali-INPUT"))});
  ASSERT_TRUE(table.apply());
  EXPECT_NE(shCode(ping, a.name()), 0);
  table.updateChain({"cali-INPUT", {rule(Match().protocol("icmp"), Action::accept())}});
  ASSERT_TRUE(table.apply());
  EXPECT_EQ(shCode(ping, a.name()), 0);
}

}  // namespace
}  // namespace brindle::dataplane
