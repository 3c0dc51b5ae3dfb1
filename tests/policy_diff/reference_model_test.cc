// The reference model on hand-made states whose answers the Calico documentation states plainly,
// so that a mismatch of the differential test can be trusted to be the agent's (no root).
#include <gtest/gtest.h>

#include "policy_diff/reference_model.h"

namespace brindle::policydiff {
namespace {

Sel eq(const std::string& key, const std::string& value) {
  Sel s;
  s.op = Sel::Op::kEq;
  s.key = key;
  s.values = {value};
  return s;
}

Rule allow() { return Rule{"Allow", {}, {}, {}, {}, {}, {}}; }

// w1 (default, app a), w2 (default, app b), w4 (prod, app a); all with an allow-all profile.
State base() {
  State st;
  Profile open;
  open.name = "open";
  open.ingress = {allow()};
  open.egress = {allow()};
  st.profiles = {open};
  st.endpoints = {{"w1", "default", "w1", "c1", "10.70.0.1", {{"app", "a"}}, {"open"}},
                  {"w2", "default", "w2", "c2", "10.70.0.2", {{"app", "b"}}, {"open"}},
                  {"w4", "prod", "w4", "c4", "10.70.1.4", {{"app", "a"}}, {"open"}}};
  return st;
}

bool allowed(const State& st, const std::string& from, const std::string& to,
             const std::string& proto = "tcp", int port = 80) {
  return decide(st, Packet{from, to, proto, port}, Reading{}).allowed;
}

TEST(ReferenceModel, ProfilesDecideWhenNoPolicyApplies) {
  State st = base();
  EXPECT_TRUE(allowed(st, "10.70.0.1", "10.70.1.4"));
  st.endpoints[2].profiles.clear();
  EXPECT_FALSE(allowed(st, "10.70.0.1", "10.70.1.4"));  // no profile: deny
  EXPECT_TRUE(allowed(st, "10.99.0.2", "10.70.0.2"));   // from outside: only ingress counts
}

TEST(ReferenceModel, TypesDefaultFromTheRulesPresent) {
  State st = base();
  Policy p;
  p.name = "eg";
  p.selector = eq("app", "a");
  Rule deny = allow();
  deny.action = "Deny";
  p.egress = {deny};
  st.policies = {p};
  // Egress rules only: the policy is Egress only; ingress to w1 is left to its profile.
  EXPECT_TRUE(allowed(st, "10.70.0.2", "10.70.0.1"));
  EXPECT_FALSE(allowed(st, "10.70.0.1", "10.70.0.2"));
  // No rules at all: Ingress, so ingress to the selected endpoints ends at the tier's end.
  st.policies[0].egress.clear();
  EXPECT_FALSE(allowed(st, "10.70.0.2", "10.70.0.1"));
  EXPECT_TRUE(allowed(st, "10.70.0.1", "10.70.0.2"));
}

TEST(ReferenceModel, OrderThenNameAndPassGoesToProfiles) {
  State st = base();
  Policy late, early;
  late.name = "a-late";  // no order: after every ordered policy despite its name
  late.selector = eq("app", "b");
  late.ingress = {allow()};
  early.name = "z-early";
  early.order = 10;
  early.selector = eq("app", "b");
  Rule deny = allow();
  deny.action = "Deny";
  early.ingress = {deny};
  st.policies = {late, early};
  EXPECT_FALSE(allowed(st, "10.70.0.1", "10.70.0.2"));
  st.policies[1].ingress[0].action = "Pass";  // skips a-late: the profile allows
  EXPECT_TRUE(allowed(st, "10.70.0.1", "10.70.0.2"));
  st.endpoints[1].profiles.clear();
  EXPECT_FALSE(allowed(st, "10.70.0.1", "10.70.0.2"));
  st.policies[1].ingress[0].action = "Log";  // goes on to the next rule: a-late allows
  EXPECT_TRUE(allowed(st, "10.70.0.1", "10.70.0.2"));
}

TEST(ReferenceModel, NamespacedRuleSelectorsStayInTheirNamespace) {
  State st = base();
  Policy p;
  p.global = false;
  p.ns = "default";
  p.name = "np";
  p.selector = eq("app", "a");
  Rule r = allow();
  r.destination.notSelector = eq("app", "nothing");
  p.egress = {r};
  st.policies = {p};
  EXPECT_TRUE(allowed(st, "10.70.0.1", "10.70.0.2"));   // same namespace
  EXPECT_FALSE(allowed(st, "10.70.0.1", "10.70.1.4"));  // issue 18, bug 3: other namespace
  EXPECT_FALSE(allowed(st, "10.70.0.1", "10.99.0.2"));  // not an endpoint of the namespace
  // A namespaceSelector widens the scope.
  Sel prod = eq("projectcalico.org/name", "prod");
  st.policies[0].egress[0].destination.namespaceSelector = prod;
  EXPECT_FALSE(allowed(st, "10.70.0.1", "10.70.0.2"));
  EXPECT_TRUE(allowed(st, "10.70.0.1", "10.70.1.4"));
  // The same rule in a GlobalNetworkPolicy without namespaceSelector: everything but app nothing.
  st.policies[0].global = true;
  st.policies[0].egress[0].destination.namespaceSelector.reset();
  EXPECT_TRUE(allowed(st, "10.70.0.1", "10.99.0.2"));
}

TEST(ReferenceModel, GlobalNamespaceSelectorAndNetworkSets) {
  State st = base();
  st.netSets = {{true, "gns", "", {{"kind", "ext"}}, {"10.99.0.0/24"}}};
  Policy p;
  p.name = "in";
  p.selector = eq("app", "b");
  Rule r = allow();
  r.source.namespaceSelector = Sel{Sel::Op::kGlobal, "", {}, {}};
  p.ingress = {r};
  st.policies = {p};
  EXPECT_TRUE(allowed(st, "10.99.0.2", "10.70.0.2"));   // in a global network set
  EXPECT_FALSE(allowed(st, "10.98.0.2", "10.70.0.2"));  // in no set
  EXPECT_FALSE(allowed(st, "10.70.0.1", "10.70.0.2"));  // namespaced endpoint
}

TEST(ReferenceModel, MatchesOfARule) {
  State st = base();
  Policy p;
  p.name = "in";
  p.selector = eq("app", "b");
  Rule r = allow();
  r.protocol = "TCP";
  r.destination.ports = {{80, 443}};
  r.destination.notPorts = {{100, 100}};
  r.source.nets = {"10.70.0.0/24"};
  r.source.notNets = {"10.70.0.5/32"};
  Sel ne;
  ne.op = Sel::Op::kNe;
  ne.key = "tier";
  ne.values = {"x"};
  r.source.selector = ne;  // != matches a missing label
  Rule icmp = allow();
  icmp.protocol = "ICMP";
  icmp.notICMP = Icmp{8, 1};
  p.ingress = {r, icmp};
  st.policies = {p};
  EXPECT_TRUE(allowed(st, "10.70.0.1", "10.70.0.2", "tcp", 443));
  EXPECT_FALSE(allowed(st, "10.70.0.1", "10.70.0.2", "tcp", 100));
  EXPECT_FALSE(allowed(st, "10.70.0.1", "10.70.0.2", "tcp", 8080));
  EXPECT_FALSE(allowed(st, "10.70.0.1", "10.70.0.2", "udp", 80));
  EXPECT_FALSE(allowed(st, "10.70.1.4", "10.70.0.2", "tcp", 80));  // not in nets
  EXPECT_TRUE(allowed(st, "10.70.0.1", "10.70.0.2", "icmp", 0));   // echo is type 8 code 0
  st.policies[0].ingress[1].notICMP = Icmp{8, std::nullopt};
  EXPECT_FALSE(allowed(st, "10.70.0.1", "10.70.0.2", "icmp", 0));
}

}  // namespace
}  // namespace brindle::policydiff
