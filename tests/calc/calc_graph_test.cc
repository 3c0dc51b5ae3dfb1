// Tests of the calculation graph: the seed's lab on both nodes, policy ordering, tiers, types,
// profiles, ipset membership across nodes, incremental label changes, the sequencer's ordering,
// and that the result never depends on the order updates arrive in (Felix's state replays).
#include "calc/calc_graph.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "calc/rule_scanner.h"
#include "calc/test_resources.h"

namespace brindle::calc {
namespace {

using testing::added;
using testing::decode;
using testing::deleted;
using testing::run;
using testing::seedLab;

std::vector<Update> addAll(const std::vector<model::Resource>& rs) {
  std::vector<Update> out;
  for (const auto& r : rs) out.push_back(added(r));
  return out;
}

std::string ipSetOf(const std::string& selectorText) {
  return selectorIpSetId(*selector::Selector::parse(selectorText));
}

Cidr cidr(const char* text) { return *Cidr::parse(text); }

std::string wep(const std::string& node, const std::string& pod, const std::string& iface,
                const std::string& ip, const std::string& labels, const std::string& ns = "default",
                const std::string& extra = "") {
  return "apiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\nmetadata:\n  name: " + node +
         "-k8s-" + pod + "-eth0\n  namespace: " + ns + "\n  labels: " + labels +
         "\nspec:\n  node: " + node + "\n  orchestrator: k8s\n  pod: " + pod +
         "\n  endpoint: eth0\n  interfaceName: " + iface + "\n  ipNetworks: [" + ip + "]\n" +
         extra + "---\n";
}

std::string gnp(const std::string& name, const std::string& body) {
  return "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: " + name +
         "\nspec:\n" + body + "---\n";
}

TEST(CalcGraph, SeedLabOnSlave1) {
  DataplaneState s = run("slave1", addAll(seedLab()));
  EXPECT_TRUE(s.inSync);
  ASSERT_EQ(s.workloads.size(), 2u);
  const PolicyId ns{"default", "default.namespace-default"};
  for (const auto& [id, ep] : s.workloads) {
    ASSERT_EQ(ep.tiers.size(), 1u) << id;
    EXPECT_EQ(ep.tiers[0].name, "default");
    EXPECT_EQ(ep.tiers[0].ingressPolicies, std::vector<PolicyId>{ns});
    EXPECT_EQ(ep.tiers[0].egressPolicies, std::vector<PolicyId>{ns});
    EXPECT_TRUE(ep.profileIds.empty());
  }
  EXPECT_EQ(s.policies.size(), 1u);
  EXPECT_TRUE(s.profiles.empty());  // the database (its only user) lives on slave2
  // The source selector's set holds every endpoint of the namespace, on any node.
  const std::string nsSet = ipSetOf("namespace == 'default'");
  ASSERT_TRUE(s.ipSets.count(nsSet));
  EXPECT_EQ(s.ipSets.at(nsSet),
            (std::set<Cidr>{cidr("172.16.1.1/32"), cidr("172.16.1.2/32"), cidr("172.16.1.3/32")}));
  EXPECT_EQ(s.ipSets.at(std::string(kMasqPoolsIpSetId)), (std::set<Cidr>{cidr("172.16.1.0/24")}));
  EXPECT_EQ(s.routes.size(), 2u);
  EXPECT_EQ(s.routes.at(cidr("172.16.1.1/32")).interfaceName, "cali0ef24b1");
  EXPECT_EQ(s.pools.size(), 1u);
}

TEST(CalcGraph, SeedLabOnSlave2) {
  DataplaneState s = run("slave2", addAll(seedLab()));
  ASSERT_EQ(s.workloads.size(), 1u);
  const WorkloadEndpoint& db = s.workloads.begin()->second;
  EXPECT_EQ(db.interfaceName, "cali0ef24b3");
  EXPECT_EQ(db.profileIds, std::vector<std::string>{"profile-database"});
  ASSERT_TRUE(s.profiles.count("profile-database"));
  const ParsedRules& p = s.profiles.at("profile-database");
  ASSERT_EQ(p.ingress.size(), 2u);
  EXPECT_EQ(p.ingress[0].action, model::Action::kDeny);
  const std::string frontends = ipSetOf("namespace == 'default' && service == 'frontend'");
  EXPECT_EQ(p.ingress[1].source.ipSetIds, std::vector<std::string>{frontends});
  EXPECT_EQ(s.ipSets.at(frontends), (std::set<Cidr>{cidr("172.16.1.1/32"), cidr("172.16.1.2/32")}));
}

// Felix's calc tests replay states in many orders; the final state must be the same.
TEST(CalcGraph, ResultIndependentOfEventOrder) {
  auto rs = seedLab();
  auto extra =
      decode(wep("slave1", "w4", "caliw4", "10.9.0.4/32", "{app: web, namespace: default}") +
             gnp("default.ordered",
                 "  order: 5\n  selector: app == 'web'\n  ingress:\n  - action: Allow\n"
                 "    source:\n      nets: [10.0.0.0/8, 192.168.0.0/16]\n") +
             "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: ext\n"
             "  labels: {namespace: default}\nspec:\n  nets: [8.8.8.0/24]\n");
  rs.insert(rs.end(), extra.begin(), extra.end());
  for (const char* node : {"slave1", "slave2"}) {
    DataplaneState forwards = run(node, addAll(rs));
    auto backwards = addAll(rs);
    std::reverse(backwards.begin(), backwards.end());
    EXPECT_EQ(run(node, backwards), forwards) << node << " backwards";
    EXPECT_EQ(run(node, backwards, true), forwards) << node << " backwards, flushed each";
    std::mt19937 rng(42);
    for (int i = 0; i < 20; ++i) {
      auto shuffled = addAll(rs);
      std::shuffle(shuffled.begin(), shuffled.end(), rng);
      EXPECT_EQ(run(node, shuffled, i % 2 == 0), forwards) << node << " shuffle " << i;
    }
    // Churn: everything added, half deleted, the half added again.
    auto churn = addAll(rs);
    for (size_t i = 0; i < rs.size(); i += 2) churn.push_back(deleted(rs[i]));
    for (size_t i = 0; i < rs.size(); i += 2) churn.push_back(added(rs[i]));
    EXPECT_EQ(run(node, churn, true), forwards) << node << " churn";
    // Deleting everything leaves nothing behind.
    auto gone = addAll(rs);
    for (const auto& r : rs) gone.push_back(deleted(r));
    EXPECT_EQ(run(node, gone, true), DataplaneState{}) << node << " all deleted";
  }
}

// A state change replayed as updates ends where starting from the new state directly ends.
TEST(CalcGraph, StateTransitionsMatchFreshStart) {
  auto a = decode(wep("n1", "a", "calia", "10.0.0.1/32", "{app: a}") +
                  wep("n2", "b", "calib", "10.0.0.2/32", "{app: b}") +
                  gnp("p",
                      "  selector: app == 'a'\n  ingress:\n  - action: Allow\n"
                      "    source:\n      selector: app == 'b'\n"));
  auto b = decode(wep("n1", "a", "calia", "10.0.0.1/32", "{app: a}") +
                  wep("n2", "b", "calib", "10.0.0.2/32", "{app: c}") +
                  gnp("p",
                      "  selector: app == 'a'\n  ingress:\n  - action: Allow\n"
                      "    source:\n      selector: app == 'c'\n"));
  auto updates = addAll(a);
  for (const auto& r : b) updates.push_back(Update{UpdateType::kUpdated, r.key(), r, std::nullopt});
  EXPECT_EQ(run("n1", updates, true), run("n1", addAll(b)));
  auto back = addAll(b);
  for (const auto& r : a) back.push_back(Update{UpdateType::kUpdated, r.key(), r, std::nullopt});
  EXPECT_EQ(run("n1", back, true), run("n1", addAll(a)));
}

TEST(CalcGraph, PolicyOrderThenNameMissingOrderLast) {
  auto rs = decode(
      wep("n1", "a", "calia", "10.0.0.1/32", "{app: a}") +
      gnp("default.none", "  selector: all()\n  ingress:\n  - action: Allow\n") +
      gnp("default.ten", "  order: 10\n  selector: all()\n  ingress:\n  - action: Allow\n") +
      gnp("default.five-b", "  order: 5\n  selector: all()\n  ingress:\n  - action: Allow\n") +
      gnp("default.five-a", "  order: 5\n  selector: all()\n  ingress:\n  - action: Allow\n"));
  DataplaneState s = run("n1", addAll(rs));
  const auto& t = s.workloads.begin()->second.tiers;
  ASSERT_EQ(t.size(), 1u);
  std::vector<std::string> names;
  for (const auto& p : t[0].ingressPolicies) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"default.five-a", "default.five-b", "default.ten",
                                             "default.none"}));
}

