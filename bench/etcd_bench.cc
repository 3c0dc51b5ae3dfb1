// bench_etcd: puts/s and gets/s through Brindle's etcd client next to etcdctl doing the same work
// against the same throw-away etcd, printed as ratios; and a watch delivering 10,000 updates.
//
// What the ratios compare: etcdctl is one process per command, so "per command" figures are what a
// shell script driving etcdctl gets (process start, connection, one request) against our client
// keeping one connection. The "batched" figures put the same 100 keys into one transaction (one
// etcdctl process reading the txn from stdin vs one Txn RPC of ours) and read a prefix in one
// command (etcdctl get --prefix vs our paginated list()), so the process start is spread over
// many keys and the comparison is closer to request cost.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "datastore/etcd/etcd_client.h"
#include "testutil/etcd_server.h"

namespace {

using brindle::datastore::EventType;
using brindle::datastore::TxnOp;
using brindle::datastore::etcd::EtcdClient;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "bench_etcd: %s failed\n", what.c_str());
    std::exit(1);
  }
}

std::string value(int i) { return std::string(200 - 8, 'v') + std::to_string(10000000 + i); }

// Runs a shell script and returns its wall time in seconds.
double timeShell(const std::string& script) {
  auto t0 = Clock::now();
  int rc = std::system(("bash -c '" + script + "' >/dev/null 2>&1").c_str());
  check(rc == 0, "shell: " + script.substr(0, 60));
  return secondsSince(t0);
}

}  // namespace

