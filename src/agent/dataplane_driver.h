// DataplaneDriver: the agent's dataplane. The managers (rules::Managers) record what the
// calculation graph's callbacks ask for; once per batch apply() writes what changed: ipset
// updates, then each table's apply, then ipset deletions and routes. Rules the kernel refuses are
// found, stood in for by DROPs and reported here.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "dataplane/ipsets_impl.h"
#include "dataplane/iptables_table.h"
#include "dataplane/iptables_writer.h"
#include "dataplane/nftables_writer.h"
#include "dataplane/route_table.h"
#include "rules/config.h"
#include "rules/managers.h"

namespace brindle::agent {

class Metrics;

struct DataplaneDeps {
  using TableRef = rules::TableRef;
  // One per table and IP version in use, applied in this order. Any order is fail-closed as long
  // as routes come last: only filter admits or drops a packet (raw/mangle ACCEPT ends just that
  // table, nat rewrites addresses that filter then judges). The binary puts filter last, because
  // with the nft backend each save/restore costs in proportion to the whole ruleset.
  std::vector<TableRef> tables;
  dataplane::IpSetsImpl* ipsets = nullptr;  // the iptables backend's sets
  // The nftables backend (FelixConfiguration nftablesMode: Enabled): writes `tables` (plain
  // ChainTables then) and is the managers' sets; `ipsets` is nullptr. nullptr: iptables.
  dataplane::NftablesWriter* nftables = nullptr;
  dataplane::RouteTable* routes = nullptr;  // nullptr: routes are not programmed
  Metrics* metrics = nullptr;               // nullptr: no metrics
  // Runs after each apply that succeeded until it returns true; the first time, the whole
  // dataplane is in place. It removes the other backend's rules, so a switch of backend never
  // leaves traffic unguarded, and is tried again while that fails: the other backend would go
  // on judging packets by the policy of before the switch.
  std::function<bool()> afterApplyUntilDone;
};

class DataplaneDriver : public rules::Managers {
 public:
  DataplaneDriver(DataplaneDeps deps, rules::RendererConfig config);

  // Renders what changed and writes it: ipsets.applyUpdates(), every table's apply(),
  // ipsets.applyDeletions(), routes (nftables: its one transaction, then routes). Stops at the
  // first failure (later steps would open traffic or remove sets that rules still use); everything
  // stays dirty and the next apply retries.
  Status apply();
  // Makes the next apply() re-read iptables, ipsets and routes (drift repair).
  void requestResync();
  // True when apply() has work to do (changes recorded since the last successful apply).
  bool dirty() const { return dirty_; }
  // Routes and device groups waiting for their interface (a workload written before its veth
  // exists): makes the next apply() look again. Returns whether any were pending.
  bool retryPendingRoutes();

  // Policy and profile rules the kernel refused, replaced by DROP rules (see isolateRefused()),
  // one line each naming the policy, direction and rule: for logs and readiness detail.
  std::vector<std::string> refusedRules() const;

 private:
  void rulesOwnerChanged(const std::string& owner, bool removed) override;
  void updateMetrics();
  // apply()'s rule and set step for each backend.
  Status applyIptables(const std::function<void(const std::string&)>& step);
  Status applyNftables();
  // After `version`'s iptables-restore failed: probes the policy and profile chains changed since
  // the last good apply (scratch chains, bisection) for what the kernel refuses, replaces each
  // refused rule by a DROP (fail closed: what reaches it is dropped, never admitted) and records
  // it. True if something was found: the apply is then worth running again at once.
  bool isolateRefused(dataplane::IpVersion version, const Status& error);
  // Whether the kernel takes each rule list of `chains` as a filter chain of `version`, asked of
  // the backend in use without touching what carries traffic.
  Result<dataplane::ProbeResult> probeFilterRules(
      dataplane::IpVersion version, const std::vector<std::vector<dataplane::Rule>>& chains);
  // Probes the real chains of refused rules again (after a resync): those the kernel now takes
  // replace their stand-ins.
  void retryRefused();
  // After `owner` was rendered again: its refused rules' stand-ins stay when it was rendered as
  // it was refused; any other rendering goes to the kernel as it is.
  void keepStandIns(const std::string& owner);

  DataplaneDeps deps_;
  // One writer per IP version: all its tables in one iptables-save / iptables-restore run.
  std::vector<std::unique_ptr<dataplane::IptablesWriter>> writers_;
  std::vector<dataplane::IpVersion> writerVersions_;  // of writers_, same order
  bool resyncRequested_ = false;
  bool applied_ = false;  // an apply has succeeded
  bool afterApplyDone_ = false;

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

  // Stats of the writers already reported to metrics (counters are fed by deltas).
  int reportedRestores_ = 0, reportedRestoreErrors_ = 0, reportedSaves_ = 0;
  int reportedIpsetRestores_ = 0, reportedIpsetErrors_ = 0;
  int reportedNftTransactions_ = 0, reportedNftErrors_ = 0, reportedNftLists_ = 0;
};

}  // namespace brindle::agent
