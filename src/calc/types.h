// What the calculation graph hands the dataplane: policies and profiles with selectors replaced
// by ipset ids, local endpoints with their ordered tiers, ipset ids, pools, blocks and routes.
#pragma once

#include <compare>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/ip.h"
#include "model/rule.h"

namespace brindle::calc {

inline constexpr std::string_view kDefaultTier = "default";
// Calico's default tier's order; also the order of a tier with no order or no Tier resource.
inline constexpr double kDefaultTierOrder = 1000000;

// A policy: its tier and its name; namespaced policies are "<namespace>/<name>".
struct PolicyId {
  std::string tier;
  std::string name;
  auto operator<=>(const PolicyId&) const = default;
  bool operator==(const PolicyId&) const = default;
  std::string text() const { return tier + "|" + name; }
};

// One rule side after calculation: selectors became ipset ids (positive ones must all match,
// negated ones must all miss); several nets became one net ipset.
struct ParsedEntity {
  std::vector<Cidr> nets;             // at most one, else in ipSetIds (a net ipset)
  std::vector<Cidr> notNets;          // at most one and only without nets, else in notIpSetIds
  std::vector<std::string> ipSetIds;  // "s:..." selector sets, "n:..." net sets
  std::vector<std::string> notIpSetIds;
  model::PortSet ports;  // numeric only (named ports are not supported yet)
  model::PortSet notPorts;
  bool operator==(const ParsedEntity&) const = default;
};

struct ParsedRule {
  model::Action action = model::Action::kAllow;
  std::optional<model::Protocol> protocol;
  std::optional<model::Protocol> notProtocol;
  std::optional<int> ipVersion;
  std::optional<model::IcmpMatch> icmp;
  std::optional<model::IcmpMatch> notIcmp;
  ParsedEntity source;
  ParsedEntity destination;
  bool operator==(const ParsedRule&) const = default;
};

struct ParsedRules {
  std::vector<ParsedRule> ingress;
  std::vector<ParsedRule> egress;
  bool operator==(const ParsedRules&) const = default;
};

// A tier as one endpoint sees it: the policies of that tier that select it, in evaluation order,
// split by direction (a policy lists only the directions its `types` name), and what happens to
// a packet none of them decided: Deny drops it, Pass hands it to the next tier (or the profiles).
struct TierInfo {
  std::string name;
  std::vector<PolicyId> ingressPolicies;
  std::vector<PolicyId> egressPolicies;
  model::Action defaultAction = model::Action::kDeny;
  bool operator==(const TierInfo&) const = default;
};

struct IpNat {
  IpAddr internal;
  IpAddr external;
  bool operator==(const IpNat&) const = default;
};

// A workload endpoint of this node.
struct WorkloadEndpoint {
  std::string id;  // "<namespace>/<name>"
  std::string interfaceName;
  std::vector<Cidr> addresses;
  std::vector<IpNat> ipNats;
  std::vector<TierInfo> tiers;  // ordered: tier order, then by name
  std::vector<std::string> profileIds;
  bool operator==(const WorkloadEndpoint&) const = default;
};

// A host endpoint of this node (an interface of the host itself).
struct HostEndpoint {
  std::string id;             // name
  std::string interfaceName;  // may be empty (expectedIPs only: not rendered yet)
  std::vector<Cidr> expectedIps;
  std::vector<TierInfo> tiers;
  std::vector<std::string> profileIds;
  bool operator==(const HostEndpoint&) const = default;
};

struct IpPool {
  Cidr cidr;
  bool natOutgoing = false;
  bool disabled = false;
  bool ipip = false;  // ipipMode Always or CrossSubnet (IPv4)
  bool operator==(const IpPool&) const = default;
};

// A route the agent programs for a local workload (its address, or a floating IP) to its
// interface, or a blackhole route for a block affine to this node (interfaceName empty).
struct Route {
  Cidr destination;
  std::string interfaceName;
  bool operator==(const Route&) const = default;
};

// The ipsets the rules for nat-outgoing use; their members are pool CIDRs.
inline constexpr std::string_view kAllPoolsIpSetId = "all-ipam-pools";
inline constexpr std::string_view kMasqPoolsIpSetId = "masq-ipam-pools";
// Every node's IPv4 address, while some pool uses IPIP: IPIP is admitted only from them (Felix's
// all-hosts-net).
inline constexpr std::string_view kAllHostsIpSetId = "all-hosts-net";

}  // namespace brindle::calc
