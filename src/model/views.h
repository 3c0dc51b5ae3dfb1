// Typed views of stored resources: each fact the agent, IPAM, CNI and CLI read from a spec is
// read here, once, instead of by each of them from the JSON. Stored resources were validated
// when written, so a view fails only on a value validation would have refused.
#pragma once

#include <string>
#include <vector>

#include "common/ip.h"
#include "common/labels.h"
#include "common/result.h"
#include "model/resource.h"
#include "model/rule.h"

namespace brindle::model {

struct IpPoolView {
  Cidr cidr;
  int blockSize = 0;  // 26 (IPv4) or 122 (IPv6) when unset
  bool natOutgoing = false;
  bool disabled = false;
  bool automatic = true;  // assignmentMode is not Manual
  bool workload = true;   // allowedUses, when set, includes Workload
  std::string nodeSelector = "all()";
  std::string ipipMode = "Never";  // Always, CrossSubnet or Never (the seed's v1 ipip converted)
};

// kInvalid "spec.cidr: ..." when the pool's CIDR does not parse.
Result<IpPoolView> ipPoolView(const Resource& pool);

// A WorkloadEndpoint's ipNetworks or a HostEndpoint's expectedIPs (a bare address is a /32 or
// /128). kInvalid "spec.ipNetworks: ..." (or expectedIPs) at the first one that does not parse.
Result<std::vector<Cidr>> endpointAddresses(const Resource& endpoint);

// The CIDR list spec[field] (NetworkSet nets, ...): absent or not a list is empty, non-strings
// are skipped. kInvalid "spec.<field>: ..." at the first one that does not parse.
Result<std::vector<Cidr>> cidrList(const Json& spec, const char* field);

// A policy's or profile's rules, both directions parsed once (parseRules). kInvalid at the first
// rule that does not parse, with its path ("spec.egress[1].action: ...").
struct RuleLists {
  std::vector<Rule> ingress;
  std::vector<Rule> egress;
};
Result<RuleLists> ruleLists(const Json& spec);

struct ProfileView : RuleLists {
  Labels labelsToApply;
};
Result<ProfileView> profileView(const Resource& profile);

// A NetworkSet's or GlobalNetworkSet's own labels (without the implicit namespace ones) and nets.
struct NetworkSetView {
  Labels labels;
  std::vector<Cidr> nets;
};
Result<NetworkSetView> networkSetView(const Resource& set);

}  // namespace brindle::model
