// IpamBlockView: the stored AllocationBlock as the calculation, BGP and IPAM read it.
#include "model/ipam_block.h"

#include <gtest/gtest.h>

namespace brindle::model {
namespace {

TEST(IpamBlockView, DecodesCalicoWrittenBlock) {
  const char* calico = R"({"cidr":"10.0.0.0/30","affinity":null,"allocations":[null,0,null,null],
    "unallocated":[0,2,3],"attributes":[{"handle_id":null,"secondary":null}],"deleted":false})";
  auto b = IpamBlockView::decode(calico);
  ASSERT_TRUE(b.isOk()) << b.message();
  EXPECT_EQ(b->cidr().toString(), "10.0.0.0/30");
  EXPECT_FALSE(b->affinity().has_value());
  EXPECT_EQ(b->inUse(), 1);
  EXPECT_EQ(b->attributeOf(1)->handle, std::nullopt);
  EXPECT_EQ(b->attributeOf(0), nullptr);
}

// What BGP reads: whose block it is, and which addresses in it belong to which node.
TEST(IpamBlockView, AffinityAndAllocatedAddresses) {
  auto b = IpamBlockView::decode(R"({"cidr":"fd00::/126","affinity":"host:a",
    "allocations":[null,1,0,null],"unallocated":[3,0],"attributes":[
      {"handle_id":"h0","secondary":{"node":"a"}},{"handle_id":"h1","secondary":{"node":"b"}}]})");
  ASSERT_TRUE(b.isOk()) << b.message();
  EXPECT_EQ(*b->affinity(), "host:a");
  EXPECT_EQ(b->allocatedOrdinals(), (std::vector<int>{1, 2}));
  EXPECT_EQ(b->ordinalToIp(1).toString(), "fd00::1");
  EXPECT_EQ(b->attributeOf(1)->secondary.at("node"), "b");
  EXPECT_EQ(*b->ipToOrdinal(*IpAddr::parse("fd00::2")), 2);
  EXPECT_EQ(b->countsByHandle(), (std::map<std::string, int>{{"h0", 1}, {"h1", 1}}));
  auto again = IpamBlockView::decode(b->encode());
  ASSERT_TRUE(again.isOk()) << again.message();
  EXPECT_EQ(again->encode(), b->encode());
}

TEST(IpamBlockView, RejectsCorruptBlocks) {
  for (const char* bad :
       {R"({"cidr":"10.0.0.0/30","allocations":[null],"unallocated":[]})",
        R"({"cidr":"10.0.0.0/30","allocations":[0,null,null,null],"unallocated":[0,1,2,3]})",
        R"({"cidr":"10.0.0.0/30","allocations":[1,null,null,null],"unallocated":[1,2,3]})",
        R"({"cidr":"10.0.0.1/30","allocations":[],"unallocated":[]})", "not json"}) {
    auto b = IpamBlockView::decode(bad);
    ASSERT_FALSE(b.isOk()) << bad;
    EXPECT_EQ(b.code(), ErrorCode::kInternal);
    EXPECT_EQ(b.message().rfind("corrupt IPAM block", 0), 0u) << b.message();
  }
}

}  // namespace
}  // namespace brindle::model
