// PolicyResolver: per-endpoint tier/policy ordering; see policy_resolver.h.
#include "calc/policy_resolver.h"

#include <algorithm>

namespace brindle::calc {

bool PolicyResolver::tierBefore(const std::string& a, const std::string& b) {
  if (a == b) return false;
  if (a == kDefaultTier) return false;
  if (b == kDefaultTier) return true;
  return a < b;
}

void PolicyResolver::updatePolicy(const PolicyInput& policy) {
  SortKey key{policy.order, policy.appliesIngress, policy.appliesEgress};
  auto it = policies_.find(policy.id);
  if (it != policies_.end() && it->second == key) return;
  policies_[policy.id] = key;
  auto eps = endpointsOfPolicy_.find(policy.id);
  if (eps != endpointsOfPolicy_.end()) dirty_.insert(eps->second.begin(), eps->second.end());
}

void PolicyResolver::removePolicy(const PolicyId& id) { policies_.erase(id); }

void PolicyResolver::matchStarted(const PolicyId& policy, const std::string& endpointKey) {
  endpointsOfPolicy_[policy].insert(endpointKey);
  policiesOfEndpoint_[endpointKey].insert(policy);
  dirty_.insert(endpointKey);
}

void PolicyResolver::matchStopped(const PolicyId& policy, const std::string& endpointKey) {
  auto e = endpointsOfPolicy_.find(policy);
  if (e != endpointsOfPolicy_.end()) {
    e->second.erase(endpointKey);
    if (e->second.empty()) endpointsOfPolicy_.erase(e);
  }
  auto p = policiesOfEndpoint_.find(endpointKey);
  if (p != policiesOfEndpoint_.end()) {
    p->second.erase(policy);
    if (p->second.empty()) policiesOfEndpoint_.erase(p);
  }
  dirty_.insert(endpointKey);
}

void PolicyResolver::updateEndpoint(const std::string& endpointKey, const EndpointInput& endpoint) {
  endpoints_[endpointKey] = endpoint;
  dirty_.insert(endpointKey);
}

void PolicyResolver::removeEndpoint(const std::string& endpointKey) {
  endpoints_.erase(endpointKey);
  dirty_.insert(endpointKey);
}

std::vector<TierInfo> PolicyResolver::resolveTiers(const std::set<PolicyId>& policies) const {
  std::vector<PolicyId> sorted(policies.begin(), policies.end());
  auto orderOf = [&](const PolicyId& id) {
    auto it = policies_.find(id);
    return it == policies_.end() ? std::optional<double>() : it->second.order;
  };
  std::sort(sorted.begin(), sorted.end(), [&](const PolicyId& a, const PolicyId& b) {
    if (a.tier != b.tier) return tierBefore(a.tier, b.tier);
    auto oa = orderOf(a), ob = orderOf(b);
    if (oa.has_value() != ob.has_value()) return oa.has_value();  // missing order sorts last
    if (oa && *oa != *ob) return *oa < *ob;
    return a.name < b.name;
  });
  std::vector<TierInfo> tiers;
  for (const auto& id : sorted) {
    auto key = policies_.find(id);
    if (key == policies_.end()) continue;
    if (tiers.empty() || tiers.back().name != id.tier) tiers.push_back(TierInfo{id.tier, {}, {}});
    if (key->second.ingress) tiers.back().ingressPolicies.push_back(id);
    if (key->second.egress) tiers.back().egressPolicies.push_back(id);
  }
  return tiers;
}

void PolicyResolver::flush(EventSequencer& out) {
  for (const auto& key : dirty_) {
    bool host = key.rfind("h:", 0) == 0;
    auto it = endpoints_.find(key);
    if (it == endpoints_.end()) {
      if (host) {
        out.removeHostEndpoint(key.substr(2));
      } else {
        out.removeWorkloadEndpoint(key.substr(2));
      }
      continue;
    }
    const EndpointInput& e = it->second;
    auto pols = policiesOfEndpoint_.find(key);
    std::vector<TierInfo> tiers =
        pols == policiesOfEndpoint_.end() ? std::vector<TierInfo>{} : resolveTiers(pols->second);
    if (host) {
      out.setHostEndpoint(HostEndpoint{e.id, e.interfaceName, e.addresses, tiers, e.profiles});
    } else {
      out.setWorkloadEndpoint(
          WorkloadEndpoint{e.id, e.interfaceName, e.addresses, e.ipNats, tiers, e.profiles});
    }
  }
  dirty_.clear();
}

}  // namespace brindle::calc
