// routes: every device of a topology lab with its Established BGP sessions and the BGP routes
// in its kernel, beside the prediction.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "lab/commands.h"
#include "lab/devices.h"
#include "lab/fabric_bird.h"

namespace brindle::lab {

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
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : layout->devices) {
    auto sessions = establishedOf(lab, d);
    auto routes = bgpRoutesOf(lab, d);
    list.push_back({{"device", d.name},
                    {"role", roleName(d.role)},
                    {"sessions", sessions ? *sessions : -1},
                    {"routes", routes ? *routes : -1},
                    {"predicted_sessions", sessionsOf(*layout, d)},
                    {"predicted_routes", -1}});
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
