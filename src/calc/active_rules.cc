// ActiveRulesCalculator: local endpoint x policy matching, active policies/profiles.
#include "calc/active_rules.h"

namespace brindle::calc {

ActiveRulesCalculator::ActiveRulesCalculator(ActiveRulesListener& out)
    : out_(out),
      index_([this](const std::string& s, const std::string& e) { matchStarted(s, e); },
             [this](const std::string& s, const std::string& e) { matchStopped(s, e); }) {}

void ActiveRulesCalculator::matchStarted(const std::string& selId, const std::string& endpointKey) {
  const PolicyId& id = policyBySelectorId_.at(selId);
  auto& eps = matches_[id];
  bool wasActive = !eps.empty();
  eps.insert(endpointKey);
  // Active before the endpoint hears of it, so its rules exist first.
  if (!wasActive) out_.onPolicyActive(policies_.at(id));
  out_.onPolicyMatchStarted(id, endpointKey);
}

void ActiveRulesCalculator::matchStopped(const std::string& selId, const std::string& endpointKey) {
  const PolicyId id = policyBySelectorId_.at(selId);
  auto it = matches_.find(id);
  if (it == matches_.end()) return;
  it->second.erase(endpointKey);
  out_.onPolicyMatchStopped(id, endpointKey);
  if (it->second.empty()) {
    matches_.erase(it);
    out_.onPolicyInactive(id);
  }
}

void ActiveRulesCalculator::updatePolicy(const PolicyInput& policy) {
  const std::string selId = policy.id.text();
  policyBySelectorId_[selId] = policy.id;
  policies_[policy.id] = policy;
  // A content change of an active policy is passed on; matching changes come from the index.
  auto m = matches_.find(policy.id);
  if (m != matches_.end() && !m->second.empty()) out_.onPolicyActive(policy);
  index_.updateSelector(selId, policy.selector);
}

void ActiveRulesCalculator::removePolicy(const PolicyId& id) {
  if (!policies_.count(id)) return;
  index_.deleteSelector(id.text());  // emits matchStopped (and inactive) for every endpoint
  policies_.erase(id);
  policyBySelectorId_.erase(id.text());
}

ProfileInput ActiveRulesCalculator::profileOrEmpty(const std::string& name) const {
  auto it = profiles_.find(name);
  if (it != profiles_.end()) return it->second;
  ProfileInput empty;
  empty.name = name;
  return empty;
}

void ActiveRulesCalculator::updateProfile(const ProfileInput& profile) {
  profiles_[profile.name] = profile;
  index_.updateParent(profile.name, profile.labelsToApply);
  if (profileRefs_.count(profile.name)) out_.onProfileActive(profile);
}

void ActiveRulesCalculator::removeProfile(const std::string& name) {
  if (!profiles_.erase(name)) return;
  index_.deleteParent(name);
  if (profileRefs_.count(name)) out_.onProfileActive(profileOrEmpty(name));
}

void ActiveRulesCalculator::profileRef(const std::string& name) {
  if (profileRefs_[name]++ == 0) out_.onProfileActive(profileOrEmpty(name));
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
  endpointProfiles_[endpointKey] = profiles;
  index_.updateItem(endpointKey, labels, profiles);
}

void ActiveRulesCalculator::removeLocalEndpoint(const std::string& endpointKey) {
  index_.deleteItem(endpointKey);
  auto old = endpointProfiles_.find(endpointKey);
  if (old == endpointProfiles_.end()) return;
  for (const auto& p : old->second) profileUnref(p);
  endpointProfiles_.erase(old);
}

const std::set<std::string>& ActiveRulesCalculator::endpointsOf(const PolicyId& id) const {
  static const std::set<std::string> kEmpty;
  auto it = matches_.find(id);
  return it == matches_.end() ? kEmpty : it->second;
}

}  // namespace brindle::calc
