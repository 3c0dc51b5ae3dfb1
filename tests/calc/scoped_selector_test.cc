// The selectors the calc graph builds from a rule side's selector and its namespace scope, and
// from a NetworkPolicy's selector and its namespace: they name ipsets, so their canonical text
// is pinned here (values taken from the text-built selectors these trees replaced).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

#include "calc/inputs.h"
#include "calc/rule_scanner.h"
#include "model/rule.h"

namespace brindle::calc {
namespace {

struct Case {
  std::string source;  // the rule's source side
  std::string ns;      // the policy's namespace, "" for a global policy
  std::set<std::string> canonical;
};

TEST(ScopedSelectors, CanonicalTextIsCalicos) {
  const Case cases[] = {
      {R"~({"selector": "app == 'web'"})~", "", {R"~(app == "web")~"}},
      {R"~({"selector": "app == 'web'"})~",
       "prod",
       {R"~((projectcalico.org/namespace == "prod" && app == "web"))~"}},
      {R"~({"selector": "app == 'web' && tier in {'b', 'a'}"})~",
       "prod",
       {R"~((projectcalico.org/namespace == "prod" && (app == "web" && tier in {"a", "b"})))~"}},
      {R"~({"selector": "all()"})~",
       "prod",
       {R"~((projectcalico.org/namespace == "prod" && all()))~"}},
      {R"~({"notSelector": "app == 'db'"})~", "", {R"~(app == "db")~"}},
      {R"~({"notSelector": "app == 'db'"})~",
       "prod",
       {R"~(projectcalico.org/namespace == "prod")~", R"~(app == "db")~"}},
      {R"~({"namespaceSelector": "global()"})~",
       "prod",
       {R"~(!has(projectcalico.org/namespace))~"}},
      {R"~({"namespaceSelector": "global()", "selector": "role == 'x'"})~",
       "",
       {R"~((!has(projectcalico.org/namespace) && role == "x"))~"}},
      {R"~({"namespaceSelector": "team == 'a'"})~", "prod", {R"~(pcns.team == "a")~"}},
      {R"~({"namespaceSelector": "team == 'a' && env != 'dev'", "selector": "app == 'web' || app == 'api'"})~",
       "prod",
       {R"~(((pcns.team == "a" && pcns.env != "dev") && (app == "web" || app == "api")))~"}},
      {R"~({"namespaceSelector": "!(team in {'a', 'b'}) || has(x)", "selector": "!has(y)"})~",
       "",
       {R"~(((!pcns.team in {"a", "b"} || has(pcns.x)) && !has(y)))~"}},
      {R"~({"namespaceSelector": "all()", "selector": "k contains 'q' && k2 starts with 'p' && k3 ends with 's'"})~",
       "",
       {R"~((all() && (k contains "q" && k2 starts with "p" && k3 ends with "s")))~"}},
      {R"~({"namespaceSelector": "!(!has(a))"})~", "", {R"~(has(pcns.a))~"}},
      {R"~({"namespaceSelector": "a == 'say \"hi\"'"})~", "", {R"~(pcns.a == 'say "hi"')~"}},
  };
  for (const Case& c : cases) {
    auto rule = model::parseRule(
        model::Json::parse(R"~({"action": "Allow", "source": )~" + c.source + "}"), "rule");
    ASSERT_TRUE(rule.isOk()) << rule.message();
    std::set<std::string> got;
    for (const auto& [id, sel] : scanRules({*rule}, {}, c.ns).selectorSets) {
      EXPECT_EQ(id, selectorIpSetId(sel));
      got.insert(sel.canonical());
    }
    EXPECT_EQ(got, c.canonical) << c.source << " in namespace '" << c.ns << "'";
  }
}

TEST(ScopedSelectors, NetworkPolicySelectsItsOwnNamespace) {
  const std::pair<const char*, const char*> cases[] = {
      {"", R"~((all() && projectcalico.org/namespace == "prod"))~"},
      {"app == 'web'", R"~((app == "web" && projectcalico.org/namespace == "prod"))~"},
      {"a == 'x' || b == 'y'",
       R"~(((a == "x" || b == "y") && projectcalico.org/namespace == "prod"))~"},
      {"!has(a)", R"~((!has(a) && projectcalico.org/namespace == "prod"))~"},
  };
  for (const auto& [selector, canonical] : cases) {
    model::Resource r;
    r.kind = model::Kind::kNetworkPolicy;
    r.metadata = {{"name", "p"}, {"namespace", "prod"}};
    r.spec = {{"selector", selector}};
    auto policy = policyInput(r);
    ASSERT_TRUE(policy.isOk()) << policy.message();
    EXPECT_EQ(policy->selector.canonical(), canonical) << selector;
  }
}

}  // namespace
}  // namespace brindle::calc
