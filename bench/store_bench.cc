// bench_store: figures for the embedded SQLite datastore (writes, reads, list, watch delivery)
// on a fresh store in a temp directory. Prints one line per figure; runs in a few seconds.
#include <fmt/format.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "datastore/local/local_store.h"

namespace {

using brindle::datastore::ClientPtr;
using brindle::datastore::openLocalStore;
using brindle::datastore::TxnOp;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

[[noreturn]] void die(const std::string& what) {
  fmt::print(stderr, "bench_store: {}\n", what);
  std::exit(1);
}

template <typename R>
void check(const R& r, const char* what) {
  if (!r.isOk()) die(fmt::format("{}: {}", what, r.message()));
}

ClientPtr open(const std::string& path) {
  auto client = openLocalStore(path);
  check(client, "open");
  return std::move(client).value();
}

std::string key(std::string_view folder, int i) {
  return fmt::format("/calico/resources/v3/projectcalico.org/{}/ns-{:03d}/pod-{:06d}", folder,
                     i % 100, i);
}

const std::string kValue(200, 'v');  // about the size of a small resource's JSON

}  // namespace

int main() {
  char pattern[] = "/tmp/brindle-bench-store-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) die("mkdtemp failed");
  const std::string dir = pattern;
  const std::string path = dir + "/store.db";
  ClientPtr client = open(path);
  fmt::print("bench_store: SQLite {}, store {}, values {} bytes\n", sqlite3_libversion(), path,
             kValue.size());

  // Creates, one per transaction (each a commit: WAL, synchronous=NORMAL).
  constexpr int kSingle = 3000;
  auto t0 = Clock::now();
  for (int i = 0; i < kSingle; ++i) check(client->create(key("single", i), kValue), "create");
  double singleRate = kSingle / secondsSince(t0);
  fmt::print("creates, 1 per txn:        {:>10.0f} /s\n", singleRate);

  // Creates batched 1000 per transaction.
  constexpr int kBatches = 20;
  constexpr int kBatch = 1000;
  double batchedSeconds = 0;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<TxnOp> ops;
    ops.reserve(kBatch);
    for (int i = 0; i < kBatch; ++i) {
      ops.push_back({TxnOp::Type::kCreate, key("pods", b * kBatch + i), kValue});
    }
    auto tb = Clock::now();
    check(client->txn(ops), "txn");
    batchedSeconds += secondsSince(tb);
  }
  double batchedRate = kBatches * kBatch / batchedSeconds;
  fmt::print("creates, 1000 per txn:     {:>10.0f} /s  ({:.0f}x one per txn)\n", batchedRate,
             batchedRate / singleRate);

  // Point reads of random existing keys.
  constexpr int kGets = 100000;
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> pick(0, kBatches * kBatch - 1);
  std::vector<std::string> keys;
  keys.reserve(kGets);
  for (int i = 0; i < kGets; ++i) keys.push_back(key("pods", pick(rng)));
  t0 = Clock::now();
  for (const auto& k : keys) check(client->get(k), "get");
  fmt::print("gets:                      {:>10.0f} /s\n", kGets / secondsSince(t0));

  // List 10,000 keys out of a store holding twice that (plus the single-create keys).
  {
    std::vector<TxnOp> ops;
    for (int i = 0; i < 10000; ++i) ops.push_back({TxnOp::Type::kCreate, key("wep", i), kValue});
    check(client->txn(ops), "txn");
  }
  std::vector<double> listMs;
  for (int i = 0; i < 7; ++i) {
    auto tl = Clock::now();
    auto list = client->list("/calico/resources/v3/projectcalico.org/wep/");
    listMs.push_back(secondsSince(tl) * 1000);
    check(list, "list");
    if (list->items.size() != 10000) die("list returned the wrong number of keys");
  }
  std::sort(listMs.begin(), listMs.end());
  fmt::print("list of 10,000 keys:       {:>10.1f} ms (median of 7)\n", listMs[3]);

  // Watch delivery: a writer thread (its own client) makes 10,000 updates while this thread's
  // watcher receives them; the same writes alone give the writer's share of the time.
  constexpr int kUpdates = 10000;
  const std::string watched = "/calico/resources/v3/projectcalico.org/wep/";
  auto writeUpdates = [&](int round) {
    ClientPtr writer = open(path);
    for (int i = 0; i < kUpdates; ++i) {
      check(writer->update(key("wep", i), fmt::format("round {} {}", round, kValue), 0), "update");
    }
  };
  t0 = Clock::now();
  writeUpdates(0);
  double writeAlone = secondsSince(t0);
  auto start = client->currentRevision();
  check(start, "revision");
  auto opened = client->watch(watched, *start);
  check(opened, "watch");
  brindle::datastore::WatcherPtr watcher = std::move(opened).value();
  t0 = Clock::now();
  std::thread writer(writeUpdates, 1);
  size_t seen = 0;
  int64_t last = *start;
  while (seen < kUpdates) {
    auto events = watcher->next(std::chrono::seconds(5));
    check(events, "watch next");
    if (events->empty()) die("watch: no events for 5 s");
    for (const auto& e : *events) {
      if (e.revision <= last) die("watch: revisions out of order");
      last = e.revision;
    }
    seen += events->size();
  }
  double watchSeconds = secondsSince(t0);
  writer.join();
  fmt::print(
      "watch 10,000 updates:      {:>10.0f} ms until all delivered (writer alone: {:.0f} ms; "
      "{:.0f} events/s)\n",
      watchSeconds * 1000, writeAlone * 1000, kUpdates / watchSeconds);

  // Latency of one change: write, then wait for the watcher (default 2 ms polling).
  constexpr int kPings = 200;
  std::vector<double> latencyMs;
  ClientPtr pinger = open(path);
  for (int i = 0; i < kPings; ++i) {
    auto tw = Clock::now();
    std::thread ping(
        [&] { check(pinger->update(key("wep", 0), fmt::format("ping {}", i), 0), "ping"); });
    auto events = watcher->next(std::chrono::seconds(5));
    ping.join();
    check(events, "watch next");
    latencyMs.push_back(secondsSince(tw) * 1000);
  }
  std::sort(latencyMs.begin(), latencyMs.end());
  fmt::print("watch latency, 1 change:   {:>10.2f} ms median, {:.2f} ms p99 (write included)\n",
             latencyMs[kPings / 2], latencyMs[kPings * 99 / 100]);

  client.reset();
  pinger.reset();
  watcher.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}
