// routes: every device of a topology lab with its Established BGP sessions and the BGP routes
// in its kernel, beside the planner's prediction for the same shape (-1: the planner has no
// such device, or the device did not answer).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "lab/commands.h"
#include "lab/devices.h"
#include "lab/workloads.h"
#include "plan/plan.h"

namespace brindle::lab {
namespace {

// The planner's view of the lab: its shape and the workloads per node (the planner assumes the
// same number on every node; with different numbers the largest is planned, and said).
Result<plan::Plan> predict(const Lab& lab, const Layout& layout) {
  std::map<std::string, int> perNode;
  for (const auto& n : lab.state().nodes) perNode[n.name] = 0;
  for (const auto& w : lab.state().workloads) ++perNode[w.node];
  int most = 0, least = perNode.empty() ? 0 : perNode.begin()->second;
  for (const auto& [node, count] : perNode) {
    most = std::max(most, count);
    least = std::min(least, count);
  }
  if (most != least) {
    std::cerr << "brindle-lab: nodes have " << least << " to " << most
              << " workloads; the plan assumes " << most << " on every node\n";
  }
  const auto& o = layout.options;
  plan::Topology t;
  t.name = o.name;
  t.racks = o.racks;
  t.nodesPerRack = o.nodesPerRack;
  t.rrs = o.name == "rr" ? o.rrs : 0;
  t.core = o.core && o.name == "as-per-rack";
  t.planes = kEcmpPlanes;
  t.workloadsPerNode = most;
  t.pool = kUpPool;
  return plan::plan(t);
}

}  // namespace

int runRoutes(const Lab& lab, bool json) {
  if (lab.state().topology.name.empty()) {
    std::cerr << "brindle-lab: lab " << lab.name() << " was not made by up --topology\n";
    return 1;
  }
  auto layout = makeLayout(lab.state().topology);
  if (!layout) {
    std::cerr << "brindle-lab: " << layout.message() << "\n";
    return 1;
  }
  auto predicted = predict(lab, *layout);
  if (!predicted) {
    std::cerr << "brindle-lab: the planner: " << predicted.message() << "\n";
    return 1;
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : layout->devices) {
    const plan::Device* p = nullptr;
    for (const auto& candidate : predicted->devices) {
      if (candidate.name == d.name) p = &candidate;
    }
    auto sessions = establishedOf(lab, d);
    auto routes = bgpRoutesOf(lab, d);
    list.push_back({{"device", d.name},
                    {"role", roleName(d.role)},
                    {"sessions", sessions ? *sessions : -1},
                    {"routes", routes ? *routes : -1},
                    {"predicted_sessions", p ? p->sessions : -1},
                    {"predicted_routes", p ? p->routes : -1}});
  }
  if (json) {
    std::cout << list.dump(1) << "\n";
    return 0;
  }
  std::printf("%-8s %-5s %9s %9s %7s %9s\n", "DEVICE", "ROLE", "SESSIONS", "PREDICTED", "ROUTES",
              "PREDICTED");
  for (const auto& d : list) {
    std::printf("%-8s %-5s %9d %9d %7d %9d\n", d["device"].get<std::string>().c_str(),
                d["role"].get<std::string>().c_str(), d["sessions"].get<int>(),
                d["predicted_sessions"].get<int>(), d["routes"].get<int>(),
                d["predicted_routes"].get<int>());
  }
  return 0;
}

}  // namespace brindle::lab