TEST(CalcGraph, TiersOrderedAndTypesRespected) {
  auto rs = decode(
      wep("n1", "a", "calia", "10.0.0.1/32", "{app: a}") +
      "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: security}\n"
      "spec: {order: 100}\n---\n" +
      gnp("default.in-only",
          "  types: [Ingress]\n  selector: all()\n  ingress:\n  - action: Pass\n") +
      gnp("default.out-only",
          "  types: [Egress]\n  selector: all()\n  egress:\n  - action: Allow\n") +
      gnp("security.first", "  tier: security\n  selector: all()\n  ingress:\n  - action: Pass\n"));
  DataplaneState s = run("n1", addAll(rs));
  const auto& t = s.workloads.begin()->second.tiers;
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].name, "security");
  EXPECT_EQ(t[1].name, "default");
  EXPECT_EQ(t[1].ingressPolicies, (std::vector<PolicyId>{{"default", "default.in-only"}}));
  EXPECT_EQ(t[1].egressPolicies, (std::vector<PolicyId>{{"default", "default.out-only"}}));
  EXPECT_TRUE(t[0].egressPolicies.empty());  // no egress rules and no types: ingress only
  EXPECT_EQ(s.policies.at(PolicyId{"default", "default.in-only"}).ingress[0].action,
            model::Action::kPass);
}

