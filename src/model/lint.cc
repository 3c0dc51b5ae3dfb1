// Lint of policies and profiles: rules that can never match because an earlier terminal rule
// in the same direction already ends every packet they would see.
#include <vector>

#include "common/ip.h"
#include "model/rule.h"
#include "model/validate.h"
#include "model/views.h"

namespace brindle::model {
namespace {

std::string resourceLabel(const Resource& r) {
  std::string name = r.name();
  if (kindInfo(r.kind).namespaced && !r.ns().empty()) name = r.ns() + "/" + name;
  return std::string(kindInfo(r.kind).name) + " \"" + name + "\"";
}

void lintDirection(const Resource& r, const char* dir, const std::vector<Result<Rule>>& rules,
                   std::vector<std::string>& out) {
  const std::string base = std::string("spec.") + dir;
  for (size_t j = 0; j < rules.size(); ++j) {
    if (!rules[j]) continue;
    for (size_t i = 0; i < j; ++i) {
      // A rule that does not parse is never the earlier rule: we cannot know what it matches.
      if (!rules[i] || !isTerminal(rules[i]->action) || !ruleCovers(*rules[i], *rules[j])) continue;
      const std::string why = rules[i]->hasConditions() ? "ends every packet it would see first"
                                                        : "ends every packet first";
      out.push_back(resourceLabel(r) + ": " + base + "[" + std::to_string(j) + "] (" +
                    rules[j]->describe() + ") can never match: " + base + "[" + std::to_string(i) +
                    "] (" + rules[i]->describe() + ") " + why);
      break;  // one warning per dead rule: the first rule that shadows it
    }
  }
}

// Endpoint networks wider than one address: v1 input only (v3 refuses them), worth a word.
void lintEndpointNetworks(const Resource& r, std::vector<std::string>& out) {
  auto nets = endpointAddresses(r);
  if (!nets) return;  // validation's business
  for (size_t i = 0; i < nets->size(); ++i) {
    const Cidr& cidr = (*nets)[i];
    if (cidr.prefixLength() == cidr.address().bits()) continue;
    out.push_back(resourceLabel(r) + ": spec.ipNetworks[" + std::to_string(i) + "]: \"" +
                  cidr.toString() +
                  "\" holds more than one address; the whole network is routed to this endpoint "
                  "(Calico v3 expects a /32 or /128 per workload address)");
  }
}

}  // namespace

std::vector<std::string> lintResource(const Resource& resource) {
  return lintResource(resource,
                      {parseRules(resource.spec, "ingress"), parseRules(resource.spec, "egress")});
}

std::vector<std::string> lintResource(const Resource& resource, const PolicyRules& rules) {
  std::vector<std::string> out;
  switch (resource.kind) {
    case Kind::kGlobalNetworkPolicy:
    case Kind::kNetworkPolicy:
    case Kind::kProfile:
      lintDirection(resource, "ingress", rules.ingress, out);
      lintDirection(resource, "egress", rules.egress, out);
      break;
    case Kind::kWorkloadEndpoint:
      lintEndpointNetworks(resource, out);
      break;
    default:
      break;
  }
  return out;
}

}  // namespace brindle::model
