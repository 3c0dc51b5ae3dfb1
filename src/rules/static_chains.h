// The fixed chains of each table (S14) and the hooks from the kernel chains into them: raw and
// mangle PREROUTING, nat PREROUTING/OUTPUT/POSTROUTING (floating IPs, nat-outgoing), filter
// INPUT/FORWARD/OUTPUT (conntrack fast path, workload/host endpoint dispatch). Pure functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "calc/types.h"
#include "dataplane/chain.h"
#include "rules/config.h"

namespace brindle::rules {

struct TableRules {
  std::vector<dataplane::Chain> chains;                            // ours, in render order
  std::map<std::string, std::vector<dataplane::Rule>> insertions;  // kernel chain -> hooks
};

TableRules rawStaticChains(dataplane::IpVersion version, const RendererConfig& config);
// The mangle table (pre-DNAT host endpoint policy) while this node has a host endpoint; nothing
// otherwise: without one its chains decide nothing, and a mangle table we never create registers
// no hook that every packet would walk.
TableRules mangleChains(const std::map<std::string, calc::HostEndpoint>& hosts,
                        const RendererConfig& config);
TableRules filterStaticChains(dataplane::IpVersion version, const RendererConfig& config);
// The whole nat table: the static chains, floating IPs and nat-outgoing while any pool
// masquerades or any endpoint has a floating IP (of either family, so both tables keep one
// shape); nothing otherwise. A nat table we never create registers no nat hooks, so a node
// without NAT pays nothing for it on each new connection.
TableRules natChains(const std::map<Cidr, calc::IpPool>& pools,
                     const std::map<std::string, calc::WorkloadEndpoint>& endpoints,
                     dataplane::IpVersion version);

// "cali+" style interface matches for the workload prefixes.
std::vector<std::string> workloadInterfaceWildcards(const RendererConfig& config);

}  // namespace brindle::rules
