// Block arithmetic, datastore keys and the JSON layout of blocks, handles and config, checked
// against Calico's AllocationBlock field names and semantics.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ipam/block.h"

namespace brindle::ipam {
namespace {

using Json = nlohmann::json;

IpAddr ip(const char* text) { return *IpAddr::parse(text); }
Cidr cidr(const char* text) { return *Cidr::parse(text, false); }

TEST(BlockMathTest, IntegersRoundTripBothFamilies) {
  EXPECT_EQ(fromInteger(toInteger(ip("10.1.2.3")) + 1, true), ip("10.1.2.4"));
  EXPECT_EQ(fromInteger(toInteger(ip("10.1.2.255")) + 1, true), ip("10.1.3.0"));
  EXPECT_EQ(fromInteger(toInteger(ip("fd80::ffff")) + 1, false), ip("fd80::1:0"));
  EXPECT_EQ(cidrSize(cidr("10.0.0.0/26")), 64u);
  EXPECT_EQ(cidrSize(cidr("fd80::/122")), 64u);
  EXPECT_EQ(cidrSize(cidr("fd80:24e2:f998:72d6::/64")), Uint128(1) << 64);
}

TEST(BlockMathTest, BlocksOfPools) {
  EXPECT_EQ(nthBlock(cidr("192.168.0.0/16"), 26, 0), cidr("192.168.0.0/26"));
  EXPECT_EQ(nthBlock(cidr("192.168.0.0/16"), 26, 5), cidr("192.168.1.64/26"));
  EXPECT_EQ(nthBlock(cidr("192.168.0.0/16"), 26, 1023), cidr("192.168.255.192/26"));
  EXPECT_EQ(nthBlock(cidr("fd80:24e2:f998:72d6::/64"), 122, 3),
            cidr("fd80:24e2:f998:72d6::c0/122"));
  EXPECT_EQ(blockOf(ip("192.168.1.70"), 26), cidr("192.168.1.64/26"));
  EXPECT_EQ(blockOf(ip("10.0.0.17"), 28), cidr("10.0.0.16/28"));
}

TEST(BlockKeysTest, CalicoLayout) {
  EXPECT_EQ(blockKey(cidr("192.168.1.64/26")),
            "/calico/ipam/v2/assignment/ipv4/block/192.168.1.64-26");
  EXPECT_EQ(blockKey(cidr("fd80:24e2:f998:72d6::c0/122")),
            "/calico/ipam/v2/assignment/ipv6/block/fd80:24e2:f998:72d6::c0-122");
  EXPECT_EQ(affinityKey("node-1", cidr("192.168.1.64/26")),
            "/calico/ipam/v2/host/node-1/ipv4/block/192.168.1.64-26");
  EXPECT_EQ(handleKey("k8s-pod-network.abc"), "/calico/ipam/v2/handle/k8s-pod-network.abc");
  EXPECT_STREQ(kConfigKey, "/calico/ipam/v2/config");
  EXPECT_EQ(*cidrFromKey("/calico/ipam/v2/host/n/ipv6/block/fd80::40-122"), cidr("fd80::40/122"));
  EXPECT_FALSE(cidrFromKey("/calico/ipam/v2/handle/x").isOk());
}

TEST(BlockJsonTest, LayoutMatchesCalicoAllocationBlock) {
  Block b = Block::create(cidr("10.0.0.0/30"), std::string("host:node-1"), 7);
  auto ips = b.autoAssign(2, "h1", {{"node", "node-1"}, {"pod", "p"}}, ReservedRanges());
  ASSERT_EQ(ips.size(), 2u);
  EXPECT_EQ(ips[0], ip("10.0.0.0"));  // Calico hands out a block's first address too
  EXPECT_EQ(ips[1], ip("10.0.0.1"));
  Json j = Json::parse(b.encode());
  EXPECT_EQ(j["cidr"], "10.0.0.0/30");
  EXPECT_EQ(j["affinity"], "host:node-1");
  EXPECT_EQ(j["allocations"], Json::parse("[0,0,null,null]"));
  EXPECT_EQ(j["unallocated"], Json::parse("[2,3]"));
  EXPECT_EQ(j["attributes"],
            Json::parse(R"([{"handle_id":"h1","secondary":{"node":"node-1","pod":"p"}}])"));
  EXPECT_EQ(j["deleted"], false);
  EXPECT_EQ(j["sequenceNumber"], 7);
  EXPECT_EQ(j["sequenceNumberForAllocation"], Json::parse(R"({"0":7,"1":7})"));

  auto back = Block::decode(b.encode());
  ASSERT_TRUE(back.isOk()) << back.message();
  EXPECT_EQ(back->encode(), b.encode());
}

TEST(BlockTest, ReleaseAppendsToUnallocatedAndDropsUnusedAttributes) {
  Block b = Block::create(cidr("10.0.0.0/29"), std::nullopt, 1);
  b.autoAssign(2, "a", {}, ReservedRanges());
  b.autoAssign(1, "b", {}, ReservedRanges());
  std::vector<IpAddr> missing;
  auto counts = b.release({ip("10.0.0.0"), ip("10.0.0.1"), ip("10.0.0.7")}, &missing);
  EXPECT_EQ(counts, (std::map<std::string, int>{{"a", 2}}));
  EXPECT_EQ(missing, std::vector<IpAddr>{ip("10.0.0.7")});
  Json j = Json::parse(b.encode());
  EXPECT_EQ(j["unallocated"], Json::parse("[3,4,5,6,7,0,1]"));  // freed ones reused last
  EXPECT_EQ(j["attributes"].size(), 1u);
  EXPECT_EQ(j["allocations"][2], 0);
  EXPECT_EQ(b.releaseByHandle("b"), std::vector<IpAddr>{ip("10.0.0.2")});
  EXPECT_TRUE(b.empty());
  EXPECT_TRUE(b.releaseByHandle("b").empty());
}

TEST(BlockTest, AutoAssignSkipsReservedAddresses) {
  Block b = Block::create(cidr("10.0.0.0/29"), std::nullopt, 1);
  ReservedRanges reserved({cidr("10.0.0.0/30"), cidr("10.0.0.6/32"), cidr("192.168.0.0/16")});
  auto ips = b.autoAssign(8, "h", {}, reserved);
  EXPECT_EQ(ips, (std::vector<IpAddr>{ip("10.0.0.4"), ip("10.0.0.5"), ip("10.0.0.7")}));
  EXPECT_TRUE(b.autoAssign(1, "h", {}, reserved).empty());  // only reserved ones are left
  EXPECT_EQ(b.inUse(), 3);
  EXPECT_TRUE(ReservedRanges({cidr("10.0.0.0/24")}).coversWhole(cidr("10.0.0.0/29")));
}

TEST(BlockTest, AssignOneAddress) {
  Block b = Block::create(cidr("fd80::/126"), std::nullopt, 1);
  ASSERT_TRUE(b.assign(2, "h", {}).isOk());
  EXPECT_EQ(b.assign(2, "h", {}).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(*b.ipToOrdinal(ip("fd80::2")), 2);
  EXPECT_FALSE(b.ipToOrdinal(ip("fd80::4")).has_value());
  auto next = b.autoAssign(1, "h", {}, ReservedRanges());
  EXPECT_EQ(next, std::vector<IpAddr>{ip("fd80::")});
}

TEST(HandleJsonTest, Layout) {
  Handle h;
  h.blocks["10.0.0.0/26"] = 2;
  EXPECT_EQ(Json::parse(h.encode()), Json::parse(R"({"block":{"10.0.0.0/26":2},"deleted":false})"));
  EXPECT_EQ(Handle::decode(h.encode())->total(), 2);
}

TEST(IpamConfigJsonTest, DefaultsAndLayout) {
  IpamConfig c = *IpamConfig::decode("{}");
  EXPECT_FALSE(c.strictAffinity);
  EXPECT_TRUE(c.autoAllocateBlocks);
  c.strictAffinity = true;
  EXPECT_EQ(Json::parse(c.encode()),
            Json::parse(R"({"strict_affinity":true,"auto_allocate_blocks":true})"));
}

}  // namespace
}  // namespace brindle::ipam
