// The rule scanner on its own: scanRules() (selectors and several CIDRs become ipset ids, with
// Calico's namespace scoping; unsupported rules dropped unless they deny), RuleCache (same
// answer as scanRules, errors with their field path) and RuleScanner's ipset reference counts.
#include "calc/rule_scanner.h"

#include <gtest/gtest.h>

#include "calc/inputs.h"

namespace brindle::calc {
namespace {

using model::Json;

model::Rule rule(const std::string& json) {
  auto r = model::parseRule(Json::parse(json), "spec.ingress[0]");
  EXPECT_TRUE(r.isOk()) << r.message();
  return r ? *r : model::Rule{};
}

ScannedRules scanIngress(const std::vector<std::string>& rules, const std::string& ns = "") {
  std::vector<model::Rule> in;
  for (const auto& r : rules) in.push_back(rule(r));
  return scanRules(in, {}, ns);
}

Cidr cidr(const std::string& text) { return *Cidr::parse(text, false); }

TEST(RuleScanner, SelectorOfAGlobalPolicyBecomesItsOwnIpSet) {
  ScannedRules s = scanIngress({R"({"action":"Allow","source":{"selector":"role == 'db'"}})"});
  ASSERT_EQ(s.rules.ingress.size(), 1u);
  ASSERT_EQ(s.selectorSets.size(), 1u);
  const auto& [id, sel] = *s.selectorSets.begin();
  EXPECT_EQ(sel, *selector::Selector::parse("role == 'db'"));
  EXPECT_EQ(id, selectorIpSetId(sel));
  EXPECT_EQ(id.rfind("s:", 0), 0u) << id;
  EXPECT_EQ(s.rules.ingress[0].source.ipSetIds, std::vector<std::string>{id});
  EXPECT_TRUE(s.rules.ingress[0].destination.ipSetIds.empty());
  EXPECT_TRUE(s.netSets.empty());
}

TEST(RuleScanner, NamespacedPolicyScopesItsSelectorsToItsNamespace) {
  ScannedRules s =
      scanIngress({R"({"action":"Allow","source":{"selector":"role == 'db'"}})"}, "prod");
  ASSERT_EQ(s.selectorSets.size(), 1u);
  const selector::Selector& sel = s.selectorSets.begin()->second;
  const std::string ns(kNamespaceLabel);
  EXPECT_TRUE(sel.matches({{"role", "db"}, {ns, "prod"}}));
  EXPECT_FALSE(sel.matches({{"role", "db"}, {ns, "dev"}}));
  EXPECT_FALSE(sel.matches({{"role", "db"}}));  // a global item (network set, host endpoint)
  EXPECT_FALSE(sel.matches({{"role", "web"}, {ns, "prod"}}));
  EXPECT_EQ(s.selectorSets.begin()->first, selectorIpSetId(sel));
}

TEST(RuleScanner, NotSelectorAloneIsStillLimitedToThePolicyNamespace) {
  ScannedRules s =
      scanIngress({R"({"action":"Deny","source":{"notSelector":"role == 'db'"}})"}, "prod");
  const ParsedEntity& src = s.rules.ingress.at(0).source;
  ASSERT_EQ(src.ipSetIds.size(), 1u);
  ASSERT_EQ(src.notIpSetIds.size(), 1u);
  const std::string ns(kNamespaceLabel);
  const selector::Selector& scope = s.selectorSets.at(src.ipSetIds[0]);
  EXPECT_TRUE(scope.matches({{"role", "web"}, {ns, "prod"}}));
  EXPECT_FALSE(scope.matches({{"role", "web"}, {ns, "dev"}}));
  EXPECT_EQ(s.selectorSets.at(src.notIpSetIds[0]), *selector::Selector::parse("role == 'db'"));
}

TEST(RuleScanner, NamespaceSelectorMatchesNamespaceLabelsAndGlobalMeansNoNamespace) {
  ScannedRules s = scanIngress(
      {R"({"action":"Allow","source":{"namespaceSelector":"env == 'prod'","selector":"app == 'x'"}})",
       R"x({"action":"Allow","source":{"namespaceSelector":"global()"}})x"},
      "dev");
  ASSERT_EQ(s.rules.ingress.size(), 2u);
  const std::string pcns = std::string(kNamespaceSelectorPrefix) + "env";
  const std::string ns(kNamespaceLabel);
  const auto& scoped = s.selectorSets.at(s.rules.ingress[0].source.ipSetIds.at(0));
  EXPECT_TRUE(scoped.matches({{"app", "x"}, {pcns, "prod"}, {ns, "other"}}));
  EXPECT_FALSE(scoped.matches({{"app", "x"}, {pcns, "test"}, {ns, "dev"}}));
  EXPECT_FALSE(scoped.matches({{"app", "y"}, {pcns, "prod"}}));
  const auto& global = s.selectorSets.at(s.rules.ingress[1].source.ipSetIds.at(0));
  EXPECT_TRUE(global.matches({{"app", "x"}}));
  EXPECT_FALSE(global.matches({{"app", "x"}, {ns, "dev"}}));
}

TEST(RuleScanner, OneNetStaysInTheRuleSeveralBecomeANetSet) {
  ScannedRules s = scanIngress({
      R"({"action":"Allow","source":{"nets":["10.0.0.0/8"]}})",
      R"({"action":"Allow","source":{"nets":["10.0.0.0/8","192.168.0.0/16"]}})",
      R"({"action":"Allow","source":{"nets":["192.168.0.0/16","10.0.0.0/8"]}})",
      R"({"action":"Allow","source":{"nets":["10.0.0.0/8"],"notNets":["10.1.0.0/16"]}})",
  });
  ASSERT_EQ(s.rules.ingress.size(), 4u);
  EXPECT_EQ(s.rules.ingress[0].source.nets, std::vector<Cidr>{cidr("10.0.0.0/8")});
  EXPECT_TRUE(s.rules.ingress[0].source.ipSetIds.empty());
  // The same nets in any order are one set.
  const auto& id = s.rules.ingress[1].source.ipSetIds.at(0);
  EXPECT_EQ(id.rfind("n:", 0), 0u) << id;
  EXPECT_EQ(s.rules.ingress[2].source.ipSetIds, std::vector<std::string>{id});
  EXPECT_TRUE(s.rules.ingress[1].source.nets.empty());
  // A single notNet beside a net needs a set too (iptables has one -s per rule).
  const ParsedEntity& both = s.rules.ingress[3].source;
  EXPECT_EQ(both.nets, std::vector<Cidr>{cidr("10.0.0.0/8")});
  EXPECT_TRUE(both.notNets.empty());
  ASSERT_EQ(both.notIpSetIds.size(), 1u);
  EXPECT_EQ(s.netSets.size(), 2u);
  EXPECT_EQ(s.netSets.at(both.notIpSetIds[0]), std::vector<Cidr>{cidr("10.1.0.0/16")});
  EXPECT_EQ(s.netSets.at(id).size(), 2u);
}

TEST(RuleScanner, UnsupportedMatchesDropTheRuleUnlessItDenies) {
  ScannedRules s = scanIngress({
      R"({"action":"Allow","protocol":"TCP","destination":{"ports":["http"]}})",
      R"({"action":"Deny","protocol":"TCP","destination":{"ports":["http",443]}})",
      R"({"action":"Allow","http":{"methods":["GET"]}})",
      R"({"action":"Allow","protocol":"TCP","destination":{"ports":[80,"8000:8080"]}})",
  });
  ASSERT_EQ(s.rules.ingress.size(), 2u);
  EXPECT_EQ(s.rules.ingress[0].action, model::Action::kDeny);
  EXPECT_EQ(s.rules.ingress[0].destination.ports.ranges,
            (std::vector<model::PortRange>{{443, 443}}));  // denying more is safe
  EXPECT_EQ(s.rules.ingress[1].destination.ports.ranges,
            (std::vector<model::PortRange>{{80, 80}, {8000, 8080}}));
}

TEST(RuleScanner, RuleCacheGivesScanRulesAnswerAndNamesTheBadField) {
  Json spec = Json::parse(R"({"ingress":[
      {"action":"Allow","source":{"selector":"a == 'b'"}},
      {"action":"Allow","source":{"selector":"a == 'b'"}},
      {"action":"Allow","protocol":"TCP","destination":{"ports":["named"]}}],
    "egress":[{"action":"Deny","destination":{"nets":["10.0.0.0/8","11.0.0.0/8"]}}]})");
  RuleCache cache;
  for (int round = 0; round < 2; ++round) {  // the second round answers from the cache
    ScannedRules got;
    ASSERT_TRUE(cache.scan(spec, "ingress", "ns1", got.rules.ingress, got));
    ASSERT_TRUE(cache.scan(spec, "egress", "ns1", got.rules.egress, got));
    std::vector<model::Rule> in, out;
    for (const auto& r : spec["ingress"]) in.push_back(*model::parseRule(r, "x"));
    for (const auto& r : spec["egress"]) out.push_back(*model::parseRule(r, "x"));
    ScannedRules want = scanRules(in, out, "ns1");
    EXPECT_EQ(got.rules, want.rules);
    EXPECT_EQ(got.selectorSets.size(), 1u);
    EXPECT_EQ(got.netSets.size(), 1u);
    EXPECT_EQ(got.rules.ingress.size(), 2u);
  }
  // The same rule in another namespace is another rule.
  ScannedRules other;
  ASSERT_TRUE(cache.scan(spec, "ingress", "ns2", other.rules.ingress, other));
  EXPECT_NE(other.selectorSets.begin()->first,
            scanIngress({R"({"action":"Allow","source":{"selector":"a == 'b'"}})"}, "ns1")
                .selectorSets.begin()
                ->first);

