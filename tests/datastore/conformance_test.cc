// The datastore conformance suite: written once against brindle::datastore::Client and run for
// every backend listed in kBackends below (add an etcd harness there and it runs the same tests).
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "datastore/client.h"
#include "datastore/etcd/etcd_client.h"
#include "datastore/local/local_store.h"
#include "temp_dir.h"
#include "testutil/etcd_server.h"

namespace brindle::datastore {
namespace {

using namespace std::chrono_literals;

// A fresh, empty store for one test, and the few backend-specific actions the suite needs.
class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  // A new client of this test's store (several may be open at once).
  virtual Result<ClientPtr> connect() = 0;
  // Makes the backend discard its history up to at least the current revision, so that a watch
  // from an older revision gets kCompacted. May write keys outside the test's keys.
  virtual void compactHistory() = 0;
};

struct Backend {
  std::string name;
  std::function<std::unique_ptr<StoreHarness>()> make;
};

class LocalHarness : public StoreHarness {
 public:
  Result<ClientPtr> connect() override { return openLocalStore(dir_.path() + "/store.db"); }
  void compactHistory() override {
    // A writer configured to keep one revision of history prunes everything older as it writes.
    LocalStoreOptions options;
    options.historyRevisions = 1;
    auto client = openLocalStore(dir_.path() + "/store.db", options);
    ASSERT_TRUE(client.isOk()) << client.message();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE((*client)->txn({{TxnOp::Type::kPut, "/~compaction-filler", "x"}}).isOk());
    }
  }

 private:
  test::TempDir dir_;
};

// One etcd for the whole test process (started on first use, killed at exit). Each test starts
// by emptying the keyspace; the suite checks revisions relative to where a test starts, so the
// revisions earlier tests used do not matter.
testutil::EtcdCluster& sharedEtcd() {
  static testutil::EtcdCluster cluster(1);
  return cluster;
}

class EtcdHarness : public StoreHarness {
 public:
  EtcdHarness() {
    options_.endpoints = sharedEtcd().endpoints();
    auto admin = etcd::openEtcdClient(options_);
    if (!admin.isOk()) throw std::runtime_error(admin.message());
    admin_ = std::move(admin).value();
    auto wiped = admin_->deletePrefix("");
    if (!wiped.isOk()) throw std::runtime_error(wiped.message());
  }
  Result<ClientPtr> connect() override { return etcd::openEtcdStore(options_); }
  void compactHistory() override {
    // Compacting at the current revision keeps that revision; one more write makes sure every
    // revision the test has used is gone.
    ASSERT_TRUE(admin_->txn({{TxnOp::Type::kPut, "/~compaction-filler", "x"}}).isOk());
    auto rev = admin_->currentRevision();
    ASSERT_TRUE(rev.isOk()) << rev.message();
    Status s = admin_->compact(*rev);
    ASSERT_TRUE(s.isOk()) << s.message();
  }

 private:
  etcd::EtcdOptions options_;
  etcd::EtcdClientPtr admin_;
};

// ---- The backends under test: one line per backend. ----
const std::vector<Backend>& backends() {
  static const std::vector<Backend> kBackends = {
      {"local", [] { return std::make_unique<LocalHarness>(); }},
      {"etcd", [] { return std::make_unique<EtcdHarness>(); }},
  };
  return kBackends;
}

// Names the backend in gtest's messages instead of dumping the struct's bytes.
void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

class ConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    harness_ = GetParam().make();
    auto client = harness_->connect();
    ASSERT_TRUE(client.isOk()) << client.message();
    client_ = std::move(client).value();
  }

  Client& store() { return *client_; }

  int64_t rev() {
    auto r = client_->currentRevision();
    EXPECT_TRUE(r.isOk()) << r.message();
    return r.isOk() ? *r : -1;
  }

  std::string valueOf(std::string_view key) {
    auto kv = client_->get(key);
    return kv.isOk() ? kv->value : "<" + std::string(errorCodeName(kv.code())) + ">";
  }

  WatcherPtr watch(std::string_view prefix, int64_t after) {
    auto w = client_->watch(prefix, after);
    EXPECT_TRUE(w.isOk()) << w.message();
    return w.isOk() ? std::move(w).value() : nullptr;
  }

  // Collects events until `count` arrived (or 5 s passed), then checks nothing more is pending.
  std::vector<WatchEvent> drain(Watcher& w, size_t count) {
    std::vector<WatchEvent> all;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (all.size() < count && std::chrono::steady_clock::now() < deadline) {
      auto batch = w.next(200ms);
      EXPECT_TRUE(batch.isOk()) << batch.message();
      if (!batch.isOk()) break;
      all.insert(all.end(), batch->begin(), batch->end());
    }
    auto extra = w.next(30ms);
    EXPECT_TRUE(extra.isOk() && extra->empty()) << "unexpected extra events";
    return all;
  }

  std::unique_ptr<StoreHarness> harness_;
  ClientPtr client_;
};

void expectEvent(const WatchEvent& e, EventType type, std::string_view key, std::string_view value,
                 std::string_view prev, int64_t revision) {
  EXPECT_EQ(e.type, type) << e.key;
  EXPECT_EQ(e.key, key);
  EXPECT_EQ(e.value, value) << e.key;
  EXPECT_EQ(e.prevValue, prev) << e.key;
  EXPECT_EQ(e.revision, revision) << e.key;
}

std::vector<std::string> keysOf(const ListResult& list) {
  std::vector<std::string> keys;
  for (const auto& kv : list.items) keys.push_back(kv.key);
  return keys;
}

// ---------------------------------------------------------------------------- basic operations

TEST_P(ConformanceTest, CreateThenGet) {
  int64_t before = rev();
  auto r = store().create("/a/x", "one");
  ASSERT_TRUE(r.isOk()) << r.message();
  EXPECT_EQ(*r, before + 1);
  auto kv = store().get("/a/x");
  ASSERT_TRUE(kv.isOk()) << kv.message();
  EXPECT_EQ(kv->key, "/a/x");
  EXPECT_EQ(kv->value, "one");
  EXPECT_EQ(kv->modRevision, *r);
  EXPECT_EQ(kv->createRevision, *r);
}

TEST_P(ConformanceTest, GetMissingIsNotFound) {
  auto kv = store().get("/missing");
  ASSERT_FALSE(kv.isOk());
  EXPECT_EQ(kv.code(), ErrorCode::kNotFound);
}

TEST_P(ConformanceTest, CreateExistingIsAlreadyExistsAndKeepsValue) {
  ASSERT_TRUE(store().create("/a/x", "one").isOk());
  int64_t before = rev();
  auto r = store().create("/a/x", "two");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(r.message().find("/a/x"), std::string::npos) << r.message();
  EXPECT_EQ(valueOf("/a/x"), "one");
  EXPECT_EQ(rev(), before);
}

TEST_P(ConformanceTest, ValuesRoundTripBytes) {
  std::string binary("a\0b\xff\n", 5);
  ASSERT_TRUE(store().create("/v/binary", binary).isOk());
  ASSERT_TRUE(store().create("/v/empty", "").isOk());
  EXPECT_EQ(valueOf("/v/binary"), binary);
  EXPECT_EQ(valueOf("/v/empty"), "");
}

TEST_P(ConformanceTest, UpdateReplacesValueAndKeepsCreateRevision) {
  auto created = store().create("/a/x", "one");
  ASSERT_TRUE(created.isOk());
  auto updated = store().update("/a/x", "two", 0);
  ASSERT_TRUE(updated.isOk()) << updated.message();
  EXPECT_EQ(*updated, *created + 1);
  auto kv = store().get("/a/x");
  ASSERT_TRUE(kv.isOk());
  EXPECT_EQ(kv->value, "two");
  EXPECT_EQ(kv->modRevision, *updated);
  EXPECT_EQ(kv->createRevision, *created);
}

TEST_P(ConformanceTest, UpdateMissingIsNotFound) {
  auto r = store().update("/a/missing", "v", 0);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.code(), ErrorCode::kNotFound);
  EXPECT_EQ(store().get("/a/missing").code(), ErrorCode::kNotFound);
}

