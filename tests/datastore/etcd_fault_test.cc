// etcd outages: a dead etcd fails calls fast with the endpoints named; a watcher reports an
// outage, then resumes after etcd restarts with every change exactly once; compaction during
// an outage gives kCompacted and a re-list recovers; liveness keys live and die with leases.
#include <gtest/gtest.h>

#include <signal.h>

#include <map>
#include <string>
#include <thread>

#include "datastore/etcd/etcd_client.h"
#include "testutil/etcd_server.h"

namespace brindle::datastore::etcd {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class EtcdFaultTest : public ::testing::Test {
 protected:
  EtcdOptions options() const {
    EtcdOptions o;
    o.endpoints = server_.endpoints();
    o.requestTimeout = 3s;
    o.dialTimeout = 1500ms;
    return o;
  }
  EtcdClientPtr connect() {
    auto c = openEtcdClient(options());
    EXPECT_TRUE(c.isOk()) << c.message();
    return std::move(c).value();
  }

  // Calls next() until it fails with kUnavailable (collecting events delivered before that).
  static ErrorCode nextUntilError(Watcher& w, std::vector<WatchEvent>& events) {
    const auto deadline = Clock::now() + 10s;
    while (Clock::now() < deadline) {
      auto r = w.next(200ms);
      if (!r.isOk()) return r.code();
      events.insert(events.end(), r->begin(), r->end());
    }
    return ErrorCode::kInternal;
  }

  // Calls next() until `count` events arrived, tolerating kUnavailable while etcd comes back.
  static std::vector<WatchEvent> collect(Watcher& w, size_t count, int* outages = nullptr) {
    std::vector<WatchEvent> events;
    const auto deadline = Clock::now() + 10s;
    while (events.size() < count && Clock::now() < deadline) {
      auto r = w.next(300ms);
      if (!r.isOk()) {
        EXPECT_EQ(r.code(), ErrorCode::kUnavailable) << r.message();
        if (outages) ++*outages;
        continue;
      }
      events.insert(events.end(), r->begin(), r->end());
    }
    auto extra = w.next(100ms);
    EXPECT_TRUE(extra.isOk() && extra->empty()) << "unexpected extra events";
    return events;
  }

