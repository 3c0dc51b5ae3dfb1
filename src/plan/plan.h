// The planner (issue #15, seed S5): BGP sessions and kernel routes of every device of a
// data-centre fabric, computed from its shape alone (no datastore, no root). `brindlectl plan`
// prints it; brindle-lab compares each lab device's measured sessions and routes with it.
//
// Device names are the lab's member names: nodes `r<rack>n<i>` (both 1-based, also for mesh and
// rr: r1n1.. r<R>n<N>), ToRs `tor<rack>`, the core `core`, dedicated reflectors `rr<k>`.
//
// What is counted (docs/plan.md has the formulas and every assumption):
// - sessions: the device's BGP sessions that are Established (`birdc show protocols`, BGP
//   protocols in state Established): one per neighbour address, so an ecmp-fabric node has one
//   per plane. A session joins two devices of the plan and counts once on each;
//   Plan::totalSessions counts it once.
// - routes: the BGP routes in the device's main kernel table, one per prefix: the unicast routes
//   of `ip -4 route show table main proto bird` (lines not starting with blackhole, unreachable
//   or prohibit). A route with 4 next hops counts once. So a node's own block blackholes, which
//   BIRD installs from its static protocol, are not counted; nor are a workload's /32 routes
//   (the CNI plugin's, not BIRD's).
// - blocks: every node claims ceil(workloadsPerNode / block addresses) blocks of the pool (one
//   block per node with the default of one workload); nodes announce their blocks, nothing else;
//   ToRs, core and reflectors announce nothing of their own (the core of downward-default
//   announces a default route, which it does not install itself).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace brindle::plan {

// Roles of Device::role.
inline constexpr const char* kNode = "node";
inline constexpr const char* kTor = "tor";
inline constexpr const char* kCore = "core";
inline constexpr const char* kReflector = "rr";
inline constexpr const char* kPeer = "peer";  // a BGP peer outside the nodes (--from-datastore)

struct Topology {
  // mesh | rr | as-per-rack | as-per-server | downward-default | ecmp-fabric
  std::string name = "mesh";
  int racks = 1;
  int nodesPerRack = 1;
  int rrs = 0;        // rr: dedicated reflectors rr1..rrK (0 means 1); other topologies: 0
  bool core = false;  // as-per-rack: ToRs peer with one core router instead of each other;
                      // downward-default always has a core
  int planes = 4;     // ecmp-fabric: parallel L2 planes, one reflector (rr<k>) per plane
  int workloadsPerNode = 1;
  std::string pool = "10.244.0.0/16";  // IPv4 pool the blocks come from
  int blockSize = 26;                  // prefix length of a block
};

struct Device {
  std::string name;  // lab member name (see above)
  std::string role;  // kNode | kTor | kCore | kReflector | kPeer
  int rack = 0;      // 1-based; 0 for core and reflectors
  uint32_t as = 0;   // AS number the plan gives it (informational, not compared)
  int64_t sessions = 0;
  int64_t routes = 0;
  int nextHops = 1;  // next hops of each remote route (ecmp-fabric nodes: planes)
};

struct Plan {
  std::string topology;
  std::vector<Device> devices;                  // nodes rack by rack, then ToRs, core, reflectors
  int64_t totalSessions = 0;                    // each session once
  int64_t blocks = 0;                           // blocks claimed by all nodes
  std::map<std::string, int64_t> routesByRole;  // the most routes a device of the role holds
  std::vector<std::string> warnings;            // one per role over the route capacity
};

// The names plan() accepts, in the order the docs list them.
const std::vector<std::string>& topologyNames();

// Blocks one node claims for `workloadsPerNode` addresses with blocks of /blockSize from
// `pool`; kInvalid naming the field for a bad pool or size.
Result<int64_t> blocksPerNode(int workloadsPerNode, const std::string& pool, int blockSize);

// The plan of a topology; kInvalid (naming the option) for a shape that topology does not have,
// or blocks the pool cannot hold. With a capacity, Plan::warnings names each role whose devices
// hold more routes than that, and how many devices do.
Result<Plan> plan(const Topology& topology, std::optional<int64_t> routeCapacity = std::nullopt);

// Fills totalSessions, routesByRole and warnings from the devices (plan() calls it; a plan built
// another way, e.g. from a datastore, calls it too). totalSessions is half the devices' sum: every
// session's two ends are devices of the plan.
void complete(Plan& plan, std::optional<int64_t> routeCapacity);

// A device class: the devices of one role, for tables and drawings.
struct RoleSummary {
  std::string role;
  int64_t devices = 0;
  int64_t minSessions = 0, maxSessions = 0;
  int64_t minRoutes = 0, maxRoutes = 0;
  // "3", or "1-3" when the devices differ.
  std::string sessionsText() const;
  std::string routesText() const;
};
std::vector<RoleSummary> summarize(const Plan& plan);  // kNode, kTor, kCore, kReflector, kPeer

// `-o json`: {"topology", "devices": [{name, role, rack, as, sessions, routes, nextHops}],
// "totals": {"sessions", "blocks", "routesByRole"}, "warnings"}.
std::string toJson(const Plan& plan);

// A drawing of the plan: devices as boxes by tier, sessions as lines, counts as labels.
std::string toSvg(const Plan& plan);

}  // namespace brindle::plan
