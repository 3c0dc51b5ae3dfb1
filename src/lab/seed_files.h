// The seed's lab files (examples/lab, examples/seed-lab) as the seed command reads them: the
// nodes and endpoints it must wire, and the two variants derived from policy.yaml and
// profile.yaml (the files themselves are loaded unchanged).
#pragma once

#include <string>
#include <vector>

#include "lab/state.h"

namespace brindle::lab {

struct SeedEndpoint {
  WorkloadState workload;  // name, node, address, iface
  std::string mac;
};

struct SeedFiles {
  std::string nodes, pool, endpoints, policy, profile;  // paths
  std::vector<NodeState> nodeList;
  std::vector<SeedEndpoint> endpointList;
};

Result<SeedFiles> readSeedFiles(const std::string& examples);

// `profile`: the policy no longer selects the database (its selector gets
// `&& service != 'database'`).
Result<std::string> policyWithoutDatabase(const std::string& policyFile);
// `fixed`: the profile without its first bare deny.
Result<std::string> profileWithoutFirstDeny(const std::string& profileFile);

}  // namespace brindle::lab
