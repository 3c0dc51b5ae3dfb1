// The IPAM consistency check and its repair as a library: each finding of the report (leaks,
// unallocated and multiply-owned addresses, empty, disagreeing and missing handles, invalid
// blocks, blocks of nodes that are gone) from a store set up to have exactly it.
#include "ipam/check.h"

#include <gtest/gtest.h>

#include "backend.h"
#include "fixtures.h"
#include "testutil/temp_dir.h"

namespace brindle::ipam {
namespace {

using model::Json;
using model::Kind;

class IpamCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = test::openBackend(dir_.path(), true);
    ASSERT_TRUE(c.isOk()) << c.message();
    client_ = std::move(*c);
    ipam_ = makeIpam(*client_);
    test::createPool(*client_, "pool-a", "10.0.0.0/16");
  }

  IpAddr allocate(const std::string& node, const std::string& handle) {
    AssignArgs a;
    a.node = node;
    a.handle = handle;
    a.attributes = {{"node", node}, {"pod", handle}};
    auto r = ipam_->autoAssign(a);
    EXPECT_TRUE(r.isOk()) << r.message();
    return r ? r->ipv4[0].address() : IpAddr();
  }

  void endpoint(const std::string& name, const std::vector<std::string>& ips) {
    Json nets = Json::array();
    for (const auto& ip : ips) nets.push_back(ip + "/32");
    test::createResource(*client_, Kind::kWorkloadEndpoint, name,
                         {{"node", "n1"},
                          {"orchestrator", "k8s"},
                          {"pod", name},
                          {"endpoint", "eth0"},
                          {"interfaceName", "cali0123456789a"},
                          {"ipNetworks", nets}});
  }

  CheckReport check() {
    auto r = checkConsistency(*client_);
    EXPECT_TRUE(r.isOk()) << r.message();
    return r ? std::move(*r) : CheckReport{};
  }

  testutil::TempDir dir_;
  datastore::ClientPtr client_;
  IpamPtr ipam_;
};

TEST_F(IpamCheckTest, ConsistentStoreHasNoProblems) {
  const IpAddr ip = allocate("n1", "pod-1");
  endpoint("pod-1", {ip.toString()});
  CheckReport r = check();
  ASSERT_EQ(r.blocks.size(), 1u);
  ASSERT_TRUE(r.blocks[0].block);
  EXPECT_TRUE(r.blocks[0].block->cidr().contains(ip));
  EXPECT_EQ(r.blocks[0].block->affinity().value_or(""), "host:n1");
  EXPECT_EQ(r.allocations, 1);
  ASSERT_EQ(r.activePools.size(), 1u);
  EXPECT_EQ(r.activePools[0].toString(), "10.0.0.0/16");
  EXPECT_EQ(r.workloadIps, 1);
  ASSERT_EQ(r.inUse.size(), 1u);
  EXPECT_EQ(r.inUse[0].ip, ip);
  EXPECT_TRUE(r.inUse[0].allocated);
  EXPECT_TRUE(r.inUse[0].inActivePool);
  EXPECT_EQ(r.inUse[0].owners, std::vector<std::string>{"WorkloadEndpoint(default/pod-1)"});
  EXPECT_TRUE(r.leaked.empty());
  EXPECT_EQ(r.handles, 1u);
  EXPECT_TRUE(r.handleProblems.empty());
  EXPECT_TRUE(r.missingHandles.empty());
  EXPECT_FALSE(r.nodesListed);  // no Node resource at all: affinities cannot be judged
  EXPECT_EQ(r.problems(), 0u);
  EXPECT_EQ(r.fixable(), 0u);
}

