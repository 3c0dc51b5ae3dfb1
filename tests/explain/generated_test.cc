// A broad generated set: random tiers, policies (global and namespaced, ordered or not, types,
// Allow/Deny/Pass/Log, protocols, ports and notPorts, ICMP, selectors, notSelectors,
// namespaceSelectors, nets and notNets) and profiles over workloads on two nodes. For every
// probe the kernel walk over what the real calculation and renderer make must agree with the
// model, verdict and deciding rule.
#include <gtest/gtest.h>

#include "explain/generator.h"  // tests/explain
#include "explain/live_path.h"

namespace brindle::explain {
namespace {

TEST(GeneratedPolicies, KernelWalkAgreesWithModel) {
  int probes = 0, allowed = 0, resources = 0;
  for (unsigned seed = 1; seed <= 40; ++seed) {
    const auto rs = testing::generate(seed);
    resources += static_cast<int>(rs.size());
    const Cluster cluster = Cluster::load(rs);
    const std::map<std::string, testing::NodeText> nodes = {{"n1", testing::render("n1", rs)},
                                                            {"n2", testing::render("n2", rs)}};
    const StateSource source = testing::renderedSource(nodes);
    const std::vector<std::string> peers = {"w0", "w1", "w2",        "w3",
                                            "w4", "w5", "192.0.2.9", "203.0.113.1"};
    for (const auto& from : peers) {
      for (const auto& to : peers) {
        if (from == to) continue;
        for (const char* proto : {"tcp/80", "tcp/443", "udp/53", "icmp", "icmp/0/0", "47"}) {
          auto f = resolvePeer(cluster, from);
          auto t = resolvePeer(cluster, to);
          ASSERT_TRUE(f && t);
          const ModelPath m = explainModel(cluster, *f, *t, *parsePacket(proto));
          auto l = explainLive(m, source);
          ASSERT_TRUE(l) << l.message();
          const std::string probe =
              "seed " + std::to_string(seed) + ": " + from + " -> " + to + " " + proto;
          EXPECT_FALSE(l->cannotEvaluate) << probe << ": " << l->walks.back().reason;
          EXPECT_EQ(l->allowed, m.allowed) << probe;
          for (const auto& mm : l->mismatches) ADD_FAILURE() << probe << ": " << mm;
          ++probes;
          allowed += m.allowed;
        }
      }
    }
  }
  std::printf("%d probes over %d generated resources, %d allowed\n", probes, resources, allowed);
  EXPECT_GT(allowed, probes / 20);
  EXPECT_LT(allowed, probes - probes / 20);
}

}  // namespace
}  // namespace brindle::explain
