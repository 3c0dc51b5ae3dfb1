// The agent's run loop; see agent.h.
#include "agent/agent.h"

#include <spdlog/spdlog.h>

#include <malloc.h>

#include <algorithm>
#include <thread>

namespace brindle::agent {

namespace {

constexpr int kColdStartMallocThreshold = 256 * 1024;
constexpr int kSteadyTrimThreshold = 32 * 1024 * 1024;  // the most glibc's dynamic one reaches
// After the first apply, its threads free their memory (nftables contexts) in the background.
constexpr auto kColdStartSettle = std::chrono::seconds(1);

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void HealthState::beat() { lastBeatMs_ = nowMs(); }

void HealthState::setApplyResult(bool ok) {
  lastApplyOk_ = ok;
  if (ok) everApplied_ = true;
}

bool HealthState::live(std::chrono::milliseconds maxSilence) const {
  int64_t last = lastBeatMs_;
  return last != 0 && nowMs() - last <= maxSilence.count();
}

HttpResponse statusEndpoint(const std::string& path, const HealthState& health,
                            const Metrics& metrics, bool serveHealth, bool serveMetrics) {
  if (serveHealth && path == "/liveness") {
    return health.live() ? HttpResponse{200, "text/plain", "live\n"}
                         : HttpResponse{503, "text/plain", "not live: the loop is stuck\n"};
  }
  if (serveHealth && path == "/readiness") {
    std::string datastore;
    for (const std::string& p : {health.datastoreProblem(), health.bgpProblem()}) {
      if (!p.empty()) datastore += p + "\n";
    }
    const std::string note = health.bgpNote().empty() ? "" : health.bgpNote() + "\n";
    return health.ready() ? HttpResponse{200, "text/plain", "ready\n" + note + health.detail()}
                          : HttpResponse{503, "text/plain",
                                         "not ready\n" + datastore + note + health.detail()};
  }
  if (serveMetrics && path == "/metrics") {
    return {200, "text/plain; version=0.0.4; charset=utf-8", metrics.render()};
  }
  return {404, "text/plain", "not found\n"};
}

Agent::Agent(AgentConfig config, AgentDeps deps, std::map<std::string, std::string> felixConfigs)
    : config_(std::move(config)),
      deps_(deps),
      felixConfigs_(std::move(felixConfigs)),
      calc_(config_.nodename, deps_.dataplane),
      syncer_(deps_.datastore, *this),
      datastore_(config_.datastoreReadinessTimeout, deps_.metrics) {}

void Agent::onUpdates(const std::vector<calc::Update>& updates) {
  deps_.metrics.add(metric::kDatastoreUpdates, static_cast<double>(updates.size()));
  updatesSeen_ += updates.size();
  for (const auto& u : updates) {
    if (u.resource && u.resource->kind == model::Kind::kFelixConfiguration) {
      const std::string name = u.resource->name();
      if (name == "default" || name == "node." + config_.nodename) {
        std::string now = u.type == calc::UpdateType::kDeleted ? "" : u.resource->spec.dump();
        auto it = felixConfigs_.find(name);
        std::string before = it == felixConfigs_.end() ? "" : it->second;
        if (now != before) {
          spdlog::warn("FelixConfiguration {} changed: restarting to apply it", name);
          configChanged_ = true;
        }
      }
    }
    calc_.onUpdate(u);
    const std::vector<std::string> rejected = calc_.takeRejected();
    // A key the syncer holds bad (the delete of its last good value, or an update it overtook
    // in this batch) was reported by onBadValue.
    if (syncer_.isBad(u.key)) continue;
    std::string why;
    if (!rejected.empty()) {
      why = rejected.back();
      const std::string named = (u.resource ? u.resource->key() : u.key) + ": ";
      if (why.rfind(named, 0) == 0) why.erase(0, named.size());
    }
    noteValue(u.key, std::move(why));
  }
}

void Agent::onBadValue(const std::string& key, const std::string& why) { noteValue(key, why); }

void Agent::noteValue(const std::string& key, std::string why) {
  // The syncer sends a value once (not again on a re-list), so each bad value is logged once.
  if (why.empty()) {
    if (!badValues_.erase(key)) return;
    spdlog::info("datastore value at {} is no longer bad (fixed or deleted)", key);
  } else {
    spdlog::warn("skipped bad datastore value at {} (treated as deleted): {}", key, why);
    deps_.metrics.add(metric::kBadValuesTotal);
    badValues_.insert(key);
  }
  deps_.metrics.set(metric::kBadValues, static_cast<double>(badValues_.size()));
}

void Agent::onInSync() {
  // Flushes the whole snapshot into the driver, then tells it it is complete.
  calc_.onInSync();
  deps_.health.setInSync();
  deps_.metrics.set(metric::kInSync, 1);
  spdlog::info("in sync with the datastore: {} endpoints, {} policies active on {}",
               deps_.dataplane.endpointCount(), deps_.dataplane.policyCount(), config_.nodename);
}

void Agent::applyNow() {
  auto start = Clock::now();
  if (applies_ > 0 && !steadyMalloc_ && start - firstAppliedAt_ > kColdStartSettle) {
    // The cold start's garbage is returned (see run()); from here on a thread's arena keeps the
    // memory its next transaction needs again: trimmed after each transaction, an endpoint's
    // nftables transaction faults ~2 MB back in (~550 page faults at 1x).
    ::mallopt(M_TRIM_THRESHOLD, kSteadyTrimThreshold);
    steadyMalloc_ = true;
  }
  const uint64_t covered = updatesSeen_;  // flushed into the driver before this apply
  Status s = deps_.dataplane.apply();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  deps_.metrics.observe(metric::kApplySeconds, secs);
  if (++applies_ == 1) firstAppliedAt_ = Clock::now();
  deps_.health.setApplyResult(s.isOk());
  std::string refused;
  for (const auto& r : deps_.dataplane.refusedRules()) {
    refused += "refused by the kernel: " + r + "\n";
  }
  deps_.health.setDetail(std::move(refused));
  if (s) {
    deps_.metrics.set(metric::kAppliedUpdates, static_cast<double>(covered));
    if (backoff_.count() > 0) spdlog::info("dataplane apply succeeded after retries");
    backoff_ = std::chrono::milliseconds(0);
    if (applies_ == 1 || spdlog::should_log(spdlog::level::debug)) {
      spdlog::info("dataplane applied in {:.1f} ms", secs * 1000);
    }
    if (applies_ == 1 || secs > 0.1) {
      // After the first apply (the listed snapshot, restore text) and after any large one (a
      // resync reads megabytes of iptables-save) the freed heap goes back to the kernel, so
      // RSS reflects the steady state rather than the last peak.
      ::malloc_trim(0);
    }
    return;
  }
  deps_.metrics.add(metric::kApplyErrors);
  backoff_ = backoff_.count() == 0 ? config_.applyRetryInitial
                                   : std::min(backoff_ * 2, config_.applyRetryMax);
  retryAt_ = Clock::now() + backoff_;
  spdlog::error("dataplane apply failed (retry in {} ms): {}", backoff_.count(), s.message());
}

StopReason Agent::run(const std::atomic<bool>& stop) {
  // glibc raises its mmap and trim thresholds (up to 32 MB) each time a large block is freed,
  // after which a thread's arena keeps that much free memory at its top for good (malloc_trim
  // trims only the main arena's top): the cold start's nftables transactions left megabytes
  // behind that way. Fixed low thresholds until the cold start has settled return it. Measured at
  // the agent benchmark's 1x shape, RSS after cold start: nftables 41.5-45.7 -> 39.3 MB,
  // iptables 41.0-44.5 -> 40.3-40.6 MB.
  ::mallopt(M_MMAP_THRESHOLD, kColdStartMallocThreshold);
  ::mallopt(M_TRIM_THRESHOLD, kColdStartMallocThreshold);
  // Two arenas: the agent's thread keeps the main one to itself, the other threads (libnftables'
  // transactions, each on a thread of its own; the status server; BIRD's supervisor) share the
  // second. Per thread, glibc made up to four at once, each holding its own free memory: 1x RSS
  // after cold start, nftables 39.2-39.3 -> 38.6-38.9 MB; endpoint adds no slower.
  ::mallopt(M_ARENA_MAX, 2);
  const auto refresh = std::min({config_.iptablesRefreshInterval, config_.ipsetsRefreshInterval,
                                 config_.routeRefreshInterval});
  // Start-up: list everything (retrying while the datastore is unreachable). Nothing is written
  // to the kernel before the snapshot is complete: existing rules keep guarding traffic.
  std::chrono::milliseconds startBackoff = config_.applyRetryInitial;
  for (;;) {
    deps_.health.beat();
    if (stop) return StopReason::kStopped;
    Status s = syncer_.start();
    datastore_.onResult(s, Clock::now(), std::chrono::system_clock::now());
    deps_.health.setDatastoreProblem(datastore_.notReadyReason(Clock::now()));
    if (s) break;
    spdlog::warn("datastore list failed (retry in {} ms): {}", startBackoff.count(), s.message());
    auto until = Clock::now() + startBackoff;
    while (!stop && Clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    startBackoff = std::min(startBackoff * 2, config_.applyRetryMax);
  }

  auto nextRefresh = Clock::now() + refresh;
  auto nextRouteRetry = Clock::now();
  constexpr auto kRouteRetry = std::chrono::milliseconds(250);
  auto lastPollError = Clock::time_point{};
  for (;;) {
    deps_.health.beat();
    if (stop) return StopReason::kStopped;
    if (configChanged_) return StopReason::kConfigChanged;
    auto now = Clock::now();
    if (refresh.count() > 0 && now >= nextRefresh) {
      // Re-read the kernel on the next apply and repair whatever someone else changed.
      deps_.dataplane.requestResync();
      deps_.metrics.add(metric::kResyncs);
      ++resyncs_;
      nextRefresh = now + refresh;
    }
    if (deps_.dataplane.inSync() && !deps_.dataplane.dirty() && now >= nextRouteRetry) {
      // No link-change subscription: poll for the interfaces that pending routes wait for.
      deps_.dataplane.retryPendingRoutes();
      nextRouteRetry = now + kRouteRetry;
    }
    if (deps_.dataplane.inSync() && deps_.dataplane.dirty() && now >= retryAt_) applyNow();
    if (deps_.dataplane.inSync() && !deps_.dataplane.dirty()) {
      // Updates that changed nothing in the dataplane are "applied" too.
      deps_.metrics.set(metric::kAppliedUpdates, static_cast<double>(updatesSeen_));
      datastore_.onDataplaneCaughtUp();
    }
    deps_.health.setDatastoreProblem(datastore_.notReadyReason(now));

    // Wait for updates, but not past the next refresh or retry.
    auto wake = std::min(now + std::chrono::milliseconds(100), nextRefresh);
    if (deps_.dataplane.dirty()) wake = std::min(wake, retryAt_);
    auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now());
    Status s = syncer_.poll(std::max(timeout, std::chrono::milliseconds(0)));
    datastore_.onResult(s, Clock::now(), std::chrono::system_clock::now());
    if (!s) {
      if (Clock::now() - lastPollError > std::chrono::seconds(10)) {
        spdlog::warn("datastore watch: {}", s.message());
        lastPollError = Clock::now();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // One flush per batch: the graph sends the coalesced changes to the driver.
    calc_.flush();
  }
}

}  // namespace brindle::agent
