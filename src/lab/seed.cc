// seed: the seed's S17 lab, live. Nodes and pool from examples/lab, the workloads wired by hand
// with the names and addresses of examples/seed-lab/endpoints.yaml, that file, policy.yaml and
// profile.yaml loaded unchanged (or a variant derived from them), then the traffic matrix
// measured with real connections, each node's BGP status and slave2's cali- chains.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "lab/commands.h"
#include "lab/etcd.h"
#include "lab/fabric.h"
#include "lab/nodes.h"
#include "lab/probe.h"
#include "lab/seed_files.h"

namespace brindle::lab {
namespace {

// The seed's etcd host (S17).
constexpr const char* kSeedEtcd = "192.168.40.10/24";
// The TCP ports of the matrix: the database's, and one no rule names.
constexpr int kPorts[] = {3306, 8080};

// A file unchanged, or the variant's text derived from it (when the variant changes it).
Status create(const Lab& lab, const std::string& file, const Result<std::string>& variant) {
  if (!variant) return variant.error();
  auto r =
      variant->empty() ? lab.ctl({"create", "-f", file}) : lab.ctl({"create", "-f", "-"}, *variant);
  return r ? Status::ok() : Status(r.error());
}

// endpoints.yaml, then policy.yaml and profile.yaml as the variant has them.
Status loadResources(const Lab& lab, const SeedFiles& f, const std::string& variant) {
  const Result<std::string> unchanged = std::string();
  if (Status s = create(lab, f.endpoints, unchanged); !s) return s;
  if (Status s =
          create(lab, f.policy, variant.empty() ? unchanged : policyWithoutDatabase(f.policy));
      !s) {
    return s;
  }
  return create(lab, f.profile,
                variant == "fixed" ? profileWithoutFirstDeny(f.profile) : unchanged);
}

// The chains of a node's filter table: from nft's JSON listing, or from iptables-save's
// ":<chain> <policy> [<counters>]" lines (iptables has no machine format).
std::set<std::string> chainNames(const std::string& listing, bool nft) {
  std::set<std::string> names;
  if (nft) {
    const auto doc = nlohmann::json::parse(listing, nullptr, false);
    if (doc.is_discarded() || !doc.contains("nftables")) return names;
    for (const auto& item : doc["nftables"]) {
      if (item.contains("chain")) names.insert(item["chain"].value("name", ""));
    }
    return names;
  }
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(":")) names.insert(line.substr(1, line.find(' ') - 1));
  }
  return names;
}

// The destinations of `ip -j route` output.
std::set<std::string> routeDestinations(const std::string& listing) {
  std::set<std::string> dsts;
  const auto doc = nlohmann::json::parse(listing.empty() ? "[]" : listing, nullptr, false);
  if (doc.is_discarded()) return dsts;
  for (const auto& route : doc) dsts.insert(route.value("dst", ""));
  return dsts;
}

// Ready for traffic: each agent programmed its workloads' chains, and each node learned the
// other nodes' workloads from BIRD.
bool ready(const Lab& lab, const std::string& dataplane) {
  const bool nft = dataplane == "nftables";
  for (const auto& n : lab.state().nodes) {
    auto rules = nft ? lab.run(n.name, {"nft", "-j", "list", "chains", "inet"})
                     : lab.run(n.name, {"iptables-save", "-t", "filter"});
    auto routes = lab.run(n.name, {"ip", "-j", "-4", "route", "show", "proto", "bird"});
    if (!rules || !routes) return false;
    const std::set<std::string> chains = chainNames(rules->out, nft);
    const std::set<std::string> learned = routeDestinations(routes->out);
    for (const auto& w : lab.state().workloads) {
      std::string chain = "cali-tw-" + w.iface;
      if (nft && w.node == n.name) {
        // The nftables dispatch goes by the interface's device group (rules/endpoints.h).
        auto link = lab.run(n.name, {"ip", "-j", "link", "show", "dev", w.iface});
        const auto doc = nlohmann::json::parse(link ? link->out : "", nullptr, false);
        if (doc.is_discarded() || !doc.is_array() || doc.empty()) return false;
        // The group's chain (rules::workloadGroupChainName's spelling: the lab links no rules).
        char group[16];
        std::snprintf(group, sizeof group, "g%08lx",
                      std::strtoul(doc[0].value("group", "0").c_str(), nullptr, 10));
        chain = "filter-cali-tw-" + std::string(group);
      }
      if (w.node == n.name && !chains.count(chain)) return false;
      if (w.node != n.name && !learned.count(w.address)) return false;
    }
  }
  return true;
}

// Why a probe went as it did: the deciding rule as `brindlectl explain` finds it in the model
// (the sender's egress when that denies, else the receiver's ingress), or why it could not say.
std::string reason(const Lab& lab, const Probe& p) {
  auto out = lab.ctl({"explain", p.from, p.to, p.target(), "-o", "json"});
  if (!out) return "explain failed: " + out.message();
  const auto j = nlohmann::json::parse(*out, nullptr, false);
  if (j.is_discarded() || !j.contains("egress")) return "explain failed: no JSON";
  const auto& egress = j["egress"]["decision"];
  return (egress.value("allowed", true) ? j["ingress"]["decision"] : egress).value("text", "");
}

