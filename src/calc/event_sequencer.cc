// EventSequencer: coalescing and dependency-ordered flushing; see event_sequencer.h.
#include "calc/event_sequencer.h"

#include <algorithm>
#include <iterator>

namespace brindle::calc {
namespace {

template <typename T>
bool sameValue(const T& a, const T& b) {
  return a == b;
}
template <typename T>
bool sameValue(const std::shared_ptr<const T>& a, const std::shared_ptr<const T>& b) {
  return a == b || (a && b && *a == *b);
}
template <typename T>
const T& valueOf(const T& v) {
  return v;
}
template <typename T>
const T& valueOf(const std::shared_ptr<const T>& v) {
  return *v;
}

// Sends updates for dirty keys whose desired value exists and differs from what was sent.
template <typename Keyed, typename Send>
void flushUpdates(Keyed& k, Send send) {
  for (const auto& key : k.dirty) {
    auto d = k.desired.find(key);
    if (d == k.desired.end()) continue;
    auto s = k.sent.find(key);
    if (s != k.sent.end() && sameValue(s->second, d->second)) continue;
    send(key, valueOf(d->second));
    k.sent[key] = d->second;
  }
}

// Sends removals for dirty keys no longer desired but sent, then forgets the dirty set.
template <typename Keyed, typename Send>
void flushRemovals(Keyed& k, Send send) {
  for (const auto& key : k.dirty) {
    if (k.desired.count(key) || !k.sent.count(key)) continue;
    send(key);
    k.sent.erase(key);
  }
  k.dirty.clear();
}

}  // namespace

void EventSequencer::addIpSet(const std::string& id) {
  IpSet& set = ipSets_[id];
  if (set.desired && (set.sent || ipSetsDirty_.count(id))) return;  // already there
  set.desired = true;
  ipSetsDirty_.insert(id);
}
void EventSequencer::removeIpSet(const std::string& id) {
  auto it = ipSets_.find(id);
  if (it == ipSets_.end() || !it->second.desired) return;
  ipSetsDirty_.insert(id);
  IpSet& set = it->second;
  if (!set.sent) {
    ipSets_.erase(it);
    return;
  }
  for (const auto& [m, refs] : set.members) {
    if (!set.added.erase(m)) set.removed.insert(m);
  }
  set.members.clear();
  set.desired = false;
}
void EventSequencer::addIpSetMember(const std::string& id, const Cidr& member) {
  IpSet& set = ipSets_[id];  // a member of an unknown set creates it
  set.desired = true;
  ipSetsDirty_.insert(id);
  if (set.members[member]++ == 0 && set.sent && !set.removed.erase(member)) {
    set.added.insert(member);
  }
}
void EventSequencer::removeIpSetMember(const std::string& id, const Cidr& member) {
  auto it = ipSets_.find(id);
  if (it == ipSets_.end() || !it->second.desired) return;
  IpSet& set = it->second;
  auto m = set.members.find(member);
  if (m == set.members.end() || --m->second > 0) return;
  set.members.erase(m);
  ipSetsDirty_.insert(id);
  if (set.sent && !set.added.erase(member)) set.removed.insert(member);
}

void EventSequencer::setPolicy(const PolicyId& id, std::shared_ptr<const ParsedRules> rules) {
  policies_.set(id, std::move(rules));
}
void EventSequencer::removePolicy(const PolicyId& id) { policies_.remove(id); }
void EventSequencer::setProfile(const std::string& name, std::shared_ptr<const ParsedRules> rules) {
  profiles_.set(name, std::move(rules));
}
void EventSequencer::removeProfile(const std::string& name) { profiles_.remove(name); }
void EventSequencer::setWorkloadEndpoint(WorkloadEndpoint ep) {
  std::string id = ep.id;
  workloads_.set(id, std::make_shared<const WorkloadEndpoint>(std::move(ep)));
}
void EventSequencer::removeWorkloadEndpoint(const std::string& id) { workloads_.remove(id); }
void EventSequencer::setHostEndpoint(HostEndpoint ep) {
  std::string id = ep.id;
  hosts_.set(id, std::make_shared<const HostEndpoint>(std::move(ep)));
}
void EventSequencer::removeHostEndpoint(const std::string& id) { hosts_.remove(id); }
void EventSequencer::setPool(IpPool pool) {
  Cidr c = pool.cidr;
  pools_.set(c, std::move(pool));
}
void EventSequencer::removePool(const Cidr& cidr) { pools_.remove(cidr); }
void EventSequencer::setRoute(Route route) {
  Cidr c = route.destination;
  routes_.set(c, std::move(route));
}
void EventSequencer::removeRoute(const Cidr& destination) { routes_.remove(destination); }

bool EventSequencer::hasPending() const {
  return !ipSetsDirty_.empty() || !policies_.dirty.empty() || !profiles_.dirty.empty() ||
         !workloads_.dirty.empty() || !hosts_.dirty.empty() || !pools_.dirty.empty() ||
         !routes_.dirty.empty();
}

void EventSequencer::flush(DataplaneCallbacks& out) {
  // 1. ipsets: new ones created and filled, existing ones get member deltas.
  for (const auto& id : ipSetsDirty_) {
    auto it = ipSets_.find(id);
    if (it == ipSets_.end() || !it->second.desired) continue;
    IpSet& set = it->second;
    if (!set.sent) {
      out.onIpSetAdded(id);
      if (!set.members.empty()) {
        std::set<Cidr> all;
        for (const auto& [m, refs] : set.members) all.insert(all.end(), m);
        out.onIpSetMembersAdded(id, all);
      }
      set.sent = true;
      continue;
    }
    if (!set.added.empty()) out.onIpSetMembersAdded(id, set.added);
    if (!set.removed.empty()) out.onIpSetMembersRemoved(id, set.removed);
    set.added.clear();
    set.removed.clear();
  }
  // 2. policies and profiles that rules refer to; 3. endpoints, pools and routes using them.
  flushUpdates(policies_,
               [&](const PolicyId& id, const ParsedRules& r) { out.onPolicyActive(id, r); });
  flushUpdates(profiles_,
               [&](const std::string& id, const ParsedRules& r) { out.onProfileActive(id, r); });
  flushUpdates(pools_, [&](const Cidr&, const IpPool& p) { out.onIpPoolUpdate(p); });
  flushUpdates(workloads_, [&](const std::string&, const WorkloadEndpoint& e) {
    out.onWorkloadEndpointUpdate(e);
  });
  flushUpdates(hosts_,
               [&](const std::string&, const HostEndpoint& e) { out.onHostEndpointUpdate(e); });
  flushUpdates(routes_, [&](const Cidr&, const Route& r) { out.onRouteUpdate(r); });
  // Removals in reverse dependency order.
  flushRemovals(routes_, [&](const Cidr& c) { out.onRouteRemove(c); });
  flushRemovals(hosts_, [&](const std::string& id) { out.onHostEndpointRemove(id); });
  flushRemovals(workloads_, [&](const std::string& id) { out.onWorkloadEndpointRemove(id); });
  flushRemovals(pools_, [&](const Cidr& c) { out.onIpPoolRemove(c); });
  flushRemovals(profiles_, [&](const std::string& id) { out.onProfileInactive(id); });
  flushRemovals(policies_, [&](const PolicyId& id) { out.onPolicyInactive(id); });
  for (const auto& id : ipSetsDirty_) {
    auto it = ipSets_.find(id);
    if (it == ipSets_.end() || it->second.desired) continue;
    out.onIpSetRemoved(id);  // only sent sets stay while undesired
    ipSets_.erase(it);
  }
  ipSetsDirty_.clear();
}

}  // namespace brindle::calc
