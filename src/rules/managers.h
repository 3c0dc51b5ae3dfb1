// The managers (Felix's shape): they take the calculation graph's callbacks and keep the kernel
// writers' desired state, each kind of object owning its chains (policies and profiles, endpoints,
// the dispatch chains, nat, the fixed chains), its ipsets and its routes. Recording is cheap; the
// chains that depend on many objects (dispatch, mangle, nat) are rendered once per batch by
// renderAggregates(). The agent's DataplaneDriver applies what they wrote to the kernel;
// renderRuleset() runs the same managers over a complete state into tables that never apply, so
// the goldens check the path the agent takes.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "calc/callbacks.h"
#include "dataplane/chain_table.h"
#include "dataplane/ipsets.h"
#include "dataplane/route_table.h"
#include "rules/config.h"
#include "rules/policy.h"
#include "rules/static_chains.h"

namespace brindle::rules {

struct TableRef {
  dataplane::IpVersion version;
  dataplane::TableName name;
  dataplane::ChainTable* table;
};

class Managers : public calc::DataplaneCallbacks {
 public:
  // `ipsets` and `routes` may be nullptr (not programmed); tables absent from `tables` are not
  // written.
  Managers(std::vector<TableRef> tables, dataplane::IpSets* ipsets, dataplane::RouteTable* routes,
           RendererConfig config);

  void onIpSetAdded(const std::string& id) override;
  void onIpSetMembersAdded(const std::string& id, const std::set<Cidr>& members) override;
  void onIpSetMembersRemoved(const std::string& id, const std::set<Cidr>& members) override;
  void onIpSetRemoved(const std::string& id) override;
  void onPolicyActive(const calc::PolicyId& id, const calc::ParsedRules& rules) override;
  void onPolicyInactive(const calc::PolicyId& id) override;
  void onProfileActive(const std::string& name, const calc::ParsedRules& rules) override;
  void onProfileInactive(const std::string& name) override;
  void onWorkloadEndpointUpdate(const calc::WorkloadEndpoint& endpoint) override;
  void onWorkloadEndpointRemove(const std::string& id) override;
  void onHostEndpointUpdate(const calc::HostEndpoint& endpoint) override;
  void onHostEndpointRemove(const std::string& id) override;
  void onIpPoolUpdate(const calc::IpPool& pool) override;
  void onIpPoolRemove(const Cidr& cidr) override;
  void onRouteUpdate(const calc::Route& route) override;
  void onRouteRemove(const Cidr& destination) override;
  void onInSync() override { inSync_ = true; }

  // Once the route table has given the interfaces their new groups (after a successful apply):
  // the groups they left are no longer admitted from the next apply on, whatever makes one (no
  // apply of its own: until then the old group leads to the new chains, which is harmless).
  // True if some were.
  bool retireLeavingGroups();
  // The groups the kernel's links carry in our range, read before the first apply: a link whose
  // group differs from the one its endpoint has now (a policy changed while no agent ran, or the
  // numbering went otherwise) is leaving that group, so the first commit admits it with either
  // until the route table has moved it. True if some link was.
  bool adoptLinkGroups(const std::map<std::string, uint32_t>& linkGroups);

  // The dispatch, mangle and nat chains, where their inputs changed since the last call.
  void renderAggregates();
  // The chains written into `table` of `version`, in render order: fixed chains, dispatch,
  // failsafes, endpoints, policies, profiles.
  std::vector<dataplane::Chain> chains(dataplane::IpVersion version,
                                       dataplane::TableName table) const;

  bool inSync() const { return inSync_; }
  size_t endpointCount() const { return workloads_.size() + hosts_.size(); }
  size_t policyCount() const { return policies_.size(); }

 protected:
  // A policy's ("pol:<tier>|<name>") or profile's ("pro:<name>") chains were written again
  // (`removed`: removed).
  virtual void rulesOwnerChanged(const std::string& /*owner*/, bool /*removed*/) {}

  std::vector<dataplane::IpVersion> versions() const { return versions_; }
  dataplane::ChainTable* table(dataplane::IpVersion version, dataplane::TableName name) const;

  std::vector<TableRef> tables_;
  dataplane::IpSets* ipsets_;
  dataplane::RouteTable* routes_;
  RendererConfig config_;
  bool dirty_ = true;  // changes recorded since the owner last applied them

