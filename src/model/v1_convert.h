// The seed's apiVersion v1 resources -> projectcalico.org/v3, following Calico's upgrade
// converters (libcalico-go lib/upgrade/converters): names, rule fields, tags, IPIP modes.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "model/resource.h"

namespace brindle::model {

struct V1Conversion {
  Resource resource;                  // v3, not yet defaulted or validated
  std::vector<std::string> warnings;  // "<v1 field path>: <what>"
};

// Converts one v1 document ({apiVersion: v1, kind: <v1 kind>, metadata, spec}). Unknown fields
// and values that cannot be converted are kInvalid "<v1 field path>: <what>", e.g.
//   metadata.cidr: "10.1.0.0/33" is not a valid CIDR
Result<V1Conversion> convertV1(const Json& document);

// Replaces Kubernetes' int-or-string port form ({int: 3306}, {string: "http"}) by the plain
// value in every rule's source/destination ports and notPorts under spec.ingress/spec.egress.
// kInvalid "<path>: <what>" for another mapping in a port list.
Status normalizeRulePorts(Json& spec);

// Calico's workload endpoint name: the parts (node, orchestrator, workload or pod, endpoint)
// joined by '-', each part's own '-' doubled so that the name can be split again.
std::string workloadEndpointName(const std::vector<std::string>& parts);

}  // namespace brindle::model
