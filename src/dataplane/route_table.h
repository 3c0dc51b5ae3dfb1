// RouteTable: the routes this node programs, owned through their route protocol number:
// /32 (/128) scope-link routes to local workloads' cali interfaces (with their proxy-ARP and
// forwarding sysctls), blackhole routes for the node's affine IPAM blocks, and tunnel routes
// (`via <node IP> dev tunl0 onlink`); and the workload interfaces' device groups, owned through
// their range; mark-and-sweep.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/ip.h"
#include "dataplane/chain.h"
#include "dataplane/route_netlink.h"
#include "os/sysctl.h"

namespace brindle::dataplane {

struct RouteTableOptions {
  int protocol = 80;  // rtm_protocol marking our routes (never touch others' routes)
  int table = 254;    // main
  bool ipv6 = true;   // also set IPv6 forwarding on workload interfaces
  // Reset to 0 the device groups in our range ([kWorkloadGroupFirst, kWorkloadGroupLast],
  // chain.h) on links this table wants no group for; groups outside it (0, or an
  // administrator's) are never touched. Only the one table that sets groups may sweep them (the
  // agent's); the BGP thread's tunnel table must not.
  bool sweepLinkGroups = true;
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
  // The device group of a workload interface (in [kWorkloadGroupFirst, kWorkloadGroupLast]);
  // removing it lets the sweep put the link back into group 0.
  void setInterfaceGroup(const std::string& interface, uint32_t group);
  void removeInterfaceGroup(const std::string& interface);

  // Reads links and our routes, configures newly seen workload interfaces, sets the interfaces'
  // device groups (before the routes, so a workload is dispatched by group as soon as it is
  // routed), writes the route difference and removes routes with our protocol and groups in our
  // range that are no longer wanted. A route or group whose interface does not exist yet stays
  // pending and is retried by the next apply() (call it again when an interface appears, or
  // periodically). Returns the first error; the rest is still attempted.
  Status apply();
  // Sets the wanted groups of the links whose group is outside our range (0, or someone else's)
  // and does nothing else. No table of ours admits a link by such a group, so this may run
  // before the rules that admit the links by their new groups are in: the nftables agent's
  // first apply does it while another backend's rules, which ignore groups, still guard them.
  // Errors are returned; apply() retries what failed. `carried` receives the links
  // whose group is in our range but not the wanted one, with the group they carry.
  Status applyGroupsOfUngroupedLinks(std::map<std::string, uint32_t>& carried);
  // Off, groups in our range that nobody wants are left alone until it is switched on: an agent
  // in iptables mode keeps them while the nftables table that dispatches by them exists.
  void setSweepLinkGroups(bool on) { options_.sweepLinkGroups = on; }

  std::vector<Cidr> pendingRoutes() const;                  // waiting for their interface
  std::vector<std::string> pendingInterfaceGroups() const;  // likewise
  struct Stats {
    int replaced = 0;
    int deleted = 0;
    int interfacesConfigured = 0;
    int groupsSet = 0;  // wanted groups set and swept ones reset
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Target {
    bool blackhole = false;
    std::string interface;
    std::optional<IpAddr> via;  // a tunnel route's next hop (onlink)
  };
  std::vector<os::SysctlSetting> interfaceSysctls(const std::string& interface) const;
  Status applyGroups(const std::vector<LinkInfo>& links);

  RouteNetlink& netlink_;
  os::SysctlWriter& sysctl_;
  RouteTableOptions options_;
  std::map<Cidr, Target> desired_;
  std::set<Cidr> pending_;
  std::map<std::string, int> configured_;   // interface -> ifindex whose sysctls we set
  std::map<std::string, uint32_t> groups_;  // interface -> its wanted device group
  std::set<std::string> pendingGroups_;
  Stats stats_;
};

}  // namespace brindle::dataplane
