// RouteTable against FakeRouteNetlink/FakeSysctl: workload and blackhole routes with our
// protocol, pending interfaces, sweep of our stale routes only, sysctls, device groups, failures.
#include "dataplane/route_table.h"

#include <gtest/gtest.h>

#include "dataplane/testing/fake_route_netlink.h"

namespace brindle::dataplane {
namespace {

using testing::FakeRouteNetlink;
using testing::FakeSysctl;

Cidr cidr(const char* text) { return *Cidr::parse(text); }

TEST(RouteTableTest, WorkloadAndBlackholeRoutesCarryOurProtocol) {
  FakeRouteNetlink nl;
  FakeSysctl sysctl;
  int index = nl.addLink("cali1");
  RouteTable routes(nl, sysctl);
  routes.setWorkloadRoute(cidr("10.65.0.5/32"), "cali1");
  routes.setWorkloadRoute(cidr("fd00::5/128"), "cali1");
  routes.setBlackholeRoute(cidr("10.65.0.0/26"));
  ASSERT_TRUE(routes.apply());
  const RouteEntry* r = nl.find(cidr("10.65.0.5/32"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->protocol, 80);
  EXPECT_EQ(r->ifindex, index);
  ASSERT_NE(nl.find(cidr("fd00::5/128")), nullptr);
  ASSERT_NE(nl.find(cidr("10.65.0.0/26")), nullptr);
  EXPECT_TRUE(nl.find(cidr("10.65.0.0/26"))->blackhole);
  EXPECT_EQ(sysctl.values["net/ipv4/conf/cali1/proxy_arp"], "1");
  EXPECT_EQ(sysctl.values["net/ipv4/neigh/cali1/proxy_delay"], "0");
  EXPECT_EQ(sysctl.values["net/ipv6/conf/cali1/forwarding"], "1");
  // Converged: nothing more is written.
  int writes = nl.writes();
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.writes(), writes);
  EXPECT_EQ(sysctl.writes, 1);
}

TEST(RouteTableTest, MissingInterfaceKeepsTheRoutePendingUntilItAppears) {
  FakeRouteNetlink nl;
  FakeSysctl sysctl;
  RouteTable routes(nl, sysctl);
  routes.setWorkloadRoute(cidr("10.65.0.7/32"), "cali7");
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(routes.pendingRoutes(), std::vector<Cidr>{cidr("10.65.0.7/32")});
  EXPECT_EQ(nl.find(cidr("10.65.0.7/32")), nullptr);
  nl.addLink("cali7");
  ASSERT_TRUE(routes.apply());
  EXPECT_TRUE(routes.pendingRoutes().empty());
  EXPECT_NE(nl.find(cidr("10.65.0.7/32")), nullptr);
  // The veth is recreated (new index): route and sysctls follow.
  nl.removeLink("cali7");
  int index = nl.addLink("cali7");
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.find(cidr("10.65.0.7/32"))->ifindex, index);
  EXPECT_EQ(sysctl.writes, 2);
}

TEST(RouteTableTest, SweepsOnlyRoutesWithOurProtocol) {
  FakeRouteNetlink nl;
  FakeSysctl sysctl;
  int eth = nl.addLink("eth0");
  nl.addRoute({cidr("192.168.0.0/24"), false, eth, 2, 254, {}});  // kernel route
  nl.addRoute({cidr("10.65.0.99/32"), false, eth, 80, 254, {}});  // ours, from a previous run
  nl.addRoute({cidr("10.66.0.0/26"), true, 0, 80, 254, {}});      // our old blackhole
  nl.addRoute({cidr("10.67.0.0/26"), true, 0, 12, 254, {}});      // someone else's blackhole
  nl.addRoute({cidr("10.65.0.98/32"), false, eth, 80, 100, {}});  // ours but another table
  RouteTable routes(nl, sysctl);
  routes.setBlackholeRoute(cidr("10.65.0.0/26"));
  ASSERT_TRUE(routes.apply());
  EXPECT_NE(nl.find(cidr("192.168.0.0/24")), nullptr);
  EXPECT_EQ(nl.find(cidr("10.65.0.99/32")), nullptr);
  EXPECT_EQ(nl.find(cidr("10.66.0.0/26")), nullptr);
  EXPECT_NE(nl.find(cidr("10.67.0.0/26")), nullptr);
  EXPECT_NE(nl.find(cidr("10.65.0.98/32"), 100), nullptr);
  routes.removeBlackholeRoute(cidr("10.65.0.0/26"));
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.find(cidr("10.65.0.0/26")), nullptr);
}

