// The ADD/DEL/CHECK sequences of brindle-cni.
#include "cni/plugin.h"

#include <algorithm>
#include <set>

#include "model/validate.h"
#include "model/views.h"

namespace brindle::cni {

void Undo::push(std::string what, std::function<Status()> step) {
  steps_.emplace_back(std::move(what), std::move(step));
}

std::vector<std::string> Undo::run() {
  std::vector<std::string> failures;
  for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
    Status s = it->second();
    if (!s && s.code() != ErrorCode::kNotFound) failures.push_back(it->first + ": " + s.message());
  }
  steps_.clear();
  return failures;
}

IpamRequest Plugin::ipamRequest(const NetConf& conf, const WorkloadIds& ids) const {
  IpamRequest r;
  r.handle = ipamHandle(conf.name, ids.containerId);
  r.node = ids.node;
  r.attributes["node"] = ids.node;
  r.attributes["namespace"] = ids.ns;
  r.attributes["containerID"] = ids.containerId;
  r.attributes[ids.orchestrator == "k8s" ? "pod" : "workload"] = ids.workload;
  return r;
}

model::Resource Plugin::buildEndpoint(const NetConf& conf, const CniEnv& env,
                                      const WorkloadIds& ids, const std::string& hostIf,
                                      const std::string& mac, const std::vector<IpConfig>& ips) {
  model::Resource r;
  r.kind = model::Kind::kWorkloadEndpoint;
  model::Json labels = model::Json::object();
  // User labels first, so they cannot shadow the two Calico sets itself.
  for (const auto& [k, v] : conf.labels) labels[k] = v;
  for (const auto& [k, v] : env.args) {
    if (k.rfind("label.", 0) == 0 && k.size() > 6) labels[k.substr(6)] = v;
  }
  labels["projectcalico.org/namespace"] = ids.ns;
  labels["projectcalico.org/orchestrator"] = ids.orchestrator;
  r.metadata = {{"name", endpointName(ids)}, {"namespace", ids.ns}, {"labels", labels}};
  model::Json nets = model::Json::array();
  for (const auto& ip : ips) nets.push_back(ip.ip.toString() + "/" + std::to_string(ip.ip.bits()));
  r.spec = {
      {"orchestrator", ids.orchestrator},
      {"workload", ids.workload},
      {"node", ids.node},
      {"containerID", ids.containerId},
      {"endpoint", ids.endpoint},
      {"interfaceName", hostIf},
      {"mac", mac},
      {"ipNetworks", nets},
      {"profiles", model::Json::array({ids.orchestrator == "k8s" ? "kns." + ids.ns : conf.name})}};
  if (!ids.pod.empty()) r.spec["pod"] = ids.pod;
  return r;
}

