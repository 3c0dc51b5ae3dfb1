// The policy resolver on its own: per local endpoint, its tiers in order (by the Tier's order,
// then by name; no Tier resource counts as the default tier's order) with their default action,
// each tier's policies by order (missing order last, then by name) and
// split by the directions their types name; endpoints re-resolved when what they depend on
// changes. Its output goes through a real EventSequencer into a DataplaneState.
#include "calc/policy_resolver.h"

#include <gtest/gtest.h>

#include "calc/dataplane_state.h"

namespace brindle::calc {
namespace {

PolicyInput policy(const std::string& tier, const std::string& name, std::optional<double> order,
                   bool ingress = true, bool egress = true) {
  PolicyInput p;
  p.id = PolicyId{tier, name};
  p.order = order;
  p.appliesIngress = ingress;
  p.appliesEgress = egress;
  return p;
}

TierInput tier(const std::string& name, double order,
               model::Action defaultAction = model::Action::kDeny) {
  return TierInput{name, order, defaultAction};
}

EndpointInput endpoint(const std::string& id, bool host = false) {
  EndpointInput e;
  e.host = host;
  e.id = id;
  e.interfaceName = host ? "eth0" : "cali" + id.substr(id.find('/') + 1);
  e.addresses = {*Cidr::parse("10.0.0.1/32", false)};
  e.profiles = {"prof"};
  return e;
}

class PolicyResolverTest : public ::testing::Test {
 protected:
  // Flushes the resolver, then the sequencer, into state_.
  void flush() {
    resolver_.flush(sequencer_);
    sequencer_.flush(state_);
  }
  std::vector<std::string> names(const std::vector<PolicyId>& ids) {
    std::vector<std::string> out;
    for (const auto& id : ids) out.push_back(id.name);
    return out;
  }

