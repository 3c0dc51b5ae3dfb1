// Resource-layer benchmark: 10,000 workloadEndpoints decoded, applied and listed through the
// embedded store, with brindlectl end to end, side by side with the raw key/value store doing
// the same writes (the ratio is the cost of decoding, validation and bookkeeping).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/app.h"
#include "datastore/local/local_store.h"
#include "model/codec.h"
#include "resources/resource_store.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kEndpoints = 10000;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string endpointsYaml() {
  std::ostringstream y;
  for (int i = 0; i < kEndpoints; ++i) {
    const int node = i % 20;
    y << "---\napiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\nmetadata:\n"
      << "  name: node" << node << "-k8s-pod" << i << "-eth0\n  namespace: default\n"
      << "  labels:\n    app: app" << (i % 100) << "\n    projectcalico.org/namespace: default\n"
      << "spec:\n  node: node" << node << "\n  orchestrator: k8s\n  pod: pod" << i
      << "\n  endpoint: eth0\n  interfaceName: cali" << std::hex << (0x10000000 + i) << std::dec
      << "\n  ipNetworks:\n  - 10." << (i >> 16) << "." << ((i >> 8) & 255) << "." << (i & 255)
      << "/32\n  profiles:\n  - kns.default\n";
  }
  return y.str();
}

struct TempDir {
  std::string path;
  TempDir() {
    char p[] = "/tmp/brindle-bench-XXXXXX";
    path = mkdtemp(p);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

int runCli(const std::vector<std::string>& args, std::ostream& out) {
  std::istringstream in;
  std::ostringstream err;
  brindle::cli::Io io{in, out, err, {}};
  int code = brindle::cli::runBrindlectl(args, io);
  if (code != 0) std::fprintf(stderr, "brindlectl failed: %s\n", err.str().c_str());
  return code;
}

}  // namespace

int main() {
  using namespace brindle;
  const std::string yaml = endpointsYaml();

  auto t = Clock::now();
  auto decoded = model::decodeResources(yaml, "bench.yaml");
  const double decodeMs = msSince(t);
  if (!decoded) {
    std::fprintf(stderr, "decode failed: %s\n", decoded.message().c_str());
    return 1;
  }

  TempDir dir;
  auto client = datastore::openLocalStore(dir.path + "/resources.db");
  resources::ResourceStore store(**client);
  t = Clock::now();
  auto written = store.write(resources::WriteMode::kApply, decoded->resources);
  const double applyMs = msSince(t);
  if (!written) {
    std::fprintf(stderr, "apply failed: %s\n", written.message().c_str());
    return 1;
  }
  t = Clock::now();
  auto listed = store.list(model::Kind::kWorkloadEndpoint);
  const double listMs = msSince(t);

  // The raw store doing the same writes in one transaction, and the same list.
  auto raw = datastore::openLocalStore(dir.path + "/raw.db");
  std::vector<datastore::TxnOp> ops;
  for (const auto& r : decoded->resources) {
    ops.push_back({datastore::TxnOp::Type::kCreate, r.key(), resources::encodeForStore(r), 0});
  }
  t = Clock::now();
  auto rawTxn = (*raw)->txn(ops);
  const double rawPutMs = msSince(t);
  t = Clock::now();
  auto rawList = (*raw)->list(model::kindPrefix(model::Kind::kWorkloadEndpoint));
  const double rawListMs = msSince(t);

  // brindlectl end to end: a file of 10,000 endpoints applied, then the wide table.
  const std::string file = dir.path + "/endpoints.yaml";
  {
    std::ofstream(file) << yaml;
  }
  const std::string cfg = dir.path + "/brindlectl.cfg";
  std::ofstream(cfg) << "kind: CalicoAPIConfig\nspec:\n  storePath: " << dir.path << "/cli.db\n";
  std::ostringstream sink;
  t = Clock::now();
  if (runCli({"--config", cfg, "apply", "-f", file}, sink) != 0) return 1;
  const double cliApplyMs = msSince(t);
  std::ostringstream table;
  t = Clock::now();
  if (runCli({"--config", cfg, "get", "workloadEndpoints", "-o", "wide"}, table) != 0) return 1;
  const double cliGetMs = msSince(t);

  std::printf("resources: %d workloadEndpoints (%zu stored, %zu listed, %zu raw)\n", kEndpoints,
              written->written.size(), listed ? listed->size() : 0,
              rawList ? rawList->items.size() : 0);
  std::printf("decode+validate YAML:            %8.1f ms  (%.0f resources/s)\n", decodeMs,
              kEndpoints / decodeMs * 1000);
  std::printf("apply (one transaction):         %8.1f ms  raw store same writes %7.1f ms  "
              "ratio %.2f\n",
              applyMs, rawPutMs, applyMs / rawPutMs);
  std::printf("list:                            %8.1f ms  raw store list        %7.1f ms  "
              "ratio %.2f\n",
              listMs, rawListMs, listMs / rawListMs);
  std::printf("brindlectl apply -f (10k):       %8.1f ms\n", cliApplyMs);
  std::printf("brindlectl get wep -o wide (10k):%8.1f ms  (%zu bytes of table)\n", cliGetMs,
              table.str().size());
  return rawTxn.isOk() ? 0 : 1;
}
