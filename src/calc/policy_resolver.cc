// PolicyResolver: per-endpoint tier/policy ordering; see policy_resolver.h.
#include "calc/policy_resolver.h"

#include <algorithm>

namespace brindle::calc {

PolicyResolver::TierSettings PolicyResolver::tierSettings(const std::string& name) const {
  auto it = tiers_.find(name);
  return it == tiers_.end() ? TierSettings{} : it->second;
}

bool PolicyResolver::tierBefore(const std::string& a, const std::string& b) const {
  const double oa = tierSettings(a).order;
  const double ob = tierSettings(b).order;
  return oa != ob ? oa < ob : a < b;
}

void PolicyResolver::updateTier(const TierInput& tier) {
  const TierSettings settings{tier.order, tier.defaultAction};
  if (tierSettings(tier.name) == settings && tiers_.count(tier.name)) return;
  tiers_[tier.name] = settings;
  markTierDirty(tier.name);
}

void PolicyResolver::removeTier(const std::string& name) {
  if (tiers_.erase(name)) markTierDirty(name);
}

void PolicyResolver::markTierDirty(const std::string& name) {
  // Its order or action changed: every endpoint one of its policies selects resolves again.
  for (const auto& [endpoint, pols] : policiesOfEndpoint_) {
    for (const Policy* p : pols) {
      if (p->first.tier == name) {
        dirty_.insert(endpoint);
        break;
      }
    }
  }
}

void PolicyResolver::updatePolicy(const PolicyInput& policy) {
  SortKey key{policy.order, policy.appliesIngress, policy.appliesEgress};
  auto [it, inserted] = policies_.try_emplace(policy.id, key);
  if (inserted || it->second == key) return;
  it->second = key;
  // A new order or new types: the endpoints it selects resolve again (rare, so found by scan).
  for (const auto& [endpoint, pols] : policiesOfEndpoint_) {
    if (std::find(pols.begin(), pols.end(), &*it) != pols.end()) dirty_.insert(endpoint);
  }
}

void PolicyResolver::removePolicy(const PolicyId& id) {
  auto it = policies_.find(id);
  if (it == policies_.end()) return;
  for (auto e = policiesOfEndpoint_.begin(); e != policiesOfEndpoint_.end();) {
    auto& pols = e->second;
    if (auto p = std::find(pols.begin(), pols.end(), &*it); p != pols.end()) {
      pols.erase(p);
      dirty_.insert(e->first);
    }
    e = pols.empty() ? policiesOfEndpoint_.erase(e) : std::next(e);
  }
  policies_.erase(it);
}

void PolicyResolver::matchStarted(const PolicyId& policy, const std::string& endpointKey) {
  auto it = policies_.find(policy);
  if (it == policies_.end()) return;
  auto& pols = policiesOfEndpoint_[endpointKey];
  if (std::find(pols.begin(), pols.end(), &*it) == pols.end()) pols.push_back(&*it);
  dirty_.insert(endpointKey);
}

void PolicyResolver::matchStopped(const PolicyId& policy, const std::string& endpointKey) {
  dirty_.insert(endpointKey);
  auto it = policies_.find(policy);
  auto e = policiesOfEndpoint_.find(endpointKey);
  if (it == policies_.end() || e == policiesOfEndpoint_.end()) return;
  auto& pols = e->second;
  if (auto p = std::find(pols.begin(), pols.end(), &*it); p != pols.end()) pols.erase(p);
  if (pols.empty()) policiesOfEndpoint_.erase(e);
}

void PolicyResolver::updateEndpoint(const std::string& endpointKey, const EndpointInput& e) {
  endpoints_[endpointKey] =
      Endpoint{e.host, e.id, e.interfaceName, e.addresses, e.ipNats, e.profiles};
  dirty_.insert(endpointKey);
}

void PolicyResolver::removeEndpoint(const std::string& endpointKey) {
  endpoints_.erase(endpointKey);
  dirty_.insert(endpointKey);
}

std::vector<TierInfo> PolicyResolver::resolveTiers(
    const std::vector<const Policy*>& policies) const {
  std::vector<const Policy*> sorted = policies;
  std::sort(sorted.begin(), sorted.end(), [&](const Policy* pa, const Policy* pb) {
    const PolicyId& a = pa->first;
    const PolicyId& b = pb->first;
    if (a.tier != b.tier) return tierBefore(a.tier, b.tier);
    const auto& oa = pa->second.order;
    const auto& ob = pb->second.order;
    if (oa.has_value() != ob.has_value()) return oa.has_value();  // missing order sorts last
    if (oa && *oa != *ob) return *oa < *ob;
    return a.name < b.name;
  });
  std::vector<TierInfo> tiers;
  for (const Policy* p : sorted) {
    const PolicyId& id = p->first;
    if (tiers.empty() || tiers.back().name != id.tier) {
      tiers.push_back(TierInfo{id.tier, {}, {}, tierSettings(id.tier).defaultAction});
    }
    if (p->second.ingress) tiers.back().ingressPolicies.push_back(id);
    if (p->second.egress) tiers.back().egressPolicies.push_back(id);
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
    const Endpoint& e = it->second;
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
