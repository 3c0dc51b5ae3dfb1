// The allocator against a real store: allocation order (affine, new block, borrow), strict
// affinity, disabled pools, nodeSelector, IPReservation, release by IP and handle, IPv6,
// per-pool blockSize, specific assignment, usage figures.
#include <gtest/gtest.h>

#include <set>

#include "backend.h"
#include "fixtures.h"
#include "ipam/block.h"
#include "ipam/ipam.h"
#include "testutil/temp_dir.h"

namespace brindle::ipam {
namespace {

using model::Json;
using model::Kind;

IpAddr ip(const char* text) { return *IpAddr::parse(text); }
Cidr cidr(const char* text) { return *Cidr::parse(text, false); }

class IpamTest : public ::testing::Test {
 protected:
  IpamTest() {
    auto c = test::openBackend(dir_.path(), /*fresh=*/true);
    if (!c) throw std::runtime_error(c.message());
    client_ = std::move(*c);
    ipam_ = makeIpam(*client_);
  }

  // One address for `node`, handle `handle`; fails the test if it cannot.
  IpAddr one(const std::string& node, const std::string& handle) {
    AssignArgs a;
    a.node = node;
    a.handle = handle;
    a.attributes = {{"node", node}};
    auto r = ipam_->autoAssign(a);
    EXPECT_TRUE(r.isOk()) << r.message();
    if (!r || r->ipv4.size() != 1) return IpAddr();
    return r->ipv4[0].address();
  }

  Result<AssignResult> assign(const std::string& node, int num4, int num6 = 0,
                              const std::string& handle = "h") {
    AssignArgs a;
    a.node = node;
    a.handle = handle;
    a.num4 = num4;
    a.num6 = num6;
    return ipam_->autoAssign(a);
  }

  Block block(const Cidr& c) {
    auto kv = client_->get(blockKey(c));
    EXPECT_TRUE(kv.isOk()) << c.toString();
    return *Block::decode(kv->value);
  }

  testutil::TempDir dir_;
  datastore::ClientPtr client_;
  IpamPtr ipam_;
};

TEST_F(IpamTest, NoPoolIsAnErrorThatSaysSo) {
  auto r = assign("n1", 1);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.message().find("no IPv4 IP pool is configured"), std::string::npos) << r.message();
}

TEST_F(IpamTest, FirstAllocationClaimsAnAffineBlockAndLaterOnesFillIt) {
  test::createPool(*client_, "pool1", "10.0.0.0/16");
  IpAddr first = one("n1", "a");
  const Cidr b = blockOf(first, 26);
  EXPECT_TRUE(client_->get(affinityKey("n1", b)).isOk());
  EXPECT_EQ(block(b).affinity(), "host:n1");
  EXPECT_EQ(Json::parse(client_->get(affinityKey("n1", b))->value),
            Json::parse(R"({"state":"confirmed","deleted":false})"));
  std::set<IpAddr> seen = {first};
  for (int i = 1; i < 64; ++i) {
    IpAddr x = one("n1", "h" + std::to_string(i));
    EXPECT_TRUE(b.contains(x)) << x.toString();
    seen.insert(x);
  }
  EXPECT_EQ(seen.size(), 64u);
  EXPECT_EQ(block(b).inUse(), 64);
  // Block full: the 65th claims a second block for the same node.
  IpAddr next = one("n1", "x");
  EXPECT_FALSE(b.contains(next));
  EXPECT_EQ(block(blockOf(next, 26)).affinity(), "host:n1");
  EXPECT_EQ(client_->list(hostAffinityPrefix("n1", true))->items.size(), 2u);
  // Another node gets its own block.
  IpAddr other = one("n2", "y");
  EXPECT_EQ(block(blockOf(other, 26)).affinity(), "host:n2");
}

class SmallPoolTest : public IpamTest {
 protected:
  // 10.9.0.0/26 in four /28 blocks of 16 addresses.
  void SetUp() override { test::createPool(*client_, "small", "10.9.0.0/26", {{"blockSize", 28}}); }

