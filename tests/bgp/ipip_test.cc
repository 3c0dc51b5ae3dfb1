// IPIP decisions (issue #13, S6): which remote blocks and workload addresses go through tunl0,
// for Always, CrossSubnet and Never pools, as Felix's route resolver decides.
#include "bgp/ipip.h"

#include <gtest/gtest.h>

#include "bgp/test_inputs.h"
#include "ipam/block.h"

namespace brindle::bgp {
namespace {

std::string pool(const std::string& cidr, const std::string& mode) {
  return "kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata:\n  name: p\nspec:\n  cidr: " +
         cidr + "\n  ipipMode: " + mode + "\n---\n";
}

// n1 and n2 share 10.0.1.0/24, n3 is behind a router in 10.0.2.0/24.
Inputs threeNodes(const std::string& mode) {
  Inputs in = inputsFrom(node("n1", "10.0.1.2/24", "    ipv4IPIPTunnelAddr: 192.168.1.1\n") +
                         node("n2", "10.0.1.3/24") + node("n3", "10.0.2.2/24") +
                         node("nobgp", "", "    asNumber: 64512\n") + pool("192.168.0.0/16", mode));
  auto n2 = ipam::Block::create(*Cidr::parse("192.168.2.0/26"), "host:n2", 0);
  // n3's workload borrowed an address of n2's block: it is announced (and tunnelled) as a /32.
  EXPECT_TRUE(n2.assign(5, "h", {{"node", "n3"}}).isOk());
  in.blocks = {ipam::Block::create(*Cidr::parse("192.168.1.0/26"), "host:n1", 0), n2,
               ipam::Block::create(*Cidr::parse("192.168.3.0/26"), "host:n3", 0),
               ipam::Block::create(*Cidr::parse("192.168.4.0/26"), "host:nobgp", 0)};
  return in;
}

IpipPlan planOk(const Inputs& in, const std::string& node) {
  auto plan = planIpip(in, node);
  EXPECT_TRUE(plan.isOk()) << (plan ? std::string() : plan.message());
  return plan ? *plan : IpipPlan{};
}

TunnelRoute route(const std::string& dest, const std::string& via) {
  return {*Cidr::parse(dest), *IpAddr::parse(via)};
}

TEST(Ipip, CrossSubnetTunnelsOnlyToNodesOutsideTheSubnet) {
  IpipPlan plan = planOk(threeNodes("CrossSubnet"), "n1");
  ASSERT_TRUE(plan.needed());
  EXPECT_EQ(plan.subnet, Cidr::parse("10.0.1.0/24").value());
  EXPECT_EQ(plan.tunnelAddress, IpAddr::parse("192.168.1.1").value());
  EXPECT_EQ(plan.routes, (std::vector<TunnelRoute>{route("192.168.2.5/32", "10.0.2.2"),
                                                   route("192.168.3.0/26", "10.0.2.2")}));
  // From n3 every other node is across the router.
  plan = planOk(threeNodes("CrossSubnet"), "n3");
  EXPECT_EQ(plan.routes, (std::vector<TunnelRoute>{route("192.168.1.0/26", "10.0.1.2"),
                                                   route("192.168.2.0/26", "10.0.1.3")}));
  EXPECT_FALSE(plan.tunnelAddress);
}

TEST(Ipip, AlwaysTunnelsEveryRemoteBlock) {
  IpipPlan plan = planOk(threeNodes("Always"), "n1");
  EXPECT_EQ(plan.routes, (std::vector<TunnelRoute>{route("192.168.2.0/26", "10.0.1.3"),
                                                   route("192.168.2.5/32", "10.0.2.2"),
                                                   route("192.168.3.0/26", "10.0.2.2")}));
}

TEST(Ipip, NeverAndDisabledPoolsNeedNoTunnel) {
  EXPECT_FALSE(planOk(threeNodes("Never"), "n1").needed());
  EXPECT_TRUE(planOk(threeNodes("Never"), "n1").routes.empty());
  Inputs in = threeNodes("Always");
  in.pools[0].spec["disabled"] = true;
  EXPECT_FALSE(planOk(in, "n1").needed());
  EXPECT_EQ(planIpip(in, "ghost").code(), ErrorCode::kNotFound);
}

TEST(Ipip, OnlyBlocksInsideAnIpipPool) {
  Inputs in = threeNodes("Always");
  in.pools[0].spec["cidr"] = "192.168.2.0/24";  // n3's block is in no IPIP pool
  EXPECT_EQ(planOk(in, "n1").routes,
            (std::vector<TunnelRoute>{route("192.168.2.0/26", "10.0.1.3"),
                                      route("192.168.2.5/32", "10.0.2.2")}));
}

TEST(Ipip, EncapsulatedDecision) {
  const std::vector<IpipPool> pools = {{*Cidr::parse("192.168.0.0/16"), true}};
  const auto subnet = Cidr::parse("10.0.1.0/24").value();
  const auto dest = Cidr::parse("192.168.3.0/26").value();
  EXPECT_FALSE(encapsulated(pools, subnet, dest, *IpAddr::parse("10.0.1.9")));
  EXPECT_TRUE(encapsulated(pools, subnet, dest, *IpAddr::parse("10.0.2.9")));
  EXPECT_TRUE(encapsulated(pools, std::nullopt, dest, *IpAddr::parse("10.0.1.9")));
  EXPECT_FALSE(
      encapsulated(pools, subnet, *Cidr::parse("10.9.0.0/26"), *IpAddr::parse("10.0.2.9")));
}

}  // namespace
}  // namespace brindle::bgp
