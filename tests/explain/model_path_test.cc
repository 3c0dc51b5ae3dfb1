// The model path on pure model data: tiers and their order, Pass, types, the end-of-tier deny,
// profiles (and their labels), notNets/notPorts, ICMP, namespace selectors, names and errors.
#include <gtest/gtest.h>

#include "explain/model_path.h"
#include "explain/report.h"
#include "explain/scenario.h"  // tests/explain

namespace brindle::explain {
namespace {

class ModelPathTest : public ::testing::Test {
 protected:
  ModelPathTest() : cluster_(Cluster::load(testing::scenario())) {}

  ModelPath explain(const std::string& from, const std::string& to, const std::string& proto) {
    auto f = resolvePeer(cluster_, from);
    auto t = resolvePeer(cluster_, to);
    auto p = parsePacket(proto);
    EXPECT_TRUE(f && t && p);
    return explainModel(cluster_, *f, *t, *p);
  }

  Cluster cluster_;
};

TEST_F(ModelPathTest, LoadsEverythingAndInheritsProfileLabels) {
  EXPECT_TRUE(cluster_.warnings.empty());
  EXPECT_EQ(cluster_.endpoints.size(), 5u);
  auto web = resolvePeer(cluster_, "prod/web");
  ASSERT_TRUE(web);
  EXPECT_EQ(web->endpoint->labels.at("pcns.team"), "prod");
  EXPECT_EQ(web->endpoint->labels.at("app"), "web");
}

TEST_F(ModelPathTest, PassThenAllowInNextTierWithPortRange) {
  ModelPath p = explain("prod/web", "db", "tcp/5432");
  EXPECT_TRUE(p.allowed);
  ASSERT_EQ(p.ingress.steps.size(), 2u);
  EXPECT_EQ(p.ingress.steps[0].name, "security.blocklist");
  EXPECT_EQ(p.ingress.steps[0].outcome, "Pass (rule 1)");
  EXPECT_NE(p.ingress.steps[0].rules[0].reason.find("not in 10.9.0.0/16"), std::string::npos);
  const Decision& d = p.ingress.decision;
  EXPECT_EQ(d.kind, Decision::Kind::kRule);
  EXPECT_EQ(d.policy, "prod/db-access");
  EXPECT_EQ(d.tier, "default");
  EXPECT_EQ(d.rule, 0);
  EXPECT_EQ(d.chain.rfind("cali-pi-", 0), 0u);
  EXPECT_EQ(p.egress.decision.policy, "prod/web-egress");
  EXPECT_EQ(p.egress.decision.rule, 1);
}

TEST_F(ModelPathTest, NotPortsFallsToEndOfTierDeny) {
  ModelPath p = explain("prod/web", "db", "tcp/5433");
  EXPECT_FALSE(p.allowed);
  EXPECT_EQ(p.ingress.decision.kind, Decision::Kind::kEndOfTier);
  EXPECT_EQ(p.ingress.decision.tier, "default");
  EXPECT_EQ(p.ingress.decision.chain, "cali-tw-calidb0");
  const auto& rules = p.ingress.steps.back().rules;
  EXPECT_NE(rules[0].reason.find("in notPorts 5433"), std::string::npos) << rules[0].reason;
  EXPECT_NE(rules[1].reason.find("protocol icmp, packet is tcp"), std::string::npos)
      << rules[1].reason;
}

TEST_F(ModelPathTest, IcmpTypeAndCode) {
  EXPECT_TRUE(explain("prod/web", "db", "icmp").allowed);  // echo request 8/0
  EXPECT_TRUE(explain("prod/web", "db", "icmp/8/0").allowed);
  ModelPath p = explain("prod/web", "db", "icmp/0");
  EXPECT_FALSE(p.allowed);
  EXPECT_NE(p.ingress.steps.back().rules[1].reason.find("icmp type 8 code 0, packet is type 0"),
            std::string::npos)
      << p.ingress.steps.back().rules[1].reason;
}

TEST_F(ModelPathTest, EgressDenyFirst) {
  ModelPath p = explain("prod/web", "db", "udp/53");
  EXPECT_FALSE(p.allowed);
  EXPECT_EQ(p.egress.decision.policy, "prod/web-egress");
  EXPECT_EQ(p.egress.decision.rule, 0);
  EXPECT_EQ(p.egress.decision.action, model::Action::kDeny);
  EXPECT_EQ(p.egress.decision.chain.rfind("cali-po-", 0), 0u);
}

TEST_F(ModelPathTest, NamespaceSelectorAndProfileOnlyEgress) {
  ModelPath p = explain("prom", "db", "tcp/9100");
  EXPECT_TRUE(p.allowed);
  // prom's egress: no policy selects it for egress (blocklist is Ingress only): its profile.
  EXPECT_EQ(p.egress.decision.kind, Decision::Kind::kRule);
  EXPECT_TRUE(p.egress.decision.profile);
  EXPECT_EQ(p.egress.decision.policy, "kns.monitoring");
  EXPECT_EQ(p.ingress.decision.rule, 2);
  EXPECT_FALSE(explain("prom", "db", "tcp/5432").allowed);
}

TEST_F(ModelPathTest, NamespacedSelectorDoesNotReachOtherNamespace) {
  ModelPath p = explain("staging/web", "db", "tcp/5432");
  EXPECT_FALSE(p.allowed);
  EXPECT_EQ(p.ingress.decision.kind, Decision::Kind::kEndOfTier);
  // staging/web has no profile and no egress policy: its own default drop.
  EXPECT_EQ(p.egress.decision.kind, Decision::Kind::kNoProfile);
}

TEST_F(ModelPathTest, NetworkSetAndNotNets) {
  ModelPath in = explain("192.0.2.5", "db", "tcp/443");
  EXPECT_TRUE(in.allowed);
  EXPECT_FALSE(in.egress.evaluated);
  EXPECT_EQ(in.ingress.decision.rule, 3);
  ModelPath out = explain("192.0.2.200", "db", "tcp/443");
  EXPECT_FALSE(out.allowed);
  EXPECT_NE(out.ingress.steps.back().rules[3].reason.find("notNets 192.0.2.128/25"),
            std::string::npos);
  ModelPath blocked = explain("10.9.1.1", "db", "tcp/5432");
  EXPECT_FALSE(blocked.allowed);
  EXPECT_EQ(blocked.ingress.decision.policy, "security.blocklist");
  EXPECT_EQ(blocked.ingress.decision.rule, 0);
}

TEST_F(ModelPathTest, PassedTierFallsToProfiles) {
  ModelPath ok = explain("prod/web", "cache", "tcp/8080");
  EXPECT_TRUE(ok.allowed);
  EXPECT_TRUE(ok.ingress.decision.profile);
  EXPECT_EQ(ok.ingress.decision.policy, "kns.prod");
  ModelPath no = explain("prod/web", "cache", "tcp/80");
  EXPECT_FALSE(no.allowed);
  EXPECT_EQ(no.ingress.decision.kind, Decision::Kind::kNoProfile);
}

TEST_F(ModelPathTest, TypesLimitDirections) {
  // web-egress (types: [Egress]) never applies to web's ingress.
  ModelPath p = explain("db", "prod/web", "tcp/8080");
  for (const auto& s : p.ingress.steps) EXPECT_NE(s.name, "prod/web-egress");
  EXPECT_TRUE(p.allowed);
}

TEST(ExplainDeadRules, CarryLintsFinding) {
  auto rs = testing::decode(testing::workload("n", "ns", "a", "calia", "10.1.0.1", "app: a") +
                            testing::workload("n", "ns", "b", "calib", "10.1.0.2", "app: b") +
                            R"(apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: shadowed}
spec:
  selector: app == 'b'
  ingress:
  - action: Deny
    protocol: UDP
  - action: Allow
    protocol: UDP
    destination: {ports: [53]}
  - action: Allow
)");
  Cluster c = Cluster::load(rs);
  ModelPath p = explainModel(c, *resolvePeer(c, "a"), *resolvePeer(c, "b"), *parsePacket("tcp/80"));
  EXPECT_TRUE(p.ingress.decision.allowed);  // a has no egress policy or profile
  ASSERT_EQ(p.ingress.steps.size(), 1u);
  const auto& rules = p.ingress.steps[0].rules;
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_TRUE(rules[0].dead.empty());
  EXPECT_NE(rules[1].dead.find("dead: rule 0 (Deny UDP) ends every packet it would see first"),
            std::string::npos)
      << rules[1].dead;
  EXPECT_TRUE(rules[2].matched);
  EXPECT_EQ(p.ingress.decision.rule, 2);
  std::ostringstream text;
  printModelPath(text, p);
  EXPECT_NE(text.str().find("dead: rule 0"), std::string::npos) << text.str();
}

TEST(ExplainSeed, DenyFirstProfileDrops3306) {
  Cluster c = Cluster::load(testing::loadExamples(
      {"lab/nodes.yaml", "seed-lab/endpoints.yaml", "seed-lab/profile.yaml"}));
  auto f = resolvePeer(c, "slave1-frontend1");
  auto t = resolvePeer(c, "slave2-database");
  ASSERT_TRUE(f && t) << f.message() << t.message();
  ModelPath p = explainModel(c, *f, *t, *parsePacket("tcp/3306"));
  EXPECT_FALSE(p.allowed);  // the seed's question: the profile denies before it allows
  ASSERT_EQ(p.ingress.steps.size(), 1u);
  EXPECT_EQ(p.ingress.decision.policy, "profile-database");
  EXPECT_TRUE(p.ingress.decision.profile);
  EXPECT_EQ(p.ingress.decision.rule, 0);
}

TEST_F(ModelPathTest, SeedLabAsWrittenAllows3306ThroughThePolicy) {
  Cluster c =
      Cluster::load(testing::loadExamples({"lab/nodes.yaml", "seed-lab/endpoints.yaml",
                                           "seed-lab/policy.yaml", "seed-lab/profile.yaml"}));
  ModelPath p = explainModel(c, *resolvePeer(c, "slave1-frontend1"),
                             *resolvePeer(c, "slave2-database"), *parsePacket("tcp/3306"));
  EXPECT_TRUE(p.allowed);
  EXPECT_EQ(p.ingress.decision.policy, "default.namespace-default");
  auto j = modelPathJson(p);
  EXPECT_EQ(j["verdict"], "allowed");
  EXPECT_EQ(j["ingress"]["decision"]["policy"], "default.namespace-default");
}

TEST(ExplainInput, NamesAndErrors) {
  Cluster c = Cluster::load(testing::scenario());
  auto amb = resolvePeer(c, "web");
  ASSERT_FALSE(amb);
  EXPECT_EQ(amb.error().code, ErrorCode::kInvalid);
  EXPECT_NE(amb.message().find("node-a/web (prod/web)"), std::string::npos) << amb.message();
  EXPECT_NE(amb.message().find("node-b/web (staging/web)"), std::string::npos) << amb.message();
  EXPECT_TRUE(resolvePeer(c, "node-b/web"));
  EXPECT_TRUE(resolvePeer(c, "10.0.1.1")->endpoint);
  EXPECT_FALSE(resolvePeer(c, "8.8.8.8")->endpoint);
  auto unknown = resolvePeer(c, "nope");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_NE(unknown.message().find("\"nope\""), std::string::npos);
  EXPECT_FALSE(resolvePeer(c, "host:no-such-node"));
  EXPECT_TRUE(resolvePeer(c, "host:node-a"));

  EXPECT_EQ(parsePacket("TCP/80")->destPort, 80);
  EXPECT_EQ(parsePacket("47")->protocol, 47);
  EXPECT_EQ(parsePacket("icmp/3/1")->icmpCode, 1);
  for (const char* bad :
       {"tcp/0", "tcp/65536", "tcp/x", "foo", "icmp/300", "47/1", "0", "udp/1/2"}) {
    auto p = parsePacket(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_NE(p.message().find(std::string("\"") + bad + "\""), std::string::npos) << p.message();
  }
}

}  // namespace
}  // namespace brindle::explain