  PolicyResolver resolver_;
  EventSequencer sequencer_;
  DataplaneState state_;
};

using Names = std::vector<std::string>;

TEST_F(PolicyResolverTest, TiersAndPoliciesInEvaluationOrder) {
  resolver_.updateEndpoint("w:ns/a", endpoint("ns/a"));
  resolver_.updateTier(tier("security", 100, model::Action::kPass));
  resolver_.updateTier(tier("audit", 10));
  for (const auto& p : {policy("default", "z-first", 1), policy("default", "unordered", {}),
                        policy("default", "b-tie", 5), policy("default", "a-tie", 5),
                        policy("security", "s1", 100), policy("audit", "x", {})}) {
    resolver_.updatePolicy(p);
    resolver_.matchStarted(p.id, "w:ns/a");
  }
  flush();
  const WorkloadEndpoint& w = state_.workloads.at("ns/a");
  EXPECT_EQ(w.interfaceName, "calia");
  EXPECT_EQ(w.profileIds, Names{"prof"});
  ASSERT_EQ(w.tiers.size(), 3u);
  EXPECT_EQ(w.tiers[0].name, "audit");
  EXPECT_EQ(w.tiers[1].name, "security");
  EXPECT_EQ(w.tiers[2].name, "default");
  EXPECT_EQ(names(w.tiers[2].ingressPolicies), (Names{"z-first", "a-tie", "b-tie", "unordered"}));
  EXPECT_EQ(w.tiers[2].ingressPolicies, w.tiers[2].egressPolicies);
  EXPECT_EQ(w.tiers[0].defaultAction, model::Action::kDeny);
  EXPECT_EQ(w.tiers[1].defaultAction, model::Action::kPass);
  EXPECT_EQ(w.tiers[2].defaultAction, model::Action::kDeny);  // no Tier resource: Calico's default
}

TEST_F(PolicyResolverTest, TierChangesReResolveTheEndpointsTheirPoliciesSelect) {
  resolver_.updateEndpoint("w:ns/a", endpoint("ns/a"));
  resolver_.updateEndpoint("w:ns/b", endpoint("ns/b"));
  resolver_.updateTier(tier("security", 100));
  for (const auto& p : {policy("security", "s", 1), policy("default", "d", 1)}) {
    resolver_.updatePolicy(p);
    resolver_.matchStarted(p.id, "w:ns/a");
  }
  resolver_.matchStarted(PolicyId{"default", "d"}, "w:ns/b");
  flush();
  auto tierNames = [&](const std::string& id) {
    Names out;
    for (const auto& t : state_.workloads.at(id).tiers) out.push_back(t.name);
    return out;
  };
  EXPECT_EQ(tierNames("ns/a"), (Names{"security", "default"}));
  const WorkloadEndpoint before = state_.workloads.at("ns/b");

  // A later order puts it after the default tier; Pass reaches the endpoint.
  resolver_.updateTier(tier("security", 2000000, model::Action::kPass));
  flush();
  EXPECT_EQ(tierNames("ns/a"), (Names{"default", "security"}));
  EXPECT_EQ(state_.workloads.at("ns/a").tiers[1].defaultAction, model::Action::kPass);
  EXPECT_EQ(state_.workloads.at("ns/b"), before);  // no policy of the tier selects b

  // The same order as the default tier: by name.
  resolver_.updateTier(tier("security", kDefaultTierOrder, model::Action::kPass));
  flush();
  EXPECT_EQ(tierNames("ns/a"), (Names{"default", "security"}));
  resolver_.updateTier(tier("security", 5));
  flush();
  EXPECT_EQ(tierNames("ns/a"), (Names{"security", "default"}));
  EXPECT_EQ(state_.workloads.at("ns/a").tiers[0].defaultAction, model::Action::kDeny);

  // Gone: back to the default tier's order and action (ties by name).
  resolver_.updateTier(tier("security", 5, model::Action::kPass));
  resolver_.removeTier("security");
  flush();
  EXPECT_EQ(tierNames("ns/a"), (Names{"default", "security"}));
  EXPECT_EQ(state_.workloads.at("ns/a").tiers[1].defaultAction, model::Action::kDeny);
}

TEST_F(PolicyResolverTest, TypesDecideTheDirectionsAPolicyIsListedIn) {
  resolver_.updateEndpoint("w:ns/a", endpoint("ns/a"));
  for (const auto& p : {policy("default", "in", 1, true, false),
                        policy("default", "out", 2, false, true), policy("default", "both", 3)}) {
    resolver_.updatePolicy(p);
    resolver_.matchStarted(p.id, "w:ns/a");
  }
  flush();
  const TierInfo& t = state_.workloads.at("ns/a").tiers.at(0);
  EXPECT_EQ(names(t.ingressPolicies), (Names{"in", "both"}));
  EXPECT_EQ(names(t.egressPolicies), (Names{"out", "both"}));

  // New types re-resolve the endpoints the policy selects.
  resolver_.updatePolicy(policy("default", "in", 1, true, true));
  flush();
  EXPECT_EQ(names(state_.workloads.at("ns/a").tiers.at(0).egressPolicies),
            (Names{"in", "out", "both"}));
}

TEST_F(PolicyResolverTest, OrderChangeMatchStopAndPolicyRemovalReResolve) {
  resolver_.updateEndpoint("w:ns/a", endpoint("ns/a"));
  resolver_.updateEndpoint("w:ns/b", endpoint("ns/b"));
  for (const auto& p : {policy("default", "p1", 1), policy("default", "p2", 2)}) {
    resolver_.updatePolicy(p);
    resolver_.matchStarted(p.id, "w:ns/a");
    resolver_.matchStarted(p.id, "w:ns/b");
  }
  flush();
  resolver_.updatePolicy(policy("default", "p1", 3));
  flush();
  EXPECT_EQ(names(state_.workloads.at("ns/a").tiers.at(0).ingressPolicies), (Names{"p2", "p1"}));
  EXPECT_EQ(names(state_.workloads.at("ns/b").tiers.at(0).ingressPolicies), (Names{"p2", "p1"}));

  resolver_.matchStopped(PolicyId{"default", "p2"}, "w:ns/a");
  flush();
  EXPECT_EQ(names(state_.workloads.at("ns/a").tiers.at(0).ingressPolicies), Names{"p1"});
  EXPECT_EQ(names(state_.workloads.at("ns/b").tiers.at(0).ingressPolicies), (Names{"p2", "p1"}));

  resolver_.removePolicy(PolicyId{"default", "p1"});
  flush();
  EXPECT_TRUE(state_.workloads.at("ns/a").tiers.empty());  // no policy: profiles only
  EXPECT_EQ(names(state_.workloads.at("ns/b").tiers.at(0).ingressPolicies), Names{"p2"});
}

TEST_F(PolicyResolverTest, HostEndpointsAndRemovals) {
  resolver_.updateEndpoint("h:node1-eth0", endpoint("node1-eth0", true));
  resolver_.updateEndpoint("w:ns/a", endpoint("ns/a"));
  resolver_.matchStarted(PolicyId{"default", "unknown"}, "h:node1-eth0");  // not known: ignored
  flush();
  ASSERT_EQ(state_.hosts.count("node1-eth0"), 1u);
  EXPECT_EQ(state_.hosts.at("node1-eth0").interfaceName, "eth0");
  EXPECT_EQ(state_.hosts.at("node1-eth0").expectedIps, endpoint("x", true).addresses);
  EXPECT_TRUE(state_.hosts.at("node1-eth0").tiers.empty());
  EXPECT_TRUE(resolver_.hasEndpoint("h:node1-eth0"));

  resolver_.removeEndpoint("h:node1-eth0");
  resolver_.removeEndpoint("w:ns/a");
  flush();
  EXPECT_TRUE(state_.hosts.empty());
  EXPECT_TRUE(state_.workloads.empty());
  EXPECT_FALSE(resolver_.hasEndpoint("h:node1-eth0"));
}

TEST(PolicyResolverTiers, OrderThenNameWithMissingTiersAsTheDefaultTier) {
  PolicyResolver r;
  EXPECT_TRUE(r.tierBefore("a", "b"));
  EXPECT_FALSE(r.tierBefore("b", "a"));
  EXPECT_TRUE(r.tierBefore("default", "zzz"));  // both order 1000000: by name
  EXPECT_FALSE(r.tierBefore("default", "aaa"));
  EXPECT_FALSE(r.tierBefore("default", "default"));
  r.updateTier(TierInput{"zzz", 100, model::Action::kDeny});
  r.updateTier(TierInput{"aaa", 1e7, model::Action::kPass});
  EXPECT_TRUE(r.tierBefore("zzz", "default"));
  EXPECT_TRUE(r.tierBefore("default", "aaa"));
  EXPECT_TRUE(r.tierBefore("zzz", "aaa"));
  r.updateTier(TierInput{"default", 1e8, model::Action::kDeny});  // a stored default tier counts
  EXPECT_TRUE(r.tierBefore("aaa", "default"));
}

}  // namespace
}  // namespace brindle::calc
