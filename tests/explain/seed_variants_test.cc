// The seed's lab (examples/seed-lab on examples/lab's nodes) as written and in brindle-lab's two
// variants (docs/lab.md): `profile` (the policy no longer selects the database, so its deny-first
// profile decides) and `fixed` (that profile without its bare deny). For every probe of the lab's
// matrix the model and the walk over the rendered kernel state give the lab's expected verdict.
#include <gtest/gtest.h>

#include "explain/live_path.h"
#include "explain/scenario.h"  // tests/explain

namespace brindle::explain {
namespace {

std::vector<model::Resource> seedVariant(const std::string& variant) {
  auto rs = testing::loadExamples({"lab/nodes.yaml", "lab/ippool.yaml", "seed-lab/endpoints.yaml",
                                   "seed-lab/policy.yaml", "seed-lab/profile.yaml"});
  for (auto& r : rs) {
    if (variant != "as-written" && r.kind == model::Kind::kGlobalNetworkPolicy) {
      r.spec["selector"] = r.spec["selector"].get<std::string>() + " && service != 'database'";
    }
    if (variant == "fixed" && r.kind == model::Kind::kProfile) {
      r.spec["ingress"].erase(0);
    }
  }
  return rs;
}

// docs/lab.md's expected matrix.
bool expected(const std::string& variant, const std::string& to, const std::string& proto) {
  if (variant == "as-written" || to != "slave2-database") return true;
  return variant == "fixed" && proto == "tcp/3306";
}

TEST(SeedVariants, ModelAndKernelWalkGiveTheLabsVerdicts) {
  for (const std::string variant : {"as-written", "profile", "fixed"}) {
    const auto rs = seedVariant(variant);
    const Cluster cluster = Cluster::load(rs);
    const std::map<std::string, testing::NodeText> nodes = {
        {"slave1", testing::render("slave1", rs)}, {"slave2", testing::render("slave2", rs)}};
    const StateSource source = testing::renderedSource(nodes);
    const std::vector<std::string> names = {"slave1-frontend1", "slave1-frontend2",
                                            "slave2-database"};
    for (const auto& from : names) {
      for (const auto& to : names) {
        if (from == to) continue;
        for (const std::string proto : {"icmp", "tcp/3306", "tcp/8080"}) {
          const std::string probe = variant + ": " + from + " -> " + to + " " + proto;
          const ModelPath m = explainModel(cluster, *resolvePeer(cluster, from),
                                           *resolvePeer(cluster, to), *parsePacket(proto));
          EXPECT_EQ(m.allowed, expected(variant, to, proto)) << probe;
          auto l = explainLive(m, source);
          ASSERT_TRUE(l) << l.message();
          EXPECT_FALSE(l->cannotEvaluate) << probe;
          EXPECT_EQ(l->allowed, m.allowed) << probe;
          for (const auto& mm : l->mismatches) ADD_FAILURE() << probe << ": " << mm;
          if (variant == "profile" && to == "slave2-database") {
            // The seed's question: the profile's first rule, a bare deny.
            EXPECT_EQ(m.ingress.decision.text(), "profile profile-database rule 0: Deny") << probe;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace brindle::explain
