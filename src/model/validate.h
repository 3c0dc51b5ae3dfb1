// Validation and defaulting of v3 resources, with errors that name the field path.
#pragma once

#include <vector>

#include "common/result.h"
#include "model/resource.h"

namespace brindle::model {

// Fills the defaults Calico fills (IPPool blockSize 26/122, ipipMode/vxlanMode Never, policy
// `types` from the rules present, namespace "default" for namespaced kinds, ...).
void applyDefaults(Resource& resource);

// Checks one resource on its own: unknown fields, names, CIDRs, IPs, MACs, ports and ranges,
// protocols, AS numbers (plain and dotted), block sizes, selectors, actions.
// kInvalid with message "<field path>: <what>", e.g.
//   spec.ipNetworks[0]: "172.16.1.300" is not an IP address
Status validateResource(const Resource& resource);

// Checks an IPPool against the other pools in the store (and in the same request): kInvalid if
// its CIDR overlaps one of theirs (a pool with the same name is the same pool, not a conflict).
Status checkPoolOverlap(const Resource& pool, const std::vector<Resource>& otherPools);

// Warnings that do not reject the resource, e.g. a rule that can never match because an earlier
// rule in the same direction ends every packet it would see. Each names both rules.
std::vector<std::string> lintResource(const Resource& resource);

}  // namespace brindle::model