  testutil::EtcdCluster server_{1};
};

TEST_F(EtcdFaultTest, DeadEtcdFailsFastNamingTheEndpoint) {
  auto client = connect();
  ASSERT_TRUE(client->create("/d/a", "1").isOk());
  server_.kill(0);
  for (int i = 0; i < 2; ++i) {  // a broken connection, then a refused one
    auto t0 = Clock::now();
    auto r = client->get("/d/a");
    auto elapsed = Clock::now() - t0;
    ASSERT_FALSE(r.isOk());
    EXPECT_EQ(r.code(), ErrorCode::kUnavailable) << r.message();
    EXPECT_NE(r.message().find(server_.endpoint(0)), std::string::npos) << r.message();
    EXPECT_LT(elapsed, 4s) << r.message();
  }
  auto w = client->create("/d/b", "1");
  ASSERT_FALSE(w.isOk());
  EXPECT_EQ(w.code(), ErrorCode::kUnavailable);
  // A fresh client (as brindlectl is, per command) fails as fast.
  auto fresh = openEtcdStore(options());
  ASSERT_TRUE(fresh.isOk());
  auto t0 = Clock::now();
  auto r = (*fresh)->list("/d/");
  EXPECT_EQ(r.code(), ErrorCode::kUnavailable);
  EXPECT_LT(Clock::now() - t0, 4s);
}

// A hung etcd (stopped, so the kernel still accepts connections) answers nothing: calls end at
// their deadline instead of hanging, and a write says its outcome is unknown.
TEST_F(EtcdFaultTest, HungEtcdHitsTheDeadline) {
  auto client = connect();
  ASSERT_TRUE(client->create("/h/a", "1").isOk());
  server_.signal(0, SIGSTOP);
  auto t0 = Clock::now();
  auto r = client->get("/h/a");
  auto elapsed = Clock::now() - t0;
  ASSERT_FALSE(r.isOk()) << "a stopped etcd answered";
  EXPECT_EQ(r.code(), ErrorCode::kUnavailable);
  EXPECT_GE(elapsed, 2500ms);
  EXPECT_LT(elapsed, 4s);
  EXPECT_NE(r.message().find(server_.endpoint(0)), std::string::npos) << r.message();
  auto w = client->create("/h/b", "1");
  ASSERT_FALSE(w.isOk()) << "a stopped etcd answered";
  EXPECT_EQ(w.code(), ErrorCode::kUnavailable);
  EXPECT_NE(w.message().find("may or may not have been applied"), std::string::npos) << w.message();
  server_.signal(0, SIGCONT);
  auto kv = client->get("/h/a");
  EXPECT_TRUE(kv.isOk()) << kv.message();
}

TEST_F(EtcdFaultTest, WatcherReportsOutageAndResumesExactlyOnce) {
  auto client = connect();
  auto start = client->currentRevision();
  ASSERT_TRUE(start.isOk());
  auto w = client->watch("/f/", *start);
  ASSERT_TRUE(w.isOk());
  ASSERT_TRUE(client->create("/f/a1", "1").isOk());
  ASSERT_TRUE(client->create("/f/a2", "1").isOk());
  std::vector<WatchEvent> events = collect(**w, 2);
  ASSERT_EQ(events.size(), 2u);
  ASSERT_TRUE(client->update("/f/a1", "2", 0).isOk());  // may or may not be seen before the kill

  server_.kill(0);
  EXPECT_EQ(nextUntilError(**w, events), ErrorCode::kUnavailable);
  server_.restart(0);

  // Changes made after the restart, possibly before the watcher reconnects.
  auto writer = connect();
  ASSERT_TRUE(writer->remove("/f/a2", 0).isOk());
  ASSERT_TRUE(writer->create("/f/b1", "1").isOk());
  ASSERT_TRUE(
      writer->txn({{TxnOp::Type::kPut, "/f/b2", "1"}, {TxnOp::Type::kPut, "/f/b3", "1"}}).isOk());
  auto rest = collect(**w, 7 - events.size());
  events.insert(events.end(), rest.begin(), rest.end());

  std::vector<std::pair<EventType, std::string>> seen;
  int64_t last = *start;
  for (const auto& e : events) {
    EXPECT_GE(e.revision, last);
    last = e.revision;
    seen.emplace_back(e.type, e.key);
  }
  const std::vector<std::pair<EventType, std::string>> expected = {
      {EventType::kAdded, "/f/a1"},   {EventType::kAdded, "/f/a2"}, {EventType::kUpdated, "/f/a1"},
      {EventType::kDeleted, "/f/a2"}, {EventType::kAdded, "/f/b1"}, {EventType::kAdded, "/f/b2"},
      {EventType::kAdded, "/f/b3"}};
  EXPECT_EQ(seen, expected);
  EXPECT_EQ((*w)->revision(), last);
}

// An outage long enough for gRPC's reconnect back-off to reach its maximum (the agent's case,
// issue 10): the same watcher and the same client recover once etcd answers again, and a change
// written then arrives within 2 s, once.
TEST_F(EtcdFaultTest, WatcherAndCallsRecoverAfterALongOutage) {
  auto client = connect();
  auto start = client->currentRevision();
  ASSERT_TRUE(start.isOk());
  auto w = client->watch("/l/", *start);
  ASSERT_TRUE(w.isOk());
  ASSERT_TRUE(client->create("/l/a", "1").isOk());
  ASSERT_EQ(collect(**w, 1).size(), 1u);

  server_.kill(0);
  // Poll as the agent's loop does, and let the client's calls fail too, for long enough that
  // every back-off is at its maximum.
  const auto outageEnd = Clock::now() + 6s;
  int failures = 0;
  while (Clock::now() < outageEnd) {
    if (!(*w)->next(100ms).isOk()) ++failures;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GT(failures, 0);
  EXPECT_FALSE(client->get("/l/a").isOk());
  server_.restart(0);

  auto writer = connect();
  ASSERT_TRUE(writer->create("/l/b", "1").isOk());
  const auto written = Clock::now();
  std::vector<WatchEvent> events;
  while (events.empty() && Clock::now() - written < 5s) {
    auto r = (*w)->next(100ms);
    if (r.isOk()) events.insert(events.end(), r->begin(), r->end());
  }
  const auto delay = Clock::now() - written;
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].key, "/l/b");
  EXPECT_LT(delay, 2s);
  auto extra = (*w)->next(200ms);
  EXPECT_TRUE(extra.isOk() && extra->empty());
  // The long-lived client's calls work again too, without a new client.
  const auto t0 = Clock::now();
  auto kv = client->get("/l/b");
  EXPECT_TRUE(kv.isOk()) << kv.message();
  EXPECT_LT(Clock::now() - t0, 2s);
}