TEST_F(IpamCheckTest, AddressesAllocatedButUnusedAndUsedButUnallocated) {
  const IpAddr used = allocate("n1", "pod-used");
  const IpAddr leaked = allocate("n1", "pod-leaked");
  endpoint("pod-used", {used.toString()});
  endpoint("pod-noalloc", {"10.0.200.1", "192.168.7.7"});  // in the pool / outside every pool
  endpoint("pod-twin", {used.toString()});                 // a second owner of `used`
  CheckReport r = check();
  ASSERT_EQ(r.leaked.size(), 1u);
  EXPECT_EQ(r.leaked[0].ip, leaked);
  EXPECT_EQ(r.leaked[0].handle, "pod-leaked");
  EXPECT_EQ(r.leaked[0].attributes.at("pod"), "pod-leaked");
  EXPECT_EQ(r.workloadIps, 4);
  ASSERT_EQ(r.inUse.size(), 3u);  // by address: 10.0.200.1, `used`, 192.168.7.7
  const AddressUse* noalloc = nullptr;
  const AddressUse* twin = nullptr;
  for (const auto& u : r.inUse) {
    if (u.ip.toString() == "10.0.200.1") noalloc = &u;
    if (u.ip == used) twin = &u;
  }
  ASSERT_TRUE(noalloc && twin);
  EXPECT_FALSE(noalloc->allocated);
  EXPECT_TRUE(noalloc->inActivePool);
  EXPECT_EQ(twin->owners.size(), 2u);
  EXPECT_TRUE(twin->allocated);
  EXPECT_EQ(r.unallocated, 1u);
  EXPECT_EQ(r.outsidePools, 1u);  // 192.168.7.7: not IPAM's business, not a problem
  EXPECT_EQ(r.problems(), 2u);    // the leak and the unallocated address
  EXPECT_EQ(r.fixable(), 1u);     // only the leak: an allocation is never invented
}

TEST_F(IpamCheckTest, DisabledPoolIsNotActive) {
  test::createPool(*client_, "pool-off", "10.5.0.0/16", {{"disabled", true}});
  endpoint("pod", {"10.5.0.9"});
  CheckReport r = check();
  EXPECT_EQ(r.activePools.size(), 1u);
  EXPECT_EQ(r.unallocated, 0u);
  EXPECT_EQ(r.outsidePools, 1u);
}

TEST_F(IpamCheckTest, HandlesEmptyDisagreeingAndMissing) {
  const IpAddr a = allocate("n1", "pod-a");
  const IpAddr b = allocate("n1", "pod-b");
  endpoint("pod-a", {a.toString()});
  endpoint("pod-b", {b.toString()});
  ASSERT_TRUE(client_->create(handleKey("orphan"), R"({"block":{},"deleted":false})"));
  // pod-a's handle claims a second address the blocks do not hold.
  auto ha = client_->get(handleKey("pod-a"));
  ASSERT_TRUE(ha.isOk());
  auto decoded = Handle::decode(ha->value);
  ASSERT_TRUE(decoded.isOk());
  decoded->blocks.begin()->second = 2;
  ASSERT_TRUE(client_->update(handleKey("pod-a"), decoded->encode(), ha->modRevision));
  ASSERT_TRUE(client_->remove(handleKey("pod-b"), 0));  // the blocks still name pod-b

  CheckReport r = check();
  EXPECT_EQ(r.handles, 2u);
  ASSERT_EQ(r.handleProblems.size(), 2u);  // in key order: orphan, pod-a
  EXPECT_EQ(r.handleProblems[0].name, "orphan");
  EXPECT_TRUE(r.handleProblems[0].empty);
  EXPECT_EQ(r.handleProblems[1].name, "pod-a");
  EXPECT_FALSE(r.handleProblems[1].empty);
  EXPECT_EQ(r.handleProblems[1].recorded, 2);
  EXPECT_EQ(r.missingHandles, std::vector<std::string>{"pod-b"});
  EXPECT_EQ(r.emptyHandles, 1u);
  EXPECT_EQ(r.problems(), 3u);
  EXPECT_EQ(r.fixable(), 1u);
}

TEST_F(IpamCheckTest, UndecodableBlockIsReportedAndSkipped) {
  const IpAddr ip = allocate("n1", "pod");
  endpoint("pod", {ip.toString()});
  const std::string bad = blockPrefix(true) + "10.0.250.0-26";
  ASSERT_TRUE(client_->create(bad, "{not json"));
  CheckReport r = check();
  ASSERT_EQ(r.blocks.size(), 2u);
  EXPECT_EQ(r.invalidBlocks, 1);
  const auto& entry = r.blocks[0].block ? r.blocks[1] : r.blocks[0];
  EXPECT_EQ(entry.key, bad);
  EXPECT_FALSE(entry.error.empty());
  EXPECT_EQ(r.allocations, 1);
  EXPECT_EQ(r.problems(), 1u);
  EXPECT_EQ(r.fixable(), 0u);
}