TEST_P(ConformanceTest, UpdateCompareAndSwap) {
  auto r1 = store().create("/a/x", "one");
  ASSERT_TRUE(r1.isOk());
  auto r2 = store().update("/a/x", "two", *r1);
  ASSERT_TRUE(r2.isOk()) << r2.message();
  int64_t before = rev();
  // Someone holding the old revision loses.
  auto stale = store().update("/a/x", "three", *r1);
  ASSERT_FALSE(stale.isOk());
  EXPECT_EQ(stale.code(), ErrorCode::kConflict);
  EXPECT_NE(stale.message().find("/a/x"), std::string::npos) << stale.message();
  EXPECT_EQ(valueOf("/a/x"), "two");
  EXPECT_EQ(rev(), before);
  EXPECT_TRUE(store().update("/a/x", "three", *r2).isOk());
  EXPECT_EQ(valueOf("/a/x"), "three");
}

TEST_P(ConformanceTest, RemoveDeletes) {
  ASSERT_TRUE(store().create("/a/x", "one").isOk());
  Status s = store().remove("/a/x", 0);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(store().get("/a/x").code(), ErrorCode::kNotFound);
  Status again = store().remove("/a/x", 0);
  ASSERT_FALSE(again.isOk());
  EXPECT_EQ(again.code(), ErrorCode::kNotFound);
  // A re-created key starts a new life.
  auto r = store().create("/a/x", "new");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(store().get("/a/x")->createRevision, *r);
}

TEST_P(ConformanceTest, RemoveCompareAndSwap) {
  auto r1 = store().create("/a/x", "one");
  ASSERT_TRUE(r1.isOk());
  auto r2 = store().update("/a/x", "two", 0);
  ASSERT_TRUE(r2.isOk());
  Status stale = store().remove("/a/x", *r1);
  ASSERT_FALSE(stale.isOk());
  EXPECT_EQ(stale.code(), ErrorCode::kConflict);
  EXPECT_EQ(valueOf("/a/x"), "two");
  EXPECT_TRUE(store().remove("/a/x", *r2).isOk());
  EXPECT_EQ(store().get("/a/x").code(), ErrorCode::kNotFound);
}

// ---------------------------------------------------------------------------- list

TEST_P(ConformanceTest, ListByPrefixRespectsBoundaries) {
  for (const char* key : {"/a/b", "/a/b/d", "/a/b/c", "/a/bc", "/a/bc/x", "/a/c", "/a/b/c/deep"}) {
    ASSERT_TRUE(store().create(key, std::string("v") + key).isOk()) << key;
  }
  auto folder = store().list("/a/b/");
  ASSERT_TRUE(folder.isOk()) << folder.message();
  EXPECT_EQ(keysOf(*folder), (std::vector<std::string>{"/a/b/c", "/a/b/c/deep", "/a/b/d"}));
  EXPECT_EQ(folder->items[0].value, "v/a/b/c");

  auto raw = store().list("/a/b");
  ASSERT_TRUE(raw.isOk());
  EXPECT_EQ(keysOf(*raw), (std::vector<std::string>{"/a/b", "/a/b/c", "/a/b/c/deep", "/a/b/d",
                                                    "/a/bc", "/a/bc/x"}));
  auto none = store().list("/nothing/");
  ASSERT_TRUE(none.isOk());
  EXPECT_TRUE(none->items.empty());
}

TEST_P(ConformanceTest, ListPrefixEndingInHighBytes) {
  std::string hi = "/h\xff";
  for (std::string key : {hi, hi + "\xff", hi + "a", std::string("/i"), std::string("/h")}) {
    ASSERT_TRUE(store().create(key, "v").isOk());
  }
  auto list = store().list(hi);
  ASSERT_TRUE(list.isOk());
  EXPECT_EQ(keysOf(*list), (std::vector<std::string>{hi, hi + "a", hi + "\xff"}));
}

