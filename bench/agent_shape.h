// The agent benchmarks' cluster (issue: 10,000 endpoints over 20 nodes, 500 on node0, 100 apps,
// 1,000 policies of 3 ingress rules naming other apps and an egress allow), shared by
// bench_agent and bench_calc so both measure the same thing.
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/resource.h"
#include "resources/resource_store.h"

namespace brindle::bench {

constexpr int kEndpoints = 10000;
constexpr int kNodes = 20;
constexpr int kPerNode = kEndpoints / kNodes;  // 500 local endpoints on node0
constexpr int kApps = 100;
constexpr int kPoliciesPerApp = 10;

inline std::string ipOf(int i) {
  return "10.64." + std::to_string((i + 1) / 256) + "." + std::to_string((i + 1) % 256);
}

inline std::string ifaceOf(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "calib%05d", i);
  return buf;
}

// Endpoint i: on node i / kPerNode, app i % kApps.
inline model::Resource endpoint(int i) {
  model::Resource r;
  r.kind = model::Kind::kWorkloadEndpoint;
  std::string node = "node" + std::to_string(i / kPerNode);
  r.metadata = {{"name", node + "-k8s-w" + std::to_string(i) + "-eth0"},
                {"namespace", "default"},
                {"labels", {{"app", "app" + std::to_string(i % kApps)}}}};
  r.spec = {{"orchestrator", "k8s"},
            {"node", node},
            {"workload", "w" + std::to_string(i)},
            {"endpoint", "eth0"},
            {"interfaceName", ifaceOf(i)},
            {"ipNetworks", {ipOf(i) + "/32"}}};
  return r;
}

// Policy k of `app`: selects the app; admits TCP to a few ports from three other apps.
inline model::Resource policy(int app, int k) {
  model::Resource r;
  r.kind = model::Kind::kGlobalNetworkPolicy;
  r.metadata = {{"name", "app" + std::to_string(app) + "-p" + std::to_string(k)}};
  model::Json ingress = model::Json::array();
  for (int rule = 0; rule < 3; ++rule) {
    int from = (app + 1 + 3 * k + rule) % kApps;
    ingress.push_back({{"action", "Allow"},
                       {"protocol", "TCP"},
                       {"source", {{"selector", "app == 'app" + std::to_string(from) + "'"}}},
                       {"destination", {{"ports", {80, 443, 5201, "8000:8100"}}}}});
  }
  r.spec = {{"order", 100 + k},
            {"selector", "app == 'app" + std::to_string(app) + "'"},
            {"types", {"Ingress", "Egress"}},
            {"ingress", ingress},
            {"egress", {{{"action", "Allow"}}}}};
  return r;
}

// Writes the whole cluster into `store`: the policies, then the endpoints in batches of 500.
inline void writeShape(resources::ResourceStore& store) {
  std::vector<model::Resource> batch;
  auto flush = [&] {
    auto w = store.write(resources::WriteMode::kCreate, batch);
    if (!w) throw std::runtime_error("store write: " + w.message());
    batch.clear();
  };
  for (int app = 0; app < kApps; ++app) {
    for (int k = 0; k < kPoliciesPerApp; ++k) batch.push_back(policy(app, k));
    flush();
  }
  for (int i = 0; i < kEndpoints; ++i) {
    batch.push_back(endpoint(i));
    if (batch.size() == 500) flush();
  }
  if (!batch.empty()) flush();
}

}  // namespace brindle::bench
