// bench_calc: the agent's cold start at bench_agent's shape (10,000 endpoints over 20 nodes, 100
// apps, 1,000 policies), calc only: syncer + calculation graph + DataplaneState, time and RSS.
// Usage: bench_calc [runs]. Not a test; mirrors `bench_agent --memory` without the dataplane.
#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "agent_shape.h"
#include "calc/calc_graph.h"
#include "calc/dataplane_state.h"
#include "calc/syncer.h"
#include "datastore/local/local_store.h"
#include "resources/resource_store.h"

using namespace brindle;
using namespace brindle::bench;
using Clock = std::chrono::steady_clock;

namespace {

double heapBytes() { return static_cast<double>(::mallinfo2().uordblks); }

double cpuMs() {
  timespec ts;
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

long rssKb() {
  ::malloc_trim(0);
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

struct Feed : calc::SyncerCallbacks {
  explicit Feed(calc::CalcGraph* g) : graph(g) {}
  void onUpdates(const std::vector<calc::Update>& updates) override {
    if (graph) {
      auto t = Clock::now();
      for (const auto& u : updates) graph->onUpdate(u);
      graphMs += msSince(t);
    }
  }
  void onInSync() override {
    auto t = Clock::now();
    if (graph) graph->onInSync();
    graphMs += msSince(t);
  }
  calc::CalcGraph* graph;
  double graphMs = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 3;
  char tmpl[] = "/tmp/calc-bench-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  // The store goes with the run, whichever way it ends.
  struct RemoveDir {
    std::string path;
    ~RemoveDir() { std::filesystem::remove_all(path); }
  } cleanup{dir};
  std::string path = dir + "/store.db";
  try {
    auto client = datastore::openLocalStore(path);
    if (!client) return 1;
    resources::ResourceStore store(**client);
    Shape{}.write(store);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_calc: %s\n", e.what());
    return 1;
  }
  auto client = datastore::openLocalStore(path);
  if (!client) return 1;
  for (int run = 0; run < runs; ++run) {
    {
      double heap0 = heapBytes();
      auto t = Clock::now();
      double c = cpuMs();
      Feed none(nullptr);
      calc::Syncer syncer(**client, none);
      (void)syncer.start();
      std::printf("syncer alone (list + decode): %.0f ms (cpu %.0f), heap %.1f MB; ", msSince(t),
                  cpuMs() - c, (heapBytes() - heap0) / 1048576.0);
    }
    long base = rssKb();
    double heap0 = heapBytes();
    auto t = Clock::now();
    double c = cpuMs();
    calc::DataplaneState state;
    calc::CalcGraph graph("node0", state);
    Feed feed(&graph);
    calc::Syncer syncer(**client, feed);
    (void)syncer.start();
    double ms = msSince(t);
    double cpu = cpuMs() - c;
    double heap = heapBytes() - heap0;
    double stateHeap;
    {
      double h = heapBytes();
      calc::DataplaneState copy = state;
      stateHeap = heapBytes() - h;
    }
    std::printf("graph %.0f ms; heap: all %.1f MB, output state %.1f MB\n", feed.graphMs,
                heap / 1048576.0, stateHeap / 1048576.0);
    std::printf(
        "syncer + calculation graph + its output state: %.1f MB (%.0f ms, cpu %.0f) [%zu "
        "sets, %zu policies, %zu workloads]\n",
        (rssKb() - base) / 1024.0, ms, cpu, state.ipSets.size(), state.policies.size(),
        state.workloads.size());
  }
  return 0;
}
