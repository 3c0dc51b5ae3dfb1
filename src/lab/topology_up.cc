// up --topology: the layout's bridges, a namespace per device wired to them, the Calico
// resources (mesh setting, BGPPeers) before any node, the routers' BIRDs, the nodes (with their
// AS), their rack labels, and the wait until every device has its sessions Established.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "lab/commands.h"
#include "lab/devices.h"
#include "lab/fabric.h"
#include "lab/fabric_bird.h"
#include "lab/nodes.h"
#include "os/sysctl.h"

namespace brindle::lab {
namespace {

Status wire(Lab& lab, const Layout& layout) {
  if (Status s = lab.addNetns(kFabric); !s) return s;
  for (const auto& br : layout.bridges) {
    if (Status s = addBridge(lab, br); !s) return s;
  }
  for (const auto& d : layout.devices) {
    if (d.role == Role::kNode) {
      // The node's own AS only where the topology gives nodes one (else the global one).
      lab.state().nodes.push_back(
          {d.name, d.address() + "/24", "", d.rack, d.as == kLabAs ? 0u : d.as});
    }
    if (Status s = lab.addNetns(d.name); !s) return s;
    for (const auto& l : d.links) {
      if (Status s = plugInto(lab, d.name, l.bridge, l.iface, l.address + "/24"); !s) return s;
    }
    // Nodes route for their workloads, routers for everyone.
    if (Status s = os::ProcSysctlWriter(lab.netns(d.name)).write({{"net/ipv4/ip_forward", "1"}});
        !s) {
      return s;
    }
  }
  return Status::ok();
}

Status startRouters(const Lab& lab, const Layout& layout) {
  for (const auto& d : layout.devices) {
    if (d.role == Role::kNode) continue;
    if (Status s = startBird(lab, d.name, routerDir(lab, d.name), routerBird(layout, d)); !s) {
      return s;
    }
  }
  return Status::ok();
}

Status waitForSessions(const Lab& lab, const Layout& layout, double seconds) {
  std::string lagging;
  const bool ok = waitFor(seconds, [&] {
    for (const auto& d : layout.devices) {
      auto n = establishedOf(lab, d);
      const int want = sessionsOf(layout, d);
      if (!n || *n < want) {
        lagging = d.name + " has " + (n ? std::to_string(*n) : "no answer from BIRD") + " of " +
                  std::to_string(want) + " BGP sessions Established";
        return false;
      }
    }
    return true;
  });
  if (ok) return Status::ok();
  return makeError(ErrorCode::kUnavailable,
                   lagging + " after " + std::to_string(static_cast<int>(seconds)) + " s");
}

}  // namespace

int runUpTopology(Lab& lab, const TopologyOptions& options) {
  if (!lab.state().namespaces.empty()) {
    std::cerr << "brindle-lab: lab " << lab.name() << " is already up (run '" << lab.downCommand()
              << "')\n";
    return 1;
  }
  auto layout = makeLayout(options);
  if (!layout) {
    std::cerr << "brindle-lab: " << layout.message() << "\n";
    return 1;
  }
  auto fail = [&](const Status& s) { return failAndRemove(lab, s); };
  const auto start = std::chrono::steady_clock::now();
  lab.state().topology = layout->options;
  if (Status s = wire(lab, *layout); !s) return fail(s);
  if (Status s = createPoolAndProfile(lab, "never"); !s) return fail(s);
  if (Status s = chooseDataplane(lab, options.dataplane); !s) return fail(s);
  if (auto r = lab.ctl({"apply", "-f", "-"}, fabricResources(*layout)); !r) return fail(r.error());
  if (Status s = startRouters(lab, *layout); !s) return fail(s);
  auto started = startNodes(lab);
  if (!started) return fail(started.error());
  if (layout->options.name != "mesh" && layout->options.name != "rr" &&
      layout->options.name != "ecmp-fabric") {
    for (const auto& d : layout->devices) {
      if (d.role != Role::kNode) continue;
      auto r = lab.ctl({"label", "node", d.name,
                        std::string(kRackLabel) + "=" + std::to_string(d.rack), "--overwrite"});
      if (!r) return fail(r.error());
    }
  }
  if (Status s = waitForSessions(lab, *layout, 60); !s) return fail(s);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& d : layout->devices) {
    std::printf("%-6s %-5s AS %-6u %-12s %d BGP sessions\n", d.name.c_str(), roleName(d.role), d.as,
                d.address().c_str(), sessionsOf(*layout, d));
  }
  std::printf("lab %s up in %.1f s: %s, %d racks x %d nodes, every device's sessions Established\n",
              lab.name().c_str(), took, layout->options.name.c_str(), layout->options.racks,
              layout->options.nodesPerRack);
  return 0;
}

}  // namespace brindle::lab
