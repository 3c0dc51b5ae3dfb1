// Reading resources into calc inputs; see inputs.h.
#include "calc/inputs.h"

#include "model/kinds.h"
#include "model/views.h"
#include "selector/ast.h"
#include "selector/parser.h"

namespace brindle::calc {
namespace {

using model::Json;

std::vector<std::string> stringsOf(const Json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// obj[name] without copying it, or an empty list if absent.
const Json& member(const Json& obj, const char* name) {
  static const Json kEmpty = Json::array();
  auto it = obj.find(name);
  return it == obj.end() ? kEmpty : *it;
}

// The labels Calico adds to whatever lives in namespace `ns`.
void addNamespaceLabels(Labels& labels, const std::string& ns) {
  // insert_or_assign: the key string is built once and moved into the map.
  labels.insert_or_assign(std::string(kNamespaceLabel), ns);
  labels.insert_or_assign(std::string(kNamespaceSelectorPrefix) + "projectcalico.org/name", ns);
}

}  // namespace

std::optional<KeyParts> parseResourceKey(std::string_view key) {
  if (!key.starts_with(model::kKeyRoot)) return std::nullopt;
  std::string_view rest = key.substr(model::kKeyRoot.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view plural = rest.substr(0, slash);
  rest = rest.substr(slash + 1);
  for (const auto& info : model::allKinds()) {
    if (info.plural != plural) continue;
    KeyParts parts{info.kind, {}, rest};
    if (info.namespaced) {
      size_t nsEnd = rest.find('/');
      if (nsEnd != std::string_view::npos) {
        parts.ns = rest.substr(0, nsEnd);
        parts.name = rest.substr(nsEnd + 1);
      }
    }
    return parts;
  }
  return std::nullopt;
}

selector::NodePtr inNamespace(std::string_view ns) {
  return selector::labelEquals(std::string(kNamespaceLabel), std::string(ns));
}

Result<EndpointInput> endpointInput(const model::Resource& r) {
  EndpointInput e;
  e.host = r.kind == model::Kind::kHostEndpoint;
  const Json& spec = r.spec;
  e.node = spec.value("node", "");
  e.interfaceName = spec.value("interfaceName", "");
  e.labels = r.labels();
  e.profiles = stringsOf(member(spec, "profiles"));
  BRINDLE_ASSIGN_OR_RETURN(e.addresses, model::endpointAddresses(r));
  if (e.host) {
    e.id = r.name();
  } else {
    e.id = r.ns() + "/" + r.name();
    addNamespaceLabels(e.labels, r.ns());
    if (spec.contains("orchestrator")) {
      e.labels.insert_or_assign(std::string(kOrchestratorLabel), spec.value("orchestrator", ""));
    }
    for (const auto& nat : member(spec, "ipNATs")) {
      auto in = IpAddr::parse(nat.value("internalIP", ""));
      auto ex = IpAddr::parse(nat.value("externalIP", ""));
      if (!in || !ex) return makeError(ErrorCode::kInvalid, "spec.ipNATs: bad address");
      e.ipNats.push_back({*in, *ex});
    }
  }
  return e;
}

Result<PolicyInput> policyInput(const model::Resource& r, bool withRules) {
  PolicyInput p;
  const Json& spec = r.spec;
  p.id.tier = spec.value("tier", std::string(kDefaultTier));
  if (r.kind == model::Kind::kNetworkPolicy) {
    p.ns = r.ns();
    p.id.name = r.ns() + "/" + r.name();
  } else {
    p.id.name = r.name();
  }
  auto tree = selector::parseTree(spec.value("selector", ""));
  if (!tree) return makeError(ErrorCode::kInvalid, "spec.selector: " + tree.message());
  std::vector<selector::NodePtr> parts;
  parts.push_back(std::move(tree).value());
  // A NetworkPolicy only ever selects endpoints of its own namespace (Calico's order:
  // `(S) && projectcalico.org/namespace == "ns"`).
  if (!p.ns.empty()) parts.push_back(inNamespace(p.ns));
  p.selector = selector::Selector(selector::allOf(std::move(parts)));
  if (spec.contains("order") && spec["order"].is_number()) p.order = spec["order"].get<double>();
  bool hasEgress = !member(spec, "egress").empty();
  if (withRules) {
    BRINDLE_ASSIGN_OR_RETURN(auto rules, model::ruleLists(spec));
    static_cast<model::RuleLists&>(p) = std::move(rules);
    hasEgress = !p.egress.empty();
  }
  if (spec.contains("types") && spec["types"].is_array() && !spec["types"].empty()) {
    p.appliesIngress = p.appliesEgress = false;
    for (const auto& t : spec["types"]) {
      if (t == "Ingress") p.appliesIngress = true;
      if (t == "Egress") p.appliesEgress = true;
    }
  } else {
    // Calico's default: Ingress always, Egress only if the policy has egress rules.
    p.appliesIngress = true;
    p.appliesEgress = hasEgress;
  }
  return p;
}

Result<TierInput> tierInput(const model::Resource& r) {
  TierInput t;
  t.name = r.name();
  const Json order = r.spec.value("order", Json());
  if (order.is_number()) {
    t.order = order.get<double>();
  } else if (!order.is_null()) {
    return makeError(ErrorCode::kInvalid, "spec.order: not a number: " + order.dump());
  }
  const Json action = r.spec.value("defaultAction", Json("Deny"));
  if (action == "Pass") {
    t.defaultAction = model::Action::kPass;
  } else if (action != "Deny") {
    return makeError(ErrorCode::kInvalid, "spec.defaultAction: not Deny or Pass: " + action.dump());
  }
  return t;
}

Result<ProfileInput> profileInput(const model::Resource& r) {
  BRINDLE_ASSIGN_OR_RETURN(auto view, model::profileView(r));
  return ProfileInput{std::move(view), r.name()};
}

Result<NetworkSetInput> networkSetInput(const model::Resource& r) {
  BRINDLE_ASSIGN_OR_RETURN(auto view, model::networkSetView(r));
  NetworkSetInput n{std::move(view), r.name()};
  if (r.kind == model::Kind::kNetworkSet) {
    n.id = r.ns() + "/" + r.name();
    addNamespaceLabels(n.labels, r.ns());
  }
  return n;
}

Result<IpPool> ipPoolInput(const model::Resource& r) {
  BRINDLE_ASSIGN_OR_RETURN(auto view, model::ipPoolView(r));
  return IpPool{view.cidr, view.natOutgoing, view.disabled,
                view.cidr.isV4() && view.ipipMode != "Never"};
}

}  // namespace brindle::calc
