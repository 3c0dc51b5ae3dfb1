// ActiveRulesCalculator: which policies select which LOCAL endpoints (through its own label
// index of policy selectors over local endpoints) and therefore which policies and profiles are
// active on this node at all. Inactive policies cost nothing downstream.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "calc/inputs.h"
#include "calc/label_index.h"
#include "calc/rule_scanner.h"

namespace brindle::calc {

class ActiveRulesListener {
 public:
  virtual ~ActiveRulesListener() = default;
  virtual void onPolicyMatchStarted(const PolicyId& policy, const std::string& endpointKey) = 0;
  virtual void onPolicyMatchStopped(const PolicyId& policy, const std::string& endpointKey) = 0;
  // Active = selects at least one local endpoint (called again when its content changes).
  virtual void onPolicyActive(const PolicyId& id, const ScannedRulesPtr& rules) = 0;
  virtual void onPolicyInactive(const PolicyId& id) = 0;
  // Active = listed by at least one local endpoint; a profile that does not exist is active
  // with no rules (so its endpoints fall through to "drop if no profiles matched").
  virtual void onProfileActive(const std::string& name, const ScannedRulesPtr& rules) = 0;
  virtual void onProfileInactive(const std::string& name) = 0;
};

class ActiveRulesCalculator {
 public:
  explicit ActiveRulesCalculator(ActiveRulesListener& out);

  // `rules`: the policy's scanRules(), kept (shared) until it changes.
  void updatePolicy(const PolicyId& id, const selector::Selector& sel, ScannedRulesPtr rules);
  void removePolicy(const PolicyId& id);
  void updateProfile(const std::string& name, const Labels& labelsToApply, ScannedRulesPtr rules);
  void removeProfile(const std::string& name);
  // endpointKey: "w:<id>" or "h:<id>".
  void updateLocalEndpoint(const std::string& endpointKey, const Labels& labels,
                           const std::vector<std::string>& profiles);
  void removeLocalEndpoint(const std::string& endpointKey);

 private:
  void matchStarted(const std::string& selId, const std::string& endpointKey);
  void matchStopped(const std::string& selId, const std::string& endpointKey);
  void profileRef(const std::string& name);
  void profileUnref(const std::string& name);
  const ScannedRulesPtr& profileOrEmpty(const std::string& name) const;

  ActiveRulesListener& out_;
  LabelIndex index_;
  ScannedRulesPtr empty_;
  struct Policy {
    PolicyId id;
    ScannedRulesPtr rules;
    int matches = 0;  // local endpoints it selects; active while > 0
  };
  std::unordered_map<std::string, Policy> policies_;  // by selector id (PolicyId::text())
  std::map<std::string, ScannedRulesPtr> profiles_;
  std::map<std::string, int> profileRefs_;
  std::unordered_map<std::string, std::vector<std::string>> endpointProfiles_;
};

}  // namespace brindle::calc
