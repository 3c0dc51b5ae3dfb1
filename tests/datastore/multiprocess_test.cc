// Several processes writing one embedded store at once while this process watches: the store
// ends consistent, revisions count the writes, CAS holds across processes and the watcher sees
// every change exactly once, in order.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "datastore/local/local_store.h"
#include "temp_dir.h"

namespace brindle::datastore {
namespace {

using namespace std::chrono_literals;

constexpr int kWorkers = 8;
constexpr int kKeysPerWorker = 50;
// Per worker: create + CAS update per key, a second update per key, a delete for half the keys,
// and a counter increment for every second key.
constexpr int kWritesPerWorker = kKeysPerWorker * 3 + kKeysPerWorker / 2 + kKeysPerWorker / 2;
constexpr int kCounterPerWorker = kKeysPerWorker / 2;

TEST(MultiProcessTest, ConcurrentWritersAndAWatcherAgree) {
  test::TempDir tmp;
  const std::string path = tmp.path() + "/store.db";
  auto opened = openLocalStore(path);
  ASSERT_TRUE(opened.isOk()) << opened.message();
  Client& client = **opened;
  auto counterRev = client.create("/mp/counter", "0");
  ASSERT_TRUE(counterRev.isOk());
  auto watched = client.watch("/mp/", *counterRev);
  ASSERT_TRUE(watched.isOk());
  Watcher& watcher = **watched;

  // Workers block reading the pipe until we close its write end, so they start together.
  int start[2];
  ASSERT_EQ(::pipe(start), 0);
  std::vector<pid_t> pids;
  for (int w = 0; w < kWorkers; ++w) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(start[1]);
      std::string id = std::to_string(w), fd = std::to_string(start[0]);
      std::string keys = std::to_string(kKeysPerWorker);
      ::execl(BRINDLE_STORE_WORKER, "store_worker", path.c_str(), id.c_str(), fd.c_str(),
              keys.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pids.push_back(pid);
  }
  ::close(start[0]);
  ::close(start[1]);

  const size_t expectedEvents = static_cast<size_t>(kWorkers) * kWritesPerWorker;
  std::vector<WatchEvent> events;
  int running = kWorkers;
  bool workerFailed = false;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while ((events.size() < expectedEvents || running > 0) &&
         std::chrono::steady_clock::now() < deadline && !workerFailed) {
    auto batch = watcher.next(50ms);
    ASSERT_TRUE(batch.isOk()) << batch.message();
    events.insert(events.end(), batch->begin(), batch->end());
    int status = 0;
    pid_t done;
    while (running > 0 && (done = ::waitpid(-1, &status, WNOHANG)) > 0) {
      --running;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) workerFailed = true;
    }
  }
  ASSERT_FALSE(workerFailed) << "a worker failed (see its stderr)";
  ASSERT_EQ(running, 0) << "workers did not finish in time";
  auto extra = watcher.next(20ms);
  ASSERT_TRUE(extra.isOk());
  events.insert(events.end(), extra->begin(), extra->end());

  // Revisions: exactly one per successful write, each seen once, strictly increasing.
  ASSERT_EQ(events.size(), expectedEvents);
  EXPECT_EQ(*client.currentRevision(), *counterRev + static_cast<int64_t>(expectedEvents));
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].revision, *counterRev + 1 + static_cast<int64_t>(i));
  }

  // Every counter change raised it by exactly one: no lost CAS updates across processes.
  for (const auto& e : events) {
    if (e.key != "/mp/counter") continue;
    ASSERT_EQ(e.type, EventType::kUpdated);
    EXPECT_EQ(std::stoll(e.value), std::stoll(e.prevValue) + 1);
  }

  // The final state is what every worker meant, and what replaying the events gives.
  std::map<std::string, std::string> expected;
  expected["/mp/counter"] = std::to_string(kWorkers * kCounterPerWorker);
  for (int w = 0; w < kWorkers; ++w) {
    for (int i = kKeysPerWorker / 2; i < kKeysPerWorker; ++i) {
      expected[fmt::format("/mp/w{}/k{}", w, i)] = fmt::format("v2-{}-{}", w, i);
    }
  }
  std::map<std::string, std::string> replayed{{"/mp/counter", "0"}};
  for (const auto& e : events) {
    if (e.type == EventType::kDeleted) {
      EXPECT_EQ(replayed.erase(e.key), 1u) << e.key;
    } else {
      if (e.type == EventType::kAdded) {
        EXPECT_EQ(replayed.count(e.key), 0u) << e.key;
      } else {
        EXPECT_EQ(replayed[e.key], e.prevValue) << e.key;
      }
      replayed[e.key] = e.value;
    }
  }
  auto list = client.list("/mp/");
  ASSERT_TRUE(list.isOk());
  std::map<std::string, std::string> stored;
  for (const auto& kv : list->items) stored[kv.key] = kv.value;
  EXPECT_EQ(stored, expected);
  EXPECT_EQ(replayed, expected);
}

}  // namespace
}  // namespace brindle::datastore
