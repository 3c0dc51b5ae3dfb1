// Tests of what is specific to the embedded SQLite store: opening, file layout, bounded history,
// persistence, sharing between threads and speed. Behaviour common to backends is in
// conformance_test.cc.
#include "datastore/local/local_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "temp_dir.h"

namespace brindle::datastore {
namespace {

using namespace std::chrono_literals;
using test::TempDir;

TEST(LocalStoreTest, CreatesMissingParentDirectories) {
  TempDir tmp;
  std::string path = tmp.path() + "/var/lib/brindle/store.db";
  auto client = openLocalStore(path);
  ASSERT_TRUE(client.isOk()) << client.message();
  ASSERT_TRUE((*client)->create("/k", "v").isOk());
  struct stat st {};
  ASSERT_EQ(::stat((tmp.path() + "/var/lib/brindle").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(LocalStoreTest, UnopenablePathIsUnavailableNamingThePath) {
  TempDir tmp;
  std::string file = tmp.path() + "/plain-file";
  std::ofstream(file) << "not a directory";
  std::string path = file + "/store.db";
  auto client = openLocalStore(path);
  ASSERT_FALSE(client.isOk());
  EXPECT_EQ(client.code(), ErrorCode::kUnavailable);
  EXPECT_NE(client.message().find(path), std::string::npos) << client.message();

  // A directory where the file should be.
  auto dir = openLocalStore(tmp.path());
  ASSERT_FALSE(dir.isOk());
  EXPECT_EQ(dir.code(), ErrorCode::kUnavailable);
  EXPECT_NE(dir.message().find(tmp.path()), std::string::npos) << dir.message();
}

TEST(LocalStoreTest, NotADatabaseIsUnavailable) {
  TempDir tmp;
  std::string path = tmp.path() + "/store.db";
  std::ofstream(path) << std::string(4096, 'x');
  auto client = openLocalStore(path);
  ASSERT_FALSE(client.isOk());
  EXPECT_EQ(client.code(), ErrorCode::kUnavailable);
  EXPECT_NE(client.message().find(path), std::string::npos) << client.message();
}

TEST(LocalStoreTest, RejectsBadPathAndOptions) {
  EXPECT_EQ(openLocalStore("").code(), ErrorCode::kInvalid);
  EXPECT_EQ(openLocalStore(":memory:").code(), ErrorCode::kInvalid);
  TempDir tmp;
  LocalStoreOptions options;
  options.historyRevisions = 0;
  EXPECT_EQ(openLocalStore(tmp.path() + "/s.db", options).code(), ErrorCode::kInvalid);
}

TEST(LocalStoreTest, EmptyKeyIsInvalid) {
  TempDir tmp;
  auto client = openLocalStore(tmp.path() + "/s.db");
  ASSERT_TRUE(client.isOk());
  EXPECT_EQ((*client)->create("", "v").code(), ErrorCode::kInvalid);
  EXPECT_EQ((*client)->txn({{TxnOp::Type::kPut, "", "v"}}).code(), ErrorCode::kInvalid);
  EXPECT_EQ(*(*client)->currentRevision(), 0);
}

TEST(LocalStoreTest, UsesWalAndPersistsAcrossReopen) {
  TempDir tmp;
  std::string path = tmp.path() + "/s.db";
  {
    auto client = openLocalStore(path);
    ASSERT_TRUE(client.isOk());
    ASSERT_TRUE((*client)->create("/k", "v").isOk());
    ASSERT_TRUE((*client)->update("/k", "v2", 0).isOk());
  }
  auto client = openLocalStore(path);
  ASSERT_TRUE(client.isOk());
  EXPECT_EQ(*(*client)->currentRevision(), 2);
  auto kv = (*client)->get("/k");
  ASSERT_TRUE(kv.isOk());
  EXPECT_EQ(kv->value, "v2");
  EXPECT_EQ(kv->createRevision, 1);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

int64_t eventRows(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return -1;
  sqlite3_stmt* stmt = nullptr;
  int64_t n = -1;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    n = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

TEST(LocalStoreTest, HistoryIsBoundedAndOlderWatchesAreCompacted) {
  TempDir tmp;
  std::string path = tmp.path() + "/s.db";
  LocalStoreOptions options;
  options.historyRevisions = 16;
  auto client = openLocalStore(path, options);
  ASSERT_TRUE(client.isOk());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE((*client)->txn({{TxnOp::Type::kPut, "/k", std::to_string(i)}}).isOk());
  }
  int64_t rows = eventRows(path);
  EXPECT_GE(rows, 16);
  EXPECT_LE(rows, 16 + 16 / 8 + 1);

  int64_t current = *(*client)->currentRevision();
  // The last 16 revisions are still there...
  auto recent = (*client)->watch("/", current - 16);
  ASSERT_TRUE(recent.isOk());
  auto events = (*recent)->next(100ms);
  ASSERT_TRUE(events.isOk()) << events.message();
  EXPECT_EQ(events->size(), 16u);
  // ...older ones are not.
  auto old = (*client)->watch("/", 5);
  ASSERT_TRUE(old.isOk());
  auto r = (*old)->next(100ms);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.code(), ErrorCode::kCompacted);
  EXPECT_NE(r.message().find("list again"), std::string::npos) << r.message();
}

TEST(LocalStoreTest, WatcherOutlivesItsClient) {
  TempDir tmp;
  std::string path = tmp.path() + "/s.db";
  WatcherPtr watcher;
  {
    auto client = openLocalStore(path);
    ASSERT_TRUE(client.isOk());
    auto w = (*client)->watch("/", 0);
    ASSERT_TRUE(w.isOk());
    watcher = std::move(w).value();
    ASSERT_TRUE((*client)->create("/k", "v").isOk());
  }
  auto events = watcher->next(1s);
  ASSERT_TRUE(events.isOk());
  ASSERT_EQ(events->size(), 1u);
}

TEST(LocalStoreTest, SharedClientAcrossThreadsStaysConsistent) {
  TempDir tmp;
  auto client = openLocalStore(tmp.path() + "/s.db");
  ASSERT_TRUE(client.isOk());
  Client& shared = **client;
  ASSERT_TRUE(shared.create("/counter", "0").isOk());
  constexpr int kThreads = 4;
  constexpr int kIncrements = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&shared] {
      Client* c = &shared;
      for (int i = 0; i < kIncrements;) {
        auto kv = c->get("/counter");
        ASSERT_TRUE(kv.isOk());
        auto r = c->update("/counter", std::to_string(std::stoi(kv->value) + 1), kv->modRevision);
        if (r.isOk()) {
          ++i;
        } else {
          ASSERT_EQ(r.code(), ErrorCode::kConflict) << r.message();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(shared.get("/counter")->value, std::to_string(kThreads * kIncrements));
  EXPECT_EQ(*shared.currentRevision(), 1 + kThreads * kIncrements);
}

TEST(LocalStoreTest, ClientPerThreadWithCasIsConsistent) {
  TempDir tmp;
  std::string path = tmp.path() + "/s.db";
  {
    auto client = openLocalStore(path);
    ASSERT_TRUE(client.isOk());
    ASSERT_TRUE((*client)->create("/counter", "0").isOk());
  }
  constexpr int kThreads = 4;
  constexpr int kIncrements = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&path] {
      auto client = openLocalStore(path);
      ASSERT_TRUE(client.isOk()) << client.message();
      Client& c = **client;
      for (int i = 0; i < kIncrements;) {
        auto kv = c.get("/counter");
        ASSERT_TRUE(kv.isOk());
        auto r = c.update("/counter", std::to_string(std::stoi(kv->value) + 1), kv->modRevision);
        if (r.isOk()) {
          ++i;
        } else {
          ASSERT_EQ(r.code(), ErrorCode::kConflict) << r.message();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  auto client = openLocalStore(path);
  ASSERT_TRUE(client.isOk());
  EXPECT_EQ((*client)->get("/counter")->value, std::to_string(kThreads * kIncrements));
}

TEST(LocalStoreTest, ManyOpenersOfAFreshStoreAgreeOnTheSchema) {
  // Every opener races to switch the new file to WAL and create the schema.
  for (int round = 0; round < 3; ++round) {
    TempDir tmp;
    std::string path = tmp.path() + "/fresh/s.db";
    constexpr int kThreads = 8;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&path, t] {
        auto client = openLocalStore(path);
        ASSERT_TRUE(client.isOk()) << client.message();
        ASSERT_TRUE((*client)->create("/k" + std::to_string(t), "v").isOk());
      });
    }
    for (auto& t : threads) t.join();
    auto client = openLocalStore(path);
    ASSERT_TRUE(client.isOk());
    EXPECT_EQ(*(*client)->currentRevision(), kThreads);
    EXPECT_EQ((*client)->list("/")->items.size(), static_cast<size_t>(kThreads));
  }
}

TEST(LocalStoreTest, WriteLockHeldTooLongIsUnavailableAndReadsGoOn) {
  TempDir tmp;
  std::string path = tmp.path() + "/s.db";
  LocalStoreOptions options;
  options.busyTimeout = 50ms;
  auto client = openLocalStore(path, options);
  ASSERT_TRUE(client.isOk());
  ASSERT_TRUE((*client)->create("/k", "v").isOk());
  auto watcher = (*client)->watch("/", 0);
  ASSERT_TRUE(watcher.isOk());

  // Another "process" takes the write lock and sits on it.
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto blocked = (*client)->create("/k2", "v");
  ASSERT_FALSE(blocked.isOk());
  EXPECT_EQ(blocked.code(), ErrorCode::kUnavailable);
  EXPECT_NE(blocked.message().find("busy"), std::string::npos) << blocked.message();
  // WAL: readers and watchers are not blocked by a writer.
  EXPECT_EQ((*client)->get("/k")->value, "v");
  auto events = (*watcher)->next(100ms);
  ASSERT_TRUE(events.isOk()) << events.message();
  EXPECT_EQ(events->size(), 1u);
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);

  EXPECT_TRUE((*client)->create("/k2", "v").isOk());
  EXPECT_EQ(*(*client)->currentRevision(), 2);
}

TEST(LocalStoreTest, TenThousandCreatesInOneTxnAndListAreFast) {
  TempDir tmp;
  auto client = openLocalStore(tmp.path() + "/s.db");
  ASSERT_TRUE(client.isOk());
  std::vector<TxnOp> ops;
  for (int i = 0; i < 10000; ++i) {
    char key[64];
    std::snprintf(key, sizeof key, "/calico/resources/v3/projectcalico.org/pods/%05d", i);
    ops.push_back({TxnOp::Type::kCreate, key, std::string(200, 'v')});
  }
  ASSERT_TRUE((*client)->create("/calico/resources/v3/projectcalico.org/podsx", "x").isOk());
  auto t0 = std::chrono::steady_clock::now();
  auto r = (*client)->txn(ops);
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(r.isOk()) << r.message();
  auto list = (*client)->list("/calico/resources/v3/projectcalico.org/pods/");
  auto t2 = std::chrono::steady_clock::now();
  ASSERT_TRUE(list.isOk());
  EXPECT_EQ(list->items.size(), 10000u);
  EXPECT_LT(t1 - t0, 1s);
  EXPECT_LT(t2 - t1, 1s);
  std::cout << "10k creates in one txn: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0).count()
            << " ms; list of 10k: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(t2 - t1).count() << " ms\n";
}

}  // namespace
}  // namespace brindle::datastore
