// Tests of the Syncer against the embedded store: snapshot then in-sync, watched changes,
// deletes carrying the last value, a snapshot big enough for the threaded decode path, and a
// watch that fails with kCompacted leading to a fresh list that sends only the difference.
#include "calc/syncer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "calc/test_resources.h"
#include "datastore/etcd/etcd_client.h"
#include "datastore/local/local_store.h"
#include "testutil/etcd_server.h"
#include "testutil/temp_dir.h"

namespace brindle::calc {
namespace {

struct Sink : SyncerCallbacks {
  std::vector<Update> updates;
  int inSync = 0;
  bool offThread = false;  // a callback came from a thread other than the test's
  std::thread::id thread = std::this_thread::get_id();
  void onUpdates(const std::vector<Update>& u) override {
    offThread = offThread || std::this_thread::get_id() != thread;
    updates.insert(updates.end(), u.begin(), u.end());
  }
  void onInSync() override { ++inSync; }
  std::vector<std::string> bad;  // "key: why"
  void onBadValue(const std::string& key, const std::string& why) override {
    bad.push_back(key + ": " + why);
  }
};

std::string valueOf(const model::Resource& r) { return r.toJson().dump(); }

TEST(Syncer, ListWatchDeleteAndResync) {
  testutil::TempDir dir;
  auto client = datastore::openLocalStore(dir.file("store.db"));
  ASSERT_TRUE(client) << client.message();
  auto lab = testing::seedLab();
  ASSERT_GE(lab.size(), 3u);
  for (size_t i = 0; i < 2; ++i) ASSERT_TRUE((*client)->create(lab[i].key(), valueOf(lab[i])));

  Sink sink;
  Syncer syncer(**client, sink);
  ASSERT_TRUE(syncer.start());
  EXPECT_EQ(sink.inSync, 1);
  ASSERT_EQ(sink.updates.size(), 2u);
  EXPECT_EQ(sink.updates[0].type, UpdateType::kAdded);
  ASSERT_TRUE(sink.updates[0].resource);

  sink.updates.clear();
  ASSERT_TRUE((*client)->create(lab[2].key(), valueOf(lab[2])));
  ASSERT_TRUE((*client)->remove(lab[0].key(), 0));
  for (int i = 0; i < 20 && sink.updates.size() < 2; ++i) {
    ASSERT_TRUE(syncer.poll(std::chrono::milliseconds(100)));
  }
  ASSERT_EQ(sink.updates.size(), 2u);
  EXPECT_EQ(sink.updates[0].key, lab[2].key());
  EXPECT_EQ(sink.updates[1].type, UpdateType::kDeleted);
  ASSERT_TRUE(sink.updates[1].resource);  // the last known value, so consumers know the kind
  EXPECT_EQ(sink.updates[1].resource->name(), lab[0].name());

  // A re-list sends only what differs from what was sent (here: nothing).
  sink.updates.clear();
  ASSERT_TRUE(syncer.resync());
  EXPECT_TRUE(sink.updates.empty());
  EXPECT_EQ(sink.inSync, 1);
  EXPECT_EQ(syncer.knownKeys(), 2u);
}

TEST(Syncer, UndecodableValueActsAsDelete) {
  testutil::TempDir dir;
  auto client = datastore::openLocalStore(dir.file("store.db"));
  ASSERT_TRUE(client);
  auto lab = testing::seedLab();
  ASSERT_TRUE((*client)->create(lab[0].key(), valueOf(lab[0])));
  Sink sink;
  Syncer syncer(**client, sink);
  ASSERT_TRUE(syncer.start());
  ASSERT_TRUE((*client)->update(lab[0].key(), "{not json", 0));
  for (int i = 0; i < 20 && sink.updates.size() < 2; ++i) {
    ASSERT_TRUE(syncer.poll(std::chrono::milliseconds(100)));
  }
  ASSERT_EQ(sink.updates.size(), 2u);
  EXPECT_EQ(sink.updates[1].type, UpdateType::kDeleted);
  ASSERT_TRUE(sink.updates[1].resource);  // the last good value goes
  ASSERT_EQ(sink.bad.size(), 1u);
  EXPECT_EQ(sink.bad[0].rfind(lab[0].key() + ": ", 0), 0u) << sink.bad[0];
  EXPECT_EQ(syncer.badKeys(), 1u);

  // A re-list does not report the same bad value again; another bad value is reported.
  sink.updates.clear();
  ASSERT_TRUE(syncer.resync());
  EXPECT_TRUE(sink.updates.empty());
  ASSERT_TRUE((*client)->update(lab[0].key(), "[]", 0));
  ASSERT_TRUE(syncer.resync());
  EXPECT_TRUE(sink.updates.empty());  // nothing good was left to delete
  EXPECT_EQ(sink.bad.size(), 2u);

  // A value of another kind than its key names is bad too.
  sink.updates.clear();
  model::Resource wrong = lab[1].kind == lab[0].kind ? lab.back() : lab[1];
  ASSERT_NE(wrong.kind, lab[0].kind);
  ASSERT_TRUE((*client)->update(lab[0].key(), valueOf(wrong), 0));
  ASSERT_TRUE(syncer.resync());
  EXPECT_TRUE(sink.updates.empty());
  ASSERT_EQ(sink.bad.size(), 3u);
  EXPECT_NE(sink.bad[2].find("its key names"), std::string::npos) << sink.bad[2];

  // Deleting a bad key is sent (as a plain delete), once.
  sink.updates.clear();
  ASSERT_TRUE((*client)->remove(lab[0].key(), 0));
  ASSERT_TRUE(syncer.resync());
  ASSERT_EQ(sink.updates.size(), 1u);
  EXPECT_EQ(sink.updates[0].type, UpdateType::kDeleted);
  EXPECT_EQ(syncer.badKeys(), 0u);
  sink.updates.clear();
  ASSERT_TRUE(syncer.resync());
  EXPECT_TRUE(sink.updates.empty());
}

// GlobalNetworkSets gns-0000.. with one /24 each; `generation` changes every value.
std::vector<model::Resource> networkSets(int count, int generation = 0) {
  std::string yaml;
  for (int i = 0; i < count; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "gns-%04d", i);
    yaml += "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: " +
            std::string(name) + "}\nspec: {nets: [10." + std::to_string(generation) + "." +
            std::to_string(i / 256) + "." + std::to_string(i % 256) + "/32]}\n";
  }
  return testing::decode(yaml);
}

std::string netOf(const Update& u) {
  return u.resource ? u.resource->spec["nets"][0].get<std::string>() : "";
}

// Writes `ops` in transactions of 100.
void writeAll(datastore::Client& client, const std::vector<datastore::TxnOp>& ops) {
  for (size_t i = 0; i < ops.size(); i += 100) {
    std::vector<datastore::TxnOp> batch(ops.begin() + i,
                                        ops.begin() + std::min(ops.size(), i + 100));
    auto r = client.txn(batch);
    ASSERT_TRUE(r.isOk()) << r.message();
  }
}

datastore::TxnOp put(const model::Resource& r) {
  return {datastore::TxnOp::Type::kPut, r.key(), valueOf(r), 0};
}
datastore::TxnOp del(const model::Resource& r) {
  return {datastore::TxnOp::Type::kDelete, r.key(), "", 0};
}

// More than one decode slice (256 values) in one list: decoded on the helper thread and this
// one, delivered on this thread in key order, each value exactly once, broken ones skipped.
TEST(Syncer, LargeListTakesTheThreadedPathAndKeepsOrder) {
  testutil::TempDir dir;
  auto client = datastore::openLocalStore(dir.file("store.db"));
  ASSERT_TRUE(client) << client.message();
  constexpr int kCount = 1100;  // four full slices and a part
  auto sets = networkSets(kCount);
  ASSERT_EQ(sets.size(), size_t{kCount});
  std::vector<datastore::TxnOp> ops;
  for (const auto& r : sets) ops.push_back(put(r));
  ops[300].value = "{not json";  // one broken value in the second slice, one in the fourth
  ops[800].value = "[]";
  writeAll(**client, ops);

  Sink sink;
  Syncer syncer(**client, sink);
  ASSERT_TRUE(syncer.start());
  EXPECT_EQ(sink.inSync, 1);
  EXPECT_FALSE(sink.offThread);
  ASSERT_EQ(sink.updates.size(), size_t{kCount - 2});
  EXPECT_EQ(sink.bad.size(), 2u);
  EXPECT_EQ(syncer.badKeys(), 2u);
  EXPECT_EQ(syncer.knownKeys(), size_t{kCount - 2});
  size_t next = 0;
  for (int i = 0; i < kCount; ++i) {
    if (i == 300 || i == 800) continue;
    const Update& u = sink.updates[next++];
    ASSERT_EQ(u.key, sets[i].key()) << "update " << next - 1;
    EXPECT_EQ(u.type, UpdateType::kAdded);
    ASSERT_TRUE(u.resource);
    EXPECT_EQ(u.resource->name(), sets[i].name());
    EXPECT_EQ(netOf(u), netOf(testing::added(sets[i])));
  }

  // A re-list with hundreds of changes takes the same path: only the difference is sent.
  auto changed = networkSets(kCount, 1);
  ops.clear();
  for (int i = 0; i < 600; ++i) ops.push_back(put(changed[i]));  // 300 among them: mended
  for (int i = 1000; i < kCount; ++i) ops.push_back(del(sets[i]));
  writeAll(**client, ops);
  sink.updates.clear();
  ASSERT_TRUE(syncer.resync());
  EXPECT_FALSE(sink.offThread);
  std::map<UpdateType, int> byType;
  for (const auto& u : sink.updates) ++byType[u.type];
  EXPECT_EQ(byType[UpdateType::kAdded], 1);  // the mended 300
  EXPECT_EQ(byType[UpdateType::kUpdated], 599);
  EXPECT_EQ(byType[UpdateType::kDeleted], 100);
  ASSERT_EQ(sink.updates.size(), 700u);
  EXPECT_EQ(sink.updates[0].key, changed[0].key());
  EXPECT_EQ(netOf(sink.updates[0]), "10.1.0.0/32");
  EXPECT_EQ(syncer.knownKeys(), size_t{1000 - 1});  // 800 is still broken
}

// A watch that falls behind the store's history fails with kCompacted; the syncer lists again
// and sends exactly what changed meanwhile, so its consumer converges to the store. `compact`
// discards the history the syncer's watch needs (after the changes are written).
void checkRelistAfterCompaction(datastore::Client& client, const std::function<void()>& compact) {
  auto sets = networkSets(40);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(client.create(sets[i].key(), valueOf(sets[i])));

  Sink sink;
  Syncer syncer(client, sink);
  ASSERT_TRUE(syncer.start());
  ASSERT_EQ(sink.updates.size(), 30u);
  std::map<std::string, std::string> mirror;  // key -> net, as the consumer sees the store
  auto apply = [&] {
    for (const auto& u : sink.updates) {
      if (u.type == UpdateType::kDeleted) {
        mirror.erase(u.key);
      } else {
        mirror[u.key] = netOf(u);
      }
    }
  };
  apply();
  auto listed = client.list(std::string(model::kKeyRoot));
  ASSERT_TRUE(listed.isOk());

  // One write at a time (a revision each), far more than the history kept: 5 changed,
  // 5 deleted, 10 created, and one created then deleted again.
  auto changed = networkSets(40, 7);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client.update(sets[i].key(), valueOf(changed[i]), 0));
  }
  for (int i = 5; i < 10; ++i) ASSERT_TRUE(client.remove(sets[i].key(), 0));
  for (int i = 30; i < 40; ++i) ASSERT_TRUE(client.create(sets[i].key(), valueOf(sets[i])));
  ASSERT_TRUE(client.update(sets[30].key(), valueOf(changed[30]), 0));
  ASSERT_TRUE(client.remove(sets[39].key(), 0));

  // The history the syncer's watch needs is gone.
  compact();
  auto probe = client.watch(std::string(model::kKeyRoot), listed->revision);
  ASSERT_TRUE(probe.isOk());
  auto events = (*probe)->next(std::chrono::milliseconds(1000));
  ASSERT_FALSE(events.isOk());
  ASSERT_EQ(events.code(), ErrorCode::kCompacted);

  sink.updates.clear();
  for (int i = 0; i < 50 && sink.updates.empty(); ++i) {
    ASSERT_TRUE(syncer.poll(std::chrono::milliseconds(100)));
  }
  std::map<std::string, int> perKey;
  for (const auto& u : sink.updates) ++perKey[u.key];
  apply();

  std::map<std::string, std::string> want;
  auto now = client.list(std::string(model::kKeyRoot));
  ASSERT_TRUE(now.isOk());
  for (const auto& kv : now->items) {
    want[kv.key] = model::Json::parse(kv.value)["spec"]["nets"][0].get<std::string>();
  }
  EXPECT_EQ(mirror, want);
  // Only the difference: 5 updated + 5 deleted + 9 created, one update each; 39 never seen.
  EXPECT_EQ(sink.updates.size(), 19u);
  for (const auto& [key, n] : perKey) EXPECT_EQ(n, 1) << key;
  EXPECT_EQ(perKey.count(sets[39].key()), 0u);
  EXPECT_EQ(perKey.count(sets[20].key()), 0u);
  for (const auto& u : sink.updates) {
    if (u.type == UpdateType::kDeleted) {
      ASSERT_TRUE(u.resource);  // rebuilt from the key, so consumers know the kind
      EXPECT_EQ(u.resource->kind, model::Kind::kGlobalNetworkSet);
    }
  }
  EXPECT_EQ(mirror.at(sets[30].key()), "10.7.0.30/32");

  // And the new watch works: a change after the re-list arrives as usual.
  sink.updates.clear();
  ASSERT_TRUE(client.remove(sets[20].key(), 0));
  for (int i = 0; i < 20 && sink.updates.empty(); ++i) {
    ASSERT_TRUE(syncer.poll(std::chrono::milliseconds(100)));
  }
  ASSERT_EQ(sink.updates.size(), 1u);
  EXPECT_EQ(sink.updates[0].type, UpdateType::kDeleted);
  EXPECT_EQ(sink.updates[0].key, sets[20].key());
}

