// Validation and defaulting of v3 resources, with errors that name the field path.
#pragma once

#include <vector>

#include "common/result.h"
#include "model/resource.h"
#include "model/rule.h"

namespace brindle::model {

// Fills the defaults Calico fills (IPPool blockSize 26/122, ipipMode/vxlanMode Never, policy
// `types` from the rules present, namespace "default" for namespaced kinds, ...).
void applyDefaults(Resource& resource);

// Checks one resource on its own: unknown fields, names, CIDRs, IPs, MACs, ports and ranges,
// protocols, AS numbers (plain and dotted), block sizes, selectors, actions.
// kInvalid with message "<field path>: <what>", e.g.
//   spec.ipNetworks[0]: "172.16.1.300" is not an IP address
// A number or true/false given for a spec field that takes text is read as its text, as
// calicoctl reads YAML (`node: 42` is the node "42"): rewritten in place when that text is valid
// there, so what is stored is the string.
Status validateResource(Resource& resource);

// Checks an IPPool against the other pools in the store (and in the same request): kInvalid if
// its CIDR overlaps one of theirs (a pool with the same name is the same pool, not a conflict).
Status checkPoolOverlap(const Resource& pool, const std::vector<Resource>& otherPools);

// The API a resource was written in. v1 let a workload endpoint's ipNetworks be any network;
// v3 (Calico's validator, and validateResource) takes only /32 and /128 there. A v1 endpoint with
// a wider network is kept, with lint's warning, so the seed's files still load.
enum class InputApi { kV3, kV1 };

// validateResource (with v1's rules for v1 input), then lintResource's warnings for a valid
// resource: what reading a file runs, parsing each policy rule once for both.
Result<std::vector<std::string>> checkResource(Resource& resource, InputApi api = InputApi::kV3);

// Warnings that do not reject the resource, e.g. a rule that can never match because an earlier
// rule in the same direction ends every packet it would see. Each names both rules. A rule that
// does not parse is skipped (it is validation's business).
std::vector<std::string> lintResource(const Resource& resource);

// lintResource with the resource's rules already parsed by parseRules().
struct PolicyRules {
  std::vector<Result<Rule>> ingress;
  std::vector<Result<Rule>> egress;
};
std::vector<std::string> lintResource(const Resource& resource, const PolicyRules& rules);

}  // namespace brindle::model
