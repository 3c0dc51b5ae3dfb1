// Object names; see names.h.
#include "rules/names.h"

#include "calc/hash.h"

namespace brindle::rules {

std::string policyChainName(const calc::PolicyId& id, bool ingress) {
  // Felix's PolicyID.ID(): the kind's short name, then the name; a namespaced policy's name
  // already reads "<namespace>/<name>". The tier is not part of it (names are unique per kind).
  const char* kind = id.name.find('/') == std::string::npos ? "gnp/" : "np/";
  return calc::lengthLimitedId(ingress ? "cali-pi-" : "cali-po-", kind + id.name, kMaxChainName);
}

std::string profileChainName(const std::string& name, bool ingress) {
  return calc::lengthLimitedId(ingress ? "cali-pri-" : "cali-pro-", name, kMaxChainName);
}

std::string endpointChainName(std::string_view prefix, const std::string& interfaceName) {
  return calc::lengthLimitedId(prefix, interfaceName, kMaxChainName);
}

std::string ipSetName(const std::string& id, dataplane::IpVersion version) {
  std::string name = (version == dataplane::IpVersion::kV4 ? "cali40" : "cali60") + id;
  if (name.size() > kMaxIpSetName) name.resize(kMaxIpSetName);
  return name;
}

}  // namespace brindle::rules
