// The lab's state file: JSON written to a temporary file and renamed, so a SIGKILL mid-write
// leaves the previous complete version.
#include "lab/state.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace brindle::lab {
namespace {

using nlohmann::json;

json toJson(const LabState& s) {
  json nodes = json::array(), workloads = json::array();
  for (const auto& n : s.nodes) {
    nodes.push_back({{"name", n.name},
                     {"address", n.address},
                     {"gateway", n.gateway},
                     {"subnet", n.subnet},
                     {"asNumber", n.asNumber}});
  }
  for (const auto& w : s.workloads) {
    workloads.push_back({{"name", w.name},
                         {"node", w.node},
                         {"address", w.address},
                         {"iface", w.iface},
                         {"containerId", w.containerId},
                         {"network", w.network},
                         {"ipam", w.ipam}});
  }
  return {{"namespaces", s.namespaces},
          {"nodes", nodes},
          {"workloads", workloads},
          {"etcdEndpoint", s.etcdEndpoint},
          {"ctlMember", s.ctlMember},
          {"topology",
           {{"name", s.topology.name},
            {"racks", s.topology.racks},
            {"nodesPerRack", s.topology.nodesPerRack},
            {"rrs", s.topology.rrs},
            {"core", s.topology.core}}}};
}

LabState fromJson(const json& j) {
  LabState s;
  s.namespaces = j.value("namespaces", std::vector<std::string>{});
  s.etcdEndpoint = j.value("etcdEndpoint", "");
  s.ctlMember = j.value("ctlMember", "");
  const json t = j.value("topology", json::object());
  s.topology = {t.value("name", ""), t.value("racks", 0), t.value("nodesPerRack", 0),
                t.value("rrs", 0), t.value("core", false)};
  for (const auto& n : j.value("nodes", json::array())) {
    s.nodes.push_back({n.value("name", ""), n.value("address", ""), n.value("gateway", ""),
                       n.value("subnet", 1), n.value("asNumber", 0u)});
  }
  for (const auto& w : j.value("workloads", json::array())) {
    s.workloads.push_back({w.value("name", ""), w.value("node", ""), w.value("address", ""),
                           w.value("iface", ""), w.value("containerId", ""), w.value("network", ""),
                           w.value("ipam", "")});
  }
  return s;
}

}  // namespace

const NodeState* LabState::node(const std::string& name) const {
  for (const auto& n : nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

const WorkloadState* LabState::workload(const std::string& name) const {
  for (const auto& w : workloads) {
    if (w.name == name) return &w;
  }
  return nullptr;
}

Status saveState(const std::string& file, const LabState& state) {
  const std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << toJson(state).dump(2) << "\n";
    out.flush();
    if (!out) return makeError(ErrorCode::kInternal, "cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), file.c_str()) != 0) {
    return makeError(ErrorCode::kInternal, "cannot rename " + tmp + " to " + file);
  }
  return Status::ok();
}

Result<LabState> loadState(const std::string& file) {
  std::ifstream in(file);
  if (!in) return makeError(ErrorCode::kNotFound, "no lab state at " + file);
  std::stringstream text;
  text << in.rdbuf();
  try {
    return fromJson(json::parse(text.str()));
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kCorrupt, file + ": " + e.what());
  }
}

}  // namespace brindle::lab
