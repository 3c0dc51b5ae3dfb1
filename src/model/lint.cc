// Lint of policies and profiles: rules that can never match because an earlier terminal rule
// in the same direction already ends every packet they would see.
#include <vector>

#include "common/ip.h"
#include "model/rule.h"
#include "model/validate.h"

namespace brindle::model {
namespace {

std::string resourceLabel(const Resource& r) {
  std::string name = r.name();
  if (kindInfo(r.kind).namespaced && !r.ns().empty()) name = r.ns() + "/" + name;
  return std::string(kindInfo(r.kind).name) + " \"" + name + "\"";
}

void lintDirection(const Resource& r, const char* dir, std::vector<std::string>& out) {
  auto it = r.spec.find(dir);
  if (it == r.spec.end() || !it->is_array()) return;
  const std::string base = std::string("spec.") + dir;
  std::vector<std::optional<Rule>> rules;
  for (size_t i = 0; i < it->size(); ++i) {
    auto parsed = parseRule((*it)[i], base + "[" + std::to_string(i) + "]");
    // An invalid rule is validation's business; lint just skips it (and never uses it as the
    // earlier rule, since we cannot know what it matches).
    rules.push_back(parsed ? std::optional<Rule>(*parsed) : std::nullopt);
  }
  for (size_t j = 0; j < rules.size(); ++j) {
    if (!rules[j]) continue;
    for (size_t i = 0; i < j; ++i) {
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

// Endpoint networks wider than one address: accepted (v1 allowed them), but worth a word.
void lintEndpointNetworks(const Resource& r, std::vector<std::string>& out) {
  auto it = r.spec.find("ipNetworks");
  if (it == r.spec.end() || !it->is_array()) return;
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) continue;
    auto cidr = Cidr::parse((*it)[i].get<std::string>());
    if (cidr && cidr->prefixLength() != cidr->address().bits()) {
      out.push_back(resourceLabel(r) + ": spec.ipNetworks[" + std::to_string(i) + "]: \"" +
                    cidr->toString() +
                    "\" holds more than one address; the whole network is routed to this endpoint "
                    "(Calico v3 expects a /32 or /128 per workload address)");
    }
  }
}

}  // namespace

std::vector<std::string> lintResource(const Resource& resource) {
  std::vector<std::string> out;
  switch (resource.kind) {
    case Kind::kGlobalNetworkPolicy:
    case Kind::kNetworkPolicy:
    case Kind::kProfile:
      lintDirection(resource, "ingress", out);
      lintDirection(resource, "egress", out);
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
