// Object names; see names.h.
#include "rules/names.h"

#include "calc/hash.h"

namespace brindle::rules {

std::string policyChainName(const calc::PolicyId& id, bool ingress) {
  std::string suffix = id.name;
  const std::string defaultPrefix = std::string(calc::kDefaultTier) + ".";
  if (id.tier == calc::kDefaultTier && suffix.rfind(defaultPrefix, 0) == 0) {
    suffix = suffix.substr(defaultPrefix.size());
  }
  return calc::lengthLimitedId(ingress ? "cali-pi-" : "cali-po-", suffix, kMaxChainName);
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
