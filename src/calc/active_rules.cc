// ActiveRulesCalculator: local endpoint x policy matching, active policies/profiles.
#include "calc/active_rules.h"

namespace brindle::calc {

ActiveRulesCalculator::ActiveRulesCalculator(ActiveRulesListener& out)
    : out_(out),
      index_([this](const std::string& s, const std::string& e) { matchStarted(s, e); },
             [this](const std::string& s, const std::string& e) { matchStopped(s, e); }),
      empty_(std::make_shared<const ScannedRules>()) {}

void ActiveRulesCalculator::matchStarted(const std::string& selId, const std::string& endpointKey) {
  Policy& p = policies_.at(selId);
  // Active before the endpoint hears of it, so its rules exist first.
  if (p.matches++ == 0) out_.onPolicyActive(p.id, p.rules);
  out_.onPolicyMatchStarted(p.id, endpointKey);
}

void ActiveRulesCalculator::matchStopped(const std::string& selId, const std::string& endpointKey) {
  Policy& p = policies_.at(selId);
  if (p.matches == 0) return;
  out_.onPolicyMatchStopped(p.id, endpointKey);
  if (--p.matches == 0) out_.onPolicyInactive(p.id);
}

void ActiveRulesCalculator::updatePolicy(const PolicyId& id, const selector::Selector& sel,
                                         ScannedRulesPtr rules) {
  const std::string selId = id.text();
  Policy& p = policies_[selId];
  p.id = id;
  // Unchanged rules keep the value already shared downstream (one copy per policy).
  if (p.rules && p.rules->rules == rules->rules) rules = p.rules;
  const bool changed = p.rules != rules;
  p.rules = std::move(rules);
  // A content change of an active policy is passed on; matching changes come from the index.
  if (changed && p.matches > 0) out_.onPolicyActive(p.id, p.rules);
  index_.updateSelector(selId, sel);
}

void ActiveRulesCalculator::removePolicy(const PolicyId& id) {
  const std::string selId = id.text();
  if (!policies_.count(selId)) return;
  index_.deleteSelector(selId);  // emits matchStopped (and inactive) for every endpoint
  policies_.erase(selId);
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
