// IPIP (issue #13, S6) as Calico does it, decided from the same inputs as the BIRD configuration:
// which pools encapsulate (ipipMode Always, or CrossSubnet towards a node outside our subnet),
// the remote blocks and workload addresses routed `via <node IP> dev tunl0 onlink`, and the
// node's tunnel address. Pure; the Supervisor applies it (bgp/ipip_tunnel.h) and the BIRD text
// keeps BIRD from installing a plain route for the same destinations (render.cc).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bgp/config.h"

namespace brindle::bgp {

inline constexpr const char* kIpipDevice = "tunl0";

struct TunnelRoute {
  Cidr destination;
  IpAddr via;  // the remote node's IPv4 address
  bool operator==(const TunnelRoute&) const = default;
};

struct IpipPlan {
  std::vector<IpipPool> pools;          // enabled IPv4 pools that encapsulate; empty: no tunl0
  std::optional<Cidr> subnet;           // the node's own IPv4 subnet (spec.bgp.ipv4Address)
  std::optional<IpAddr> tunnelAddress;  // spec.bgp.ipv4IPIPTunnelAddr
  std::vector<TunnelRoute> routes;      // sorted by destination
  bool needed() const { return !pools.empty(); }
};

// The enabled IPv4 pools with ipipMode Always or CrossSubnet.
std::vector<IpipPool> ipipPools(const Inputs& in);

// Whether a packet to `destination`, carried to the node at `remote`, is encapsulated: it lies
// in an IPIP pool that is Always, or CrossSubnet while `remote` is outside `subnet` (Felix's
// route resolver and confd's kernel filter decide the same way).
bool encapsulated(const std::vector<IpipPool>& pools, const std::optional<Cidr>& subnet,
                  const Cidr& destination, const IpAddr& remote);

// The node's own IPv4 subnet: the prefix of its spec.bgp.ipv4Address.
std::optional<Cidr> subnetOf(const model::NodeBgpView& node);

// kNotFound when the node does not exist.
Result<IpipPlan> planIpip(const Inputs& in, const std::string& node);

}  // namespace brindle::bgp