TEST_P(ConformanceTest, ListCarriesRevisionsAndStoreRevision) {
  auto r1 = store().create("/l/1", "a");
  auto r2 = store().create("/l/2", "b");
  ASSERT_TRUE(r1.isOk() && r2.isOk());
  ASSERT_TRUE(store().update("/l/1", "a2", 0).isOk());
  auto list = store().list("/l/");
  ASSERT_TRUE(list.isOk());
  ASSERT_EQ(list->items.size(), 2u);
  EXPECT_EQ(list->revision, rev());
  EXPECT_EQ(list->items[0].createRevision, *r1);
  EXPECT_EQ(list->items[0].modRevision, list->revision);
  EXPECT_EQ(list->items[1].modRevision, *r2);
}

// ---------------------------------------------------------------------------- revisions

TEST_P(ConformanceTest, EverySuccessfulWriteRaisesRevisionByOne) {
  int64_t r = rev();
  auto c = store().create("/r/x", "1");
  ASSERT_TRUE(c.isOk());
  EXPECT_EQ(*c, ++r);
  EXPECT_EQ(*store().update("/r/x", "2", 0), ++r);
  ASSERT_TRUE(store().remove("/r/x", 0).isOk());
  EXPECT_EQ(rev(), ++r);
  auto t = store().txn({{TxnOp::Type::kPut, "/r/y", "1"}, {TxnOp::Type::kPut, "/r/z", "1"}});
  ASSERT_TRUE(t.isOk());
  EXPECT_EQ(t->revision, ++r);
  // Failures change nothing.
  EXPECT_FALSE(store().update("/r/x", "3", 0).isOk());
  EXPECT_FALSE(store().create("/r/y", "3").isOk());
  EXPECT_FALSE(store().remove("/r/x", 0).isOk());
  EXPECT_EQ(rev(), r);
}

TEST_P(ConformanceTest, RevisionsSharedBetweenClients) {
  auto other = harness_->connect();
  ASSERT_TRUE(other.isOk());
  auto a = store().create("/c/a", "1");
  auto b = (*other)->create("/c/b", "1");
  ASSERT_TRUE(a.isOk() && b.isOk());
  EXPECT_EQ(*b, *a + 1);
  EXPECT_EQ(*(*other)->currentRevision(), rev());
  EXPECT_EQ((*other)->get("/c/a")->value, "1");
}

// ---------------------------------------------------------------------------- transactions

TEST_P(ConformanceTest, TxnAppliesAllAtOneRevision) {
  ASSERT_TRUE(store().create("/t/upd", "old").isOk());
  ASSERT_TRUE(store().create("/t/del", "gone").isOk());
  auto updRev = store().get("/t/upd")->modRevision;
  int64_t before = rev();
  auto w = watch("/t/", before);
  auto r = store().txn({
      {TxnOp::Type::kCreate, "/t/new", "n"},
      {TxnOp::Type::kUpdate, "/t/upd", "new", updRev},
      {TxnOp::Type::kDelete, "/t/del", "", 0},
      {TxnOp::Type::kPut, "/t/put", "p"},
  });
  ASSERT_TRUE(r.isOk()) << r.message();
  EXPECT_EQ(r->revision, before + 1);
  EXPECT_EQ(rev(), before + 1);
  EXPECT_EQ(store().get("/t/new")->modRevision, r->revision);
  EXPECT_EQ(store().get("/t/upd")->modRevision, r->revision);
  EXPECT_EQ(store().get("/t/put")->value, "p");
  EXPECT_EQ(store().get("/t/del").code(), ErrorCode::kNotFound);

  // One revision, several events, in op order.
  auto events = drain(*w, 4);
  ASSERT_EQ(events.size(), 4u);
  expectEvent(events[0], EventType::kAdded, "/t/new", "n", "", r->revision);
  expectEvent(events[1], EventType::kUpdated, "/t/upd", "new", "old", r->revision);
  expectEvent(events[2], EventType::kDeleted, "/t/del", "", "gone", r->revision);
  expectEvent(events[3], EventType::kAdded, "/t/put", "p", "", r->revision);
  EXPECT_EQ(w->revision(), r->revision);
}

