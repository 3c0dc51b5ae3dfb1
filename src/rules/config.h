// RendererConfig: every knob of the rule renderer in one struct, each field documented. The
// defaults are the seed's (S13) and Calico's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace brindle::rules {

enum class EndpointToHostAction { kDrop, kReturn, kAccept };

struct FailsafePort {
  std::string protocol;  // "tcp" or "udp"
  uint16_t port = 0;
  bool operator==(const FailsafePort&) const = default;
};

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
  std::vector<FailsafePort> failsafeInbound = {{"tcp", 22},   {"udp", 68},   {"tcp", 179},
                                               {"tcp", 2379}, {"tcp", 2380}, {"tcp", 5473},
                                               {"tcp", 6443}};
  std::vector<FailsafePort> failsafeOutbound = {{"udp", 53},   {"udp", 67},   {"tcp", 179},
                                                {"tcp", 2379}, {"tcp", 2380}, {"tcp", 5473},
                                                {"tcp", 6443}};

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

  // Prefix of LOG rules (policy action Log); ": " is appended.
  std::string logPrefix = "calico-packet";
};

// Empty if the config is usable, else what is wrong (e.g. a mark bit outside the mask).
std::string validateConfig(const RendererConfig& config);

}  // namespace brindle::rules
