// DatastoreWatchdog: whether the agent can reach its datastore, told to readiness, /metrics and
// the log. An outage never touches the dataplane (the kernel keeps the last programmed policy),
// so it costs readiness only, and only once it lasted longer than DatastoreReadinessTimeout;
// readiness comes back once the datastore answers again and the dataplane has caught up.
#pragma once

#include <chrono>
#include <string>

#include "agent/metrics.h"
#include "common/result.h"

namespace brindle::agent {

namespace metric {
inline constexpr const char* kDatastoreReachable = "brindle_datastore_reachable";
inline constexpr const char* kDatastoreUnreachableSince =
    "brindle_datastore_unreachable_since_timestamp_seconds";
inline constexpr const char* kDatastoreOutages = "brindle_datastore_outages_total";
}  // namespace metric

class DatastoreWatchdog {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  using WallTime = std::chrono::system_clock::time_point;

  // Defines its metrics in `metrics`, which must outlive it.
  DatastoreWatchdog(std::chrono::milliseconds readinessTimeout, Metrics& metrics);

  // The outcome of one read of the datastore (a list or a watch poll) at `now`.
  void onResult(const Status& result, SteadyTime now, WallTime wallNow);
  // Called while the dataplane holds everything received so far (nothing left to apply).
  void onDataplaneCaughtUp();

  // Empty while the datastore does not keep the agent from being ready; otherwise why it does,
  // for /readiness. Logs once when the outage crosses the readiness timeout.
  std::string notReadyReason(SteadyTime now);
  bool unreachable() const { return down_; }

 private:
  const std::chrono::milliseconds readinessTimeout_;
  Metrics& metrics_;
  bool down_ = false;        // the last read failed
  bool overdue_ = false;     // ... and the outage outlasted the readiness timeout
  bool catchingUp_ = false;  // reachable again after an overdue outage; not yet applied
  SteadyTime since_{};
  WallTime sinceWall_{};
  std::string lastError_;
};

}  // namespace brindle::agent