TEST_P(ConformanceTest, TxnIsAllOrNothing) {
  ASSERT_TRUE(store().create("/t/x", "1").isOk());
  ASSERT_TRUE(store().create("/t/y", "1").isOk());
  int64_t xRev = store().get("/t/x")->modRevision;
  ASSERT_TRUE(store().update("/t/x", "2", 0).isOk());
  int64_t before = rev();
  auto r = store().txn({
      {TxnOp::Type::kCreate, "/t/a", "new"},
      {TxnOp::Type::kPut, "/t/y", "changed"},
      {TxnOp::Type::kUpdate, "/t/x", "3", xRev},  // stale: fails
      {TxnOp::Type::kDelete, "/t/y2", "", 0},
  });
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.code(), ErrorCode::kConflict);
  EXPECT_NE(r.message().find("/t/x"), std::string::npos) << r.message();
  EXPECT_EQ(store().get("/t/a").code(), ErrorCode::kNotFound);
  EXPECT_EQ(valueOf("/t/y"), "1");
  EXPECT_EQ(valueOf("/t/x"), "2");
  EXPECT_EQ(rev(), before);
}

TEST_P(ConformanceTest, TxnErrorNamesFailingKeyWithItsCode) {
  auto existsRev = store().create("/t/exists", "1");
  ASSERT_TRUE(existsRev.isOk());
  struct Case {
    TxnOp op;
    ErrorCode code;
  };
  const Case cases[] = {
      {{TxnOp::Type::kCreate, "/t/exists", "v"}, ErrorCode::kAlreadyExists},
      {{TxnOp::Type::kUpdate, "/t/absent-u", "v"}, ErrorCode::kNotFound},
      {{TxnOp::Type::kDelete, "/t/absent-d", ""}, ErrorCode::kNotFound},
      {{TxnOp::Type::kDelete, "/t/exists", "", *existsRev + 100}, ErrorCode::kConflict},
  };
  int64_t before = rev();
  for (const Case& c : cases) {
    auto r = store().txn({{TxnOp::Type::kPut, "/t/fine", "v"}, c.op});
    ASSERT_FALSE(r.isOk()) << c.op.key;
    EXPECT_EQ(r.code(), c.code) << r.message();
    EXPECT_NE(r.message().find(c.op.key), std::string::npos) << r.message();
  }
  EXPECT_EQ(store().get("/t/fine").code(), ErrorCode::kNotFound);
  EXPECT_EQ(rev(), before);
}

TEST_P(ConformanceTest, TxnRejectsRepeatedKey) {
  int64_t before = rev();
  auto r = store().txn({{TxnOp::Type::kPut, "/t/k", "1"}, {TxnOp::Type::kPut, "/t/k", "2"}});
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.code(), ErrorCode::kInvalid);
  EXPECT_EQ(rev(), before);
}

TEST_P(ConformanceTest, EmptyTxnWritesNothing) {
  ASSERT_TRUE(store().create("/t/k", "1").isOk());
  int64_t before = rev();
  auto r = store().txn({});
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->revision, before);
  EXPECT_EQ(rev(), before);
}

// ---------------------------------------------------------------------------- watch

TEST_P(ConformanceTest, WatchDeliversChangesInOrderWithPrevValues) {
  int64_t start = rev();
  auto w = watch("/w/", start);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->revision(), start);
  ASSERT_TRUE(store().create("/w/k", "v1").isOk());
  ASSERT_TRUE(store().update("/w/k", "v2", 0).isOk());
  ASSERT_TRUE(store().create("/w/j", "j1").isOk());
  ASSERT_TRUE(store().update("/w/k", "v3", 0).isOk());
  ASSERT_TRUE(store().remove("/w/k", 0).isOk());
  auto events = drain(*w, 5);
  ASSERT_EQ(events.size(), 5u);
  expectEvent(events[0], EventType::kAdded, "/w/k", "v1", "", start + 1);
  expectEvent(events[1], EventType::kUpdated, "/w/k", "v2", "v1", start + 2);
  expectEvent(events[2], EventType::kAdded, "/w/j", "j1", "", start + 3);
  expectEvent(events[3], EventType::kUpdated, "/w/k", "v3", "v2", start + 4);
  expectEvent(events[4], EventType::kDeleted, "/w/k", "", "v3", start + 5);
  EXPECT_EQ(w->revision(), start + 5);
}

