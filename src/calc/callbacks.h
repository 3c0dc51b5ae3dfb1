// DataplaneCallbacks: the calculation graph's output, one small interface the agent implements
// (rule renderer + kernel writers). Calls arrive in dependency order from the event sequencer.
#pragma once

#include <set>
#include <string>

#include "calc/types.h"

namespace brindle::calc {

class DataplaneCallbacks {
 public:
  virtual ~DataplaneCallbacks() = default;

  // An ipset that active rules refer to. Added before any policy using it is active, removed
  // only after the last such policy is inactive. Members are v4 and v6 CIDRs mixed (/32 or /128
  // for endpoint addresses); the agent splits them per family ("cali40" / "cali60" sets).
  virtual void onIpSetAdded(const std::string& id) = 0;
  virtual void onIpSetMembersAdded(const std::string& id, const std::set<Cidr>& members) = 0;
  virtual void onIpSetMembersRemoved(const std::string& id, const std::set<Cidr>& members) = 0;
  virtual void onIpSetRemoved(const std::string& id) = 0;

  // A policy/profile used by at least one local endpoint (rules given again when they change).
  virtual void onPolicyActive(const PolicyId& id, const ParsedRules& rules) = 0;
  virtual void onPolicyInactive(const PolicyId& id) = 0;
  virtual void onProfileActive(const std::string& name, const ParsedRules& rules) = 0;
  virtual void onProfileInactive(const std::string& name) = 0;

  // Local endpoints, after every policy/profile they name is active.
  virtual void onWorkloadEndpointUpdate(const WorkloadEndpoint& endpoint) = 0;
  virtual void onWorkloadEndpointRemove(const std::string& id) = 0;
  virtual void onHostEndpointUpdate(const HostEndpoint& endpoint) = 0;
  virtual void onHostEndpointRemove(const std::string& id) = 0;

  // IP pools (all of them: nat-outgoing needs every pool) and routes of this node.
  virtual void onIpPoolUpdate(const IpPool& pool) = 0;
  virtual void onIpPoolRemove(const Cidr& cidr) = 0;
  virtual void onRouteUpdate(const Route& route) = 0;
  virtual void onRouteRemove(const Cidr& destination) = 0;

  // Once, after the first complete snapshot of the datastore has been flushed.
  virtual void onInSync() = 0;
};

}  // namespace brindle::calc
