// DataplaneDriver: the agent's managers (Felix's shape). It receives the calculation graph's
// callbacks, records desired state cheaply, and once per batch renders only what changed into
// the kernel writers: ipset updates, then each table's apply, then ipset deletions and routes.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "calc/callbacks.h"
#include "common/result.h"
#include "dataplane/ipsets_impl.h"
#include "dataplane/iptables_table.h"
#include "dataplane/iptables_writer.h"
#include "dataplane/route_table.h"
#include "rules/config.h"
#include "rules/policy.h"

namespace brindle::agent {

class Metrics;

struct DataplaneDeps {
  struct TableRef {
    dataplane::IpVersion version;
    dataplane::TableName name;
    dataplane::IptablesTable* table;
  };
  // One per table and IP version in use, applied in this order. Any order is fail-closed as long
  // as routes come last: only filter admits or drops a packet (raw/mangle ACCEPT ends just that
  // table, nat rewrites addresses that filter then judges). The binary puts filter last, because
  // with the nft backend each save/restore costs in proportion to the whole ruleset.
  std::vector<TableRef> tables;
  dataplane::IpSetsImpl* ipsets = nullptr;
  dataplane::RouteTable* routes = nullptr;  // nullptr: routes are not programmed
  Metrics* metrics = nullptr;               // nullptr: no metrics
};

class DataplaneDriver : public calc::DataplaneCallbacks {
 public:
  DataplaneDriver(DataplaneDeps deps, rules::RendererConfig config);

  // calc::DataplaneCallbacks: record desired state only.
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

  // Renders what changed and writes it: ipsets.applyUpdates(), every table's apply(),
  // ipsets.applyDeletions(), routes. Stops at the first failure (later steps would open traffic
  // or remove sets that rules still use); everything stays dirty and the next apply retries.
  Status apply();
  // Makes the next apply() re-read iptables, ipsets and routes (drift repair).
  void requestResync();
  // True when apply() has work to do (changes recorded since the last successful apply).
  bool dirty() const { return dirty_; }
  // Routes waiting for their interface (a workload written before its veth exists): makes the
  // next apply() look again. Returns whether any were pending.
  bool retryPendingRoutes();
  bool inSync() const { return inSync_; }

  // Policy and profile rules the kernel refused, replaced by DROP rules (see isolateRefused()),
  // one line each naming the policy, direction and rule: for logs and readiness detail.
  std::vector<std::string> refusedRules() const;

  size_t endpointCount() const { return workloads_.size() + hosts_.size(); }
  size_t policyCount() const { return policies_.size(); }

 private:
  std::vector<dataplane::IpVersion> versions() const;
  // Writes `chains` into the filter table(s) of `version`, remembering the names under `owner` so
  // chains that disappear (e.g. an interface rename) are removed.
  void setOwnedChains(dataplane::IpVersion version, dataplane::TableName table,
                      const std::string& owner, const std::vector<dataplane::Chain>& chains);
  void removeOwner(const std::string& owner);
  dataplane::IptablesTable* table(dataplane::IpVersion version, dataplane::TableName name) const;
  void installStaticChains();
  void renderAggregates();
  void updateMetrics();
  // After `version`'s iptables-restore failed: probes the policy and profile chains changed since
  // the last good apply (scratch chains, bisection) for what the kernel refuses, replaces each
  // refused rule by a DROP (fail closed: what reaches it is dropped, never admitted) and records
  // it. True if something was found: the apply is then worth running again at once.
  bool isolateRefused(dataplane::IpVersion version, const Status& error);
  // Probes the real chains of refused rules again (after a resync): those the kernel now takes
  // replace their stand-ins.
  void retryRefused();
  // After `owner` was rendered again: its refused rules' stand-ins stay when it was rendered as
  // it was refused; any other rendering goes to the kernel as it is.
  void keepStandIns(const std::string& owner);

  DataplaneDeps deps_;
  rules::RendererConfig config_;
  // One writer per IP version: all its tables in one iptables-save / iptables-restore run.
  std::vector<std::unique_ptr<dataplane::IptablesWriter>> writers_;
  std::vector<dataplane::IpVersion> writerVersions_;  // of writers_, same order
  bool inSync_ = false;
  bool dirty_ = true;  // the first apply always runs (static chains, sweep of stale state)

  // Ids only (for metrics): the members live in the ipset writer, the rules in the chains.
  std::set<std::string> ipSets_;
  std::set<calc::PolicyId> policies_;
  std::set<std::string> profiles_;
  std::map<std::string, calc::WorkloadEndpoint> workloads_;
  std::map<std::string, calc::HostEndpoint> hosts_;
  std::map<Cidr, calc::IpPool> pools_;
  std::map<Cidr, calc::Route> routes_;

  // Aggregate chains re-rendered in apply() when one of their inputs changed.
  bool workloadDispatchDirty_ = true;
  bool hostDispatchDirty_ = true;
  bool natDirty_ = true;
  bool resyncRequested_ = false;

  // owner ("wl:<id>", "pol:<tier|name>", ...) -> (table key, chain names) currently written.
  struct Owned {
    dataplane::IpVersion version;
    dataplane::TableName table;
    std::string chain;
    size_t rules;
  };
  std::map<std::string, std::vector<Owned>> owned_;

  // Per policy and profile, how many iptables rules each of its rules became (to name a refused
  // rule by its index in the resource): a few bytes a rule.
  using Counts = std::map<dataplane::IpVersion, rules::RuleCounts>;
  std::map<std::string, Counts> counts_;
  // Policies and profiles whose chains changed since the last good apply: where a refusal is
  // looked for first (then in all of them: a drift repair may rewrite any chain).
  std::set<std::string> suspects_;
  // Chains holding refused rules, by owner: the real chain (probed again after resyncs) and the
  // stand-in written instead.
  struct Refused {
    dataplane::IpVersion version;
    dataplane::Chain real;
    dataplane::Chain stub;  // `real` with each refused rule replaced by a DROP
    std::vector<std::string> descriptions;
    std::vector<std::string> labels;  // metric series, one per refused rule
  };
  std::map<std::string, std::vector<Refused>> refused_;
  void refreshRefusedReport();
  size_t staticRules_ = 0;

  // Stats of the writers already reported to metrics (counters are fed by deltas).
  int reportedRestores_ = 0, reportedRestoreErrors_ = 0, reportedSaves_ = 0;
  int reportedIpsetRestores_ = 0, reportedIpsetErrors_ = 0;
};

}  // namespace brindle::agent
