// probe FROM ADDRESS: where a packet to an address goes, device by device. Each device's kernel
// is asked (`ip -j route get ADDRESS` in its namespace) and the next device is the one holding
// the gateway's address, until a device has no route, a blackhole or unreachable route, or
// delivers locally. This reads the routes the packet would take (no packet is sent), so a walk
// ends also where a ping would only time out.
#include <iostream>

#include <nlohmann/json.hpp>

#include "lab/commands.h"

namespace brindle::lab {

int runWalk(const Lab& lab, const std::string& from, const std::string& address) {
  auto layout = makeLayout(lab.state().topology);
  if (lab.state().topology.name.empty() || !layout) {
    std::cerr << "brindle-lab: probe to an address needs a lab made by up --topology\n";
    return 1;
  }
  const WorkloadState* w = lab.state().workload(from);
  const Device* at = layout->find(w ? w->node : from);
  if (at == nullptr) {
    std::cerr << "brindle-lab: lab " << lab.name() << " has no device or workload " << from << "\n";
    return 1;
  }
  std::string path = at->name, verdict;
  for (int hop = 0; hop < 16 && verdict.empty(); ++hop) {
    auto out = lab.run(at->name, {"ip", "-j", "route", "get", address});
    if (!out) {
      std::cerr << "brindle-lab: " << out.message() << "\n";
      return 1;
    }
    if (out->exitCode != 0) {
      verdict = "died at " + at->name + " (" + out->err.substr(0, out->err.find('\n')) + ")";
      break;
    }
    nlohmann::json route;
    try {
      route = nlohmann::json::parse(out->out).at(0);
    } catch (const std::exception& e) {
      std::cerr << "brindle-lab: ip route get in " << at->name << ": " << e.what() << "\n";
      return 1;
    }
    const std::string type = route.value("type", "unicast");
    if (type != "unicast") {
      verdict = "died at " + at->name + " (" + type + " route)";
    } else if (!route.contains("gateway")) {
      verdict = "delivered by " + at->name + " on " + route.value("dev", "?");
    } else if (const Device* next = layout->owner(route["gateway"]); next != nullptr) {
      at = next;
      path += " -> " + at->name;
    } else {
      verdict = "left the lab at " + at->name + " via " + route["gateway"].get<std::string>();
    }
  }
  if (verdict.empty()) verdict = "looped (16 hops)";
  std::cout << from << " -> " << address << ": " << path << ": " << verdict << "\n";
  return 0;
}

}  // namespace brindle::lab
