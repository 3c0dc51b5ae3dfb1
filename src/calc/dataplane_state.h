// DataplaneState: a DataplaneCallbacks that just remembers the current state (ipsets with
// members, active policies/profiles, endpoints, pools, routes). The rule renderer reads it to
// render a complete ruleset; tests compare it across event orders.
#pragma once

#include <map>
#include <set>
#include <string>

#include "calc/callbacks.h"

namespace brindle::calc {

struct DataplaneState : DataplaneCallbacks {
  std::map<std::string, std::set<Cidr>> ipSets;
  std::map<PolicyId, ParsedRules> policies;
  std::map<std::string, ParsedRules> profiles;
  std::map<std::string, WorkloadEndpoint> workloads;
  std::map<std::string, HostEndpoint> hosts;
  std::map<Cidr, IpPool> pools;
  std::map<Cidr, Route> routes;
  bool inSync = false;

  void onIpSetAdded(const std::string& id) override { ipSets[id]; }
  void onIpSetMembersAdded(const std::string& id, const std::set<Cidr>& m) override {
    ipSets[id].insert(m.begin(), m.end());
  }
  void onIpSetMembersRemoved(const std::string& id, const std::set<Cidr>& m) override {
    for (const auto& c : m) ipSets[id].erase(c);
  }
  void onIpSetRemoved(const std::string& id) override { ipSets.erase(id); }
  void onPolicyActive(const PolicyId& id, const ParsedRules& r) override { policies[id] = r; }
  void onPolicyInactive(const PolicyId& id) override { policies.erase(id); }
  void onProfileActive(const std::string& n, const ParsedRules& r) override { profiles[n] = r; }
  void onProfileInactive(const std::string& n) override { profiles.erase(n); }
  void onWorkloadEndpointUpdate(const WorkloadEndpoint& e) override { workloads[e.id] = e; }
  void onWorkloadEndpointRemove(const std::string& id) override { workloads.erase(id); }
  void onHostEndpointUpdate(const HostEndpoint& e) override { hosts[e.id] = e; }
  void onHostEndpointRemove(const std::string& id) override { hosts.erase(id); }
  void onIpPoolUpdate(const IpPool& p) override { pools[p.cidr] = p; }
  void onIpPoolRemove(const Cidr& c) override { pools.erase(c); }
  void onRouteUpdate(const Route& r) override { routes[r.destination] = r; }
  void onRouteRemove(const Cidr& c) override { routes.erase(c); }
  void onInSync() override { inSync = true; }

  bool operator==(const DataplaneState& o) const {
    return ipSets == o.ipSets && policies == o.policies && profiles == o.profiles &&
           workloads == o.workloads && hosts == o.hosts && pools == o.pools && routes == o.routes;
  }
};

}  // namespace brindle::calc
