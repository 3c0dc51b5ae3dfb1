// What BIRD must do for one node and one address family, decided from the datastore exactly as
// Calico's confd decides it (sessions, names, passive side, route reflection, exported prefixes).
// computeNodeConfig is pure: the caller reads the resources (inputs.h) and renders (render.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "model/bgp_views.h"
#include "model/ipam_block.h"
#include "model/resource.h"

namespace brindle::bgp {

inline constexpr uint32_t kDefaultAsNumber = 64512;

enum class PeerType { kMesh, kGlobal, kNode };
// "node-to-node mesh", "global", "node specific": calicoctl node status's PEER TYPE column.
const char* peerTypeName(PeerType type);

struct Peer {
  std::string name;  // BIRD protocol name, confd's: Mesh_10_0_0_2, Global_..._port_N, Node_...
  PeerType type = PeerType::kMesh;
  IpAddr ip;
  std::optional<int> port;
  uint32_t asNumber = kDefaultAsNumber;
  std::optional<IpAddr> sourceAddress;  // the node's own address, unless sourceAddress: None
  bool passive = false;                 // wait for the peer to connect
  std::string rrClusterId;              // set: this peer is our route reflector client
  std::optional<std::string> password;  // resolved text
  std::optional<int> keepaliveSeconds;  // hold time is 3x keepalive
  std::optional<int> restartSeconds;    // graceful restart time
  bool longLivedRestart = false;
  bool bfd = false;
  int ttlSecurity = 0;  // 0: multihop, ttl security off
  bool nextHopKeep = false;
  bool nextHopSelf = false;
  int allowLocalAs = 0;
  std::vector<std::string> filters;   // BGPFilter names, applied in this order
  std::optional<uint32_t> localAs;    // localASNumber: our AS on this session, else the node's
  std::optional<IpAddr> reachableBy;  // reachableBy: a static route to the peer via this gateway
};

// An enabled IPv4 pool with ipipMode Always or CrossSubnet (ipip.h).
struct IpipPool {
  Cidr cidr;
  bool crossSubnet = false;  // ipipMode CrossSubnet (else Always)
  bool operator==(const IpipPool&) const = default;
};

struct NodeConfig {
  std::string node;
  int family = 4;
  IpAddr routerId;                // BIRD's router id is 32 bits in both families
  std::optional<IpAddr> address;  // the node's BGP address in this family
  uint32_t asNumber = kDefaultAsNumber;
  std::optional<int> listenPort;
  std::optional<IpAddr> listenAddress;  // bindMode: NodeIP: BGP listens on the node's address
  std::vector<std::string> ignoredInterfaces;  // BGPConfiguration ignoredInterfaces
  // prefixAdvertisements of the family (the node's BGPConfiguration's, else the global ones):
  // communities added to our routes within each CIDR when exported.
  std::vector<model::PrefixAdvertisement> communities;
  std::string logSeverity = "Info";
  std::vector<Peer> peers;          // sorted by name
  std::vector<Cidr> pools;          // enabled IP pools of the family
  std::vector<Cidr> noExport;       // pools with disableBGPExport: nothing in them is announced
  std::vector<Cidr> blocks;         // IPAM blocks affine to the node: exported, blackholed
  std::vector<Cidr> serviceRanges;  // BGPConfiguration service CIDRs: exported
  std::vector<std::string> notes;   // what the configuration leaves out, rendered as comments
  // Every BGPFilter, by name (confd defines a function for each, used or not).
  std::vector<model::BgpFilterView> filters;
  std::string rrClusterId;  // set: the node reflects routes for its clients
  // IPv4: pools whose routes the agent sends through tunl0 (ipip.h), and the node's subnet
  // (CrossSubnet: next hops inside it stay plain).
  std::vector<IpipPool> ipipPools;
  std::optional<Cidr> subnet;

  std::string channel() const { return family == 4 ? "ipv4" : "ipv6"; }
};

// Everything the decision reads. Secrets: a BGP password per SecretRef (how Brindle reads them:
// inputs.h).
struct Inputs {
  std::vector<model::Resource> nodes;
  std::vector<model::Resource> peers;    // BGPPeer
  std::vector<model::Resource> configs;  // BGPConfiguration: `default` and `node.<name>`
  std::vector<model::Resource> pools;    // IPPool
  std::vector<model::Resource> filters;  // BGPFilter
  std::vector<model::IpamBlockView> blocks;
  std::map<model::SecretRef, std::string> secrets;
};

// The IPAM blocks affine to `node` in `family`, sorted.
std::vector<Cidr> affineBlocks(const Inputs& inputs, const std::string& node, int family);
// The node's workload addresses (/32, /128) borrowed from blocks not affine to it (IPAM's
// attributes name the node), sorted. The IPIP routes need them; BIRD exports them from the kernel.
std::vector<Cidr> borrowedHosts(const Inputs& inputs, const std::string& node, int family);

// kNotFound if the node does not exist; kInvalid naming the resource and field when an input
// cannot be used (a peer's unknown filter, a password whose secret is missing, a bad address).
Result<NodeConfig> computeNodeConfig(const Inputs& inputs, const std::string& node, int family);

}  // namespace brindle::bgp