TEST_F(EtcdFaultTest, CompactionDuringOutageGivesCompactedAndRelistRecovers) {
  auto client = connect();
  ASSERT_TRUE(client->create("/g/a", "1").isOk());
  auto list = client->list("/g/");
  ASSERT_TRUE(list.isOk());
  auto w = client->watch("/g/", list->revision);
  ASSERT_TRUE(w.isOk());
  auto first = (*w)->next(300ms);  // opens the stream
  ASSERT_TRUE(first.isOk() && first->empty());

  server_.kill(0);
  std::vector<WatchEvent> none;
  EXPECT_EQ(nextUntilError(**w, none), ErrorCode::kUnavailable);
  server_.restart(0);
  auto writer = connect();
  ASSERT_TRUE(writer->update("/g/a", "2", 0).isOk());
  ASSERT_TRUE(writer->create("/g/b", "1").isOk());
  auto rev = writer->currentRevision();
  ASSERT_TRUE(rev.isOk());
  ASSERT_TRUE(writer->compact(*rev).isOk());

  // The watcher needs revisions etcd no longer has.
  ErrorCode code = ErrorCode::kUnavailable;
  for (int i = 0; i < 20 && code == ErrorCode::kUnavailable; ++i) {
    auto r = (*w)->next(300ms);
    code = r.isOk() ? ErrorCode::kInternal : r.code();
  }
  EXPECT_EQ(code, ErrorCode::kCompacted);

  // Re-list, then watch from the list's revision.
  auto relist = client->list("/g/");
  ASSERT_TRUE(relist.isOk());
  ASSERT_EQ(relist->items.size(), 2u);
  EXPECT_EQ(relist->items[0].value, "2");
  auto w2 = client->watch("/g/", relist->revision);
  ASSERT_TRUE(w2.isOk());
  ASSERT_TRUE(writer->remove("/g/b", 0).isOk());
  auto events = collect(**w2, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kDeleted);
  EXPECT_EQ(events[0].revision, relist->revision + 1);
}

TEST_F(EtcdFaultTest, LivenessKeyLivesWithItsLease) {
  auto client = connect();
  auto live = keepKeyAlive(*client, "/calico/felix/v2/no-region/host/h1/status", "alive", 2s);
  ASSERT_TRUE(live.isOk()) << live.message();
  // Longer than the TTL: the key survives only because the lease is renewed.
  std::this_thread::sleep_for(3s);
  EXPECT_TRUE((*live)->health().isOk()) << (*live)->health().message();
  auto kv = client->get("/calico/felix/v2/no-region/host/h1/status");
  ASSERT_TRUE(kv.isOk()) << kv.message();
  EXPECT_EQ(kv->value, "alive");
  live->reset();  // revokes the lease
  EXPECT_EQ(client->get("/calico/felix/v2/no-region/host/h1/status").code(), ErrorCode::kNotFound);

  auto lease = client->grantLease(5s);
  ASSERT_TRUE(lease.isOk());
  EXPECT_GT(*client->keepAliveOnce(*lease), 0);
  ASSERT_TRUE(client->revokeLease(*lease).isOk());
  EXPECT_EQ(client->keepAliveOnce(*lease).code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace brindle::datastore::etcd
