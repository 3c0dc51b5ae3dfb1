// The layouts. Addresses: rack (or ECMP plane) k is 10.99.k.0/24 on bridge br<k>, its ToR (or
// plane RR) at .1, node i of the rack at .(10+i); mesh and rr put every node on br1 at
// .(10+index), RR k at .(1+k); ToRs and the core share the core link 10.98.0.0/24 (bridge
// core): ToR r at .r, the core at .254.
#include "lab/topology.h"

namespace brindle::lab {
namespace {

std::string address(const std::string& net, int host) { return net + "." + std::to_string(host); }
std::string rackNet(int k) { return "10.99." + std::to_string(k); }
constexpr const char* kCoreNet = "10.98.0";
// The planner's numbers (docs/plan.md): as-per-rack rack r is 64512+r, the core 64512; as-per-
// server node k (1-based, rack by rack) 4200000000+k (4-byte private), every ToR 64512.
constexpr uint32_t kRackAsBase = kLabAs;
constexpr uint32_t kServerAsBase = 4200000000u;
constexpr uint32_t kTransitAs = kLabAs;

Status invalid(const std::string& what) { return makeError(ErrorCode::kInvalid, what); }

}  // namespace

const char* roleName(Role role) {
  switch (role) {
    case Role::kNode:
      return "node";
    case Role::kTor:
      return "tor";
    case Role::kCore:
      return "core";
    case Role::kRr:
      return "rr";
  }
  return "";
}

const Device* Layout::find(const std::string& name) const {
  for (const auto& d : devices) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

const Device* Layout::owner(const std::string& addr) const {
  for (const auto& d : devices) {
    for (const auto& l : d.links) {
      if (l.address == addr) return &d;
    }
  }
  return nullptr;
}

Result<Layout> makeLayout(const TopologyOptions& o) {
  const std::string& t = o.name;
  const bool flat = t == "mesh" || t == "rr";
  const bool racked = t == "as-per-rack" || t == "as-per-server" || t == "downward-default";
  if (!flat && !racked && t != "ecmp-fabric") {
    return invalid("--topology \"" + t +
                   "\": use mesh, rr, as-per-rack, as-per-server, downward-default or "
                   "ecmp-fabric");
  }
  if (o.racks < 1 || o.racks > 50 || o.nodesPerRack < 1 || o.nodesPerRack > 100 ||
      o.racks * o.nodesPerRack > 180) {
    return invalid("--racks 1-50 and --nodes-per-rack 1-100, at most 180 nodes in all");
  }
  if (t == "rr" && (o.rrs < 1 || o.rrs > 8)) return invalid("--rrs must be 1-8");
  if (o.core && t != "as-per-rack" && t != "downward-default") {
    return invalid("--core: only as-per-rack takes it (downward-default always has a core)");
  }
  Layout l;
  l.options = o;
  if (t == "downward-default") l.options.core = true;
  const bool tors = racked;
  const int subnets = flat ? 1 : t == "ecmp-fabric" ? kEcmpPlanes : o.racks;
  for (int k = 1; k <= subnets; ++k) l.bridges.push_back("br" + std::to_string(k));
  if (tors) l.bridges.push_back("brcore");
  int index = 0;
  for (int r = 1; r <= o.racks; ++r) {
    for (int i = 1; i <= o.nodesPerRack; ++i) {
      ++index;
      Device d{"r" + std::to_string(r) + "n" + std::to_string(i), Role::kNode, r, kLabAs, {}};
      if (t == "as-per-rack" || t == "downward-default") d.as = kRackAsBase + r;
      if (t == "as-per-server") d.as = kServerAsBase + index;
      if (flat) {
        d.links.push_back({"br1", "eth0", address(rackNet(1), 10 + index)});
      } else if (t == "ecmp-fabric") {
        for (int p = 1; p <= kEcmpPlanes; ++p) {
          d.links.push_back({"br" + std::to_string(p), "eth" + std::to_string(p - 1),
                             address(rackNet(p), 10 + index)});
        }
      } else {
        d.links.push_back({"br" + std::to_string(r), "eth0", address(rackNet(r), 10 + i)});
      }
      l.devices.push_back(std::move(d));
    }
  }
  if (tors) {
    for (int r = 1; r <= o.racks; ++r) {
      const uint32_t as = t == "as-per-server" ? kTransitAs : kRackAsBase + r;
      l.devices.push_back({"tor" + std::to_string(r),
                           Role::kTor,
                           r,
                           as,
                           {{"br" + std::to_string(r), "eth0", address(rackNet(r), 1)},
                            {"brcore", "eth1", address(kCoreNet, r)}}});
    }
  }
  if (l.options.core) {
    l.devices.push_back(
        {"core", Role::kCore, 0, kRackAsBase, {{"brcore", "eth0", address(kCoreNet, 254)}}});
  }
  if (t == "rr") {
    for (int k = 1; k <= o.rrs; ++k) {
      l.devices.push_back({"rr" + std::to_string(k),
                           Role::kRr,
                           0,
                           kLabAs,
                           {{"br1", "eth0", address(rackNet(1), 1 + k)}}});
    }
  }
  if (t == "ecmp-fabric") {
    for (int p = 1; p <= kEcmpPlanes; ++p) {
      l.devices.push_back({"rr" + std::to_string(p),
                           Role::kRr,
                           0,
                           kLabAs,
                           {{"br" + std::to_string(p), "eth0", address(rackNet(p), 1)}}});
    }
  }
  return l;
}

}  // namespace brindle::lab
