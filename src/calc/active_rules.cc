// ActiveRulesCalculator: local endpoint x policy matching, active policies/profiles.
#include "calc/active_rules.h"

namespace brindle::calc {

ActiveRulesCalculator::ActiveRulesCalculator(ActiveRulesListener& out)
    : out_(out),
      index_([this](const std::string& s, const std::string& e) { matchStarted(s, e); },
             [this](const std::string& s, const std::string& e) { matchStopped(s, e); }),
      empty_(std::make_shared<const ScannedRules>()) {}

void ActiveRulesCalculator::matchStarted(const std::string& selId, const std::string& endpointKey) {
  const PolicyId& id = policyBySelectorId_.at(selId);
  // Active before the endpoint hears of it, so its rules exist first.
  if (matchCounts_[id]++ == 0) out_.onPolicyActive(id, policies_.at(id));
  out_.onPolicyMatchStarted(id, endpointKey);
}

void ActiveRulesCalculator::matchStopped(const std::string& selId, const std::string& endpointKey) {
  const PolicyId id = policyBySelectorId_.at(selId);
  auto it = matchCounts_.find(id);
  if (it == matchCounts_.end()) return;
  out_.onPolicyMatchStopped(id, endpointKey);
  if (--it->second == 0) {
    matchCounts_.erase(it);
    out_.onPolicyInactive(id);
  }
}

void ActiveRulesCalculator::updatePolicy(const PolicyId& id, const selector::Selector& sel,
                                         ScannedRulesPtr rules) {
  const std::string selId = id.text();
  policyBySelectorId_[selId] = id;
  ScannedRulesPtr& stored = policies_[id];
  // Unchanged rules keep the value already shared downstream (one copy per policy).
  if (stored && stored->rules == rules->rules) rules = stored;
  const bool changed = stored != rules;
  stored = std::move(rules);
  // A content change of an active policy is passed on; matching changes come from the index.
  if (changed && matchCounts_.count(id)) out_.onPolicyActive(id, stored);
  index_.updateSelector(selId, sel);
}

void ActiveRulesCalculator::removePolicy(const PolicyId& id) {
  if (!policies_.count(id)) return;
  index_.deleteSelector(id.text());  // emits matchStopped (and inactive) for every endpoint
  policies_.erase(id);
  policyBySelectorId_.erase(id.text());
}

const ScannedRulesPtr& ActiveRulesCalculator::profileOrEmpty(const std::string& name) const {
  auto it = profiles_.find(name);
  return it != profiles_.end() ? it->second : empty_;
}

void ActiveRulesCalculator::updateProfile(const std::string& name, const Labels& labelsToApply,
                                          ScannedRulesPtr rules) {
  ScannedRulesPtr& stored = profiles_[name];
  if (stored && stored->rules == rules->rules) rules = stored;
  stored = std::move(rules);
  index_.updateParent(name, labelsToApply);
  if (profileRefs_.count(name)) out_.onProfileActive(name, stored);
}

void ActiveRulesCalculator::removeProfile(const std::string& name) {
  if (!profiles_.erase(name)) return;
  index_.deleteParent(name);
  if (profileRefs_.count(name)) out_.onProfileActive(name, empty_);
}

void ActiveRulesCalculator::profileRef(const std::string& name) {
  if (profileRefs_[name]++ == 0) out_.onProfileActive(name, profileOrEmpty(name));
}

void ActiveRulesCalculator::profileUnref(const std::string& name) {
  auto it = profileRefs_.find(name);
  if (it == profileRefs_.end()) return;
  if (--it->second == 0) {
    profileRefs_.erase(it);
    out_.onProfileInactive(name);
  }
}

void ActiveRulesCalculator::updateLocalEndpoint(const std::string& endpointKey,
                                                const Labels& labels,
                                                const std::vector<std::string>& profiles) {
  // Reference new profiles before dropping old ones so a kept profile never goes inactive.
  for (const auto& p : profiles) profileRef(p);
  auto old = endpointProfiles_.find(endpointKey);
  if (old != endpointProfiles_.end()) {
    for (const auto& p : old->second) profileUnref(p);
  }
  if (profiles.empty()) {
    if (old != endpointProfiles_.end()) endpointProfiles_.erase(old);
  } else {
    endpointProfiles_[endpointKey] = profiles;
  }
  index_.updateItem(endpointKey, labels, profiles);
}

void ActiveRulesCalculator::removeLocalEndpoint(const std::string& endpointKey) {
  index_.deleteItem(endpointKey);
  auto old = endpointProfiles_.find(endpointKey);
  if (old == endpointProfiles_.end()) return;
  for (const auto& p : old->second) profileUnref(p);
  endpointProfiles_.erase(old);
}

}  // namespace brindle::calc