int main() {
  brindle::testutil::EtcdCluster etcd(1);
  const std::string ep = etcd.endpoint(0);
  const std::string ctl = "ETCDCTL_API=3 etcdctl --endpoints=" + ep;
  brindle::datastore::etcd::EtcdOptions options;
  options.endpoints = {ep};
  auto opened = brindle::datastore::etcd::openEtcdClient(options);
  check(opened.isOk(), "open");
  EtcdClient& client = **opened;
  std::printf("bench_etcd: one etcd 3.4 member on loopback (%s), 200-byte values, fsync on\n\n",
              ep.c_str());

  // --- per command: sequential single-key puts and gets.
  const int kOurs = 2000;
  auto t0 = Clock::now();
  for (int i = 0; i < kOurs; ++i) {
    check(client.txn({{TxnOp::Type::kPut, "/bench/our/" + std::to_string(i), value(i)}}).isOk(),
          "put");
  }
  const double ourPuts = kOurs / secondsSince(t0);
  t0 = Clock::now();
  for (int i = 0; i < kOurs; ++i) {
    check(client.get("/bench/our/" + std::to_string(i)).isOk(), "get");
  }
  const double ourGets = kOurs / secondsSince(t0);

  const int kCtl = 100;
  const std::string v = value(0);
  double s = timeShell("for i in $(seq 1 " + std::to_string(kCtl) + "); do " + ctl +
                       " put /bench/ctl/$i " + v + " || exit 1; done");
  const double ctlPuts = kCtl / s;
  s = timeShell("for i in $(seq 1 " + std::to_string(kCtl) + "); do " + ctl +
                " get /bench/ctl/$i || exit 1; done");
  const double ctlGets = kCtl / s;

  std::printf("%-44s %12s %12s %8s\n", "per command (one key each)", "brindle/s", "etcdctl/s",
              "ratio");
  std::printf("%-44s %12.0f %12.0f %7.1fx\n", "puts (our Txn RPC vs `etcdctl put` process)",
              ourPuts, ctlPuts, ourPuts / ctlPuts);
  std::printf("%-44s %12.0f %12.0f %7.1fx\n", "gets (our Range RPC vs `etcdctl get` process)",
              ourGets, ctlGets, ourGets / ctlGets);

  // --- batched: 100 keys per transaction, and a 2,000-key prefix read.
  const int kBatches = 20, kPerTxn = 100;
  t0 = Clock::now();
  for (int b = 0; b < kBatches; ++b) {
    std::vector<TxnOp> ops;
    for (int k = 0; k < kPerTxn; ++k) {
      ops.push_back(
          {TxnOp::Type::kPut, "/bench/ourtxn/" + std::to_string(b) + "/" + std::to_string(k), v});
    }
    check(client.txn(ops).isOk(), "txn");
  }
  const double ourTxnKeys = kBatches * kPerTxn / secondsSince(t0);
  std::string txnInput = "\\n";
  for (int k = 0; k < kPerTxn; ++k)
    txnInput += "put /bench/ctltxn/$b/" + std::to_string(k) + " " + v + "\\n";
  txnInput += "\\n\\n";
  s = timeShell("for b in $(seq 1 " + std::to_string(kBatches) + "); do printf \"" + txnInput +
                "\" | " + ctl + " txn || exit 1; done");
  const double ctlTxnKeys = kBatches * kPerTxn / s;

  const int kLists = 10;
  t0 = Clock::now();
  size_t listed = 0;
  for (int i = 0; i < kLists; ++i) {
    auto list = client.list("/bench/our/");
    check(list.isOk(), "list");
    listed = list->items.size();
  }
  const double ourListKeys = kLists * static_cast<double>(listed) / secondsSince(t0);
  s = timeShell("for i in $(seq 1 " + std::to_string(kLists) + "); do " + ctl +
                " get --prefix /bench/our/ || exit 1; done");
  const double ctlListKeys = kLists * static_cast<double>(listed) / s;

  std::printf("\n%-44s %12s %12s %8s\n", "batched (keys per second)", "brindle/s", "etcdctl/s",
              "ratio");
  std::printf("%-44s %12.0f %12.0f %7.1fx\n", "puts, 100 per txn (Txn RPC vs `etcdctl txn`)",
              ourTxnKeys, ctlTxnKeys, ourTxnKeys / ctlTxnKeys);
  std::printf("%-44s %12.0f %12.0f %7.1fx\n",
              ("gets, prefix of " + std::to_string(listed) + " (list vs get --prefix)").c_str(),
              ourListKeys, ctlListKeys, ourListKeys / ctlListKeys);

  // --- watch: 10,000 updates, delivered from history and live.
  const int kUpdates = 10000;
  auto startRev = client.currentRevision();
  check(startRev.isOk(), "revision");
  for (int b = 0; b < kUpdates / kPerTxn; ++b) {
    std::vector<TxnOp> ops;
    for (int k = 0; k < kPerTxn; ++k) {
      ops.push_back({TxnOp::Type::kPut, "/bench/watch/" + std::to_string(k), value(b)});
    }
    check(client.txn(ops).isOk(), "watch txn");
  }
  auto watcher = client.watch("/bench/watch/", *startRev);
  check(watcher.isOk(), "watch");
  t0 = Clock::now();
  size_t got = 0;
  while (got < static_cast<size_t>(kUpdates) && secondsSince(t0) < 30) {
    auto batch = (*watcher)->next(std::chrono::milliseconds(500));
    check(batch.isOk(), "watch next");
    got += batch->size();
  }
  check(got == static_cast<size_t>(kUpdates), "all backlog events");
  const double backlog = secondsSince(t0);

  // Live: the stream is open first, then a writer puts 10,000 single keys.
  auto live = client.watch("/bench/live/", *client.currentRevision());
  check(live.isOk(), "live watch");
  check((*live)->next(std::chrono::milliseconds(50)).isOk(), "live open");
  Clock::time_point writesDone;
  t0 = Clock::now();
  std::thread writer([&] {
    auto w = brindle::datastore::etcd::openEtcdClient(options);
    check(w.isOk(), "writer");
    for (int i = 0; i < kUpdates; ++i) {
      check((*w)->txn({{TxnOp::Type::kPut, "/bench/live/" + std::to_string(i % 100), v}}).isOk(),
            "live put");
    }
    writesDone = Clock::now();
  });
  got = 0;
  while (got < static_cast<size_t>(kUpdates) && secondsSince(t0) < 40) {
    auto batch = (*live)->next(std::chrono::milliseconds(500));
    check(batch.isOk(), "live next");
    for (const auto& e : *batch) got += e.type == EventType::kDeleted ? 0 : 1;
  }
  const auto allEvents = Clock::now();
  const double liveTotal = secondsSince(t0);
  writer.join();
  check(got == static_cast<size_t>(kUpdates), "all live events");
  const double lagMs =
      std::max(0.0, std::chrono::duration<double, std::milli>(allEvents - writesDone).count());

  std::printf("\nwatch, 10,000 updates\n");
  std::printf("  from history (100 txns of 100 keys written first): %.3f s (%.0f events/s)\n",
              backlog, kUpdates / backlog);
  std::printf(
      "  live (10,000 single puts by another client):     %.3f s (%.0f events/s); the "
      "last event arrived %.1f ms after the last write returned\n",
      liveTotal, kUpdates / liveTotal, lagMs);
  return 0;
}
