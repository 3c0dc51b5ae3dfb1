// ActiveRulesCalculator on its own: which policies select which local endpoints, when a policy or
// profile becomes active or inactive, and in which order the listener hears of it.
#include "calc/active_rules.h"

#include <gtest/gtest.h>

namespace brindle::calc {
namespace {

// Records every call as one line, e.g. "active default|p1", "match+ default|p1 w:a".
struct Recorder : ActiveRulesListener {
  std::vector<std::string> log;
  std::map<PolicyId, ScannedRulesPtr> policyRules;
  std::map<std::string, ScannedRulesPtr> profileRules;

  void onPolicyMatchStarted(const PolicyId& p, const std::string& ep) override {
    log.push_back("match+ " + p.text() + " " + ep);
  }
  void onPolicyMatchStopped(const PolicyId& p, const std::string& ep) override {
    log.push_back("match- " + p.text() + " " + ep);
  }
  void onPolicyActive(const PolicyId& id, const ScannedRulesPtr& rules) override {
    log.push_back("active " + id.text());
    policyRules[id] = rules;
  }
  void onPolicyInactive(const PolicyId& id) override {
    log.push_back("inactive " + id.text());
    policyRules.erase(id);
  }
  void onProfileActive(const std::string& name, const ScannedRulesPtr& rules) override {
    log.push_back("profile+ " + name + " (" + std::to_string(rules->rules.ingress.size()) + ")");
    profileRules[name] = rules;
  }
  void onProfileInactive(const std::string& name) override {
    log.push_back("profile- " + name);
    profileRules.erase(name);
  }
  std::vector<std::string> take() { return std::exchange(log, {}); }
};

selector::Selector sel(const std::string& text) {
  auto s = selector::Selector::parse(text);
  EXPECT_TRUE(s.isOk()) << s.message();
  return s ? *s : selector::Selector();
}

// Rules with `n` ingress rules of `action` (only their count and content matter here).
ScannedRulesPtr rules(size_t n, model::Action action = model::Action::kAllow) {
  auto r = std::make_shared<ScannedRules>();
  ParsedRule p;
  p.action = action;
  r->rules.ingress.assign(n, p);
  return r;
}

using Log = std::vector<std::string>;
const PolicyId kP1{"default", "p1"};
const PolicyId kP2{"default", "p2"};

TEST(ActiveRules, PolicyIsActiveExactlyWhileItSelectsALocalEndpoint) {
  Recorder out;
  ActiveRulesCalculator calc(out);
  auto r1 = rules(1);
  calc.updatePolicy(kP1, sel("role == 'db'"), r1);
  EXPECT_EQ(out.take(), Log{});  // selects nothing local: costs nothing downstream

  calc.updateLocalEndpoint("w:ns/a", {{"role", "db"}}, {});
  // Active before the match, so the endpoint's rules never refer to a missing policy.
  EXPECT_EQ(out.take(), (Log{"active default|p1", "match+ default|p1 w:ns/a"}));
  EXPECT_EQ(out.policyRules.at(kP1), r1);  // shared, not copied

  calc.updateLocalEndpoint("w:ns/b", {{"role", "db"}}, {});
  calc.updateLocalEndpoint("w:ns/c", {{"role", "web"}}, {});
  EXPECT_EQ(out.take(), Log{"match+ default|p1 w:ns/b"});

  calc.removeLocalEndpoint("w:ns/a");
  EXPECT_EQ(out.take(), Log{"match- default|p1 w:ns/a"});
  calc.updateLocalEndpoint("w:ns/b", {{"role", "web"}}, {});  // relabelled out
  EXPECT_EQ(out.take(), (Log{"match- default|p1 w:ns/b", "inactive default|p1"}));
}

TEST(ActiveRules, ContentChangeReachesTheListenerOnlyWhenActiveAndReal) {
  Recorder out;
  ActiveRulesCalculator calc(out);
  calc.updatePolicy(kP1, sel("all()"), rules(1));
  calc.updatePolicy(kP2, sel("role == 'none'"), rules(1));
  calc.updateLocalEndpoint("w:a", {}, {});
  auto first = out.policyRules.at(kP1);
  out.take();

  calc.updatePolicy(kP1, sel("all()"), rules(1));  // same content, a new value
  EXPECT_EQ(out.take(), Log{});
  calc.updatePolicy(kP1, sel("all()"), rules(2, model::Action::kDeny));
  EXPECT_EQ(out.take(), Log{"active default|p1"});
  EXPECT_EQ(out.policyRules.at(kP1)->rules.ingress.size(), 2u);
  EXPECT_NE(out.policyRules.at(kP1), first);

  calc.updatePolicy(kP2, sel("role == 'none'"), rules(3));  // inactive: nobody needs it
  EXPECT_EQ(out.take(), Log{});
}

TEST(ActiveRules, SelectorChangeAndRemovalStopMatches) {
  Recorder out;
  ActiveRulesCalculator calc(out);
  calc.updateLocalEndpoint("w:a", {{"app", "x"}}, {});
  calc.updateLocalEndpoint("h:eth0", {{"app", "y"}}, {});
  calc.updatePolicy(kP1, sel("has(app)"), rules(1));
  Log started = out.take();
  std::sort(started.begin() + 1, started.end());
  EXPECT_EQ(started,
            (Log{"active default|p1", "match+ default|p1 h:eth0", "match+ default|p1 w:a"}));

  calc.updatePolicy(kP1, sel("app == 'x'"), rules(1));
  EXPECT_EQ(out.take(), Log{"match- default|p1 h:eth0"});

  calc.removePolicy(kP1);
  EXPECT_EQ(out.take(), (Log{"match- default|p1 w:a", "inactive default|p1"}));
  calc.removePolicy(kP1);  // unknown: nothing
  EXPECT_EQ(out.take(), Log{});
}

TEST(ActiveRules, ProfilesAreActiveWhileAnEndpointListsThem) {
  Recorder out;
  ActiveRulesCalculator calc(out);
  calc.updateProfile("p-open", {}, rules(2));
  EXPECT_EQ(out.take(), Log{});

  // A listed profile that does not exist is active with no rules.
  calc.updateLocalEndpoint("w:a", {}, {"p-open", "p-missing"});
  EXPECT_EQ(out.take(), (Log{"profile+ p-open (2)", "profile+ p-missing (0)"}));
  calc.updateLocalEndpoint("w:b", {}, {"p-open"});
  EXPECT_EQ(out.take(), Log{});

  // A profile kept across an endpoint's update never goes inactive in between.
  calc.updateLocalEndpoint("w:a", {}, {"p-open", "p-new"});
  EXPECT_EQ(out.take(), (Log{"profile+ p-new (0)", "profile- p-missing"}));

  // Content changes of an active profile, and its deletion, are passed on.
  calc.updateProfile("p-open", {}, rules(3));
  EXPECT_EQ(out.take(), Log{"profile+ p-open (3)"});
  calc.removeProfile("p-open");
  EXPECT_EQ(out.take(), Log{"profile+ p-open (0)"});

  calc.removeLocalEndpoint("w:a");
  EXPECT_EQ(out.take(), Log{"profile- p-new"});
  calc.removeLocalEndpoint("w:b");
  EXPECT_EQ(out.take(), Log{"profile- p-open"});
  EXPECT_TRUE(out.profileRules.empty());
}

TEST(ActiveRules, ProfileLabelsAreInheritedBySelectors) {
  Recorder out;
  ActiveRulesCalculator calc(out);
  calc.updatePolicy(kP1, sel("team == 'red'"), rules(1));
  calc.updateProfile("p-team", {{"team", "blue"}}, rules(0));
  calc.updateLocalEndpoint("w:a", {}, {"p-team"});
  EXPECT_EQ(out.take(), Log{"profile+ p-team (0)"});

  calc.updateProfile("p-team", {{"team", "red"}}, rules(0));
  Log log = out.take();
  EXPECT_NE(std::find(log.begin(), log.end(), "match+ default|p1 w:a"), log.end()) << log.size();
  EXPECT_NE(std::find(log.begin(), log.end(), "active default|p1"), log.end());

  calc.updateLocalEndpoint("w:a", {{"team", "blue"}}, {"p-team"});  // own labels win
  EXPECT_EQ(out.take(), (Log{"match- default|p1 w:a", "inactive default|p1"}));
}

}  // namespace
}  // namespace brindle::calc
