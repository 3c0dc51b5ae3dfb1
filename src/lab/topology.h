// The data-centre fabrics of the seed (S5) as lab layouts: which devices exist (nodes, ToRs, a
// core, route reflectors), their AS numbers, and which bridge each of their links is on with what
// address. Pure: `up --topology` builds from it, `routes` and `probe` read it back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace brindle::lab {

// mesh | rr | as-per-rack | as-per-server | downward-default | ecmp-fabric
struct TopologyOptions {
  std::string name;
  int racks = 2;
  int nodesPerRack = 4;
  int rrs = 1;  // rr: dedicated route reflector namespaces
  bool core = false;
  std::string dataplane = "iptables";  // iptables | nftables (every node's agent)
};

enum class Role { kNode, kTor, kCore, kRr };
const char* roleName(Role role);

struct Link {
  std::string bridge;   // in the fabric namespace
  std::string iface;    // in the device's namespace: eth0, eth1, ...
  std::string address;  // without prefix (all subnets are /24)
};

struct Device {
  std::string name;  // r<rack>n<i>, tor<rack>, core, rr<k>
  Role role = Role::kNode;
  int rack = 0;  // 0 for core and RRs
  uint32_t as = 0;
  std::vector<Link> links;  // links[0] carries the device's BGP address and router id

  const std::string& address() const { return links.front().address; }
};

struct Layout {
  TopologyOptions options;
  std::vector<std::string> bridges;  // in creation order
  std::vector<Device> devices;       // nodes first (rack by rack), then routers

  const Device* find(const std::string& name) const;
  // The device holding `address` on one of its links.
  const Device* owner(const std::string& address) const;
};

inline constexpr uint32_t kLabAs = 64512;  // mesh, rr, ecmp-fabric: one AS
inline constexpr int kEcmpPlanes = 4;      // ecmp-fabric: L2 planes, one RR each
inline constexpr const char* kRrClusterId = "10.99.0.1";

// kInvalid naming the flag when the options do not make a lab.
Result<Layout> makeLayout(const TopologyOptions& options);

}  // namespace brindle::lab
