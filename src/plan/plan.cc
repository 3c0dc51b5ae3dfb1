// The planner's formulas: one function per topology lays out its devices with their sessions and
// routes (docs/plan.md derives each number).
#include "plan/plan.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "common/ip.h"

namespace brindle::plan {
namespace {

constexpr uint32_t kDefaultAs = 64512;
constexpr uint32_t kLastPrivateAs16 = 65534;
constexpr uint32_t kFirstPrivateAs32 = 4200000000u;
// A plan lists every device: a bound keeps a typo from asking for terabytes.
constexpr int64_t kMaxNodes = 1000000;

std::string rangeText(int64_t low, int64_t high) {
  return low == high ? std::to_string(low) : std::to_string(low) + "-" + std::to_string(high);
}

Error invalid(const std::string& message) { return makeError(ErrorCode::kInvalid, message); }

// What every topology's layout needs: its shape and the blocks a node announces.
struct Shape {
  const Topology& t;
  int64_t nodes;    // all nodes
  int64_t perNode;  // blocks each node claims
  int64_t blocks;   // all blocks
};

// AS of rack r where each rack is its own AS: the 16-bit private range while it lasts.
uint32_t rackAs(int rack) {
  const uint32_t as = kDefaultAs + static_cast<uint32_t>(rack);
  return as <= kLastPrivateAs16 ? as : kFirstPrivateAs32 + static_cast<uint32_t>(rack);
}

void addNodes(Plan& p, const Shape& s, int64_t sessions, int64_t routes, int nextHops,
              bool asPerRack, bool asPerServer) {
  p.devices.reserve(p.devices.size() + static_cast<size_t>(s.nodes));
  int64_t index = 0;
  for (int r = 1; r <= s.t.racks; ++r) {
    for (int i = 1; i <= s.t.nodesPerRack; ++i) {
      ++index;
      Device d;
      d.name = "r" + std::to_string(r) + "n" + std::to_string(i);
      d.role = kNode;
      d.rack = r;
      d.as = asPerServer ? kFirstPrivateAs32 + static_cast<uint32_t>(index)
                         : (asPerRack ? rackAs(r) : kDefaultAs);
      d.sessions = sessions;
      d.routes = routes;
      d.nextHops = nextHops;
      p.devices.push_back(std::move(d));
    }
  }
}

void addTors(Plan& p, const Shape& s, int64_t sessions, int64_t routes, bool transitAs) {
  for (int r = 1; r <= s.t.racks; ++r) {
    p.devices.push_back(Device{"tor" + std::to_string(r), kTor, r,
                               transitAs ? kDefaultAs : rackAs(r), sessions, routes, 1});
  }
}

void addReflectors(Plan& p, int count, int64_t sessions, int64_t routes) {
  for (int k = 1; k <= count; ++k) {
    p.devices.push_back(
        Device{"rr" + std::to_string(k), kReflector, 0, kDefaultAs, sessions, routes, 1});
  }
}

// Every node peers with every other; each learns every block but its own.
void mesh(Plan& p, const Shape& s) {
  addNodes(p, s, s.nodes - 1, s.blocks - s.perNode, 1, false, false);
}

// Dedicated reflectors of one cluster: clients peer with each reflector, reflectors with every
// client and each other. Reflectors install every block.
void reflectors(Plan& p, const Shape& s) {
  const int k = s.t.rrs == 0 ? 1 : s.t.rrs;
  addNodes(p, s, k, s.blocks - s.perNode, 1, false, false);
  addReflectors(p, k, s.nodes + k - 1, s.blocks);
}

// Nodes peer only with their ToR (which reflects its rack's routes); ToRs eBGP with each other,
// or with the core. Everything above a node learns every block.
void asPerRack(Plan& p, const Shape& s) {
  const int R = s.t.racks;
  addNodes(p, s, 1, s.blocks - s.perNode, 1, true, false);
  addTors(p, s, s.t.nodesPerRack + (s.t.core ? 1 : R - 1), s.blocks, false);
  if (s.t.core) p.devices.push_back(Device{"core", kCore, 0, kDefaultAs, R, s.blocks, 1});
}

// Every node its own AS, eBGP to its ToR; the ToRs share one transit AS and mesh over iBGP.
void asPerServer(Plan& p, const Shape& s) {
  addNodes(p, s, 1, s.blocks - s.perNode, 1, false, true);
  addTors(p, s, s.t.nodesPerRack + s.t.racks - 1, s.blocks, true);
}

// as-per-rack through a core, but only a default route goes down: a node holds the default, a
// ToR its rack's blocks and the default, the core every block.
void downwardDefault(Plan& p, const Shape& s) {
  addNodes(p, s, 1, 1, 1, true, false);
  addTors(p, s, s.t.nodesPerRack + 1, s.t.nodesPerRack * s.perNode + 1, false);
  p.devices.push_back(Device{"core", kCore, 0, kDefaultAs, s.t.racks, s.blocks, 1});
}

// One reflector per plane; a node peers on every plane, so each remote block has one route with
// a next hop per plane.
void ecmpFabric(Plan& p, const Shape& s) {
  addNodes(p, s, s.t.planes, s.blocks - s.perNode, s.t.planes, false, false);
  addReflectors(p, s.t.planes, s.nodes, s.blocks);
}

using Layout = void (*)(Plan&, const Shape&);
struct Named {
  const char* name;
  Layout layout;
};
constexpr std::array<Named, 6> kTopologies = {{{"mesh", mesh},
                                               {"rr", reflectors},
                                               {"as-per-rack", asPerRack},
                                               {"as-per-server", asPerServer},
                                               {"downward-default", downwardDefault},
                                               {"ecmp-fabric", ecmpFabric}}};

Status checkShape(const Topology& t) {
  if (t.racks < 1) return invalid("--racks: must be at least 1, got " + std::to_string(t.racks));
  if (t.nodesPerRack < 1) {
    return invalid("--nodes-per-rack: must be at least 1, got " + std::to_string(t.nodesPerRack));
  }
  if (t.rrs < 0) return invalid("--rrs: must not be negative");
  if (t.rrs > 0 && t.name != "rr") {
    return invalid(
        "--rrs: only the rr topology has dedicated reflectors (ecmp-fabric has one "
        "per plane: --planes)");
  }
  if (t.core && t.name != "as-per-rack" && t.name != "downward-default") {
    return invalid(
        "--core: only as-per-rack (and downward-default, which always has one) peer "
        "their ToRs through a core");
  }
  if (t.name == "ecmp-fabric" && (t.planes < 1 || t.planes > 16)) {
    return invalid("--planes: 1 to 16, got " + std::to_string(t.planes));
  }
  return Status::ok();
}

}  // namespace

const std::vector<std::string>& topologyNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const auto& t : kTopologies) names.emplace_back(t.name);
    return names;
  }();
  return kNames;
}

