// Column definitions per kind: a heading and how to read its cell from a v3 resource.
#include "cli/columns.h"

#include <functional>
#include <map>

namespace brindle::cli {
namespace {

using model::Json;
using model::Kind;
using model::Resource;
using Getter = std::function<std::string(const Resource&, const TableContext&)>;

// The text of a JSON value at a dotted path ("bgp.asNumber"), "" if absent; lists joined by ",".
std::string field(const Json& root, const std::string& path) {
  const Json* j = &root;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!j->is_object() || !j->contains(part)) return "";
    j = &(*j)[part];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (j->is_string()) return j->get<std::string>();
  if (j->is_array()) {
    std::string out;
    for (const auto& item : *j) {
      if (!out.empty()) out += ",";
      out += item.is_string() ? item.get<std::string>() : item.dump();
    }
    return out;
  }
  if (j->is_null()) return "";
  return j->dump();
}

Getter spec(std::string path) {
  return [path](const Resource& r, const TableContext&) { return field(r.spec, path); };
}

// The number of entries of a list field (0 when absent).
Getter count(std::string path) {
  return [path](const Resource& r, const TableContext&) {
    auto it = r.spec.find(path);
    return std::to_string(it != r.spec.end() && it->is_array() ? it->size() : 0);
  };
}

std::string labelsText(const Json& labels) {
  std::string out;
  if (!labels.is_object()) return out;
  for (const auto& [k, v] : labels.items()) {
    if (!out.empty()) out += ",";
    out += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

const std::map<std::string, Getter>& getters() {
  static const std::map<std::string, Getter> g = {
      {"NAME", [](const Resource& r, const TableContext&) { return r.name(); }},
      {"NAMESPACE", [](const Resource& r, const TableContext&) { return r.ns(); }},
      {"NODE", spec("node")},
      {"ORCHESTRATOR", spec("orchestrator")},
      {"WORKLOAD",
       [](const Resource& r, const TableContext&) {
         std::string w = field(r.spec, "workload");
         return w.empty() ? field(r.spec, "pod") : w;
       }},
      // A workload endpoint's NAME is its endpoint name, as in the seed's v1 table; the v3
      // object name is in -o yaml.
      {"ENDPOINT",
       [](const Resource& r, const TableContext&) {
         std::string e = field(r.spec, "endpoint");
         return e.empty() ? r.name() : e;
       }},
      {"NETWORKS", spec("ipNetworks")},
      {"NATS",
       [](const Resource& r, const TableContext&) {
         std::string out;
         auto it = r.spec.find("ipNATs");
         if (it == r.spec.end() || !it->is_array()) return out;
         for (const auto& nat : *it) {
           if (!out.empty()) out += ",";
           out += field(nat, "externalIP") + "->" + field(nat, "internalIP");
         }
         return out;
       }},
      {"INTERFACE", spec("interfaceName")},
      {"PROFILES", spec("profiles")},
      {"IPS", spec("expectedIPs")},
      {"ASN",
       [](const Resource& r, const TableContext& ctx) {
         if (r.kind == Kind::kBGPPeer) return field(r.spec, "asNumber");
         std::string asn = field(r.spec, "bgp.asNumber");
         return asn.empty() ? "(" + ctx.globalAsNumber + ")" : asn;
       }},
      {"IPV4", spec("bgp.ipv4Address")},
      {"IPV6", spec("bgp.ipv6Address")},
      {"SCOPE",
       [](const Resource& r, const TableContext&) {
         return field(r.spec, "node").empty() ? std::string("global") : std::string("node");
       }},
      {"PEERIP", spec("peerIP")},
      {"CIDR", spec("cidr")},
      {"CIDRS", spec("reservedCIDRs")},
      {"NAT",
       [](const Resource& r, const TableContext&) {
         std::string nat = field(r.spec, "natOutgoing");
         return nat.empty() ? std::string("false") : nat;
       }},
      // The seed's table shows IPIP as "false" when off; otherwise the v1 mode name.
      {"IPIP",
       [](const Resource& r, const TableContext&) {
         std::string mode = field(r.spec, "ipipMode");
         if (mode == "Always") return std::string("always");
         if (mode == "CrossSubnet") return std::string("cross-subnet");
         return std::string("false");
       }},
      {"ORDER", spec("order")},
      {"SELECTOR", spec("selector")},
      {"LABELS",
       [](const Resource& r, const TableContext&) {
         return labelsText(r.kind == Kind::kProfile ? r.spec.value("labelsToApply", Json())
                                                    : r.metadata.value("labels", Json()));
       }},
      {"NETS", spec("nets")},
      {"LOGSEVERITY", spec("logSeverityScreen")},
      {"MESHENABLED", spec("nodeToNodeMeshEnabled")},
      {"ASNUMBER", spec("asNumber")},
      {"CLUSTERGUID", spec("clusterGUID")},
      {"CLUSTERTYPE", spec("clusterType")},
      {"CALICOVERSION", spec("calicoVersion")},
      {"DATASTOREREADY", spec("datastoreReady")},
      {"TIER",
       [](const Resource& r, const TableContext&) {
         std::string tier = field(r.spec, "tier");
         return tier.empty() ? std::string("default") : tier;
       }},
      {"NUMEXPORTV4", count("exportV4")},
      {"NUMIMPORTV4", count("importV4")},
      {"NUMEXPORTV6", count("exportV6")},
      {"NUMIMPORTV6", count("importV6")},
      {"CLASSES", spec("classes")},
  };
  return g;
}

struct KindColumns {
  std::vector<std::string> ps;
  std::vector<std::string> wide;
};

const KindColumns& columnsOf(Kind kind) {
  static const std::map<Kind, KindColumns> table = {
      {Kind::kNode, {{"NAME"}, {"NAME", "ASN", "IPV4", "IPV6"}}},
      {Kind::kBGPPeer, {{"SCOPE", "PEERIP", "NODE", "ASN"}, {"SCOPE", "PEERIP", "NODE", "ASN"}}},
      {Kind::kBGPConfiguration,
       {{"NAME", "LOGSEVERITY", "MESHENABLED", "ASNUMBER"},
        {"NAME", "LOGSEVERITY", "MESHENABLED", "ASNUMBER"}}},
      {Kind::kIPPool, {{"CIDR"}, {"CIDR", "NAT", "IPIP"}}},
      {Kind::kGlobalNetworkPolicy, {{"NAME"}, {"NAME", "ORDER", "SELECTOR"}}},
      {Kind::kNetworkPolicy, {{"NAMESPACE", "NAME"}, {"NAMESPACE", "NAME", "ORDER", "SELECTOR"}}},
      {Kind::kProfile, {{"NAME"}, {"NAME", "LABELS"}}},
      {Kind::kWorkloadEndpoint,
       {{"NODE", "ORCHESTRATOR", "WORKLOAD", "ENDPOINT"},
        {"NODE", "ORCHESTRATOR", "WORKLOAD", "ENDPOINT", "NETWORKS", "NATS", "INTERFACE",
         "PROFILES"}}},
      {Kind::kHostEndpoint, {{"NODE", "NAME"}, {"NODE", "NAME", "INTERFACE", "IPS", "PROFILES"}}},
      {Kind::kGlobalNetworkSet, {{"NAME"}, {"NAME", "NETS"}}},
      {Kind::kNetworkSet, {{"NAMESPACE", "NAME"}, {"NAMESPACE", "NAME", "NETS"}}},
      {Kind::kIPReservation, {{"NAME"}, {"NAME", "CIDRS"}}},
      {Kind::kFelixConfiguration, {{"NAME"}, {"NAME"}}},
      {Kind::kClusterInformation,
       {{"NAME"}, {"NAME", "CLUSTERGUID", "CLUSTERTYPE", "CALICOVERSION", "DATASTOREREADY"}}},
      {Kind::kTier, {{"NAME", "ORDER"}, {"NAME", "ORDER"}}},
      {Kind::kStagedGlobalNetworkPolicy, {{"NAME", "TIER"}, {"NAME", "TIER", "ORDER", "SELECTOR"}}},
      {Kind::kStagedNetworkPolicy,
       {{"NAMESPACE", "NAME", "TIER"}, {"NAMESPACE", "NAME", "TIER", "ORDER", "SELECTOR"}}},
      {Kind::kBGPFilter,
       {{"NAME", "NUMEXPORTV4", "NUMIMPORTV4", "NUMEXPORTV6", "NUMIMPORTV6"},
        {"NAME", "NUMEXPORTV4", "NUMIMPORTV4", "NUMEXPORTV6", "NUMIMPORTV6"}}},
      {Kind::kCalicoNodeStatus, {{"NAME", "NODE"}, {"NAME", "NODE", "CLASSES"}}},
  };
  return table.at(kind);
}

std::vector<std::string> columnIds(Kind kind, bool wide, const TableContext& ctx) {
  std::vector<std::string> ids = wide ? columnsOf(kind).wide : columnsOf(kind).ps;
  if (ctx.allNamespaces && model::kindInfo(kind).namespaced && ids.front() != "NAMESPACE") {
    ids.insert(ids.begin(), "NAMESPACE");
  }
  return ids;
}

}  // namespace

Row tableHeader(Kind kind, bool wide, const TableContext& ctx) {
  Row header = columnIds(kind, wide, ctx);
  for (auto& h : header) {
    if (h == "ENDPOINT") h = "NAME";  // the seed's heading for the endpoint name
  }
  return header;
}

Row tableRow(const Resource& resource, bool wide, const TableContext& ctx) {
  Row row;
  for (const auto& id : columnIds(resource.kind, wide, ctx)) {
    row.push_back(getters().at(id)(resource, ctx));
  }
  return row;
}

}  // namespace brindle::cli