TEST(RouteTableTest, TunnelRoutesGoViaTheirGatewayAndAreSwept) {
  FakeRouteNetlink nl;
  FakeSysctl sysctl;
  int tunl0 = nl.addLink("tunl0");
  RouteTable routes(nl, sysctl, {81, 254, false});
  routes.setTunnelRoute(cidr("10.65.1.0/26"), "tunl0", *IpAddr::parse("10.93.2.1"));
  ASSERT_TRUE(routes.apply());
  const RouteEntry* r = nl.find(cidr("10.65.1.0/26"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->ifindex, tunl0);
  EXPECT_EQ(r->gateway, IpAddr::parse("10.93.2.1").value());
  EXPECT_EQ(r->protocol, 81);
  EXPECT_EQ(sysctl.writes, 0);  // no proxy-ARP or forwarding settings for tunl0
  routes.removeWorkloadRoute(cidr("10.65.1.0/26"));  // not a workload route: stays
  ASSERT_TRUE(routes.apply());
  EXPECT_NE(nl.find(cidr("10.65.1.0/26")), nullptr);
  routes.removeTunnelRoute(cidr("10.65.1.0/26"));
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.find(cidr("10.65.1.0/26")), nullptr);
}

TEST(RouteTableTest, TakesOverAForeignRouteToTheSameDestination) {
  FakeRouteNetlink nl;
  FakeSysctl sysctl;
  int index = nl.addLink("cali1");
  nl.addRoute({cidr("10.65.0.5/32"), false, index, 3, 254, {}});  // the CNI plugin's route
  RouteTable routes(nl, sysctl);
  routes.setWorkloadRoute(cidr("10.65.0.5/32"), "cali1");
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.find(cidr("10.65.0.5/32"))->protocol, 80);
}

TEST(RouteTableTest, FailuresAreReportedAndRetried) {
  FakeRouteNetlink nl;
  FakeSysctl sysctl;
  nl.addLink("cali1");
  RouteTable routes(nl, sysctl);
  routes.setWorkloadRoute(cidr("10.65.0.5/32"), "cali1");
  routes.setBlackholeRoute(cidr("10.65.0.0/26"));
  nl.failNextReplace();
  EXPECT_FALSE(routes.apply());
  ASSERT_TRUE(routes.apply());
  EXPECT_NE(nl.find(cidr("10.65.0.5/32")), nullptr);
  EXPECT_NE(nl.find(cidr("10.65.0.0/26")), nullptr);
  nl.failNextList();
  EXPECT_EQ(routes.apply().code(), ErrorCode::kUnavailable);
  routes.removeWorkloadRoute(cidr("10.65.0.5/32"));
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.find(cidr("10.65.0.5/32")), nullptr);
}

constexpr uint32_t kGroupA = kWorkloadGroupFirst + 1;
constexpr uint32_t kGroupB = kWorkloadGroupFirst + 2;

TEST(RouteTableTest, InterfaceGroupIsSetOnceAndRemovalResetsItToZero) {
  FakeRouteNetlink nl;
  FakeSysctl sysctl;
  nl.addLink("cali1");
  RouteTable routes(nl, sysctl);
  routes.setInterfaceGroup("cali1", kGroupA);
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.group("cali1"), kGroupA);
  EXPECT_EQ(routes.stats().groupsSet, 1);
  // Unchanged: nothing is written.
  int writes = nl.writes();
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.writes(), writes);
  // A new group for the same interface (its chains changed).
  routes.setInterfaceGroup("cali1", kGroupB);
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.group("cali1"), kGroupB);
  routes.removeInterfaceGroup("cali1");
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.group("cali1"), 0u);
  EXPECT_EQ(routes.stats().groupsSet, 3);
}

TEST(RouteTableTest, GroupOfAMissingInterfaceStaysPendingAndFollowsARecreatedLink) {
  FakeRouteNetlink nl;
  FakeSysctl sysctl;
  RouteTable routes(nl, sysctl);
  routes.setInterfaceGroup("cali7", kGroupA);
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(routes.pendingInterfaceGroups(), std::vector<std::string>{"cali7"});
  nl.addLink("cali7");
  ASSERT_TRUE(routes.apply());
  EXPECT_TRUE(routes.pendingInterfaceGroups().empty());
  EXPECT_EQ(nl.group("cali7"), kGroupA);
  // The veth is recreated (new index, default group): the group is set again.
  nl.removeLink("cali7");
  nl.addLink("cali7");
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.group("cali7"), kGroupA);
}

TEST(RouteTableTest, SweepsGroupsInOurRangeOnly) {
  FakeRouteNetlink nl;
  FakeSysctl sysctl;
  nl.addLink("cali1", kGroupA);                // ours, wanted
  nl.addLink("cali2", kGroupB);                // ours, from a previous run
  nl.addLink("eth0", 5);                       // an administrator's group
  nl.addLink("eth1", kWorkloadGroupLast + 1);  // just outside our range
  nl.addLink("eth2", kWorkloadGroupLast);      // the range's last group is ours
  RouteTable routes(nl, sysctl);
  routes.setInterfaceGroup("cali1", kGroupA);
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.group("cali1"), kGroupA);
  EXPECT_EQ(nl.group("cali2"), 0u);
  EXPECT_EQ(nl.group("eth0"), 5u);
  EXPECT_EQ(nl.group("eth1"), kWorkloadGroupLast + 1);
  EXPECT_EQ(nl.group("eth2"), 0u);
  EXPECT_EQ(routes.stats().groupsSet, 2);
  // Cleanup: a table that wants nothing resets what is ours.
  RouteTable cleanup(nl, sysctl);
  ASSERT_TRUE(cleanup.apply());
  EXPECT_EQ(nl.group("cali1"), 0u);
  EXPECT_EQ(nl.group("eth0"), 5u);
}

