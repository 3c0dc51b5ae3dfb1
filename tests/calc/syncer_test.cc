// Tests of the Syncer against the embedded store: snapshot then in-sync, watched changes,
// deletes carrying the last value, and re-list after a compaction sending only the difference.
#include "calc/syncer.h"

#include <gtest/gtest.h>

#include "calc/test_resources.h"
#include "datastore/local/local_store.h"
#include "testutil/temp_dir.h"

namespace brindle::calc {
namespace {

struct Sink : SyncerCallbacks {
  std::vector<Update> updates;
  int inSync = 0;
  void onUpdates(const std::vector<Update>& u) override {
    updates.insert(updates.end(), u.begin(), u.end());
  }
  void onInSync() override { ++inSync; }
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
  EXPECT_EQ(syncer.decodeErrors().size(), 1u);
}

}  // namespace
}  // namespace brindle::calc
