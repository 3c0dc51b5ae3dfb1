// RendererConfig: every knob of the rule renderer in one struct, each field documented. The
// defaults are the seed's (S13) and Calico's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/felix_config.h"

namespace brindle::rules {

using model::EndpointToHostAction;
using model::FailsafePort;

struct RendererConfig {
  // Mark bits (S13). accept: a policy/profile accepted the packet; pass: a policy said Pass (go
  // to the next tier) or, at tier level, some policy returned; endpoint: raw PREROUTING saw the
  // packet come in on a workload interface. markMask holds all of ours and is what entry points
  // clear; every bit above must lie inside it.
  uint32_t markAccept = 0x1000000;
  uint32_t markPass = 0x2000000;
  uint32_t markEndpoint = 0x4000000;
  uint32_t markMask = 0x7000000;

  // Host-side interface name prefixes of workloads ("cali" -> matches "cali+").
  std::vector<std::string> workloadInterfacePrefixes = {"cali"};

  // What happens to workload -> host traffic after the workload's egress policy allowed it
  // (DHCP and DNS are always allowed first). Calico's default is Drop.
  EndpointToHostAction defaultEndpointToHostAction = EndpointToHostAction::kDrop;

  // Host endpoint failsafes: always allowed to/from host endpoints whatever the policy.
  std::vector<FailsafePort> failsafeInbound = model::defaultFailsafeInbound();
  std::vector<FailsafePort> failsafeOutbound = model::defaultFailsafeOutbound();

  // Hooks into the kernel chains: inserted at the top (true, Calico's default) or appended.
  bool insertHooks = true;

  // Render the IPv6 (ip6tables) rules as well.
  bool ipv6Enabled = true;

  // Anti-spoofing: drop packets from workloads whose source the kernel would not route back out
  // of the same interface (raw table, rpfilter), so a workload can send only from its addresses.
  bool antiSpoofing = true;

  // Some enabled pool uses IPIP (Felix's IPIPEnabled): IPIP is admitted from known nodes only.
  // The managers set it from the pools.
  bool ipipEnabled = false;

  // Dispatch chains stay flat (one rule per interface) however many endpoints there are: the
  // nftables backend renders such a run as one verdict map lookup, where iptables needs a tree.
  bool flatDispatch = false;

  // Prefix of LOG rules (policy action Log); ": " is appended.
  std::string logPrefix = "calico-packet";
};

// Empty if the config is usable, else what is wrong (e.g. a mark bit outside the mask).
std::string validateConfig(const RendererConfig& config);

}  // namespace brindle::rules