std::string tierYaml(const std::string& name, const std::string& spec) {
  return "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: " + name +
         "}\nspec: " + spec + "\n---\n";
}

std::vector<std::string> tierNames(const DataplaneState& s) {
  std::vector<std::string> out;
  for (const auto& t : s.workloads.begin()->second.tiers) out.push_back(t.name);
  return out;
}

TEST(CalcGraph, TierResourcesOrderTiersAndGiveTheirDefaultAction) {
  const std::string policies =
      wep("n1", "a", "calia", "10.0.0.1/32", "{app: a}") +
      gnp("security.s", "  tier: security\n  selector: all()\n  ingress:\n  - action: Deny\n") +
      gnp("zz.z", "  tier: zz\n  selector: all()\n  ingress:\n  - action: Deny\n") +
      gnp("default.d", "  selector: all()\n  ingress:\n  - action: Allow\n");
  using Names = std::vector<std::string>;
  // No Tier resources: every tier has the default tier's order, so by name.
  DataplaneState none = run("n1", addAll(decode(policies)));
  EXPECT_EQ(tierNames(none), (Names{"default", "security", "zz"}));
  for (const auto& t : none.workloads.begin()->second.tiers) {
    EXPECT_EQ(t.defaultAction, model::Action::kDeny) << t.name;
  }

  auto tiers = decode(tierYaml("security", "{order: 100, defaultAction: Pass}") +
                      tierYaml("zz", "{order: 50}"));
  auto withTiers = addAll(decode(policies));
  for (const auto& t : tiers) withTiers.push_back(added(t));
  DataplaneState s = run("n1", withTiers);
  EXPECT_EQ(tierNames(s), (Names{"zz", "security", "default"}));
  const auto& t = s.workloads.begin()->second.tiers;
  EXPECT_EQ(t[0].defaultAction, model::Action::kDeny);
  EXPECT_EQ(t[1].defaultAction, model::Action::kPass);
  EXPECT_EQ(t[2].defaultAction, model::Action::kDeny);

  // A change after the endpoints were resolved reaches them; a delete restores the default.
  auto later = withTiers;
  later.push_back(added(decode(tierYaml("security", "{order: 10, defaultAction: Deny}"))[0]));
  later.push_back(deleted(tiers[1]));
  DataplaneState changed = run("n1", later, true);
  EXPECT_EQ(tierNames(changed), (Names{"security", "default", "zz"}));
  EXPECT_EQ(changed.workloads.begin()->second.tiers[0].defaultAction, model::Action::kDeny);

  // A stored Tier without order (another tool's write) sorts with the default tier; one that
  // cannot be read is rejected and counts as missing.
  model::Resource bare = tiers[0];
  bare.spec = model::Json::object();
  model::Resource bad = tiers[1];
  bad.spec = model::Json::parse(R"({"order": "first", "defaultAction": "Pass"})");
  DataplaneState odd;
  CalcGraph graph("n1", odd);
  for (const auto& u : addAll(decode(policies))) graph.onUpdate(u);
  graph.onUpdate(added(bare));
  graph.onUpdate(added(bad));
  graph.onInSync();
  EXPECT_EQ(tierNames(odd), (Names{"default", "security", "zz"}));
  EXPECT_EQ(odd.workloads.begin()->second.tiers[1].defaultAction, model::Action::kDeny);
  ASSERT_EQ(graph.rejected().size(), 1u);
  EXPECT_NE(graph.rejected()[0].find("spec.order"), std::string::npos) << graph.rejected()[0];
}

