// A 3-member etcd cluster on loopback losing a member: get, put, list, txn and an open watch keep
// working through the other endpoints, and a new client skips the dead member.
#include <gtest/gtest.h>

#include <string>

#include "datastore/etcd/etcd_client.h"
#include "testutil/etcd_server.h"

namespace brindle::datastore::etcd {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(EtcdClusterTest, OneMemberKilledCommandsKeepWorking) {
  testutil::EtcdCluster cluster(3);
  EtcdOptions o;
  o.endpoints = cluster.endpoints();
  auto opened = openEtcdClient(o);
  ASSERT_TRUE(opened.isOk()) << opened.message();
  EtcdClient& client = **opened;

  auto start = client.currentRevision();
  ASSERT_TRUE(start.isOk()) << start.message();
  auto w = client.watch("/k/", *start);
  ASSERT_TRUE(w.isOk());
  ASSERT_TRUE(client.create("/k/before", "1").isOk());
  auto first = (*w)->next(2s);
  ASSERT_TRUE(first.isOk()) << first.message();
  ASSERT_EQ(first->size(), 1u);

  // The client talks to the first endpoint; kill that member.
  cluster.kill(0);

  auto created = client.create("/k/after", "1");
  if (!created.isOk() &&
      created.message().find("may or may not have been applied") != std::string::npos) {
    // The write raced the client noticing the closed connection (it went out on the dead
    // member's socket): ambiguous by design. Check and retry, as the message says, once.
    auto existing = client.get("/k/after");
    if (existing.isOk()) {
      created = existing->modRevision;
    } else {
      ASSERT_EQ(existing.code(), ErrorCode::kNotFound) << existing.message();
      created = client.create("/k/after", "1");
    }
  }
  ASSERT_TRUE(created.isOk()) << created.message();
  auto got = client.get("/k/before");
  ASSERT_TRUE(got.isOk()) << got.message();
  auto updated = client.update("/k/before", "2", got->modRevision);
  ASSERT_TRUE(updated.isOk()) << updated.message();
  auto txn = client.txn(
      {{TxnOp::Type::kDelete, "/k/after", "", *created}, {TxnOp::Type::kCreate, "/k/txn", "t"}});
  ASSERT_TRUE(txn.isOk()) << txn.message();
  auto list = client.list("/k/");
  ASSERT_TRUE(list.isOk()) << list.message();
  ASSERT_EQ(list->items.size(), 2u);
  EXPECT_EQ(list->items[0].value, "2");

  // The watch resumes on another member: every change once, in order.
  std::vector<WatchEvent> events;
  int outages = 0;
  const auto deadline = Clock::now() + 10s;
  while (events.size() < 4 && Clock::now() < deadline) {
    auto r = (*w)->next(300ms);
    if (!r.isOk()) {
      EXPECT_EQ(r.code(), ErrorCode::kUnavailable) << r.message();
      ++outages;
      continue;
    }
    events.insert(events.end(), r->begin(), r->end());
  }
  EXPECT_LE(outages, 1);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].key, "/k/after");
  EXPECT_EQ(events[1].key, "/k/before");
  EXPECT_EQ(events[1].prevValue, "1");
  EXPECT_EQ(events[2].key, "/k/after");
  EXPECT_EQ(events[2].type, EventType::kDeleted);
  EXPECT_EQ(events[3].key, "/k/txn");
  EXPECT_EQ(events[2].revision, events[3].revision);

  // A new client listing the dead member first skips it.
  auto fresh = openEtcdStore(o);
  ASSERT_TRUE(fresh.isOk());
  auto t0 = Clock::now();
  auto again = (*fresh)->get("/k/txn");
  ASSERT_TRUE(again.isOk()) << again.message();
  EXPECT_LT(Clock::now() - t0, 3s);
}

}  // namespace
}  // namespace brindle::datastore::etcd