  // Ids only (for metrics): the members live in the ipset writer, the rules in the chains.
  std::set<std::string> ipSetIds_;
  std::set<calc::PolicyId> policies_;
  std::set<std::string> profiles_;
  std::map<Cidr, calc::Route> routeMap_;

  // owner ("wl:<id>", "pol:<tier>|<name>", "static", ...) -> the chains it wrote.
  struct Owned {
    dataplane::IpVersion version;
    dataplane::TableName table;
    std::string chain;
    size_t rules;
  };
  std::map<std::string, std::vector<Owned>> owned_;
  // Per policy and profile, how many iptables rules each of its rules became (to name a refused
  // rule by its index in the resource): a few bytes a rule.
  using Counts = std::map<dataplane::IpVersion, RuleCounts>;
  std::map<std::string, Counts> counts_;

 private:
  // Writes `chains` into `table` of `version` under `owner`, removing the owner's chains there
  // that are no longer among them (e.g. after an interface rename).
  void setOwnedChains(dataplane::IpVersion version, dataplane::TableName table,
                      const std::string& owner, const std::vector<dataplane::Chain>& chains);
  void removeOwner(const std::string& owner);
  void setInsertions(dataplane::IpVersion version, dataplane::TableName table,
                     const TableRules& rules);
  void installStaticChains();
  void updateIpipEnabled();
  // One more (`delta` 1) or one fewer (-1) workload endpoint on interface `iface`.
  void countInterface(const std::string& iface, int delta);
  // Interface `iface`'s dispatch entry may have changed (flat dispatch: also its group).
  void interfaceChanged(const std::string& iface);
  // Flat dispatch: endpoint `id` (now `ep`, or gone; on interface `oldIface` before) in the group
  // of its chains; a group's chains are written with its first user and removed with its last.
  void regroupEndpoint(const std::string& id, const calc::WorkloadEndpoint* ep,
                       const std::string& oldIface);
  void releaseGroup(uint32_t group);
  // The group of interface `iface`: that of the endpoint using it (the last by id when several
  // do), nullopt when none does.
  std::optional<uint32_t> interfaceGroup(const std::string& iface) const;
  std::map<std::string, uint32_t> interfaceGroups() const;  // of every interface, in one pass

  // The flat workload dispatch chains of `version` edited for the `changed` interfaces (their
  // groups, nullopt: gone); false when they must be written whole.
  bool editWorkloadDispatch(dataplane::IpVersion version,
                            const std::map<std::string, std::optional<uint32_t>>& changed);
  // The changed interfaces' device groups handed to the route table, and `all` of them after a
  // whole build.
  void updateInterfaceGroups(const std::map<std::string, std::optional<uint32_t>>& changed,
                             const std::map<std::string, uint32_t>* all);

  std::vector<dataplane::IpVersion> versions_;
  bool inSync_ = false;
  std::map<std::string, calc::WorkloadEndpoint> workloads_;
  std::map<std::string, calc::HostEndpoint> hosts_;
  std::map<Cidr, calc::IpPool> pools_;
  // Workload interfaces -> how many endpoints use each (the dispatch chains' entries), and those
  // whose entry may have changed since the dispatch chains were last written.
  std::map<std::string, int> wlIfaces_;
  std::set<std::string> wlIfacesChanged_;
  // Flat dispatch's workload groups (endpoints.h): number -> its chains' digest and how many
  // endpoints use it; digest -> number; endpoint id -> its group.
  struct Group {
    std::string digest;
    int endpoints = 0;
  };
  std::map<uint32_t, Group> groups_;
  std::map<std::string, uint32_t> groupByDigest_;
  std::map<std::string, uint32_t> endpointGroups_;
  // Interface -> the groups it had before its endpoint's chains changed, which its link carries
  // until the route table sets the new one: still admitted by the dispatch (to the new group's
  // chains), so that no new connection meets "Unknown interface" in between. While there are any,
  // and in the batch that retires them, the dispatch chains are written whole.
  std::map<std::string, std::set<uint32_t>> leavingGroups_;
  bool leavingRetired_ = false;
  bool workloadDispatchDirty_ = true;
  bool hostDispatchDirty_ = true;
  bool natDirty_ = true;
};

}  // namespace brindle::rules
