// explain at the agent benchmark's scale (bench/agent_shape.h: 10,000 endpoints over 20 nodes,
// 1,000 policies): the model's answer (target < 100 ms) and the kernel walk from a dump of
// node0's rendered ruleset (target < 1 s, reading the dump included). Prints its figures.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "agent_shape.h"
#include "calc/calc_graph.h"
#include "explain/live_path.h"
#include "explain/model_path.h"
#include "rules/ruleset.h"

using namespace brindle;
using Clock = std::chrono::steady_clock;

namespace {

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

int main() {
  const bench::Shape shape;
  std::vector<model::Resource> resources;
  for (int app = 0; app < shape.apps; ++app) {
    for (int k = 0; k < shape.policiesPerApp; ++k) resources.push_back(shape.policy(app, k));
  }
  for (int i = 0; i < shape.endpoints; ++i) resources.push_back(shape.endpoint(i));

  auto start = Clock::now();
  const explain::Cluster cluster = explain::Cluster::load(resources);
  std::printf("load: %zu endpoints, %zu policies read in %.1f ms\n", cluster.endpoints.size(),
              cluster.policies.size(), msSince(start));

  // node0's kernel state as its agent writes it, saved as a dump.
  start = Clock::now();
  calc::DataplaneState state;
  calc::CalcGraph graph("node0", state);
  for (const auto& r : resources) {
    graph.onUpdate(calc::Update{calc::UpdateType::kAdded, r.key(), r, {}});
  }
  graph.onInSync();
  rules::RendererConfig config;
  const auto dir = std::filesystem::temp_directory_path() / "brindle-explain-bench";
  std::filesystem::create_directories(dir / "node0");
  std::ofstream(dir / "node0" / "iptables-save.txt") << rules::renderRulesetRestore(
      rules::renderRuleset(state, dataplane::IpVersion::kV4, config), config);
  std::ofstream(dir / "node0" / "ipset.txt")
      << rules::renderIpSetsRestore(state, dataplane::IpVersion::kV4);
  std::printf("dump of node0 (calculation and render, not part of explain): %.0f ms\n",
              msSince(start));

  // Probes between node0's endpoints (0..499): app1 -> app0 is admitted by app0's first policy;
  // app50 -> app0 is tried against all ten policies of app0 and denied at the end of the tier.
  struct Probe {
    int from, to;
    const char* proto;
  };
  const Probe probes[] = {{1, 0, "tcp/80"},   {50, 0, "tcp/80"}, {201, 100, "tcp/8050"},
                          {2, 100, "udp/53"}, {7, 300, "icmp"},  {499, 400, "tcp/443"}};
  double modelMax = 0, liveMax = 0;
  int mismatches = 0;
  for (const auto& p : probes) {
    auto from = explain::resolvePeer(cluster, bench::Shape::ipOf(p.from));
    auto to = explain::resolvePeer(cluster, bench::Shape::ipOf(p.to));
    auto packet = explain::parsePacket(p.proto);
    if (!from || !to || !packet) {
      std::fprintf(stderr, "bad probe\n");
      return 1;
    }
    start = Clock::now();
    const explain::ModelPath path = explain::explainModel(cluster, *from, *to, *packet);
    const double modelMs = msSince(start);
    start = Clock::now();
    auto live = explain::explainLive(path, [&](const std::string& node, bool v6) {
      return explain::KernelState::fromDump(dir.string(), node, v6);
    });
    const double liveMs = msSince(start);
    if (!live) {
      std::fprintf(stderr, "live: %s\n", live.message().c_str());
      return 1;
    }
    mismatches += static_cast<int>(live->mismatches.size()) + live->cannotEvaluate;
    modelMax = std::max(modelMax, modelMs);
    liveMax = std::max(liveMax, liveMs);
    std::printf("%5d -> %5d %-8s model %s in %6.2f ms; --live %s in %6.1f ms\n", p.from, p.to,
                p.proto, path.allowed ? "allowed" : "denied ", modelMs,
                live->allowed ? "allowed" : "denied ", liveMs);
  }
  std::filesystem::remove_all(dir);
  std::printf("max: model %.2f ms (target < 100), --live %.1f ms (target < 1000); %d mismatches\n",
              modelMax, liveMax, mismatches);
  return modelMax < 100 && liveMax < 1000 && mismatches == 0 ? 0 : 1;
}