  Json bad = Json::parse(R"({"ingress":[{"action":"Allow"},{"action":"Maybe"}]})");
  ScannedRules ignored;
  Status st = cache.scan(bad, "ingress", "", ignored.rules.ingress, ignored);
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("spec.ingress[1]"), std::string::npos) << st.message();
}

// Records the listener calls in order.
struct Recorder : RuleScannerListener {
  std::vector<std::string> log;
  void onSelectorIpSetActive(const std::string& id, const selector::Selector&) override {
    log.push_back("set+ " + id);
  }
  void onNetIpSetActive(const std::string& id, const std::vector<Cidr>&) override {
    log.push_back("set+ " + id);
  }
  void onIpSetInactive(const std::string& id) override { log.push_back("set- " + id); }
  void onPolicyRules(const PolicyId& id, std::shared_ptr<const ParsedRules>) override {
    log.push_back("rules " + id.text());
  }
  void onPolicyRulesGone(const PolicyId& id) override { log.push_back("gone " + id.text()); }
  void onProfileRules(const std::string& n, std::shared_ptr<const ParsedRules>) override {
    log.push_back("rules " + n);
  }
  void onProfileRulesGone(const std::string& n) override { log.push_back("gone " + n); }
  std::vector<std::string> take() { return std::exchange(log, {}); }
};

