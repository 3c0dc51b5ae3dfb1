// CalcGraph: the per-node calculation graph (Felix's shape). Typed datastore updates go in, the
// DataplaneCallbacks come out in dependency order on flush(). Pure: no I/O, single-threaded.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "calc/active_rules.h"
#include "calc/callbacks.h"
#include "calc/event_sequencer.h"
#include "calc/ipset_members.h"
#include "calc/policy_resolver.h"
#include "calc/rule_scanner.h"
#include "calc/update.h"

namespace brindle::calc {

class CalcGraph {
 public:
  // `nodeName`: endpoints whose spec.node equals it are local.
  CalcGraph(std::string nodeName, DataplaneCallbacks& out);
  ~CalcGraph();
  CalcGraph(const CalcGraph&) = delete;
  CalcGraph& operator=(const CalcGraph&) = delete;

  void onUpdate(const Update& update);
  // Sends what changed since the last flush (call once per batch of updates).
  void flush();
  // The first complete snapshot has been applied: flushes, then signals onInSync() once.
  void onInSync();

  // Diagnostics for logs and tests: resources ignored because they did not parse, since the
  // last takeRejected(). A running agent takes them after each update, so they do not pile up.
  const std::vector<std::string>& rejected() const { return rejected_; }
  std::vector<std::string> takeRejected() { return std::exchange(rejected_, {}); }

 private:
  struct Wiring;  // the adapters between components (calc_graph.cc)

  void remove(const std::string& key);
  void apply(const model::Resource& r);
  void applyEndpoint(const std::string& key, const model::Resource& r);
  void applyBlock(const std::string& key, const BlockUpdate& b, bool deleted);
  void updatePoolSets();
  void updateHostSet();

  std::string nodeName_;
  DataplaneCallbacks& out_;
  bool inSyncSent_ = false;

  EventSequencer sequencer_;
  std::unique_ptr<Wiring> wiring_;
  // What a delete needs that its key does not say (the rest is derived from the key): a
  // policy's tier, a pool's or affine block's CIDR, a local workload's routes.
  std::unordered_map<std::string, PolicyId> policyIds_;
  std::unordered_map<std::string, Cidr> poolCidrs_;
  std::unordered_map<std::string, Cidr> blockCidrs_;
  std::unordered_map<std::string, std::vector<Cidr>> routesOf_;  // by endpoint item key
  std::map<Cidr, IpPool> pools_;
  std::map<std::string, Cidr> nodeAddresses_;  // by Node key: its IPv4 address as a /32
  RuleCache ruleCache_;
  std::vector<std::string> rejected_;
};

}  // namespace brindle::calc
