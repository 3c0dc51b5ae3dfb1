// What explain evaluates a packet against: the cluster's endpoints, policies, tiers, profiles and
// network sets read through the agent's own inputs (calc/inputs.h), and the packet itself.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calc/inputs.h"
#include "common/ip.h"
#include "common/result.h"
#include "model/resource.h"

namespace brindle::explain {

struct Endpoint {
  calc::EndpointInput input;
  std::string name;                  // the resource's name (a workload's without namespace)
  std::vector<std::string> aliases;  // a workload's spec.endpoint, spec.pod, spec.workload
  Labels labels;  // own labels and the implicit ones, then its profiles' labelsToApply
};

struct Cluster {
  std::vector<Endpoint> endpoints;
  std::vector<calc::PolicyInput> policies;
  std::vector<calc::TierInput> tiers;
  std::map<std::string, calc::ProfileInput> profiles;
  std::vector<calc::NetworkSetInput> networkSets;
  std::map<std::string, IpAddr> nodeAddresses;  // Node spec.bgp.ipv4Address (host:NODE)
  std::vector<std::string> warnings;            // resources the agent would refuse too

  // Reads every resource the agent reads; one that does not read is left out with a warning
  // naming it, as the agent leaves it out.
  static Cluster load(const std::vector<model::Resource>& resources);
};

// One end of the packet: one of our endpoints, the host of a node, or an outside address.
struct Peer {
  const Endpoint* endpoint = nullptr;
  std::string node;  // the endpoint's node, or NODE of host:NODE
  bool host = false;
  std::optional<IpAddr> ip;
  std::string text() const;  // "node1/web", "host:node1", "8.8.8.8"
};

// FROM/TO as brindlectl takes them: NODE/NAME, NAMESPACE/NAME, a bare NAME when unique (a
// workload's name, or its endpoint, pod or workload name as v1 wrote them), an IP
// address (an endpoint's when one holds it, else outside) or host:NODE. kNotFound for an unknown
// name, kInvalid for an ambiguous one (naming the candidates).
Result<Peer> resolvePeer(const Cluster& cluster, std::string_view text);

struct Packet {
  uint8_t protocol = 6;
  std::optional<uint16_t> sourcePort;  // unknown unless given
  std::optional<uint16_t> destPort;
  std::optional<int> icmpType, icmpCode;
  std::string text() const;  // "tcp/3306", "icmp/8/0", "47"
};

// "tcp", "tcp/80", "udp/53", "sctp/9", "icmp", "icmp/8", "icmp/8/0", "icmpv6/128", "47".
// kInvalid naming what is wrong.
Result<Packet> parsePacket(std::string_view text);

// The IP protocol number's name as iptables and Calico print it ("tcp"), else the number.
std::string protocolName(uint8_t number);
bool isIcmp(uint8_t protocol);

}  // namespace brindle::explain
