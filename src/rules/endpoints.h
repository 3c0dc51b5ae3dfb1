// Endpoint chains: per workload cali-tw-<iface> (to it: ingress) and cali-fw-<iface> (from it:
// egress); per host endpoint cali-fh-<iface> (ingress) and cali-th-<iface> (egress); and the
// dispatch chains that jump (-g) to them by interface. Pure functions.
#pragma once

#include <map>
#include <string>
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
// `flat`: never a tree (the nftables backend turns the one flat chain into a verdict map).
std::vector<dataplane::Chain> workloadDispatchChains(
    const std::map<std::string, calc::WorkloadEndpoint>& endpoints, bool flat = false);
// The flat workload dispatch chains in `table` (as workloadDispatchChains(.., true) wrote them)
// brought in line with interface `iface` now used by some endpoint (`present`) or by none: its
// rule inserted at or removed from its sorted place in each chain (ChainTable::insertRule /
// removeRule), the same chains as written whole, at a cost independent of the number of
// endpoints. False (nothing changed) when the chains are not in `table`.
bool editFlatWorkloadDispatch(dataplane::ChainTable& table, const std::string& iface, bool present);
// cali-from-host-endpoint / cali-to-host-endpoint: one `-g` per host endpoint interface, as a
// tree like the workload chains above 16; other interfaces are not policed (they return).
std::vector<dataplane::Chain> hostDispatchChains(
    const std::map<std::string, calc::HostEndpoint>& endpoints, bool flat = false);

// cali-failsafe-in / cali-failsafe-out.
std::vector<dataplane::Chain> failsafeChains(const RendererConfig& config, dataplane::IpVersion v);

}  // namespace brindle::rules
