// Eight brindlectl processes applying and deleting their own resources at the same time leave a
// consistent store, and a watch opened before them sees every change exactly once, in order.
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "cli_fixture.h"

namespace brindle::cli {
namespace {

constexpr int kProcesses = 8;
constexpr int kRounds = 3;
constexpr int kProfiles = 25;  // per process
constexpr int kDeleted = 10;   // of them deleted again each round

std::string profiles(int proc, int count, int round) {
  std::string out;
  for (int k = 0; k < count; ++k) {
    out += "---\napiVersion: projectcalico.org/v3\nkind: Profile\nmetadata:\n  name: p-" +
           std::to_string(proc) + "-" + std::to_string(k) + "\nspec:\n  labelsToApply:\n" +
           "    round: \"" + std::to_string(round) + "\"\n";
  }
  return out;
}

class ConcurrencyTest : public CliFixture {};

TEST_F(ConcurrencyTest, EightWritersOneWatcher) {
  datastore::ClientPtr client = openStore();
  ASSERT_TRUE(client);
  const int64_t start = *client->currentRevision();
  auto watcher = client->watch("/calico/resources/v3/projectcalico.org/profiles/", start);
  ASSERT_TRUE(watcher.isOk());

  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    std::vector<std::string> files;
    for (int r = 0; r < kRounds; ++r) {
      files.push_back(dir_.write("apply-" + std::to_string(p) + "-" + std::to_string(r) + ".yaml",
                                 profiles(p, kProfiles, r)));
    }
    const std::string del = dir_.write("delete-" + std::to_string(p) + ".yaml",
                                       profiles(p, kDeleted, 0));
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Child: the real binary, one command at a time, as a user's scripts would run it.
      for (int r = 0; r < kRounds; ++r) {
        for (const std::string& cmd :
             {std::string("apply -f ") + files[r], "delete --skip-not-exists -f " + del}) {
          std::string line = std::string(BRINDLECTL_BINARY) + " --config " + config_ + " " + cmd +
                             " >/dev/null";
          if (std::system(line.c_str()) != 0) _exit(1);
        }
      }
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }

  // Each round: (re)creates or updates 25, deletes 10 => 35 events per round per process.
  const size_t expectedEvents = size_t(kProcesses) * kRounds * (kProfiles + kDeleted);
  std::vector<datastore::WatchEvent> events;
  for (int i = 0; i < 200 && events.size() < expectedEvents; ++i) {
    auto batch = (*watcher)->next(std::chrono::milliseconds(50));
    ASSERT_TRUE(batch.isOk()) << batch.message();
    events.insert(events.end(), batch->begin(), batch->end());
  }
  auto extra = (*watcher)->next(std::chrono::milliseconds(100));
  ASSERT_TRUE(extra.isOk());
  EXPECT_TRUE(extra->empty()) << "more events than changes made";
  ASSERT_EQ(events.size(), expectedEvents);

  // In order; per key a valid life: add, then updates, delete, add again ...
  std::map<std::string, bool> live;
  std::map<std::string, int64_t> lastRevision;
  int64_t previous = start;
  for (const auto& e : events) {
    EXPECT_GE(e.revision, previous);
    previous = e.revision;
    EXPECT_GT(e.revision, lastRevision[e.key]) << e.key << " changed twice in one revision";
    lastRevision[e.key] = e.revision;
    const bool wasLive = live[e.key];
    switch (e.type) {
      case datastore::EventType::kAdded: EXPECT_FALSE(wasLive) << e.key; live[e.key] = true; break;
      case datastore::EventType::kUpdated: EXPECT_TRUE(wasLive) << e.key; break;
      case datastore::EventType::kDeleted: EXPECT_TRUE(wasLive) << e.key; live[e.key] = false; break;
    }
  }
  // The store agrees with the replayed events and with what the writers meant.
  auto listed = client->list("/calico/resources/v3/projectcalico.org/profiles/");
  ASSERT_TRUE(listed.isOk());
  EXPECT_EQ(listed->items.size(), size_t(kProcesses) * (kProfiles - kDeleted));
  for (const auto& kv : listed->items) {
    EXPECT_TRUE(live[kv.key]) << kv.key;
    EXPECT_NE(kv.value.find("\"round\":\"2\""), std::string::npos) << kv.value;
  }
  size_t liveCount = 0;
  for (const auto& [key, isLive] : live) liveCount += isLive;
  EXPECT_EQ(liveCount, listed->items.size());
}

}  // namespace
}  // namespace brindle::cli