Result<int64_t> blocksPerNode(int workloadsPerNode, const std::string& pool, int blockSize) {
  if (workloadsPerNode < 0) return invalid("--workloads-per-node: must not be negative");
  auto cidr = Cidr::parse(pool, false);
  if (!cidr) return invalid("--pool: " + cidr.message());
  if (!cidr->isV4()) return invalid("--pool: an IPv4 pool, got " + pool);
  if (blockSize < cidr->prefixLength() || blockSize > 32) {
    return invalid("--block-size: between the pool's prefix (" +
                   std::to_string(cidr->prefixLength()) + ") and 32, got " +
                   std::to_string(blockSize));
  }
  const int64_t addresses = int64_t{1} << (32 - blockSize);
  return (workloadsPerNode + addresses - 1) / addresses;
}

Result<Plan> plan(const Topology& t, std::optional<int64_t> routeCapacity) {
  const auto named = std::find_if(kTopologies.begin(), kTopologies.end(),
                                  [&](const Named& n) { return t.name == n.name; });
  if (named == kTopologies.end()) {
    std::string known;
    for (const auto& n : topologyNames()) known += (known.empty() ? "" : ", ") + n;
    return invalid("--topology: unknown topology '" + t.name + "' (known: " + known + ")");
  }
  if (auto ok = checkShape(t); !ok) return ok;
  auto perNode = blocksPerNode(t.workloadsPerNode, t.pool, t.blockSize);
  if (!perNode) return perNode.error();
  const int64_t nodes = int64_t{t.racks} * t.nodesPerRack;
  if (nodes > kMaxNodes) {
    return invalid("--racks x --nodes-per-rack: at most " + std::to_string(kMaxNodes) +
                   " nodes, got " + std::to_string(nodes));
  }
  const Shape s{t, nodes, *perNode, nodes * *perNode};
  const int64_t poolBlocks = int64_t{1} << (t.blockSize - Cidr::parse(t.pool)->prefixLength());
  if (s.blocks > poolBlocks) {
    return invalid("--pool: " + t.pool + " holds " + std::to_string(poolBlocks) + " blocks of /" +
                   std::to_string(t.blockSize) + ", the nodes need " + std::to_string(s.blocks) +
                   " (a bigger --pool or a longer --block-size)");
  }
  Plan p;
  p.topology = t.name;
  p.blocks = s.blocks;
  named->layout(p, s);
  complete(p, routeCapacity);
  return p;
}

