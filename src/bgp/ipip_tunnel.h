// Applies the IPIP decision (ipip.h) on a node, as calico-node and Felix's ipip manager do: the
// node's tunnel address from IPAM (an IPIP pool, handle "ipip-tunnel-addr-<node>") written to
// its Node as spec.bgp.ipv4IPIPTunnelAddr, tunl0 up with the MTU and that address, and the tunnel
// routes. When no pool needs IPIP, the address goes back to IPAM, tunl0 loses it and goes down,
// and the routes are removed. Runs in the Supervisor's thread, so only with the bird backend.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bgp/ipip.h"
#include "dataplane/route_table.h"
#include "datastore/client.h"
#include "os/sysctl.h"

namespace brindle::bgp {

// The tunnel routes' rtm_protocol: not the agent's own (80), whose route table sweeps every
// route of its protocol it did not program, nor BIRD's (12).
inline constexpr int kTunnelRouteProtocol = 81;

struct IpipOptions {
  std::string node;
  std::string netns;  // "" = own
  int mtu = 0;        // tunl0's MTU; 0: the uplink's (the interface with the node's IPv4) - 20
};

class IpipTunnel {
 public:
  IpipTunnel(datastore::Client& client, IpipOptions options);
  ~IpipTunnel();

  // One round over the inputs the supervisor read; what failed is appended to `problems`.
  void step(const Inputs& inputs, std::vector<std::string>& problems);
  // Removes the tunnel routes (the node's BGP teardown).
  void withdraw();

 private:
  // The node's tunnel address, allocated (and written to its Node) when missing.
  Result<std::optional<IpAddr>> tunnelAddress(const Inputs& inputs, const IpipPlan& plan);
  Status releaseTunnelAddress(const Inputs& inputs, const IpipPlan& plan);
  Status applyRoutes(const std::vector<TunnelRoute>& routes);

  datastore::Client& client_;
  IpipOptions options_;
  std::unique_ptr<dataplane::RouteNetlink> netlink_;
  os::ProcSysctlWriter sysctl_;  // unused by tunnel routes; RouteTable's seam
  std::unique_ptr<dataplane::RouteTable> routes_;
  std::set<Cidr> wanted_;  // the tunnel routes asked of routes_
  bool clean_ = false;     // no tunnel route or tunl0 address of ours left (IPIP unused)
};

}  // namespace brindle::bgp
