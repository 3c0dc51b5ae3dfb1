// Workload wiring: CNI ADD/DEL through brindle-cni, or by hand for the seed's fixed names.
#include "lab/workloads.h"

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

namespace brindle::lab {

namespace {

std::string ipipMode(const std::string& flag) {
  if (flag == "always") return "Always";
  if (flag == "cross-subnet") return "CrossSubnet";
  return "Never";
}

}  // namespace

// Everything allowed in both directions, as a namespace without policy.
Status createPoolAndProfile(const Lab& lab, const std::string& ipip) {
  auto r = lab.ctl({"apply", "-f", "-"},
                   "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: lab-pool\n"
                   "spec:\n  cidr: " +
                       std::string(kUpPool) + "\n  ipipMode: " + ipipMode(ipip) +
                       "\n  natOutgoing: false\n---\n"
                       "apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata:\n  name: " +
                       kDefaultProfile +
                       "\nspec:\n  ingress:\n  - action: Allow\n  egress:\n  - action: Allow\n");
  return r ? Status::ok() : Status(r.error());
}
Status chooseDataplane(const Lab& lab, const std::string& dataplane) {
  if (dataplane == "iptables") return Status::ok();
  if (dataplane != "nftables") {
    return makeError(ErrorCode::kInvalid, "unknown dataplane '" + dataplane +
                                              "' (iptables or nftables)");
  }
  auto r = lab.ctl({"apply", "-f", "-"},
                   "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata:\n  "
                   "name: default\nspec:\n  nftablesMode: Enabled\n");
  return r ? Status::ok() : Status(r.error());
}

namespace {

using nlohmann::json;

// The network config a runtime would hand brindle-cni for this workload.
std::string cniConfig(const Lab& lab, const WorkloadState& w,
                      const std::map<std::string, std::string>& labels) {
  json conf = {{"cniVersion", "1.0.0"},
               {"name", w.network},
               {"type", "brindle-cni"},
               {"nodename", w.node},
               {"ipam", json::parse(w.ipam)}};
  if (lab.state().etcdEndpoint.empty()) {
    conf["datastore_type"] = "local";
    conf["store_path"] = lab.storePath();
  } else {
    conf["datastore_type"] = "etcdv3";
    conf["etcd_endpoints"] = lab.state().etcdEndpoint;
  }
  if (!labels.empty()) conf["runtimeConfig"] = {{"labels", labels}};
  return conf.dump();
}

Result<std::string> runCni(const Lab& lab, const WorkloadState& w, const std::string& command,
                           const std::string& config) {
  const std::string cniDir = std::filesystem::path(lab.tools().cni).parent_path().string();
  return lab.check(w.node, {lab.tools().cni},
                   {"CNI_COMMAND=" + command, "CNI_CONTAINERID=" + w.containerId,
                    "CNI_NETNS=/var/run/netns/" + lab.netns(w.name), "CNI_IFNAME=eth0",
                    "CNI_ARGS=IgnoreUnknown=1", "CNI_PATH=" + cniDir + ":/usr/lib/cni"},
                   config);
}

Status forget(Lab& lab, const std::string& name) {
  auto& s = lab.state();
  std::erase_if(s.workloads, [&](const WorkloadState& w) { return w.name == name; });
  std::erase(s.namespaces, lab.netns(name));
  return lab.save();
}

}  // namespace

Status addWorkload(Lab& lab, const WorkloadSpec& spec) {
  if (Status s = validateName("workload", spec.name); !s) return s;
  if (!lab.state().node(spec.node)) {
    return makeError(ErrorCode::kNotFound, "lab " + lab.name() + " has no node " + spec.node);
  }
  if (lab.state().node(spec.name) || lab.state().workload(spec.name) || spec.name == "fabric" ||
      spec.name == "etcd") {
    return makeError(ErrorCode::kAlreadyExists,
                     "lab " + lab.name() + " already has a member named " + spec.name);
  }
  WorkloadState w;
  w.name = spec.name;
  w.node = spec.node;
  w.containerId = lab.name() + "-" + spec.name;
  w.network = spec.profile.empty() ? kDefaultProfile : spec.profile;
  w.ipam = spec.ip.empty()
               ? json{{"type", "brindle-ipam"}}.dump()
               : json{{"type", "static"}, {"addresses", {{{"address", spec.ip + "/32"}}}}}.dump();
  lab.state().workloads.push_back(w);  // before the ADD: a half-done ADD can be deleted
  if (Status s = lab.addNetns(spec.name); !s) return s;
  auto result = runCni(lab, w, "ADD", cniConfig(lab, w, spec.labels));
  if (!result) return result.error();
  try {
    auto j = json::parse(*result);
    const std::string address = j.at("ips").at(0).at("address");
    w.address = address.substr(0, address.find('/'));
    for (const auto& i : j.value("interfaces", json::array())) {
      if (!i.contains("sandbox")) w.iface = i.value("name", "");
    }
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInternal, "brindle-cni ADD result: " + std::string(e.what()));
  }
  for (auto& stored : lab.state().workloads) {
    if (stored.name == w.name) stored = w;
  }
  return lab.save();
}

Status deleteWorkload(Lab& lab, const std::string& name) {
  const WorkloadState* found = lab.state().workload(name);
  if (!found)
    return makeError(ErrorCode::kNotFound, "lab " + lab.name() + " has no workload " + name);
  const WorkloadState w = *found;
  Status first;
  if (!w.containerId.empty()) {
    if (auto r = runCni(lab, w, "DEL", cniConfig(lab, w, {})); !r) first = r.error();
  } else {
    (void)lab.run(w.node, {"ip", "link", "del", w.iface});
  }
  (void)lab.run("", {"ip", "netns", "delete", lab.netns(name)});
  if (Status s = forget(lab, name); !s) return s;
  return first;
}

Status wireWorkload(Lab& lab, const WorkloadState& w, const std::string& mac) {
  lab.state().workloads.push_back(w);
  if (Status s = lab.addNetns(w.name); !s) return s;
  Status wired = lab.checkAll(w.node, {{"ip", "link", "add", w.iface, "type", "veth", "peer",
                                        "name", "eth0", "netns", lab.netns(w.name)},
                                       {"ip", "link", "set", w.iface, "up"}});
  if (!wired) return wired;
  wired = lab.checkAll(w.name,
                       {{"ip", "link", "set", "eth0", "address", mac},
                        {"ip", "link", "set", "eth0", "up"},
                        {"ip", "addr", "add", w.address + "/32", "dev", "eth0"},
                        {"ip", "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link"},
                        {"ip", "route", "add", "default", "via", "169.254.1.1", "dev", "eth0"}});
  if (!wired) return wired;
  // The permanent neighbour entry for the gateway points at the node end's MAC.
  auto show = lab.check(w.node, {"ip", "-o", "link", "show", w.iface});
  if (!show) return show.error();
  const size_t at = show->find("link/ether ");
  if (at == std::string::npos) return makeError(ErrorCode::kInternal, "no MAC on " + w.iface);
  const std::string hostMac = show->substr(at + 11, 17);
  auto r = lab.check(w.name, {"ip", "neigh", "add", "169.254.1.1", "lladdr", hostMac, "dev", "eth0",
                              "nud", "permanent"});
  return r ? Status::ok() : Status(r.error());
}

}  // namespace brindle::lab
