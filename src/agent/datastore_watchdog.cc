// The datastore watchdog; see datastore_watchdog.h.
#include "agent/datastore_watchdog.h"

#include <fmt/chrono.h>
#include <spdlog/spdlog.h>

namespace brindle::agent {
namespace {

std::string isoTime(DatastoreWatchdog::WallTime t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

DatastoreWatchdog::DatastoreWatchdog(std::chrono::milliseconds readinessTimeout, Metrics& metrics)
    : readinessTimeout_(readinessTimeout), metrics_(metrics) {
  metrics_.defineGauge(metric::kDatastoreReachable,
                       "1 while the datastore answers, 0 while it cannot be reached.");
  metrics_.defineGauge(metric::kDatastoreUnreachableSince,
                       "Unix time the current datastore outage began (0: none).");
  metrics_.defineCounter(metric::kDatastoreOutages, "Datastore outages seen (reads failing).");
  metrics_.set(metric::kDatastoreReachable, 1);
}

void DatastoreWatchdog::onResult(const Status& result, SteadyTime now, WallTime wallNow) {
  if (!result) {
    lastError_ = result.message();
    if (down_) return;
    down_ = true;
    since_ = now;
    sinceWall_ = wallNow;
    metrics_.set(metric::kDatastoreReachable, 0);
    metrics_.set(metric::kDatastoreUnreachableSince,
                 std::chrono::duration<double>(wallNow.time_since_epoch()).count());
    metrics_.add(metric::kDatastoreOutages);
    spdlog::warn("datastore unreachable since {}; the dataplane keeps its rules: {}",
                 isoTime(wallNow), lastError_);
    return;
  }
  if (!down_) return;
  down_ = false;
  metrics_.set(metric::kDatastoreReachable, 1);
  metrics_.set(metric::kDatastoreUnreachableSince, 0);
  spdlog::info("datastore reachable again after {:.1f} s (unreachable since {})",
               seconds(now - since_), isoTime(sinceWall_));
  if (overdue_) {
    overdue_ = false;
    catchingUp_ = true;
  }
}

void DatastoreWatchdog::onDataplaneCaughtUp() {
  if (!catchingUp_ || down_) return;
  catchingUp_ = false;
  spdlog::info("resynced with the datastore: ready again");
}

std::string DatastoreWatchdog::notReadyReason(SteadyTime now) {
  if (down_ && now - since_ > readinessTimeout_) {
    if (!overdue_) {
      overdue_ = true;
      spdlog::error(
          "datastore unreachable for more than {:.1f} s (since {}): not ready until it answers "
          "and the agent has resynced",
          seconds(readinessTimeout_), isoTime(sinceWall_));
    }
    return "datastore unreachable since " + isoTime(sinceWall_) + " (" +
           fmt::format("{:.0f}", seconds(now - since_)) + " s): " + lastError_;
  }
  if (catchingUp_) return "datastore reachable again; resyncing the dataplane";
  return "";
}

}  // namespace brindle::agent
