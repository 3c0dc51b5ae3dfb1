// The datastore watchdog: readiness survives short outages, turns false once an outage outlasts
// the timeout, and comes back only after the datastore answers and the dataplane caught up.
#include "agent/datastore_watchdog.h"

#include <gtest/gtest.h>

namespace brindle::agent {
namespace {

using namespace std::chrono_literals;

class DatastoreWatchdogTest : public ::testing::Test {
 protected:
  DatastoreWatchdog::SteadyTime at(std::chrono::milliseconds ms) const { return t0_ + ms; }
  DatastoreWatchdog::WallTime wall(std::chrono::milliseconds ms) const { return w0_ + ms; }
  void fail(std::chrono::milliseconds ms) {
    dog_.onResult(makeError(ErrorCode::kUnavailable, "no etcd endpoint answered"), at(ms),
                  wall(ms));
  }
  void succeed(std::chrono::milliseconds ms) { dog_.onResult(Status::ok(), at(ms), wall(ms)); }

  Metrics metrics_;
  DatastoreWatchdog dog_{2000ms, metrics_};
  DatastoreWatchdog::SteadyTime t0_ = std::chrono::steady_clock::now();
  // 2026-12-04T21:00:00Z
  DatastoreWatchdog::WallTime w0_ = std::chrono::system_clock::from_time_t(1796418000);
};

TEST_F(DatastoreWatchdogTest, ShortOutageKeepsReadiness) {
  EXPECT_EQ(metrics_.value(metric::kDatastoreReachable), 1);
  fail(0ms);
  fail(1500ms);
  EXPECT_TRUE(dog_.unreachable());
  EXPECT_EQ(dog_.notReadyReason(at(1900ms)), "");
  EXPECT_EQ(metrics_.value(metric::kDatastoreReachable), 0);
  EXPECT_EQ(metrics_.value(metric::kDatastoreUnreachableSince), 1796418000);
  EXPECT_EQ(metrics_.value(metric::kDatastoreOutages), 1);
  succeed(1950ms);
  EXPECT_FALSE(dog_.unreachable());
  EXPECT_EQ(dog_.notReadyReason(at(2500ms)), "");
  EXPECT_EQ(metrics_.value(metric::kDatastoreReachable), 1);
  EXPECT_EQ(metrics_.value(metric::kDatastoreUnreachableSince), 0);
}

TEST_F(DatastoreWatchdogTest, LongOutageCostsReadinessUntilResynced) {
  fail(0ms);
  EXPECT_EQ(dog_.notReadyReason(at(1000ms)), "");
  fail(2500ms);
  EXPECT_EQ(dog_.notReadyReason(at(2500ms)),
            "datastore unreachable since 2026-12-04T21:00:00Z (2 s): no etcd endpoint answered");
  succeed(4000ms);
  // Answering again is not enough: what arrived since must be in the kernel first.
  EXPECT_EQ(dog_.notReadyReason(at(4000ms)), "datastore reachable again; resyncing the dataplane");
  dog_.onDataplaneCaughtUp();
  EXPECT_EQ(dog_.notReadyReason(at(4100ms)), "");
  // A second outage counts from its own start.
  fail(10000ms);
  EXPECT_EQ(dog_.notReadyReason(at(11000ms)), "");
  EXPECT_NE(dog_.notReadyReason(at(12100ms)), "");
  EXPECT_EQ(metrics_.value(metric::kDatastoreOutages), 2);
  EXPECT_EQ(metrics_.value(metric::kDatastoreUnreachableSince), 1796418010);
}

TEST_F(DatastoreWatchdogTest, CatchingUpWaitsWhileTheDatastoreIsDownAgain) {
  fail(0ms);
  EXPECT_NE(dog_.notReadyReason(at(3000ms)), "");
  succeed(3500ms);
  fail(3600ms);  // gone again before the dataplane caught up
  dog_.onDataplaneCaughtUp();
  EXPECT_EQ(dog_.notReadyReason(at(3700ms)), "datastore reachable again; resyncing the dataplane");
  succeed(3800ms);
  dog_.onDataplaneCaughtUp();
  EXPECT_EQ(dog_.notReadyReason(at(3900ms)), "");
}

}  // namespace
}  // namespace brindle::agent
