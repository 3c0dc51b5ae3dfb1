// Steps the BGP e2e fixtures share (e2e_nodes.h, ipip_e2e_test.cc): a workload added by
// brindle-cni as a runtime would, and stepping node supervisors until a condition holds.
// Needs BRINDLE_CNI_DIR (the directory of the built brindle-cni).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bgp/supervisor.h"
#include "testutil/shell.h"

namespace brindle::bgp {

// CNI ADD of container `containerId` in network namespace `netns`, run in node namespace `node`
// with the network config file `conf` on stdin; returns the plugin's result (JSON), throws if
// the plugin failed.
inline std::string cniAdd(const std::string& node, const std::string& netns,
                          const std::string& containerId, const std::string& conf) {
  const auto r = testutil::sh(
      "(ip netns exec " + node + " env CNI_COMMAND=ADD CNI_CONTAINERID=" + containerId +
      " CNI_NETNS=/var/run/netns/" + netns + " CNI_IFNAME=eth0 CNI_PATH=" + BRINDLE_CNI_DIR + " " +
      BRINDLE_CNI_DIR + "/brindle-cni < " + conf + " 2>/dev/null)");
  if (r.code != 0) throw std::runtime_error("brindle-cni ADD on " + node + ": " + r.out);
  return r.out;
}

// Steps every supervisor until `done` holds or `limit` is up.
inline bool stepUntil(const std::vector<std::unique_ptr<Supervisor>>& supervisors,
                      const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    for (const auto& s : supervisors) s->step();
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

}  // namespace brindle::bgp
