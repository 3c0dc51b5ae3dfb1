// Reads what computeNodeConfig decides from: the BGP resources, pools and IPAM blocks from the
// datastore, and BGP passwords from files (Brindle's stand-in for Calico's Kubernetes secrets:
// <secretsDir>/<secret name>/<key>).
#pragma once

#include <string>
#include <string_view>

#include "bgp/config.h"
#include "datastore/client.h"

namespace brindle::bgp {

inline constexpr const char* kDefaultSecretsDir = "/etc/brindle/secrets";

Result<Inputs> readInputs(datastore::Client& client, const std::string& secretsDir);
// Whether a datastore key holds something readInputs reads (a change there may change BIRD's
// configuration; a workload's or a policy's cannot).
bool isInputKey(std::string_view key);

}  // namespace brindle::bgp
