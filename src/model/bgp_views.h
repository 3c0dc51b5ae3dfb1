// Typed views of what BGP reads from the datastore: a Node's `spec.bgp`, BGPPeer and the
// BGPConfiguration fields BIRD needs (IPPools and endpoints: views.h). Parsed from the stored JSON
// (already validated when written), so a view only fails on values another writer left malformed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/labels.h"
#include "common/result.h"
#include "model/resource.h"

namespace brindle::model {

// Where a BGP password comes from: Calico's `secretKeyRef` (a Kubernetes secret, for Brindle a
// file; see docs/bgp.md).
struct SecretRef {
  std::string name;
  std::string key;
  auto operator<=>(const SecretRef&) const = default;
};

// An address with the prefix length of its subnet, as Node's `bgp.ipv4Address: 10.0.0.1/24`.
struct HostAddress {
  IpAddr ip;
  int prefixLength = 0;
};

struct NodeBgpView {
  std::string name;
  Labels labels;
  std::optional<HostAddress> ipv4;  // spec.bgp.ipv4Address
  std::optional<HostAddress> ipv6;  // spec.bgp.ipv6Address
  std::optional<uint32_t> asNumber;
  std::string rrClusterId;               // spec.bgp.routeReflectorClusterID; empty: not a reflector
  std::optional<IpAddr> ipipTunnelAddr;  // spec.bgp.ipv4IPIPTunnelAddr
  const std::optional<HostAddress>& address(int family) const { return family == 4 ? ipv4 : ipv6; }
};
Result<NodeBgpView> nodeBgpView(const Resource& node);

struct BgpPeerView {
  std::string name;
  std::string node;          // spec.node: only this node peers (node-scoped)
  std::string nodeSelector;  // which nodes peer; empty: all (unless `node` is set)
  std::string peerSelector;  // nodes as peers (route reflector pattern), instead of peerIP
  std::optional<IpAddr> peerIp;
  std::optional<int> port;  // from "IP:port" / "[v6]:port"
  std::optional<uint32_t> asNumber;
  std::optional<SecretRef> password;
  std::optional<int> keepaliveSeconds;
  std::optional<int> maxRestartSeconds;
  bool longLivedRestart = false;  // restartMode: LongLivedGracefulRestart
  bool useNodeIp = true;          // sourceAddress: UseNodeIP (default) | None
  bool bfd = false;               // failureDetectionMode: BFDIfDirectlyConnected
  int ttlSecurity = 0;
  bool keepOriginalNextHop = false;
  std::string nextHopMode;  // Auto (default) | Self | Keep
  bool reversePeeringManual = false;
  int numAllowedLocalAs = 0;
  std::vector<std::string> filters;
  std::optional<uint32_t> localAsNumber;  // localASNumber: our AS towards this peer
  std::optional<IpAddr> reachableBy;      // a gateway to reach peerIP by (a static route)
};
Result<BgpPeerView> bgpPeerView(const Resource& peer);

struct PrefixAdvertisement {
  std::string cidr;                      // as written
  std::vector<std::string> communities;  // "a:b" (standard) or "a:b:c" (large)
};

// BGPConfiguration `default` (or `node.<name>` for the per-node overrides Calico reads).
struct BgpConfigView {
  bool meshEnabled = true;
  std::optional<uint32_t> asNumber;
  std::optional<int> listenPort;
  std::string logSeverityScreen = "Info";
  std::optional<SecretRef> nodeMeshPassword;
  std::optional<int> nodeMeshMaxRestartSeconds;
  std::vector<Cidr> serviceClusterIps;
  std::vector<Cidr> serviceExternalIps;
  std::vector<Cidr> serviceLoadBalancerIps;
  // prefixAdvertisements with their communities resolved (names from `communities` replaced by
  // their values), each list sorted and without repeats as confd writes it; unset: none given.
  std::optional<std::vector<PrefixAdvertisement>> prefixAdvertisements;
  bool bindNodeIp = false;                     // bindMode: NodeIP
  std::vector<std::string> ignoredInterfaces;  // kept out of BIRD's direct protocol
};
Result<BgpConfigView> bgpConfigView(const Resource& config);

// One rule of a BGPFilter list (importV4, exportV4, importV6, exportV6), in its order.
struct BgpFilterRule {
  bool accept = false;           // action: Accept | Reject
  std::string cidr;              // as written (confd renders it so); empty: any prefix
  std::string matchOperator;     // Equal | NotEqual | In | NotIn, with cidr
  std::optional<int> prefixMin;  // prefixLength.min / max, with cidr
  std::optional<int> prefixMax;
  bool remotePeers = false;  // source: RemotePeers (routes learned over BGP)
  std::string interface;     // a BIRD interface pattern ("eth*")
};

struct BgpFilterView {
  std::string name;
  std::vector<BgpFilterRule> importV4, exportV4, importV6, exportV6;
  const std::vector<BgpFilterRule>& rules(bool import, int family) const {
    if (family == 4) return import ? importV4 : exportV4;
    return import ? importV6 : exportV6;
  }
};
Result<BgpFilterView> bgpFilterView(const Resource& filter);

// Calico's AS number text: a number, "64512" or the dotted "1.10" (asdot).
Result<uint32_t> parseAsNumber(const Json& value);

}  // namespace brindle::model
