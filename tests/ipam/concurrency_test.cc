// Done-means of the IPAM issue: 8 processes x 250 allocations against one pool, each process its
// own node, and again with four processes per node. No address twice, every block affine to
// exactly one node, blocks and handles agree, and releasing every handle leaves nothing.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "backend.h"
#include "fixtures.h"
#include "ipam/block.h"
#include "ipam/ipam.h"
#include "testutil/temp_dir.h"

namespace brindle::ipam {
namespace {

constexpr int kProcesses = 8;
constexpr int kPerProcess = 250;

struct Outcome {
  std::vector<std::pair<std::string, std::string>> allocations;  // ip, handle
};

// Runs kProcesses workers, worker i on nodes[i], all released at once through a pipe.
void runWorkers(const std::string& location, const std::vector<std::string>& nodes,
                Outcome& outcome) {
  int start[2];
  ASSERT_EQ(::pipe(start), 0);
  std::vector<pid_t> pids;
  std::vector<std::string> outputs;
  for (int w = 0; w < kProcesses; ++w) {
    outputs.push_back(location + "/out." + std::to_string(w));
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(start[1]);
      const std::string count = std::to_string(kPerProcess), fd = std::to_string(start[0]);
      ::execl(BRINDLE_IPAM_WORKER, "ipam_worker", location.c_str(), nodes[w].c_str(), count.c_str(),
              fd.c_str(), outputs.back().c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pids.push_back(pid);
  }
  ::close(start[0]);
  ::close(start[1]);
  bool failed = false;
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = true;
  }
  ASSERT_FALSE(failed) << "a worker failed (see its stderr)";
  for (const auto& path : outputs) {
    std::ifstream in(path);
    std::string ip, handle;
    while (in >> ip >> handle) outcome.allocations.emplace_back(ip, handle);
  }
}

// The store is consistent: blocks vs affinities vs handles.
void checkStore(datastore::Client& client, const Outcome& outcome) {
  std::set<std::string> unique;
  for (const auto& [ip, _] : outcome.allocations) unique.insert(ip);
  EXPECT_EQ(outcome.allocations.size(), static_cast<size_t>(kProcesses * kPerProcess));
  EXPECT_EQ(unique.size(), outcome.allocations.size()) << "an address was handed out twice";

  // Every block affine to exactly one node, and that node's affinity key exists, no other.
  auto blocks = client.list(kBlockPrefix);
  ASSERT_TRUE(blocks.isOk());
  auto affinities = client.list(kHostPrefix);
  ASSERT_TRUE(affinities.isOk());
  std::map<std::string, std::vector<std::string>> affineNodes;  // block cidr -> nodes
  for (const auto& kv : affinities->items) {
    const std::string rest = kv.key.substr(std::string(kHostPrefix).size());
    affineNodes[cidrFromKey(kv.key)->toString()].push_back(rest.substr(0, rest.find('/')));
  }
  std::map<std::string, std::map<std::string, int>> fromBlocks;  // handle -> block -> n
  size_t allocated = 0;
  for (const auto& kv : blocks->items) {
    auto b = Block::decode(kv.value);
    ASSERT_TRUE(b.isOk()) << b.message();
    const std::string name = b->cidr().toString();
    ASSERT_TRUE(b->affinity().has_value()) << name;
    const auto& nodes = affineNodes[name];
    ASSERT_EQ(nodes.size(), 1u) << name << " has " << nodes.size() << " affinity keys";
    EXPECT_EQ(*b->affinity(), "host:" + nodes[0]) << name;
    for (const auto& [h, n] : b->countsByHandle()) fromBlocks[h][name] += n;
    allocated += static_cast<size_t>(b->inUse());
    for (int o : b->allocatedOrdinals()) {
      EXPECT_TRUE(unique.count(b->ordinalToIp(o).toString())) << "unreported allocation";
    }
  }
  EXPECT_EQ(allocated, outcome.allocations.size());
  EXPECT_EQ(affineNodes.size(), blocks->items.size()) << "affinity without a block";

  // Handles agree with the blocks, both ways.
  auto handles = client.list(kHandlePrefix);
  ASSERT_TRUE(handles.isOk());
  EXPECT_EQ(handles->items.size(), fromBlocks.size());
  for (const auto& kv : handles->items) {
    const std::string name = kv.key.substr(std::string(kHandlePrefix).size());
    EXPECT_EQ(Handle::decode(kv.value)->blocks, fromBlocks[name]) << name;
  }
}

void releaseAll(datastore::Client& client, const Outcome& outcome) {
  auto ipam = makeIpam(client);
  for (const auto& [ip, handle] : outcome.allocations) {
    auto r = ipam->releaseByHandle(handle);
    ASSERT_TRUE(r.isOk()) << r.message();
    ASSERT_EQ(r->size(), 1u) << handle;
  }
  EXPECT_TRUE(ipam->listAllocations()->empty());
  EXPECT_TRUE(client.list(kHandlePrefix)->items.empty());
  auto u = ipam->usage();
  ASSERT_TRUE(u.isOk());
  for (const auto& p : *u) EXPECT_EQ(p.inUse, 0u);
}

void runScenario(const std::vector<std::string>& nodes) {
  testutil::TempDir dir;
  auto client = test::openBackend(dir.path(), /*fresh=*/true);
  ASSERT_TRUE(client.isOk()) << client.message();
  test::createPool(**client, "pool", "10.64.0.0/16");
  Outcome outcome;
  runWorkers(dir.path(), nodes, outcome);
  if (::testing::Test::HasFatalFailure()) return;
  checkStore(**client, outcome);
  releaseAll(**client, outcome);
}

TEST(IpamConcurrencyTest, EightProcessesEachItsOwnNode) {
  std::vector<std::string> nodes;
  for (int i = 0; i < kProcesses; ++i) nodes.push_back("node-" + std::to_string(i));
  runScenario(nodes);
}

TEST(IpamConcurrencyTest, EightProcessesFourPerNode) {
  std::vector<std::string> nodes;
  for (int i = 0; i < kProcesses; ++i) nodes.push_back(i % 2 ? "node-a" : "node-b");
  runScenario(nodes);
}

}  // namespace
}  // namespace brindle::ipam
