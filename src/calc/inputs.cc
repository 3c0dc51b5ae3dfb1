// Reading resources into calc inputs; see inputs.h.
#include "calc/inputs.h"

#include "model/kinds.h"
#include "selector/ast.h"

namespace brindle::calc {
namespace {

using model::Json;

std::string quoteValue(const std::string& v) {
  // Selector string literals: prefer double quotes unless the value holds one.
  if (v.find('"') == std::string::npos) return "\"" + v + "\"";
  return "'" + v + "'";
}

void appendPrefixed(const selector::Node& node, std::string_view prefix, std::string& out) {
  using selector::NodeKind;
  switch (node.kind()) {
    case NodeKind::kAll:
    case NodeKind::kGlobal:
      node.appendCanonical(out);
      return;
    case NodeKind::kHas:
      out += "has(" + std::string(prefix) + static_cast<const selector::HasNode&>(node).key() + ")";
      return;
    case NodeKind::kLabelValue: {
      const auto& n = static_cast<const selector::LabelValueNode&>(node);
      const std::string key = std::string(prefix) + n.key();
      const std::string v = quoteValue(n.value());
      switch (n.op()) {
        case selector::ValueOp::kEq:
          out += key + " == " + v;
          break;
        case selector::ValueOp::kNe:
          out += key + " != " + v;
          break;
        case selector::ValueOp::kContains:
          out += key + " contains " + v;
          break;
        case selector::ValueOp::kStartsWith:
          out += key + " starts with " + v;
          break;
        case selector::ValueOp::kEndsWith:
          out += key + " ends with " + v;
          break;
      }
      return;
    }
    case NodeKind::kLabelSet: {
      const auto& n = static_cast<const selector::LabelSetNode&>(node);
      out +=
          std::string(prefix) + n.key() + (n.op() == selector::SetOp::kIn ? " in {" : " not in {");
      for (size_t i = 0; i < n.values().size(); ++i) {
        if (i) out += ", ";
        out += quoteValue(n.values()[i]);
      }
      out += "}";
      return;
    }
    case NodeKind::kNot:
      out += "!(";
      appendPrefixed(static_cast<const selector::NotNode&>(node).operand(), prefix, out);
      out += ")";
      return;
    case NodeKind::kAnd:
    case NodeKind::kOr: {
      const auto& ops = selector::junctionOperands(node);
      out += "(";
      for (size_t i = 0; i < ops.size(); ++i) {
        if (i) out += node.kind() == NodeKind::kAnd ? " && " : " || ";
        appendPrefixed(*ops[i], prefix, out);
      }
      out += ")";
      return;
    }
  }
}

Labels labelsOf(const Json& j) {
  Labels out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

std::vector<std::string> stringsOf(const Json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::vector<Cidr>> cidrsOf(const Json& j, const std::string& path) {
  std::vector<Cidr> out;
  for (const auto& s : stringsOf(j)) {
    auto c = Cidr::parse(s);
    if (!c) return makeError(ErrorCode::kInvalid, path + ": " + c.message());
    out.push_back(*c);
  }
  return out;
}

// spec.value(name, []) without copying the member: it, or an empty array if absent.
const Json& member(const Json& obj, const char* name) {
  static const Json kEmpty = Json::array();
  if (!obj.is_object()) {
    (void)obj.value(name, Json::array());  // throws, as value() does on a non-object
    return kEmpty;
  }
  auto it = obj.find(name);
  return it == obj.end() ? kEmpty : *it;
}

Result<std::vector<model::Rule>> rulesOf(const Json& spec, const char* field) {
  std::vector<model::Rule> out;
  const Json& list = member(spec, field);
  for (size_t i = 0; i < list.size(); ++i) {
    auto r =
        model::parseRule(list[i], std::string("spec.") + field + "[" + std::to_string(i) + "]");
    if (!r) return r.error();
    out.push_back(std::move(*r));
  }
  return out;
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

selector::Selector prefixSelectorKeys(const selector::Selector& sel, std::string_view prefix) {
  std::string text;
  appendPrefixed(sel.root(), prefix, text);
  auto parsed = selector::Selector::parse(text);
  if (!parsed) {
    std::cerr << "brindle: internal error: prefixed selector does not parse: " << text << "\n";
    std::abort();
  }
  return *parsed;
}

Result<EndpointInput> endpointInput(const model::Resource& r) {
  EndpointInput e;
  e.host = r.kind == model::Kind::kHostEndpoint;
  const Json& spec = r.spec;
  e.node = spec.value("node", "");
  e.interfaceName = spec.value("interfaceName", "");
  e.labels = r.labels();
  e.profiles = stringsOf(member(spec, "profiles"));
  if (e.host) {
    e.id = r.name();
    auto a = cidrsOf(member(spec, "expectedIPs"), "spec.expectedIPs");
    if (!a) return a.error();
    e.addresses = std::move(*a);
  } else {
    const std::string ns = r.ns();
    e.id = ns + "/" + r.name();
    // insert_or_assign: the key string is built once and moved into the map.
    e.labels.insert_or_assign(std::string(kNamespaceLabel), ns);
    e.labels.insert_or_assign(std::string(kNamespaceSelectorPrefix) + "projectcalico.org/name", ns);
    if (spec.contains("orchestrator")) {
      e.labels.insert_or_assign(std::string(kOrchestratorLabel), spec.value("orchestrator", ""));
    }
    auto a = cidrsOf(member(spec, "ipNetworks"), "spec.ipNetworks");
    if (!a) return a.error();
    e.addresses = std::move(*a);
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
  auto sel = selector::Selector::parse(spec.value("selector", ""));
  if (!sel) return makeError(ErrorCode::kInvalid, "spec.selector: " + sel.message());
  p.selector = *sel;
  if (!p.ns.empty()) {
    // A NetworkPolicy only ever selects endpoints of its own namespace.
    auto scoped =
        selector::Selector::parse("(" + p.selector.canonical() + ") && " +
                                  std::string(kNamespaceLabel) + " == " + quoteValue(p.ns));
    if (!scoped) return scoped.error();
    p.selector = *scoped;
  }
  if (spec.contains("order") && spec["order"].is_number()) p.order = spec["order"].get<double>();
  bool hasEgress = !member(spec, "egress").empty();
  if (withRules) {
    auto ingress = rulesOf(spec, "ingress");
    if (!ingress) return ingress.error();
    auto egress = rulesOf(spec, "egress");
    if (!egress) return egress.error();
    p.ingress = std::move(*ingress);
    p.egress = std::move(*egress);
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

Result<ProfileInput> profileInput(const model::Resource& r) {
  ProfileInput p;
  p.name = r.name();
  p.labelsToApply = labelsOf(r.spec.value("labelsToApply", Json::object()));
  auto ingress = rulesOf(r.spec, "ingress");
  if (!ingress) return ingress.error();
  auto egress = rulesOf(r.spec, "egress");
  if (!egress) return egress.error();
  p.ingress = std::move(*ingress);
  p.egress = std::move(*egress);
  return p;
}

Result<NetworkSetInput> networkSetInput(const model::Resource& r) {
  NetworkSetInput n;
  n.labels = r.labels();
  if (r.kind == model::Kind::kNetworkSet) {
    n.id = r.ns() + "/" + r.name();
    n.labels[std::string(kNamespaceLabel)] = r.ns();
    n.labels[std::string(kNamespaceSelectorPrefix) + "projectcalico.org/name"] = r.ns();
  } else {
    n.id = r.name();
  }
  auto nets = cidrsOf(member(r.spec, "nets"), "spec.nets");
  if (!nets) return nets.error();
  n.nets = std::move(*nets);
  return n;
}

Result<IpPool> ipPoolInput(const model::Resource& r) {
  auto c = Cidr::parse(r.spec.value("cidr", ""), false);
  if (!c) return makeError(ErrorCode::kInvalid, "spec.cidr: " + c.message());
  IpPool p;
  p.cidr = *c;
  p.natOutgoing = r.spec.value("natOutgoing", false);
  p.disabled = r.spec.value("disabled", false);
  return p;
}

}  // namespace brindle::calc