std::optional<CniError> Plugin::add(const NetConf& conf, const CniEnv& env, const std::string& node,
                                    CniResult* result) {
  const WorkloadIds ids = workloadIds(env, node);
  const std::string hostIf = hostVethName(ids);
  const IpamRequest req = ipamRequest(conf, ids);
  Undo undo;
  // Undoes the steps done so far and reports `error` (with anything undo could not clean).
  auto fail = [&](CniError error) -> std::optional<CniError> {
    auto leftovers = undo.run();
    for (const auto& l : leftovers) error.details += "; undo failed: " + l;
    return error;
  };

  // The endpoint is built and validated before anything is touched: bad names fail for free.
  std::vector<IpConfig> noIps;
  model::Resource probe = buildEndpoint(conf, env, ids, hostIf, kHostMac, noIps);
  model::applyDefaults(probe);
  if (Status s = model::validateResource(probe); !s) {
    return CniError{ErrCode::kInvalidConfig, "the workload's endpoint would be invalid",
                    s.message()};
  }

  auto ips = deps_.ipam.assign(req);
  if (!ips) return fromError(ips.error(), "IPAM could not assign an address");
  undo.push("release " + req.handle, [&] { return deps_.ipam.release(req); });
  hook("after-ipam");

  // A retried ADD for the same workload finds its old veth: replace it.
  (void)deps_.dataplane.deleteHostLink(hostIf);
  VethSpec veth{hostIf, env.ifName, env.netns, conf.mtu};
  if (Status s = deps_.dataplane.createVeth(veth); !s) {
    if (s.code() == ErrorCode::kNotFound) {
      return fail(CniError{ErrCode::kUnknownContainer,
                           "network namespace " + env.netns + " does not exist", s.message()});
    }
    if (s.code() == ErrorCode::kAlreadyExists) {
      return fail(CniError{ErrCode::kOther,
                           "interface " + env.ifName + " already exists in " + env.netns,
                           s.message()});
    }
    return fail(fromError(s.error(), "could not create the veth " + hostIf));
  }
  undo.push("delete veth " + hostIf, [&] { return deps_.dataplane.deleteHostLink(hostIf); });
  hook("after-veth");

  bool anyV6 = false;
  std::vector<IpAddr> addrs;
  for (const auto& ip : *ips) {
    addrs.push_back(ip.ip);
    anyV6 |= !ip.ip.isV4();
  }
  if (Status s = deps_.dataplane.configureHostSide(hostIf, anyV6); !s) {
    return fail(fromError(s.error(), "could not configure the host side " + hostIf));
  }
  auto mac = deps_.dataplane.configureContainerSide(env.netns, env.ifName, addrs);
  if (!mac) {
    return fail(fromError(mac.error(), "could not configure " + env.ifName + " in " + env.netns));
  }
  for (const auto& a : addrs) {
    if (Status s = deps_.dataplane.addHostRoute(a, hostIf); !s) {
      return fail(fromError(s.error(), "could not add the host route to " + a.toString()));
    }
  }
  hook("after-dataplane");

  model::Resource wep = buildEndpoint(conf, env, ids, hostIf, *mac, *ips);
  model::applyDefaults(wep);
  if (Status s = model::validateResource(wep); !s) {
    return fail(
        CniError{ErrCode::kInvalidConfig, "the workload's endpoint is invalid", s.message()});
  }
  if (Status s = deps_.endpoints.put(wep); !s) {
    return fail(fromError(s.error(), "could not write the WorkloadEndpoint"));
  }
  undo.clear();

  CniResult& r = *result;
  r.interfaces = {{hostIf, kHostMac, ""}, {env.ifName, *mac, env.netns}};
  bool v4 = false, v6 = false;
  for (auto ip : *ips) {
    ip.interfaceIndex = 1;
    v4 |= ip.ip.isV4();
    v6 |= !ip.ip.isV4();
    r.ips.push_back(ip);
  }
  if (v4) r.routes.push_back({Cidr::parse("0.0.0.0/0").value(), IpAddr::parse(kGatewayV4).value()});
  if (v6) r.routes.push_back({Cidr::parse("::/0").value(), IpAddr::parse(kGatewayV6).value()});
  if (conf.dns.is_object()) r.dns = conf.dns;
  return std::nullopt;
}

std::optional<CniError> Plugin::del(const NetConf& conf, const CniEnv& env,
                                    const std::string& node) {
  const WorkloadIds ids = workloadIds(env, node);
  const std::string hostIf = hostVethName(ids);
  // Every step runs even if an earlier one failed; the first real failure is reported.
  std::optional<CniError> first;
  if (Status s = deps_.dataplane.deleteHostLink(hostIf); !s && s.code() != ErrorCode::kNotFound) {
    first = fromError(s.error(), "could not delete the veth " + hostIf);
  }
  auto wep = deps_.endpoints.get(ids.ns, endpointName(ids));
  // A newer sandbox of the same pod may own the endpoint now: only remove our own. A value
  // nobody can read names no owner, and refusing would make the runtime retry this DEL forever.
  bool ours = !wep && wep.code() == ErrorCode::kCorrupt;
  if (wep) {
    const std::string owner = wep->spec.value("containerID", "");
    ours = owner.empty() || owner == ids.containerId;
  } else if (!ours && wep.code() != ErrorCode::kNotFound && !first) {
    first = fromError(wep.error(), "could not read the WorkloadEndpoint");
  }
  if (ours) {
    Status s = deps_.endpoints.remove(ids.ns, endpointName(ids));
    if (!s && s.code() != ErrorCode::kNotFound && !first) {
      first = fromError(s.error(), "could not delete the WorkloadEndpoint");
    }
  }
  if (Status s = deps_.ipam.release(ipamRequest(conf, ids)); !s && !first) {
    first = fromError(s.error(), "could not release the workload's addresses");
  }
  return first;
}