TEST_P(ConformanceTest, WatchSeesOnlyItsPrefix) {
  auto w = watch("/a/b/", rev());
  ASSERT_TRUE(store().create("/a/bc", "no").isOk());
  ASSERT_TRUE(store().create("/a/b", "no").isOk());
  ASSERT_TRUE(store().create("/a/b/yes", "yes").isOk());
  ASSERT_TRUE(store().create("/z", "no").isOk());
  auto events = drain(*w, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].key, "/a/b/yes");
}

TEST_P(ConformanceTest, WatchTimesOutEmpty) {
  auto w = watch("/quiet/", rev());
  auto t0 = std::chrono::steady_clock::now();
  auto r = w->next(50ms);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r.isOk()) << r.message();
  EXPECT_TRUE(r->empty());
  EXPECT_GE(elapsed, 45ms);
  EXPECT_LT(elapsed, 1s);
}

TEST_P(ConformanceTest, WatchWakesOnWriteBeforeTimeout) {
  auto w = watch("/wake/", rev());
  std::thread writer([this] {
    auto other = harness_->connect();
    ASSERT_TRUE(other.isOk());
    std::this_thread::sleep_for(30ms);
    ASSERT_TRUE((*other)->create("/wake/k", "v").isOk());
  });
  auto t0 = std::chrono::steady_clock::now();
  auto r = w->next(5s);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  writer.join();
  ASSERT_TRUE(r.isOk());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_LT(elapsed, 1s);
}

TEST_P(ConformanceTest, WatchFromListRevisionSeesEachLaterChangeOnce) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store().create("/s/k" + std::to_string(i), "0").isOk());
  auto list = store().list("/s/");
  ASSERT_TRUE(list.isOk());
  // Changes made after the list but before the watch starts must be seen too.
  ASSERT_TRUE(store().update("/s/k0", "1", 0).isOk());
  ASSERT_TRUE(store().create("/s/k9", "1").isOk());
  auto w = watch("/s/", list->revision);
  auto first = w->next(1s);
  ASSERT_TRUE(first.isOk());
  ASSERT_TRUE(store().remove("/s/k1", 0).isOk());
  ASSERT_TRUE(store().update("/s/k0", "2", 0).isOk());
  std::vector<WatchEvent> events = *first;
  auto rest = drain(*w, 4 - events.size());
  events.insert(events.end(), rest.begin(), rest.end());
  ASSERT_EQ(events.size(), 4u);
  // Replaying the events over the list gives the current state.
  std::map<std::string, std::string> state;
  for (const auto& kv : list->items) state[kv.key] = kv.value;
  int64_t last = list->revision;
  for (const auto& e : events) {
    EXPECT_GT(e.revision, last);
    last = e.revision;
    if (e.type == EventType::kDeleted) {
      state.erase(e.key);
    } else {
      state[e.key] = e.value;
    }
  }
  auto now = store().list("/s/");
  std::map<std::string, std::string> expected;
  for (const auto& kv : now->items) expected[kv.key] = kv.value;
  EXPECT_EQ(state, expected);
}

TEST_P(ConformanceTest, WatcherResumesFromItsRevision) {
  auto w = watch("/res/", rev());
  ASSERT_TRUE(store().create("/res/a", "1").isOk());
  ASSERT_TRUE(store().create("/res/b", "1").isOk());
  auto seen = drain(*w, 2);
  ASSERT_EQ(seen.size(), 2u);
  int64_t resumeAt = w->revision();
  EXPECT_EQ(resumeAt, seen.back().revision);
  w.reset();
  // Changes while no one watches, then a new watcher from the saved revision.
  ASSERT_TRUE(store().update("/res/a", "2", 0).isOk());
  ASSERT_TRUE(store().create("/other", "x").isOk());
  ASSERT_TRUE(store().remove("/res/b", 0).isOk());
  auto resumed = watch("/res/", resumeAt);
  auto events = drain(*resumed, 2);
  ASSERT_EQ(events.size(), 2u);
  expectEvent(events[0], EventType::kUpdated, "/res/a", "2", "1", resumeAt + 1);
  expectEvent(events[1], EventType::kDeleted, "/res/b", "", "1", resumeAt + 3);
}

