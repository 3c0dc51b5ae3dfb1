// The netlink seam of the route writer: list links and set their device groups, list, replace
// and delete routes, in the namespace the socket was opened in. LibnlRouteNetlink is the real one
// (libnl-route-3).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/result.h"

namespace brindle::dataplane {

struct RouteEntry {
  Cidr dest;
  bool blackhole = false;  // else a scope-link route out of ifindex
  int ifindex = 0;
  int protocol = 0;  // rtm_protocol: who owns the route (ours is RouteTableOptions::protocol)
  int table = 254;   // RT_TABLE_MAIN
  std::optional<IpAddr> gateway;  // set: `via gateway dev ifindex onlink` (IPIP tunnel routes)

  bool operator==(const RouteEntry&) const = default;
};

struct LinkInfo {
  std::string name;
  int index = 0;
  uint32_t group = 0;  // IFLA_GROUP, `ip link set dev X group N` (0: the default group)
};

class RouteNetlink {
 public:
  virtual ~RouteNetlink() = default;
  virtual Result<std::vector<LinkInfo>> listLinks() = 0;
  // Moves link `ifindex` (> 0) into device group `group`; kNotFound when the link is gone.
  virtual Status setLinkGroup(int ifindex, uint32_t group) = 0;
  // Unicast and blackhole routes of both families in `table`.
  virtual Result<std::vector<RouteEntry>> listRoutes(int table) = 0;
  // Creates the route or replaces the one with the same destination (whoever owned it).
  virtual Status replaceRoute(const RouteEntry& route) = 0;
  virtual Status deleteRoute(const RouteEntry& route) = 0;
};
using RouteNetlinkPtr = std::unique_ptr<RouteNetlink>;

// Opens a NETLINK_ROUTE socket inside `netns` ("" = this process's namespace); the socket keeps
// talking to that namespace for its whole life. Not thread-safe: one owner thread.
Result<RouteNetlinkPtr> openLibnlRouteNetlink(const std::string& netns = "");

}  // namespace brindle::dataplane