  // n1 takes three blocks, n2 the fourth with one address.
  void fillThreeAndOne() {
    auto r = assign("n1", 48, 0, "n1-all");
    ASSERT_TRUE(r.isOk()) << r.message();
    ASSERT_EQ(r->ipv4.size(), 48u);
    n2Address_ = one("n2", "n2-one");
  }
  IpAddr n2Address_;
};

TEST_F(SmallPoolTest, BorrowsFromAnotherNodesBlockOnlyWhenNoBlockIsFree) {
  fillThreeAndOne();
  const Cidr n2Block = blockOf(n2Address_, 28);
  EXPECT_EQ(block(n2Block).affinity(), "host:n2");
  IpAddr borrowed = one("n1", "borrow");
  EXPECT_TRUE(n2Block.contains(borrowed)) << borrowed.toString();
  EXPECT_EQ(block(n2Block).affinity(), "host:n2");  // borrowing does not move affinity
  auto a = ipam_->getAllocation(borrowed);
  ASSERT_TRUE(a.isOk());
  EXPECT_EQ(a->attributes.at("node"), "n1");
  // Pool exhausted: a clear error.
  auto more = assign("n1", 15, 0, "too-many");
  ASSERT_FALSE(more.isOk());
  EXPECT_NE(more.message().find("exhausted"), std::string::npos) << more.message();
  // All or nothing: the partial 14 were given back.
  EXPECT_EQ(block(n2Block).inUse(), 2);
}

TEST_F(SmallPoolTest, StrictAffinityNeverBorrows) {
  ASSERT_TRUE(ipam_->setStrictAffinity(true).isOk());
  EXPECT_TRUE(*ipam_->strictAffinity());
  fillThreeAndOne();
  auto r = assign("n1", 1, 0, "borrow");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.message().find("strictAffinity"), std::string::npos) << r.message();
  EXPECT_EQ(block(blockOf(n2Address_, 28)).inUse(), 1);
  // n2 still allocates from its own block.
  EXPECT_TRUE(blockOf(n2Address_, 28).contains(one("n2", "n2-two")));
  ASSERT_TRUE(ipam_->setStrictAffinity(false).isOk());
  EXPECT_FALSE(*ipam_->strictAffinity());
  EXPECT_TRUE(assign("n1", 1, 0, "borrow").isOk());
}

TEST_F(IpamTest, DisabledPoolsAreNeverUsed) {
  test::createPool(*client_, "off", "10.1.0.0/16", {{"disabled", true}});
  auto r = assign("n1", 1);
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.message().find("disabled"), std::string::npos) << r.message();
  test::createPool(*client_, "on", "10.2.0.0/16");
  for (int i = 0; i < 70; ++i) {
    EXPECT_TRUE(cidr("10.2.0.0/16").contains(one("n1", "h" + std::to_string(i))));
  }
  // Asking for the disabled pool by name is refused too.
  AssignArgs a;
  a.node = "n1";
  a.handle = "x";
  a.ipv4Pools = {"off"};
  EXPECT_EQ(ipam_->autoAssign(a).code(), ErrorCode::kInvalid);
}

TEST_F(IpamTest, NodeSelectorPicksThePoolByTheNodesLabels) {
  test::createPool(*client_, "east", "10.10.0.0/16", {{"nodeSelector", "zone == 'east'"}});
  test::createPool(*client_, "west", "10.20.0.0/16", {{"nodeSelector", "zone == 'west'"}});
  test::createResource(*client_, Kind::kNode, "e1", Json::object(), {{"zone", "east"}});
  test::createResource(*client_, Kind::kNode, "w1", Json::object(), {{"zone", "west"}});
  EXPECT_TRUE(cidr("10.10.0.0/16").contains(one("e1", "a")));
  EXPECT_TRUE(cidr("10.20.0.0/16").contains(one("w1", "b")));
  // A node without a Node resource has no labels: neither selector matches.
  auto r = assign("ghost", 1);
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.message().find("nodeSelector"), std::string::npos) << r.message();
  // Requested pools are used whatever their selector (as Calico).
  AssignArgs a;
  a.node = "ghost";
  a.handle = "c";
  a.ipv4Pools = {"10.20.0.0/16"};
  auto got = ipam_->autoAssign(a);
  ASSERT_TRUE(got.isOk()) << got.message();
  EXPECT_TRUE(cidr("10.20.0.0/16").contains(got->ipv4[0].address()));
}