std::vector<Probe> matrix(const Lab& lab) {
  std::vector<Probe> probes;
  for (const auto& from : lab.state().workloads) {
    for (const auto& to : lab.state().workloads) {
      if (from.name == to.name) continue;
      probes.push_back({from.name, to.name, "icmp", 0, false});
      for (int port : kPorts) probes.push_back({from.name, to.name, "tcp", port, false});
    }
  }
  return probes;
}

// The cali- chains of every table, as iptables-save prints them.
std::string caliChains(const std::string& save) {
  std::ostringstream out;
  std::istringstream lines(save);
  std::string table;
  bool printed = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind('*', 0) == 0) {
      table = line;
      printed = false;
    } else if (line.rfind(":cali-", 0) == 0 || line.rfind("-A cali-", 0) == 0) {
      if (!printed) out << table << "\n";
      printed = true;
      out << line << "\n";
    } else if (line == "COMMIT" && printed) {
      out << line << "\n";
    }
  }
  return out.str();
}

Status seed(Lab& lab, const SeedOptions& o, std::vector<Probe>& probes) {
  auto files = readSeedFiles(lab.tools().examples);
  if (!files) return files.error();
  if (Status s = makeFabric(lab, {Subnet{}}); !s) return s;
  if (o.etcd) {
    if (Status s = startEtcd(lab, kSeedEtcd, ""); !s) return s;
  }
  for (const auto& n : files->nodeList) {
    lab.state().nodes.push_back(n);
    if (Status s = lab.addNetns(n.name); !s) return s;
    if (Status s = plugIn(lab, n.name, 1, n.address, ""); !s) return s;
  }
  for (const auto& file : {files->nodes, files->pool}) {
    if (auto r = lab.ctl({"create", "-f", file}); !r) return r.error();
  }
  for (const auto& e : files->endpointList) {
    if (!lab.state().node(e.workload.node)) {
      return makeError(ErrorCode::kInvalid, files->endpoints + ": endpoint " + e.workload.name +
                                                " is on node " + e.workload.node + ", which " +
                                                files->nodes + " does not define");
    }
    if (Status s = wireWorkload(lab, e.workload, e.mac); !s) return s;
  }
  if (Status s = loadResources(lab, *files, o.variant); !s) return s;
  if (Status s = chooseDataplane(lab, o.dataplane); !s) return s;
  if (auto started = startNodes(lab); !started) return started.error();
  if (Status s = waitForMesh(lab, static_cast<int>(files->nodeList.size()) - 1, 30); !s) return s;
  if (!waitFor(30, [&] { return ready(lab, o.dataplane); })) {
    return makeError(ErrorCode::kUnavailable,
                     "the agents did not program every workload and learn every route within "
                     "30 s (logs in " +
                         lab.logDir() + ")");
  }
  probes = matrix(lab);
  return runProbes(lab, probes);
}

}  // namespace

int runSeed(Lab& lab, const SeedOptions& o) {
  const std::string down = lab.downCommand();
  if (!lab.state().namespaces.empty()) {
    std::cerr << "brindle-lab: lab " << lab.name() << " is already up (run '" << down << "')\n";
    return 1;
  }
  std::vector<Probe> probes;
  if (Status s = seed(lab, o, probes); !s) return failAndRemove(lab, s);
  std::vector<std::string> reasons;
  for (const auto& p : probes) reasons.push_back(reason(lab, p));
  if (o.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (size_t i = 0; i < probes.size(); ++i) {
      const Probe& p = probes[i];
      list.push_back({{"from", p.from},
                      {"to", p.to},
                      {"proto", p.proto},
                      {"port", p.port},
                      {"verdict", p.allowed ? "allowed" : "denied"},
                      {"reason", reasons[i]}});
    }
    std::cout << list.dump(2) << "\n";
    std::cerr << "lab up: run '" << down << "' to remove it\n";
    return 0;
  }
  // One probe a line, its reason after the verdict (issue #14's form).
  for (size_t i = 0; i < probes.size(); ++i) {
    std::cout << probes[i].line() << " (" << reasons[i] << ")\n";
  }
  for (const auto& n : lab.state().nodes) {
    auto status = nodeStatus(lab, n.name);
    std::cout << "\n$ brindlectl node status (" << n.name << ")\n"
              << (status ? *status : status.message() + "\n");
  }
  const std::string last = lab.state().nodes.back().name;
  if (o.dataplane == "nftables") {
    auto list = lab.run(last, {"nft", "list", "table", "inet", "calico"});
    std::cout << "\n$ nft list table inet calico (" << last << ")\n"
              << (list ? list->out : list.message() + "\n");
  } else {
    auto save = lab.run(last, {"iptables-save"});
    std::cout << "\n$ iptables-save | cali- chains (" << last << ")\n"
              << (save ? caliChains(save->out) : save.message() + "\n");
  }
  std::cout << "\nlab up: run '" << down << "' to remove it\n";
  return 0;
}

}  // namespace brindle::lab
