#include "policy_diff/state.h"

#include "model/codec.h"

namespace brindle::policydiff {

namespace {

std::string quoted(const std::string& v) { return "'" + v + "'"; }

std::string valueSet(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + quoted(values[i]);
  return out + "}";
}

Json labelsJson(const LabelMap& labels) {
  Json out = Json::object();
  for (const auto& [k, v] : labels) out[k] = v;
  return out;
}

Json portsJson(const std::vector<PortRange>& ports) {
  Json out = Json::array();
  for (const auto& p : ports) {
    if (p.first == p.last) {
      out.push_back(p.first);
    } else {
      out.push_back(p.text());
    }
  }
  return out;
}

Json rulesJson(const std::vector<Rule>& rules) {
  Json out = Json::array();
  for (const auto& r : rules) out.push_back(r.toJson());
  return out;
}

Json resource(const std::string& kind, const std::string& name, const std::string& ns,
              const LabelMap& labels, Json spec) {
  Json meta = {{"name", name}};
  if (!ns.empty()) meta["namespace"] = ns;
  if (!labels.empty()) meta["labels"] = labelsJson(labels);
  return {{"apiVersion", "projectcalico.org/v3"},
          {"kind", kind},
          {"metadata", meta},
          {"spec", std::move(spec)}};
}

}  // namespace

std::string Sel::text() const {
  switch (op) {
    case Op::kAll:
      return "all()";
    case Op::kGlobal:
      return "global()";
    case Op::kEq:
      return key + " == " + quoted(values.at(0));
    case Op::kNe:
      return key + " != " + quoted(values.at(0));
    case Op::kIn:
      return key + " in " + valueSet(values);
    case Op::kNotIn:
      return key + " not in " + valueSet(values);
    case Op::kHas:
      return "has(" + key + ")";
    case Op::kNotHas:
      return "!has(" + key + ")";
    case Op::kAnd:
      return "(" + kids.at(0).text() + ") && (" + kids.at(1).text() + ")";
    case Op::kOr:
      return "(" + kids.at(0).text() + ") || (" + kids.at(1).text() + ")";
    case Op::kNot:
      return "!(" + kids.at(0).text() + ")";
  }
  return "";
}

bool Sel::matches(const LabelMap& labels) const {
  auto it = labels.find(key);
  bool present = it != labels.end();
  auto inValues = [&] {
    if (!present) return false;
    for (const auto& v : values) {
      if (v == it->second) return true;
    }
    return false;
  };
  switch (op) {
    case Op::kAll:
      return true;
    case Op::kGlobal:
      return false;  // only meaningful as a namespaceSelector; the model handles it there
    case Op::kEq:
      return present && it->second == values.at(0);
    case Op::kNe:
      return !present || it->second != values.at(0);
    case Op::kIn:
      return inValues();
    case Op::kNotIn:
      return !inValues();
    case Op::kHas:
      return present;
    case Op::kNotHas:
      return !present;
    case Op::kAnd:
      return kids.at(0).matches(labels) && kids.at(1).matches(labels);
    case Op::kOr:
      return kids.at(0).matches(labels) || kids.at(1).matches(labels);
    case Op::kNot:
      return !kids.at(0).matches(labels);
  }
  return false;
}

std::string PortRange::text() const {
  return first == last ? std::to_string(first) : std::to_string(first) + ":" + std::to_string(last);
}

bool Side::empty() const {
  return nets.empty() && notNets.empty() && !selector && !notSelector && !namespaceSelector &&
         ports.empty() && notPorts.empty();
}

Json Side::toJson() const {
  Json out = Json::object();
  if (!nets.empty()) out["nets"] = nets;
  if (!notNets.empty()) out["notNets"] = notNets;
  if (selector) out["selector"] = selector->text();
  if (notSelector) out["notSelector"] = notSelector->text();
  if (namespaceSelector) out["namespaceSelector"] = namespaceSelector->text();
  if (!ports.empty()) out["ports"] = portsJson(ports);
  if (!notPorts.empty()) out["notPorts"] = portsJson(notPorts);
  return out;
}

Json Rule::toJson() const {
  Json out = {{"action", action}};
  if (protocol) out["protocol"] = *protocol;
  if (notProtocol) out["notProtocol"] = *notProtocol;
  auto icmpJson = [](const Icmp& i) {
    Json j = {{"type", i.type}};
    if (i.code) j["code"] = *i.code;
    return j;
  };
  if (icmp) out["icmp"] = icmpJson(*icmp);
  if (notICMP) out["notICMP"] = icmpJson(*notICMP);
  if (!source.empty()) out["source"] = source.toJson();
  if (!destination.empty()) out["destination"] = destination.toJson();
  return out;
}

Json Policy::toJson() const {
  Json spec = Json::object();
  if (order) spec["order"] = *order;
  spec["selector"] = selector.text();
  if (types) spec["types"] = *types;
  if (!ingress.empty()) spec["ingress"] = rulesJson(ingress);
  if (!egress.empty()) spec["egress"] = rulesJson(egress);
  return resource(global ? "GlobalNetworkPolicy" : "NetworkPolicy", name, global ? "" : ns, {},
                  std::move(spec));
}

Json Profile::toJson() const {
  Json spec = Json::object();
  if (!labelsToApply.empty()) spec["labelsToApply"] = labelsJson(labelsToApply);
  if (!ingress.empty()) spec["ingress"] = rulesJson(ingress);
  if (!egress.empty()) spec["egress"] = rulesJson(egress);
  return resource("Profile", name, "", {}, std::move(spec));
}

Json Endpoint::toJson(const std::string& node) const {
  Json spec = {{"node", node},           {"orchestrator", "k8s"},
               {"workload", workload},   {"endpoint", "eth0"},
               {"interfaceName", iface}, {"ipNetworks", Json::array({ip + "/32"})}};
  if (!profiles.empty()) spec["profiles"] = profiles;
  return resource("WorkloadEndpoint", name, ns, labels, std::move(spec));
}

Json NetSet::toJson() const {
  return resource(global ? "GlobalNetworkSet" : "NetworkSet", name, global ? "" : ns, labels,
                  {{"nets", nets}});
}

std::map<std::string, Json> State::resources(const std::string& node) const {
  std::map<std::string, Json> out;
  for (const auto& p : profiles) out["Profile//" + p.name] = p.toJson();
  for (const auto& s : netSets) {
    out[(s.global ? "GlobalNetworkSet/" : "NetworkSet/") + s.ns + "/" + s.name] = s.toJson();
  }
  for (const auto& p : policies) {
    out[(p.global ? "GlobalNetworkPolicy/" : "NetworkPolicy/") + p.ns + "/" + p.name] = p.toJson();
  }
  for (const auto& e : endpoints) out["WorkloadEndpoint/" + e.ns + "/" + e.name] = e.toJson(node);
  return out;
}

std::string State::yaml(const std::string& node) const {
  Json list = Json::array();
  for (auto& [key, json] : resources(node)) list.push_back(json);
  return model::encodeYaml(list);
}

}  // namespace brindle::policydiff