using Log = std::vector<std::string>;

ScannedRulesPtr scanned(const std::vector<std::string>& rules) {
  return std::make_shared<const ScannedRules>(scanIngress(rules));
}

TEST(RuleScanner, IpSetsLiveExactlyAsLongAsARuleUsesThem) {
  Recorder out;
  RuleScanner scanner(out);
  const std::string db = selectorIpSetId(*selector::Selector::parse("role == 'db'"));
  const std::string web = selectorIpSetId(*selector::Selector::parse("role == 'web'"));
  const PolicyId p1{"default", "p1"}, p2{"default", "p2"};
  auto dbRule = scanned({R"({"action":"Allow","source":{"selector":"role == 'db'"}})"});

  // Sets first, so the rules never name a set that does not exist yet.
  scanner.updatePolicy(p1, dbRule);
  EXPECT_EQ(out.take(), (Log{"set+ " + db, "rules default|p1"}));
  scanner.updateProfile("prof", dbRule);  // shares the set
  EXPECT_EQ(out.take(), Log{"rules prof"});
  scanner.updatePolicy(p1, scanned({R"({"action":"Allow","source":{"selector":"role == 'db'"}})"}));
  EXPECT_EQ(out.take(), Log{});  // same rules: nothing

  // A set used before and after an update never flaps.
  scanner.updatePolicy(p1, scanned({R"({"action":"Allow","source":{"selector":"role == 'db'"}})",
                                    R"({"action":"Deny","source":{"selector":"role == 'web'"}})"}));
  EXPECT_EQ(out.take(), (Log{"set+ " + web, "rules default|p1"}));
  scanner.updatePolicy(p2, scanned({R"({"action":"Deny","source":{"selector":"role == 'web'"}})"}));
  out.take();

  // Rules go before their sets.
  scanner.removePolicy(p1);
  EXPECT_EQ(out.take(), Log{"gone default|p1"});  // db: still the profile's, web: still p2's
  scanner.removeProfile("prof");
  EXPECT_EQ(out.take(), (Log{"gone prof", "set- " + db}));
  scanner.removePolicy(p2);
  EXPECT_EQ(out.take(), (Log{"gone default|p2", "set- " + web}));
  scanner.removePolicy(p2);
  EXPECT_EQ(out.take(), Log{});
}

}  // namespace
}  // namespace brindle::calc