TEST_F(IpamTest, ReservedAddressesAreNeverHandedOut) {
  test::createPool(*client_, "p", "10.3.0.0/26");  // one /26 block
  test::createResource(*client_, Kind::kIPReservation, "r1",
                       {{"reservedCIDRs", {"10.3.0.0/30", "10.3.0.10/32", "10.3.0.63/32"}}});
  std::set<IpAddr> got;
  for (int i = 0; i < 58; ++i) {
    IpAddr x = one("n1", "h" + std::to_string(i));
    EXPECT_FALSE(x.bytes()[3] < 4 || x.bytes()[3] == 10 || x.bytes()[3] == 63) << x.toString();
    got.insert(x);
  }
  EXPECT_EQ(got.size(), 58u);
  auto r = assign("n1", 1, 0, "last");
  EXPECT_FALSE(r.isOk());
  auto u = ipam_->usage();
  ASSERT_TRUE(u.isOk());
  ASSERT_EQ(u->size(), 1u);
  EXPECT_EQ((*u)[0].total, 64u);
  EXPECT_EQ((*u)[0].inUse, 58u);
  EXPECT_EQ((*u)[0].reserved, 6u);
  EXPECT_EQ((*u)[0].available, 0u);
  ASSERT_EQ((*u)[0].blocks.size(), 1u);
  EXPECT_EQ((*u)[0].blocks[0].reserved, 6);
  // An explicit request may take a reserved address (reservations govern automatic assignment).
  EXPECT_TRUE(ipam_->assignIp(ip("10.3.0.10"), "explicit", "n1", {}).isOk());
}

TEST_F(IpamTest, ReleaseByIpAndByHandleAreIdempotent) {
  test::createPool(*client_, "p", "10.4.0.0/16");
  auto r = assign("n1", 3, 0, "pod-a");
  ASSERT_TRUE(r.isOk());
  const IpAddr a = r->ipv4[0].address(), b = r->ipv4[1].address(), c = r->ipv4[2].address();
  auto h = Handle::decode(client_->get(handleKey("pod-a"))->value);
  EXPECT_EQ(h->total(), 3);

  auto rel = ipam_->releaseIps({a});
  ASSERT_TRUE(rel.isOk());
  EXPECT_TRUE(rel->empty());
  EXPECT_EQ(ipam_->getAllocation(a).code(), ErrorCode::kNotFound);
  EXPECT_EQ(Handle::decode(client_->get(handleKey("pod-a"))->value)->total(), 2);
  rel = ipam_->releaseIps({a});
  ASSERT_TRUE(rel.isOk());
  EXPECT_EQ(*rel, std::vector<IpAddr>{a});  // not allocated: reported, not an error

  auto byHandle = ipam_->releaseByHandle("pod-a");
  ASSERT_TRUE(byHandle.isOk());
  EXPECT_EQ(std::set<IpAddr>(byHandle->begin(), byHandle->end()), (std::set<IpAddr>{b, c}));
  EXPECT_EQ(client_->get(handleKey("pod-a")).code(), ErrorCode::kNotFound);
  byHandle = ipam_->releaseByHandle("pod-a");
  ASSERT_TRUE(byHandle.isOk());
  EXPECT_TRUE(byHandle->empty());
  EXPECT_TRUE(ipam_->listAllocations()->empty());
  // The empty block stays affine to its node (Calico keeps it for the node's next workload).
  EXPECT_EQ(block(blockOf(a, 26)).affinity(), "host:n1");
  EXPECT_TRUE(block(blockOf(a, 26)).empty());
  // An address outside every block: reported back.
  EXPECT_EQ(*ipam_->releaseIps({ip("172.16.0.1")}), std::vector<IpAddr>{ip("172.16.0.1")});
}

