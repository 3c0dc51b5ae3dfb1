// Reads what computeNodeConfig decides from: the BGP resources, pools and IPAM blocks from the
// datastore, and BGP passwords from files (Brindle's stand-in for Calico's Kubernetes secrets:
// <secretsDir>/<secret name>/<key>).
#pragma once

#include <string>

#include "bgp/config.h"
#include "datastore/client.h"

namespace brindle::bgp {

inline constexpr const char* kDefaultSecretsDir = "/etc/brindle/secrets";

Result<Inputs> readInputs(datastore::Client& client, const std::string& secretsDir);

}  // namespace brindle::bgp