TEST(CalcGraph, ProfileLabelsInheritedAndMissingProfileHasNoRules) {
  auto rs = decode(
      wep("n1", "a", "calia", "10.0.0.1/32", "{}", "default", "  profiles: [tagged, missing]\n") +
      "apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata:\n  name: tagged\nspec:\n"
      "  labelsToApply: {role: db}\n  ingress:\n  - action: Allow\n---\n" +
      gnp("p", "  selector: role == 'db'\n  ingress:\n  - action: Deny\n"));
  DataplaneState s = run("n1", addAll(rs));
  const auto& ep = s.workloads.begin()->second;
  ASSERT_EQ(ep.tiers.size(), 1u);  // selected through the profile's labelsToApply
  EXPECT_EQ(ep.profileIds, (std::vector<std::string>{"tagged", "missing"}));
  EXPECT_EQ(s.profiles.at("missing"), ParsedRules{});
  EXPECT_EQ(s.profiles.at("tagged").ingress.size(), 1u);
}

TEST(CalcGraph, NamespacedPolicyScopesSelectors) {
  auto rs =
      decode(wep("n1", "a", "calia", "10.0.0.1/32", "{app: a}", "prod") +
             wep("n1", "b", "calib", "10.0.0.2/32", "{app: a}", "dev") +
             wep("n2", "c", "calic", "10.0.0.3/32", "{app: src}", "prod") +
             wep("n2", "d", "calid", "10.0.0.4/32", "{app: src}", "dev") +
             "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: p\n"
             "  namespace: prod\nspec:\n  selector: app == 'a'\n  ingress:\n  - action: Allow\n"
             "    source:\n      selector: app == 'src'\n");
  DataplaneState s = run("n1", addAll(rs));
  EXPECT_EQ(s.workloads.at("prod/n1-k8s-a-eth0").tiers.size(), 1u);
  EXPECT_TRUE(s.workloads.at("dev/n1-k8s-b-eth0").tiers.empty());
  const auto& rule = s.policies.begin()->second.ingress.at(0);
  ASSERT_EQ(rule.source.ipSetIds.size(), 1u);
  EXPECT_EQ(s.ipSets.at(rule.source.ipSetIds[0]), (std::set<Cidr>{cidr("10.0.0.3/32")}));
}