TEST_P(ConformanceTest, WatchSeesWritesOfOtherClients) {
  auto other = harness_->connect();
  ASSERT_TRUE(other.isOk());
  auto w = watch("/o/", rev());
  ASSERT_TRUE((*other)->create("/o/k", "v").isOk());
  auto events = drain(*w, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].value, "v");
}

TEST_P(ConformanceTest, WatcherCatchesUpOnLargeBacklogInOrder) {
  int64_t start = rev();
  auto w = watch("/big/", start);
  std::vector<TxnOp> batch;
  for (int i = 0; i < 2500; ++i) {
    ASSERT_TRUE(store().create("/big/" + std::to_string(i), "v").isOk());
  }
  auto events = drain(*w, 2500);
  ASSERT_EQ(events.size(), 2500u);
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].revision, start + 1 + static_cast<int64_t>(i));
  }
}

// ---------------------------------------------------------------------------- compaction

// The error may come from watch() itself or from the watcher's first next().
ErrorCode watchOutcome(Client& client, std::string_view prefix, int64_t after) {
  auto w = client.watch(prefix, after);
  if (!w.isOk()) return w.code();
  auto r = (*w)->next(500ms);
  if (!r.isOk()) return r.code();
  return ErrorCode::kInternal;  // "no error"
}

TEST_P(ConformanceTest, CompactedHistoryGivesCompactedThenRelistRecovers) {
  ASSERT_TRUE(store().create("/cp/a", "1").isOk());
  auto list = store().list("/cp/");
  ASSERT_TRUE(list.isOk());
  ASSERT_TRUE(store().update("/cp/a", "2", 0).isOk());
  ASSERT_TRUE(store().create("/cp/b", "1").isOk());
  harness_->compactHistory();
  EXPECT_EQ(watchOutcome(store(), "/cp/", list->revision), ErrorCode::kCompacted);

  // Recovery: list again, watch from the new list's revision.
  auto relist = store().list("/cp/");
  ASSERT_TRUE(relist.isOk());
  ASSERT_EQ(relist->items.size(), 2u);
  EXPECT_EQ(relist->items[0].value, "2");
  auto w = watch("/cp/", relist->revision);
  ASSERT_TRUE(store().update("/cp/b", "2", 0).isOk());
  auto events = drain(*w, 1);
  ASSERT_EQ(events.size(), 1u);
  expectEvent(events[0], EventType::kUpdated, "/cp/b", "2", "1", relist->revision + 1);
}

TEST_P(ConformanceTest, WatcherFallingBehindCompactionGetsCompacted) {
  auto w = watch("/fb/", rev());
  ASSERT_TRUE(store().create("/fb/a", "1").isOk());
  harness_->compactHistory();
  auto r = w->next(500ms);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.code(), ErrorCode::kCompacted);
  // It stays failed: the caller must re-list.
  auto again = w->next(10ms);
  ASSERT_FALSE(again.isOk());
  EXPECT_EQ(again.code(), ErrorCode::kCompacted);
}

TEST_P(ConformanceTest, WatchFromCurrentRevisionAfterCompactionWorks) {
  ASSERT_TRUE(store().create("/cc/a", "1").isOk());
  harness_->compactHistory();
  auto w = watch("/cc/", rev());
  ASSERT_TRUE(store().update("/cc/a", "2", 0).isOk());
  auto events = drain(*w, 1);
  ASSERT_EQ(events.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConformanceTest, ::testing::ValuesIn(backends()),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace brindle::datastore
