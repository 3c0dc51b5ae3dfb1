// Agent: the run loop of brindle-agent. List+watch the datastore into the calculation graph; once
// in sync, apply; afterwards apply each batch of updates, refresh periodically (drift repair),
// retry failed applies with exponential back-off. Stopping never touches the kernel.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "agent/config.h"
#include "agent/dataplane_driver.h"
#include "agent/datastore_watchdog.h"
#include "agent/http_server.h"
#include "agent/metrics.h"
#include "calc/calc_graph.h"
#include "calc/syncer.h"
#include "datastore/client.h"

namespace brindle::agent {

// What /liveness and /readiness report; written by the loop, read by the HTTP thread.
class HealthState {
 public:
  void beat();  // the loop is alive
  void setInSync() { inSync_ = true; }
  void setApplyResult(bool ok);  // the last apply succeeded / failed
  // Live while the loop ticked within `maxSilence`.
  bool live(std::chrono::milliseconds maxSilence = std::chrono::milliseconds(30000)) const;
  // Ready once in sync with the datastore and the first apply succeeded; not ready while the
  // latest apply is failing (the kernel lags the datastore).
  bool ready() const {
    return inSync_ && everApplied_ && lastApplyOk_ && datastoreProblem().empty() &&
           bgpProblem().empty();
  }
  // Why BIRD does not run the current BGP configuration ("" when it does; docs/bgp.md).
  void setBgpProblem(std::string problem) {
    std::lock_guard lock(detailMu_);
    bgpProblem_ = std::move(problem);
  }
  std::string bgpProblem() const {
    std::lock_guard lock(detailMu_);
    return bgpProblem_;
  }
  // Shown in /readiness without gating it: "" or that no BGP session is Established (docs/bgp.md).
  void setBgpNote(std::string note) {
    std::lock_guard lock(detailMu_);
    bgpNote_ = std::move(note);
  }
  std::string bgpNote() const {
    std::lock_guard lock(detailMu_);
    return bgpNote_;
  }
  // Why the datastore keeps the agent from being ready ("" when it does not): an outage longer
  // than DatastoreReadinessTimeout, until the agent has resynced (DatastoreWatchdog).
  void setDatastoreProblem(std::string problem) {
    std::lock_guard lock(detailMu_);
    datastoreProblem_ = std::move(problem);
  }
  std::string datastoreProblem() const {
    std::lock_guard lock(detailMu_);
    return datastoreProblem_;
  }
  // Extra lines of the readiness body (rules the kernel refused); readiness itself unchanged.
  void setDetail(std::string detail) {
    std::lock_guard lock(detailMu_);
    detail_ = std::move(detail);
  }
  std::string detail() const {
    std::lock_guard lock(detailMu_);
    return detail_;
  }

 private:
  std::atomic<int64_t> lastBeatMs_{0};
  std::atomic<bool> inSync_{false};
  std::atomic<bool> everApplied_{false};
  std::atomic<bool> lastApplyOk_{false};
  mutable std::mutex detailMu_;
  std::string detail_;
  std::string datastoreProblem_;
  std::string bgpProblem_;
  std::string bgpNote_;
};

// Serves /liveness, /readiness and /metrics from `health` and `metrics`.
HttpResponse statusEndpoint(const std::string& path, const HealthState& health,
                            const Metrics& metrics, bool serveHealth, bool serveMetrics);

struct AgentDeps {
  datastore::Client& datastore;
  DataplaneDriver& dataplane;
  Metrics& metrics;
  HealthState& health;
};

enum class StopReason {
  kStopped,        // the stop flag was raised (SIGTERM/SIGINT)
  kConfigChanged,  // a FelixConfiguration this agent read changed: restart to apply it
};

class Agent : private calc::SyncerCallbacks {
 public:
  // `felixConfigs`: the FelixConfiguration specs (JSON text by name: "default", "node.<n>") the
  // configuration was loaded from; a change to them stops the loop with kConfigChanged.
  Agent(AgentConfig config, AgentDeps deps, std::map<std::string, std::string> felixConfigs = {});

  // Runs until `stop` becomes true (checked at least every 100 ms).
  StopReason run(const std::atomic<bool>& stop);

  // Introspection for tests.
  int applies() const { return applies_; }
  int resyncs() const { return resyncs_; }

 private:
  void onUpdates(const std::vector<calc::Update>& updates) override;
  void onInSync() override;
  void onBadValue(const std::string& key, const std::string& why) override;
  // Logs and counts `key` turning bad (`why` its value was skipped) or good again (`why` empty).
  void noteValue(const std::string& key, std::string why);
  void applyNow();

  AgentConfig config_;
  AgentDeps deps_;
  std::map<std::string, std::string> felixConfigs_;
  calc::CalcGraph calc_;
  calc::Syncer syncer_;
  DatastoreWatchdog datastore_;
  bool configChanged_ = false;

  using Clock = std::chrono::steady_clock;
  std::chrono::milliseconds backoff_{0};
  Clock::time_point retryAt_{};
  int applies_ = 0;
  Clock::time_point firstAppliedAt_{};  // the end of the first apply
  bool steadyMalloc_ = false;           // the trim threshold is raised (see applyNow())
  int resyncs_ = 0;
  uint64_t updatesSeen_ = 0;
  std::unordered_set<std::string> badValues_;  // keys whose current value was skipped
};

}  // namespace brindle::agent