TEST(RouteTableTest, TableThatDoesNotSweepGroupsLeavesThemAlone) {
  FakeRouteNetlink nl;
  FakeSysctl sysctl;
  nl.addLink("cali1", kGroupA);
  RouteTableOptions options;
  options.sweepLinkGroups = false;  // the BGP thread's tunnel table
  RouteTable tunnels(nl, sysctl, options);
  ASSERT_TRUE(tunnels.apply());
  EXPECT_EQ(nl.group("cali1"), kGroupA);
}

// The iptables agent's table: groups stay while the nftables table that dispatches by them
// exists, and go with the first apply after the sweep is switched on.
TEST(RouteTableTest, SweepSwitchedOnLaterResetsTheGroupsThen) {
  FakeRouteNetlink nl;
  FakeSysctl sysctl;
  nl.addLink("cali1", kGroupA);
  RouteTableOptions options;
  options.sweepLinkGroups = false;
  RouteTable routes(nl, sysctl, options);
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.group("cali1"), kGroupA);
  routes.setSweepLinkGroups(true);
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.group("cali1"), 0u);
}

// Before the nftables agent's first commit: links in group 0 or someone else's get their groups;
// a link already in our range keeps its group (an nftables table of ours may be admitting it by
// that group), and neither routes nor sweeps are touched.
TEST(RouteTableTest, UngroupedLinksGetTheirGroupsAloneAndEarly) {
  FakeRouteNetlink nl;
  FakeSysctl sysctl;
  nl.addLink("cali1");           // group 0: iptables ran it
  nl.addLink("cali2", 5);        // an administrator's group
  nl.addLink("cali3", kGroupB);  // ours, another group: its change waits for apply()
  nl.addLink("cali4", kGroupB);  // ours, wanted by nobody: the sweep waits for apply()
  nl.addLink("cali5");           // no group wanted
  RouteTable routes(nl, sysctl);
  routes.setInterfaceGroup("cali1", kGroupA);
  routes.setInterfaceGroup("cali2", kGroupA);
  routes.setInterfaceGroup("cali3", kGroupA);
  routes.setInterfaceGroup("cali9", kGroupA);  // no such link yet
  routes.setWorkloadRoute(cidr("10.65.0.1/32"), "cali1");
  std::map<std::string, uint32_t> carried;
  ASSERT_TRUE(routes.applyGroupsOfUngroupedLinks(carried));
  EXPECT_EQ(carried, (std::map<std::string, uint32_t>{{"cali3", kGroupB}}));
  EXPECT_EQ(nl.group("cali1"), kGroupA);
  EXPECT_EQ(nl.group("cali2"), kGroupA);
  EXPECT_EQ(nl.group("cali3"), kGroupB);
  EXPECT_EQ(nl.group("cali4"), kGroupB);
  EXPECT_EQ(nl.group("cali5"), 0u);
  EXPECT_EQ(nl.find(cidr("10.65.0.1/32")), nullptr);
  EXPECT_EQ(routes.stats().groupsSet, 2);
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.group("cali3"), kGroupA);
  EXPECT_EQ(nl.group("cali4"), 0u);
  EXPECT_NE(nl.find(cidr("10.65.0.1/32")), nullptr);
  EXPECT_EQ(routes.pendingInterfaceGroups(), std::vector<std::string>{"cali9"});
}

TEST(RouteTableTest, FailedGroupSetIsReportedAndRetriedWhileTheRestGoesOn) {
  FakeRouteNetlink nl;
  FakeSysctl sysctl;
  nl.addLink("cali1");
  nl.addLink("cali2");
  RouteTable routes(nl, sysctl);
  routes.setInterfaceGroup("cali1", kGroupA);
  routes.setInterfaceGroup("cali2", kGroupB);
  routes.setWorkloadRoute(cidr("10.65.0.5/32"), "cali1");
  nl.failNextGroupSet();
  EXPECT_EQ(routes.apply().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(nl.group("cali1"), 0u);
  EXPECT_EQ(nl.group("cali2"), kGroupB);
  EXPECT_NE(nl.find(cidr("10.65.0.5/32")), nullptr);
  ASSERT_TRUE(routes.apply());
  EXPECT_EQ(nl.group("cali1"), kGroupA);
}

}  // namespace
}  // namespace brindle::dataplane