TEST(CalcGraph, RepeatedRulesAreScannedPerNamespaceAndBadRulesReject) {
  const std::string rule =
      "  ingress:\n  - action: Allow\n    source:\n      selector: app == 'src'\n";
  auto np = [&](const std::string& ns) {
    return "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: p\n"
           "  namespace: " +
           ns + "\nspec:\n  selector: app == 'a'\n" + rule + "---\n";
  };
  auto rs = decode(wep("n1", "a", "calia", "10.0.0.1/32", "{app: a}", "prod") +
                   wep("n1", "b", "calib", "10.0.0.2/32", "{app: a}", "dev") + np("prod") +
                   np("dev") + gnp("g", "  selector: app == 'a'\n" + rule));
  ASSERT_EQ(rs.size(), 5u);
  model::Resource bad = rs[4];  // the store validates; a bad value can still arrive
  bad.metadata["name"] = "bad";
  bad.spec["ingress"][0]["action"] = "Bogus";
  rs.push_back(bad);
  DataplaneState s;
  CalcGraph graph("n1", s);
  for (const auto& r : rs) graph.onUpdate(added(r));
  graph.flush();
  ASSERT_EQ(s.policies.size(), 3u);
  std::set<std::string> ids;
  for (const auto& [id, rules] : s.policies) ids.insert(rules.ingress.at(0).source.ipSetIds.at(0));
  EXPECT_EQ(ids.size(), 3u);  // scoped to prod, to dev, and unscoped
  EXPECT_TRUE(ids.count(ipSetOf("app == 'src'")));
  ASSERT_EQ(graph.rejected().size(), 1u);
  auto direct = policyInput(rs[5]);
  ASSERT_FALSE(direct);
  EXPECT_EQ(graph.rejected()[0], rs[5].key() + ": " + direct.message());
}

TEST(CalcGraph, SeveralNetsBecomeOneNetSetAndNotSelectorIsNegated) {
  auto rs = decode(wep("n1", "a", "calia", "10.0.0.1/32", "{app: a}") +
                   wep("n2", "b", "calib", "10.0.0.2/32", "{app: b}") +
                   gnp("p",
                       "  selector: all()\n  ingress:\n  - action: Allow\n    source:\n"
                       "      nets: [10.1.0.0/16, 10.2.0.0/16]\n      notSelector: app == 'b'\n"));
  DataplaneState s = run("n1", addAll(rs));
  const auto& rule = s.policies.begin()->second.ingress.at(0);
  ASSERT_EQ(rule.source.ipSetIds.size(), 1u);
  EXPECT_EQ(rule.source.ipSetIds[0].substr(0, 2), "n:");
  EXPECT_EQ(s.ipSets.at(rule.source.ipSetIds[0]),
            (std::set<Cidr>{cidr("10.1.0.0/16"), cidr("10.2.0.0/16")}));
  ASSERT_EQ(rule.source.notIpSetIds.size(), 1u);
  EXPECT_EQ(s.ipSets.at(rule.source.notIpSetIds[0]), (std::set<Cidr>{cidr("10.0.0.2/32")}));
}

// Records the callbacks in order, to check the sequencer's dependency order.
struct Recorder : DataplaneState {
  std::vector<std::string> log;
  void onIpSetAdded(const std::string& id) override {
    log.push_back("set+ " + id);
    DataplaneState::onIpSetAdded(id);
  }
  void onIpSetRemoved(const std::string& id) override {
    log.push_back("set- " + id);
    DataplaneState::onIpSetRemoved(id);
  }
  void onIpSetMembersAdded(const std::string& id, const std::set<Cidr>& m) override {
    log.push_back("members+ " + id);
    DataplaneState::onIpSetMembersAdded(id, m);
  }
  void onIpSetMembersRemoved(const std::string& id, const std::set<Cidr>& m) override {
    log.push_back("members- " + id);
    DataplaneState::onIpSetMembersRemoved(id, m);
  }
  void onPolicyActive(const PolicyId& id, const ParsedRules& r) override {
    log.push_back("policy+ " + id.name);
    DataplaneState::onPolicyActive(id, r);
  }
  void onPolicyInactive(const PolicyId& id) override {
    log.push_back("policy- " + id.name);
    DataplaneState::onPolicyInactive(id);
  }
  void onWorkloadEndpointUpdate(const WorkloadEndpoint& e) override {
    log.push_back("wep " + e.id);
    DataplaneState::onWorkloadEndpointUpdate(e);
  }
  void onWorkloadEndpointRemove(const std::string& id) override {
    log.push_back("wep- " + id);
    DataplaneState::onWorkloadEndpointRemove(id);
  }
  size_t at(const std::string& entry) const {
    auto it = std::find(log.begin(), log.end(), entry);
    return it == log.end() ? SIZE_MAX : size_t(it - log.begin());
  }
};

