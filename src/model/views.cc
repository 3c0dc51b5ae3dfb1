// Typed views of stored resources; see views.h.
#include "model/views.h"

#include <algorithm>

namespace brindle::model {

Result<IpPoolView> ipPoolView(const Resource& pool) {
  const Json& spec = pool.spec;
  auto cidr = Cidr::parse(spec.value("cidr", ""), false);
  if (!cidr) return makeError(ErrorCode::kInvalid, "spec.cidr: " + cidr.message());
  IpPoolView view;
  view.cidr = *cidr;
  view.blockSize = spec.value("blockSize", 0);
  if (view.blockSize == 0) view.blockSize = cidr->isV4() ? 26 : 122;
  view.natOutgoing = spec.value("natOutgoing", false);
  view.disabled = spec.value("disabled", false);
  view.automatic = spec.value("assignmentMode", "Automatic") != "Manual";
  if (auto it = spec.find("allowedUses"); it != spec.end() && it->is_array()) {
    view.workload = std::find(it->begin(), it->end(), "Workload") != it->end();
  }
  view.nodeSelector = spec.value("nodeSelector", "all()");
  view.ipipMode = spec.value("ipipMode", "Never");
  if (view.ipipMode.empty()) view.ipipMode = "Never";
  return view;
}

Result<std::vector<Cidr>> endpointAddresses(const Resource& endpoint) {
  return cidrList(endpoint.spec,
                  endpoint.kind == Kind::kHostEndpoint ? "expectedIPs" : "ipNetworks");
}

Result<std::vector<Cidr>> cidrList(const Json& spec, const char* field) {
  std::vector<Cidr> out;
  auto it = spec.find(field);
  if (it == spec.end() || !it->is_array()) return out;
  for (const Json& net : *it) {
    if (!net.is_string()) continue;
    auto cidr = Cidr::parse(net.get_ref<const std::string&>());
    if (!cidr) {
      return makeError(ErrorCode::kInvalid, std::string("spec.") + field + ": " + cidr.message());
    }
    out.push_back(*cidr);
  }
  return out;
}

Result<RuleLists> ruleLists(const Json& spec) {
  RuleLists out;
  for (auto [field, list] :
       {std::pair{"ingress", &out.ingress}, std::pair{"egress", &out.egress}}) {
    for (Result<Rule>& rule : parseRules(spec, field)) {
      if (!rule) return rule.error();
      list->push_back(std::move(rule).value());
    }
  }
  return out;
}

Result<ProfileView> profileView(const Resource& profile) {
  BRINDLE_ASSIGN_OR_RETURN(auto rules, ruleLists(profile.spec));
  return ProfileView{std::move(rules),
                     labelsOf(profile.spec.value("labelsToApply", Json::object()))};
}

Result<NetworkSetView> networkSetView(const Resource& set) {
  BRINDLE_ASSIGN_OR_RETURN(auto nets, cidrList(set.spec, "nets"));
  return NetworkSetView{set.labels(), std::move(nets)};
}

}  // namespace brindle::model