TEST(Syncer, CompactedWatchListsAgainAndSendsTheDifference) {
  testutil::TempDir dir;
  datastore::LocalStoreOptions small;
  small.historyRevisions = 4;  // every write prunes what lies further back
  auto client = datastore::openLocalStore(dir.file("store.db"), small);
  ASSERT_TRUE(client) << client.message();
  checkRelistAfterCompaction(**client, [] {});
}

// The same against a real etcd, compacted as an operator (or etcd's auto-compaction) does.
TEST(SyncerEtcd, CompactedWatchListsAgainAndSendsTheDifference) {
  testutil::EtcdCluster etcd(1);
  datastore::etcd::EtcdOptions options;
  options.endpoints = etcd.endpoints();
  auto client = datastore::etcd::openEtcdClient(options);
  ASSERT_TRUE(client) << client.message();
  checkRelistAfterCompaction(**client, [&] {
    auto rev = (*client)->currentRevision();
    ASSERT_TRUE(rev.isOk()) << rev.message();
    Status s = (*client)->compact(*rev);
    ASSERT_TRUE(s.isOk()) << s.message();
  });
}

// Bad values written with etcdctl, as another tool would: each is sent once as a bad-value
// delete (not again on a re-list); a later valid change still arrives.
TEST(SyncerEtcd, BadValuesWrittenWithEtcdctlAreSentOnce) {
  testutil::EtcdCluster etcd(1);
  datastore::etcd::EtcdOptions options;
  options.endpoints = etcd.endpoints();
  auto client = datastore::etcd::openEtcdClient(options);
  ASSERT_TRUE(client) << client.message();
  auto lab = testing::seedLab();
  const std::string notJson = lab[0].key(), wrongKind = lab[1].key();
  ASSERT_NE(lab[1].kind, lab.back().kind);
  etcd.runOrThrow(etcd.etcdctlCommand("put " + notJson + " '{not json'"));
  testutil::TempDir dir;
  {
    std::ofstream f(dir.file("value.json"));
    f << valueOf(lab.back());  // a resource of another kind than the key names
  }
  etcd.runOrThrow(etcd.etcdctlCommand("put " + wrongKind + " < " + dir.file("value.json")));
  Sink sink;
  Syncer syncer(**client, sink);
  ASSERT_TRUE(syncer.start());
  EXPECT_TRUE(sink.updates.empty());
  ASSERT_EQ(sink.bad.size(), 2u);
  EXPECT_EQ(syncer.badKeys(), 2u);
  ASSERT_TRUE(syncer.resync());
  EXPECT_TRUE(sink.updates.empty());
  EXPECT_EQ(sink.bad.size(), 2u);
  ASSERT_TRUE((*client)->create(lab[2].key(), valueOf(lab[2])));
  for (int i = 0; i < 20 && sink.updates.empty(); ++i) {
    ASSERT_TRUE(syncer.poll(std::chrono::milliseconds(100)));
  }
  ASSERT_EQ(sink.updates.size(), 1u);
  EXPECT_EQ(sink.updates[0].key, lab[2].key());
}

}  // namespace
}  // namespace brindle::calc