TEST_F(IpamTest, IPv6AndDualStack) {
  test::createPool(*client_, "v4", "192.168.0.0/16");
  test::createPool(*client_, "v6", "fd80:24e2:f998:72d6::/64");
  auto r = assign("n1", 1, 2, "dual");
  ASSERT_TRUE(r.isOk()) << r.message();
  ASSERT_EQ(r->ipv4.size(), 1u);
  ASSERT_EQ(r->ipv6.size(), 2u);
  EXPECT_EQ(r->ipv4[0].prefixLength(), 32);
  EXPECT_EQ(r->ipv6[0].prefixLength(), 128);
  const Cidr b6 = blockOf(r->ipv6[0].address(), 122);
  EXPECT_TRUE(cidr("fd80:24e2:f998:72d6::/64").contains(b6));
  EXPECT_TRUE(client_->get(blockKey(b6)).isOk());
  EXPECT_TRUE(client_->get(affinityKey("n1", b6)).isOk());
  EXPECT_EQ(blockKey(b6).rfind("/calico/ipam/v2/assignment/ipv6/block/", 0), 0u);
  EXPECT_EQ(Handle::decode(client_->get(handleKey("dual"))->value)->total(), 3);
  auto released = ipam_->releaseByHandle("dual");
  ASSERT_TRUE(released.isOk());
  EXPECT_EQ(released->size(), 3u);
  auto u = ipam_->usage();
  ASSERT_TRUE(u.isOk());
  for (const auto& p : *u) {
    if (!p.cidr.isV4()) {
      EXPECT_EQ(p.hostBits, 64);
    }
  }
}

TEST_F(IpamTest, DualStackFailureLeavesNothingAllocated) {
  test::createPool(*client_, "v4", "192.168.0.0/16");
  auto r = assign("n1", 1, 1, "dual");
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.message().find("IPv6"), std::string::npos);
  EXPECT_TRUE(ipam_->listAllocations()->empty());
  EXPECT_EQ(client_->get(handleKey("dual")).code(), ErrorCode::kNotFound);
}

TEST_F(IpamTest, BlockSizePerPool) {
  test::createPool(*client_, "p28", "10.5.0.0/24", {{"blockSize", 28}});
  test::createPool(*client_, "v6", "fd00:1::/112", {{"blockSize", 124}});
  auto r = assign("n1", 1, 1, "h");
  ASSERT_TRUE(r.isOk()) << r.message();
  EXPECT_TRUE(client_->get(blockKey(blockOf(r->ipv4[0].address(), 28))).isOk());
  EXPECT_TRUE(client_->get(blockKey(blockOf(r->ipv6[0].address(), 124))).isOk());
  EXPECT_EQ(block(blockOf(r->ipv4[0].address(), 28)).size(), 16);
}

TEST_F(IpamTest, AssignSpecificAddress) {
  test::createPool(*client_, "p", "10.6.0.0/16");
  ASSERT_TRUE(ipam_->assignIp(ip("10.6.3.7"), "pinned", "n1", {{"pod", "p1"}}).isOk());
  EXPECT_EQ(ipam_->assignIp(ip("10.6.3.7"), "other", "n1", {}).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(ipam_->assignIp(ip("10.7.0.1"), "x", "n1", {}).code(), ErrorCode::kInvalid);
  auto a = ipam_->getAllocation(ip("10.6.3.7"));
  ASSERT_TRUE(a.isOk());
  EXPECT_EQ(a->handle, "pinned");
  EXPECT_EQ(a->attributes.at("pod"), "p1");
  EXPECT_EQ(a->block, "10.6.3.0/26");
  EXPECT_EQ(block(cidr("10.6.3.0/26")).affinity(), "host:n1");
  // The node's next automatic allocation uses that affine block.
  EXPECT_TRUE(cidr("10.6.3.0/26").contains(one("n1", "auto")));
}

TEST_F(IpamTest, ReleaseHostAffinitiesOfAGoneNode) {
  test::createPool(*client_, "p", "10.8.0.0/16");
  IpAddr kept = one("gone", "a");
  ASSERT_TRUE(ipam_->releaseIps({kept}).isOk());
  IpAddr second = one("gone", "b");  // same block again
  auto released = ipam_->releaseHostAffinities("gone");
  ASSERT_TRUE(released.isOk()) << released.message();
  EXPECT_EQ(released->size(), 1u);
  const Cidr b = blockOf(second, 26);
  EXPECT_FALSE(block(b).affinity().has_value());  // still holds an address: kept, unaffine
  EXPECT_TRUE(client_->list(hostAffinityPrefix("gone", true))->items.empty());
  ASSERT_TRUE(ipam_->releaseByHandle("b").isOk());
  EXPECT_EQ(client_->get(blockKey(b)).code(), ErrorCode::kNotFound);  // empty + unaffine: deleted
}

}  // namespace
}  // namespace brindle::ipam
