// Names of our kernel objects: fixed chain names, per-policy/profile/endpoint chain names
// (<= 28 characters, long names hashed as Felix's GetLengthLimitedID does) and ipset names
// (<= 31 characters).
#pragma once

#include <string>
#include <string_view>

#include "calc/types.h"
#include "dataplane/chain.h"

namespace brindle::rules {

inline constexpr size_t kMaxChainName = 28;
inline constexpr size_t kMaxIpSetName = 31;

inline constexpr const char* kChainPrerouting = "cali-PREROUTING";
inline constexpr const char* kChainInput = "cali-INPUT";
inline constexpr const char* kChainForward = "cali-FORWARD";
inline constexpr const char* kChainOutput = "cali-OUTPUT";
inline constexpr const char* kChainPostrouting = "cali-POSTROUTING";
inline constexpr const char* kChainWlToHost = "cali-wl-to-host";
inline constexpr const char* kChainFromWlDispatch = "cali-from-wl-dispatch";
inline constexpr const char* kChainToWlDispatch = "cali-to-wl-dispatch";
inline constexpr const char* kChainFromHostEndpoint = "cali-from-host-endpoint";
inline constexpr const char* kChainToHostEndpoint = "cali-to-host-endpoint";
inline constexpr const char* kChainFailsafeIn = "cali-failsafe-in";
inline constexpr const char* kChainFailsafeOut = "cali-failsafe-out";
inline constexpr const char* kChainFipDnat = "cali-fip-dnat";
inline constexpr const char* kChainFipSnat = "cali-fip-snat";
inline constexpr const char* kChainNatOutgoing = "cali-nat-outgoing";

// Policy chains, Felix's names: "cali-pi-" (ingress) / "cali-po-" (egress) + "gnp/<name>" for a
// GlobalNetworkPolicy, "np/<namespace>/<name>" for a NetworkPolicy, hashed when too long.
std::string policyChainName(const calc::PolicyId& id, bool ingress);
// Profile chains: "cali-pri-" / "cali-pro-" + profile name.
std::string profileChainName(const std::string& name, bool ingress);
// Endpoint chains: "cali-tw-"/"cali-fw-" (workload) and "cali-fh-"/"cali-th-" (host) + iface.
std::string endpointChainName(std::string_view prefix, const std::string& interfaceName);

// "cali40" / "cali60" + id, cut to 31 characters (cali40s:<23 chars of hash>).
std::string ipSetName(const std::string& id, dataplane::IpVersion version);

}  // namespace brindle::rules