TEST(CalcGraph, SequencerOrdersSetsPoliciesEndpoints) {
  auto rs = decode(wep("n1", "a", "calia", "10.0.0.1/32", "{app: a}") +
                   wep("n2", "b", "calib", "10.0.0.2/32", "{app: b}") +
                   gnp("p",
                       "  selector: app == 'a'\n  ingress:\n  - action: Allow\n    source:\n"
                       "      selector: app == 'b'\n"));
  Recorder rec;
  CalcGraph graph("n1", rec);
  // Worst order for a naive pipeline: endpoint, then policy, then the source endpoint.
  graph.onUpdate(added(rs[0]));
  graph.onUpdate(added(rs[2]));
  graph.onUpdate(added(rs[1]));
  graph.onInSync();
  const std::string set = "set+ " + ipSetOf("app == 'b'");
  const std::string members = "members+ " + ipSetOf("app == 'b'");
  EXPECT_LT(rec.at(set), rec.at(members));
  EXPECT_LT(rec.at(members), rec.at("policy+ p"));
  EXPECT_LT(rec.at("policy+ p"), rec.at("wep default/n1-k8s-a-eth0"));

  rec.log.clear();
  graph.onUpdate(deleted(rs[2]));
  graph.flush();
  // Endpoint loses the policy first, then the policy goes, then its set.
  EXPECT_LT(rec.at("wep default/n1-k8s-a-eth0"), rec.at("policy- p"));
  EXPECT_LT(rec.at("policy- p"), rec.at("set- " + ipSetOf("app == 'b'")));
}

TEST(CalcGraph, LabelChangesAreIncremental) {
  auto rs = decode(wep("n1", "a", "calia", "10.0.0.1/32", "{app: a, color: red}") +
                   wep("n2", "b", "calib", "10.0.0.2/32", "{app: b}") +
                   gnp("p",
                       "  selector: app == 'a'\n  ingress:\n  - action: Allow\n    source:\n"
                       "      selector: app == 'b'\n"));
  Recorder rec;
  CalcGraph graph("n1", rec);
  for (const auto& r : rs) graph.onUpdate(added(r));
  graph.onInSync();

  // A label no selector looks at: nothing reaches the dataplane.
  rec.log.clear();
  auto recolored = decode(wep("n1", "a", "calia", "10.0.0.1/32", "{app: a, color: blue}"));
  graph.onUpdate(Update{UpdateType::kUpdated, recolored[0].key(), recolored[0], std::nullopt});
  graph.flush();
  EXPECT_TRUE(rec.log.empty());

  // The remote endpoint leaves the source set: only that set's members change.
  auto moved = decode(wep("n2", "b", "calib", "10.0.0.2/32", "{app: z}"));
  graph.onUpdate(Update{UpdateType::kUpdated, moved[0].key(), moved[0], std::nullopt});
  graph.flush();
  EXPECT_EQ(rec.log, std::vector<std::string>{"members- " + ipSetOf("app == 'b'")});

  // The local endpoint stops matching the policy: endpoint updated, policy and set gone.
  rec.log.clear();
  auto unselected = decode(wep("n1", "a", "calia", "10.0.0.1/32", "{app: x}"));
  graph.onUpdate(Update{UpdateType::kUpdated, unselected[0].key(), unselected[0], std::nullopt});
  graph.flush();
  EXPECT_TRUE(rec.workloads.begin()->second.tiers.empty());
  EXPECT_TRUE(rec.policies.empty());
  EXPECT_NE(rec.at("set- " + ipSetOf("app == 'b'")), SIZE_MAX);
}