std::optional<CniError> Plugin::check(const NetConf& conf, const CniEnv& env,
                                      const std::string& node) {
  if (conf.cniVersion.rfind("0.3", 0) == 0) {
    return CniError{ErrCode::kIncompatibleVersion,
                    "CHECK needs cniVersion 0.4.0 or later (config says " + conf.cniVersion + ")",
                    ""};
  }
  if (!conf.prevResult) {
    return CniError{ErrCode::kInvalidConfig, "CHECK needs prevResult (the ADD result)", ""};
  }
  auto prev = resultFromJson(*conf.prevResult);
  if (!prev)
    return CniError{ErrCode::kDecodeFailure, "prevResult is not a CNI result", prev.message()};
  const WorkloadIds ids = workloadIds(env, node);
  const std::string hostIf = hostVethName(ids);
  auto wrong = [](std::string msg, std::string details = "") {
    return CniError{ErrCode::kOther, std::move(msg), std::move(details)};
  };
  std::vector<IpAddr> ips;
  std::set<std::string> wantNets;
  for (const auto& ip : prev->ips) {
    ips.push_back(ip.ip);
    wantNets.insert(ip.ip.toString() + "/" + std::to_string(ip.ip.bits()));
  }
  if (ips.empty()) return wrong("prevResult has no IPs");

  auto host = deps_.dataplane.inspectHost(hostIf);
  if (!host) return wrong("host veth " + hostIf + " is missing", host.message());
  if (host->mac != kHostMac) return wrong(hostIf + " has MAC " + host->mac + ", not " + kHostMac);
  if (!host->up) return wrong(hostIf + " is down");
  for (const char* want : {"proxy_arp=1", "proxy_delay=0", "forwarding=1"}) {
    if (std::find(host->sysctls.begin(), host->sysctls.end(), want) == host->sysctls.end()) {
      return wrong(hostIf + ": sysctl " + want + " is not set");
    }
  }
  if (!host->addresses.empty()) return wrong(hostIf + " has an address; it must have none");
  for (const auto& ip : ips) {
    // IPv6 routes carry no scope in the kernel; IPv4's is scope link.
    const std::string route = ip.toString() + "/" + std::to_string(ip.bits()) + " dev " + hostIf +
                              (ip.isV4() ? " scope link" : "");
    if (std::find(host->routes.begin(), host->routes.end(), route) == host->routes.end()) {
      return wrong("host route " + route + " is missing");
    }
  }

  auto cont = deps_.dataplane.inspectContainer(env.netns, env.ifName);
  if (!cont) {
    return CniError{
        cont.code() == ErrorCode::kNotFound ? ErrCode::kUnknownContainer : ErrCode::kOther,
        env.ifName + " in " + env.netns + " is missing", cont.message()};
  }
  if (!cont->up) return wrong(env.ifName + " is down");
  if (cont->mtu != conf.mtu) {
    return wrong(env.ifName + " has MTU " + std::to_string(cont->mtu) + ", config says " +
                 std::to_string(conf.mtu));
  }
  std::set<std::string> haveNets;
  for (const auto& a : cont->addresses) haveNets.insert(a.toString());
  if (haveNets != wantNets) {
    std::string have;
    for (const auto& n : haveNets) have += n + " ";
    return wrong(env.ifName + " addresses differ from prevResult", "has " + have);
  }
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  bool v4 = false, v6 = false;
  for (const auto& ip : ips) (ip.isV4() ? v4 : v6) = true;
  if (v4) {
    for (const std::string& r : {std::string(kGatewayV4) + "/32 dev " + env.ifName + " scope link",
                                 "default via " + std::string(kGatewayV4) + " dev " + env.ifName}) {
      if (!has(cont->routes, r)) return wrong("container route " + r + " is missing");
    }
    const std::string n = std::string(kGatewayV4) + " lladdr " + kHostMac + " PERMANENT";
    if (!has(cont->neighbours, n)) return wrong("container neighbour " + n + " is missing");
  }
  if (v6) {
    const std::string r = "default via " + std::string(kGatewayV6) + " dev " + env.ifName;
    if (!has(cont->routes, r)) return wrong("container route " + r + " is missing");
  }

  auto wep = deps_.endpoints.get(ids.ns, endpointName(ids));
  if (!wep)
    return wrong("WorkloadEndpoint " + ids.ns + "/" + endpointName(ids) + " is missing",
                 wep.message());
  std::set<std::string> wepNets;
  if (auto nets = model::endpointAddresses(*wep)) {
    for (const Cidr& n : *nets) wepNets.insert(n.toString());
  }
  if (wepNets != wantNets) return wrong("WorkloadEndpoint ipNetworks differ from prevResult");
  if (wep->spec.value("interfaceName", "") != hostIf) {
    return wrong("WorkloadEndpoint interfaceName is not " + hostIf);
  }
  if (wep->spec.value("mac", "") != cont->mac) {
    return wrong("WorkloadEndpoint mac differs from " + env.ifName + "'s " + cont->mac);
  }
  if (Status s = deps_.ipam.check(ipamRequest(conf, ids), ips); !s) {
    return wrong("IPAM does not hold the workload's addresses", s.message());
  }
  return std::nullopt;
}

}  // namespace brindle::cni