TEST_F(IpamCheckTest, NodeTunnelAddressesCountAsUse) {
  const IpAddr tunnel = allocate("n1", "ipip-tunnel-addr-n1");
  test::createResource(*client_, Kind::kNode, "n1", {{"ipv4VXLANTunnelAddr", tunnel.toString()}});
  CheckReport r = check();
  EXPECT_EQ(r.nodeIps, 1);
  EXPECT_TRUE(r.leaked.empty());
  ASSERT_EQ(r.inUse.size(), 1u);
  EXPECT_EQ(r.inUse[0].owners, std::vector<std::string>{"Node(n1)"});
  EXPECT_TRUE(r.nodesListed);
  EXPECT_TRUE(r.blocksOfMissingNodes.empty());
  EXPECT_EQ(r.problems(), 0u);
}

TEST_F(IpamCheckTest, RepairReleasesLeaksEmptyHandlesAndBlocksOfMissingNodes) {
  test::createResource(*client_, Kind::kNode, "n1", Json::object());
  const IpAddr live = allocate("n1", "live");
  endpoint("live", {live.toString()});
  const IpAddr leaked = allocate("n1", "leaked");
  const IpAddr ghost = allocate("gone", "ghost");
  endpoint("ghost", {ghost.toString()});
  ASSERT_TRUE(client_->create(handleKey("orphan"), R"({"block":{},"deleted":false})"));

  CheckReport r = check();
  ASSERT_EQ(r.blocksOfMissingNodes.size(), 1u);
  EXPECT_EQ(r.blocksOfMissingNodes[0].node, "gone");
  EXPECT_TRUE(r.blocksOfMissingNodes[0].block.contains(ghost));
  EXPECT_EQ(r.missingNodes, std::set<std::string>{"gone"});
  EXPECT_EQ(r.problems(), 3u);  // the leak, the empty handle, the missing node
  EXPECT_EQ(r.fixable(), 3u);

  auto fixed = repair(*client_, r);
  ASSERT_TRUE(fixed.isOk()) << fixed.message();
  EXPECT_EQ(fixed->released, 1u);
  EXPECT_EQ(fixed->alreadyFree, 0u);
  EXPECT_EQ(fixed->handlesDeleted, 1);
  EXPECT_EQ(fixed->handlesSkipped, 0);
  ASSERT_EQ(fixed->nodeBlocksReleased.size(), 1u);
  EXPECT_EQ(fixed->nodeBlocksReleased[0], (std::pair<std::string, size_t>{"gone", 1}));

  EXPECT_EQ(ipam_->getAllocation(leaked).code(), ErrorCode::kNotFound);
  EXPECT_TRUE(ipam_->getAllocation(live).isOk());
  EXPECT_TRUE(ipam_->getAllocation(ghost).isOk());  // in use: the address stays
  EXPECT_EQ(client_->get(handleKey("orphan")).code(), ErrorCode::kNotFound);
  EXPECT_TRUE(client_->list(hostAffinityPrefix("gone", true))->items.empty());
  EXPECT_EQ(check().problems(), 0u);
}

TEST_F(IpamCheckTest, RepairLeavesWhatChangedSinceTheCheck) {
  const IpAddr leaked = allocate("n1", "leaked");
  ASSERT_TRUE(client_->create(handleKey("orphan"), R"({"block":{},"deleted":false})"));
  CheckReport r = check();
  ASSERT_EQ(r.fixable(), 2u);
  // Meanwhile: the leak is released by someone else and the handle is rewritten.
  ASSERT_TRUE(ipam_->releaseIps({leaked}).isOk());
  auto h = client_->get(handleKey("orphan"));
  ASSERT_TRUE(h.isOk());
  ASSERT_TRUE(client_->update(handleKey("orphan"), h->value, h->modRevision));

  auto fixed = repair(*client_, r);
  ASSERT_TRUE(fixed.isOk()) << fixed.message();
  EXPECT_EQ(fixed->released, 0u);
  EXPECT_EQ(fixed->alreadyFree, 1u);
  EXPECT_EQ(fixed->handlesDeleted, 0);
  EXPECT_EQ(fixed->handlesSkipped, 1);
  EXPECT_TRUE(client_->get(handleKey("orphan")).isOk());
}

}  // namespace
}  // namespace brindle::ipam