TEST(CalcGraph, BlocksAffineToThisNodeBecomeBlackholeRoutes) {
  DataplaneState s;
  CalcGraph graph("n1", s);
  graph.onUpdate(Update{UpdateType::kAdded, "/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26",
                        std::nullopt, BlockUpdate{cidr("10.0.0.0/26"), "host:n1"}});
  graph.onUpdate(Update{UpdateType::kAdded, "/calico/ipam/v2/assignment/ipv4/block/10.0.0.64-26",
                        std::nullopt, BlockUpdate{cidr("10.0.0.64/26"), "host:n2"}});
  graph.flush();
  ASSERT_EQ(s.routes.size(), 1u);
  EXPECT_TRUE(s.routes.begin()->second.interfaceName.empty());
  graph.onUpdate(Update{UpdateType::kDeleted, "/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26",
                        std::nullopt, BlockUpdate{cidr("10.0.0.0/26"), "host:n1"}});
  graph.flush();
  EXPECT_TRUE(s.routes.empty());
}

TEST(CalcGraph, FloatingIpGetsARoute) {
  auto rs = decode(wep("n1", "a", "calia", "10.0.0.1/32", "{app: a}", "default",
                       "  ipNATs:\n  - internalIP: 10.0.0.1\n    externalIP: 172.20.0.9\n"));
  DataplaneState s = run("n1", addAll(rs));
  EXPECT_EQ(s.routes.at(cidr("172.20.0.9/32")).interfaceName, "calia");
  EXPECT_EQ(s.workloads.begin()->second.ipNats.size(), 1u);
}

// IPIP is admitted from the nodes' addresses only (Felix's all-hosts-net), while a pool uses it.
TEST(CalcGraph, AllHostsSetHoldsNodeAddressesWhileAPoolUsesIpip) {
  auto node = [](const std::string& name, const std::string& v4) {
    return "apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: " + name +
           "}\nspec: {bgp: {ipv4Address: " + v4 + "}}\n---\n";
  };
  auto pool = [](const std::string& mode) {
    return "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\n"
           "spec: {cidr: 10.68.0.0/16, ipipMode: " +
           mode + "}\n---\n";
  };
  const std::string hosts(kAllHostsIpSetId);
  DataplaneState s;
  CalcGraph graph("n1", s);
  for (const auto& r :
       decode(node("n1", "10.0.1.1/24") + node("n2", "10.0.2.1/24") + pool("Never"))) {
    graph.onUpdate(added(r));
  }
  graph.flush();
  EXPECT_EQ(s.ipSets.count(hosts), 0u);
  EXPECT_FALSE(s.pools.begin()->second.ipip);
  graph.onUpdate(added(decode(pool("CrossSubnet")).at(0)));
  graph.flush();
  EXPECT_TRUE(s.pools.begin()->second.ipip);
  EXPECT_EQ(s.ipSets.at(hosts), (std::set<Cidr>{cidr("10.0.1.1/32"), cidr("10.0.2.1/32")}));
  graph.onUpdate(added(decode(node("n2", "10.0.3.1/24")).at(0)));  // moved
  graph.onUpdate(deleted(decode(node("n1", "10.0.1.1/24")).at(0)));
  graph.flush();
  EXPECT_EQ(s.ipSets.at(hosts), (std::set<Cidr>{cidr("10.0.3.1/32")}));
  graph.onUpdate(added(decode(pool("Never")).at(0)));
  graph.flush();
  EXPECT_EQ(s.ipSets.count(hosts), 0u);
}

}  // namespace
}  // namespace brindle::calc
