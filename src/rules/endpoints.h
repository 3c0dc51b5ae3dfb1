// Endpoint chains: per workload cali-tw-<iface> (to it: ingress) and cali-fw-<iface> (from it:
// egress); per host endpoint cali-fh-<iface> (ingress) and cali-th-<iface> (egress); and the
// dispatch chains that jump (-g) to them by interface. Pure functions.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "calc/types.h"
#include "dataplane/chain.h"
#include "dataplane/chain_table.h"
#include "rules/config.h"

namespace brindle::rules {

// The policy part of an endpoint chain: tiers in order ("Start of policies"/"Start of tier X",
// a jump per policy guarded by "no pass mark yet", "Return if policy accepted", and "Drop if no
// policies passed packet" at the end of each tier); then the profiles (only reached when no
// tier applies or the last one passed); then "Drop if no profiles matched".
std::vector<dataplane::Rule> endpointPolicyRules(const std::vector<calc::TierInfo>& tiers,
                                                 const std::vector<std::string>& profiles,
                                                 bool ingress, const RendererConfig& config);

// {cali-tw-<iface>, cali-fw-<iface>}.
std::vector<dataplane::Chain> workloadEndpointChains(const calc::WorkloadEndpoint& ep,
                                                     const RendererConfig& config);
// {cali-fh-<iface>, cali-th-<iface>}, failsafe chains jumped first. Empty without interface.
std::vector<dataplane::Chain> hostEndpointChains(const calc::HostEndpoint& ep,
                                                 const RendererConfig& config);

// cali-from-wl-dispatch / cali-to-wl-dispatch: one `-g` per interface (sorted), then
// "Unknown interface" DROP. Above 16 interfaces a chain becomes a prefix tree (Felix's shape):
// it bins the interfaces by the character after their common prefix, a bin of one keeps its
// `-g`, a larger one becomes `-i <prefix>+ -g <root>-<prefix without "cali">` whose chain (same
// rules, recursively, and the same DROP at its end) holds the bin. Roots first, then children.
std::vector<dataplane::Chain> workloadDispatchChains(
    const std::map<std::string, calc::WorkloadEndpoint>& endpoints);

// Workload groups, the nftables backend's dispatch (RendererConfig::flatDispatch). Endpoints
// whose chains are the same share one pair, cali-tw-g<group> / cali-fw-g<group> (hex), and the
// agent gives each workload interface its group's number as device group (RouteTable). The
// dispatch chains stay flat: per interface `-i cali1 -m devgroup --src-group <group> -g
// cali-fw-g<group>`, which nftables renders as a set of (interface, group) pairs and a verdict
// map by group (nftables_render.h): a new endpoint of an existing group adds no verdict, so the
// kernel re-validates no jump graph, and a packet is dispatched only when its interface carries
// the group the agent chose for it.
std::string workloadGroupChainName(std::string_view prefix, uint32_t group);
// What identifies an endpoint's group: a digest of its chains' rules ({tw, fw}), names aside.
std::string workloadChainsDigest(const std::vector<dataplane::Chain>& chains);
// The group number `digest` asks for, in [kWorkloadGroupFirst, kWorkloadGroupLast] (the
// managers take the next free one when another digest holds it).
uint32_t preferredWorkloadGroup(const std::string& digest);
// The flat dispatch chains for `groups` (interface -> its group), sorted by interface. Ahead of
// them, for each interface in `moving` (interface -> groups its link may still carry, for one
// apply: see Managers), `-i <iface> -m devgroup --src-group <old> -g cali-fw-g<its group>` with
// a comment: the old group admitted, to the new group's chains.
std::vector<dataplane::Chain> groupedWorkloadDispatchChains(
    const std::map<std::string, uint32_t>& groups,
    const std::map<std::string, std::set<uint32_t>>& moving = {});
// Those chains in `table` (written with nothing moving) brought in line with interface `iface`
// now in `group` (nullopt: no endpoint uses it): its rule inserted at, replaced at or removed
// from its sorted place in each chain (ChainTable::insertRule / removeRule), the same chains as
// written whole, at a cost independent of the number of endpoints. False (nothing changed) when
// the chains are not in `table`.
bool editGroupedWorkloadDispatch(dataplane::ChainTable& table, const std::string& iface,
                                 std::optional<uint32_t> group);

// cali-from-host-endpoint / cali-to-host-endpoint: one `-g` per host endpoint interface, as a
// tree like the workload chains above 16; other interfaces are not policed (they return).
std::vector<dataplane::Chain> hostDispatchChains(
    const std::map<std::string, calc::HostEndpoint>& endpoints, bool flat = false);

// cali-failsafe-in / cali-failsafe-out.
std::vector<dataplane::Chain> failsafeChains(const RendererConfig& config, dataplane::IpVersion v);

}  // namespace brindle::rules
