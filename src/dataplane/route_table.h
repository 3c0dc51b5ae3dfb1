// RouteTable: the routes this node programs, owned through their route protocol number:
// /32 (/128) scope-link routes to local workloads' cali interfaces (with their proxy-ARP and
// forwarding sysctls), blackhole routes for the node's affine IPAM blocks, and tunnel routes
// (`via <node IP> dev tunl0 onlink`); mark-and-sweep.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/ip.h"
#include "dataplane/route_netlink.h"
#include "os/sysctl.h"

namespace brindle::dataplane {

struct RouteTableOptions {
  int protocol = 80;  // rtm_protocol marking our routes (never touch others' routes)
  int table = 254;    // main
  bool ipv6 = true;   // also set IPv6 forwarding on workload interfaces
};

class RouteTable {
 public:
  RouteTable(RouteNetlink& netlink, os::SysctlWriter& sysctl, RouteTableOptions options = {});

  // Desired state; cheap, nothing reaches the kernel until apply().
  void setWorkloadRoute(const Cidr& dest, const std::string& interface);
  void removeWorkloadRoute(const Cidr& dest);
  void setBlackholeRoute(const Cidr& block);
  void removeBlackholeRoute(const Cidr& block);
  void setTunnelRoute(const Cidr& dest, const std::string& interface, const IpAddr& via);
  void removeTunnelRoute(const Cidr& dest);

  // Reads links and our routes, writes the difference, removes routes with our protocol that are
  // no longer wanted, and configures newly seen workload interfaces. A route whose interface
  // does not exist yet stays pending and is retried by the next apply() (call it again when an
  // interface appears, or periodically). Returns the first error; the rest is still attempted.
  Status apply();

  std::vector<Cidr> pendingRoutes() const;  // waiting for their interface
  struct Stats {
    int replaced = 0;
    int deleted = 0;
    int interfacesConfigured = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Target {
    bool blackhole = false;
    std::string interface;
    std::optional<IpAddr> via;  // a tunnel route's next hop (onlink)
  };
  std::vector<os::SysctlSetting> interfaceSysctls(const std::string& interface) const;

  RouteNetlink& netlink_;
  os::SysctlWriter& sysctl_;
  RouteTableOptions options_;
  std::map<Cidr, Target> desired_;
  std::set<Cidr> pending_;
  std::map<std::string, int> configured_;  // interface -> ifindex whose sysctls we set
  Stats stats_;
};

}  // namespace brindle::dataplane
