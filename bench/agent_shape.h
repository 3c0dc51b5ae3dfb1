// The agent benchmarks' cluster (issue: 10,000 endpoints over 20 nodes, 500 on node0, 100 apps,
// 1,000 policies of 3 ingress rules naming other apps and an egress allow), shared by
// bench_agent, bench_calc and bench_explain so all measure the same thing. Shape::scaled(k)
// multiplies it for bench_agent's growth runs: 10,000k endpoints (500k on node0) and 100k apps of
// 10 policies (1,000k), so each endpoint is still selected by 10 policies, each app still has 100
// endpoints and each selector set 100 members; only the number of each grows.
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/resource.h"
#include "resources/resource_store.h"

namespace brindle::bench {

struct Shape {
  int endpoints = 10000;
  int nodes = 20;
  int apps = 100;
  int policiesPerApp = 10;

  static Shape scaled(int k) {
    Shape s;
    s.endpoints *= k;
    s.apps *= k;
    return s;
  }
  int perNode() const { return endpoints / nodes; }  // local endpoints on node0
  int policies() const { return apps * policiesPerApp; }

  // Endpoint i's address and host-side interface: valid for i < 65,535 (4x is 40,000).
  static std::string ipOf(int i) {
    return "10.64." + std::to_string((i + 1) / 256) + "." + std::to_string((i + 1) % 256);
  }
  static std::string ifaceOf(int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "calib%05d", i);
    return buf;
  }

  // Endpoint i: on node i / perNode(), app i % apps.
  model::Resource endpoint(int i) const {
    model::Resource r;
    r.kind = model::Kind::kWorkloadEndpoint;
    std::string node = "node" + std::to_string(i / perNode());
    r.metadata = {{"name", node + "-k8s-w" + std::to_string(i) + "-eth0"},
                  {"namespace", "default"},
                  {"labels", {{"app", "app" + std::to_string(i % apps)}}}};
    r.spec = {{"orchestrator", "k8s"},
              {"node", node},
              {"workload", "w" + std::to_string(i)},
              {"endpoint", "eth0"},
              {"interfaceName", ifaceOf(i)},
              {"ipNetworks", {ipOf(i) + "/32"}}};
    return r;
  }

  // Policy k of `app`: selects the app; admits TCP to a few ports from three other apps.
  model::Resource policy(int app, int k) const {
    model::Resource r;
    r.kind = model::Kind::kGlobalNetworkPolicy;
    r.metadata = {{"name", "app" + std::to_string(app) + "-p" + std::to_string(k)}};
    model::Json ingress = model::Json::array();
    for (int rule = 0; rule < 3; ++rule) {
      int from = (app + 1 + 3 * k + rule) % apps;
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
  void write(resources::ResourceStore& store) const {
    std::vector<model::Resource> batch;
    auto flush = [&] {
      auto w = store.write(resources::WriteMode::kCreate, batch);
      if (!w) throw std::runtime_error("store write: " + w.message());
      batch.clear();
    };
    for (int app = 0; app < apps; ++app) {
      for (int k = 0; k < policiesPerApp; ++k) batch.push_back(policy(app, k));
      flush();
    }
    for (int i = 0; i < endpoints; ++i) {
      batch.push_back(endpoint(i));
      if (batch.size() == 500) flush();
    }
    if (!batch.empty()) flush();
  }
};

}  // namespace brindle::bench