std::vector<RoleSummary> summarize(const Plan& plan) {
  std::vector<RoleSummary> out;
  for (const char* role : {kNode, kTor, kCore, kReflector, kPeer}) {
    RoleSummary sum{role};
    for (const auto& d : plan.devices) {
      if (d.role != role) continue;
      if (sum.devices++ == 0) {
        sum.minSessions = sum.maxSessions = d.sessions;
        sum.minRoutes = sum.maxRoutes = d.routes;
        continue;
      }
      sum.minSessions = std::min(sum.minSessions, d.sessions);
      sum.maxSessions = std::max(sum.maxSessions, d.sessions);
      sum.minRoutes = std::min(sum.minRoutes, d.routes);
      sum.maxRoutes = std::max(sum.maxRoutes, d.routes);
    }
    if (sum.devices > 0) out.push_back(sum);
  }
  return out;
}

std::string RoleSummary::sessionsText() const { return rangeText(minSessions, maxSessions); }
std::string RoleSummary::routesText() const { return rangeText(minRoutes, maxRoutes); }

void complete(Plan& plan, std::optional<int64_t> routeCapacity) {
  int64_t ends = 0;
  for (const auto& d : plan.devices) ends += d.sessions;
  plan.totalSessions = ends / 2;
  plan.routesByRole.clear();
  plan.warnings.clear();
  for (const auto& sum : summarize(plan)) {
    plan.routesByRole[sum.role] = sum.maxRoutes;
    if (!routeCapacity || sum.maxRoutes <= *routeCapacity) continue;
    int64_t over = 0;
    for (const auto& d : plan.devices) over += d.role == sum.role && d.routes > *routeCapacity;
    plan.warnings.push_back(std::to_string(over) + " of " + std::to_string(sum.devices) + " " +
                            sum.role + " devices hold more than " + std::to_string(*routeCapacity) +
                            " routes (up to " + std::to_string(sum.maxRoutes) + ")");
  }
}

std::string toJson(const Plan& plan) {
  nlohmann::ordered_json devices = nlohmann::ordered_json::array();
  for (const auto& d : plan.devices) {
    devices.push_back({{"name", d.name},
                       {"role", d.role},
                       {"rack", d.rack},
                       {"as", d.as},
                       {"sessions", d.sessions},
                       {"routes", d.routes},
                       {"nextHops", d.nextHops}});
  }
  nlohmann::ordered_json j = {{"topology", plan.topology},
                              {"devices", devices},
                              {"totals",
                               {{"sessions", plan.totalSessions},
                                {"blocks", plan.blocks},
                                {"routesByRole", plan.routesByRole}}},
                              {"warnings", plan.warnings}};
  return j.dump(2) + "\n";
}

}  // namespace brindle::plan
