// brindle-lab: clusters of Brindle nodes as network namespaces on this machine (the seed's lab
// and bigger ones). Flags only; the commands live in src/lab.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "lab/commands.h"

using namespace brindle::lab;

namespace {

// "k=v,k2=v2" as labels.
bool parseLabels(const std::string& text, std::map<std::string, std::string>& labels) {
  std::istringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) return false;
    labels[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"brindle-lab: Brindle clusters as network namespaces on this machine (root)"};
  app.require_subcommand(1);
  std::string labName = "lab";
  app.add_option("--lab", labName, "Lab name; everything it makes is named after it")
      ->envname("BRINDLE_LAB")
      ->capture_default_str();

  UpOptions up;
  auto* upCmd = app.add_subcommand("up", "Start N nodes with a full BGP mesh");
  upCmd->add_option("--nodes", up.nodes, "Number of nodes")->capture_default_str();
  upCmd->add_option("--subnets", up.subnets, "Subnets, joined by a router")->capture_default_str();
  upCmd->add_flag("--etcd", up.etcd, "A private etcd instead of the embedded store");
  upCmd->add_option("--ipip", up.ipip, "The pool's IPIP mode")
      ->check(CLI::IsMember({"always", "cross-subnet", "never"}))
      ->capture_default_str();
  upCmd->add_option("--dataplane", up.dataplane, "What the agents program")
      ->check(CLI::IsMember({"iptables", "nftables"}))
      ->capture_default_str();
  TopologyOptions topology;
  upCmd->add_option("--topology", topology.name,
                    "mesh | rr | as-per-rack | as-per-server | downward-default | ecmp-fabric "
                    "(docs/lab.md); replaces --nodes and --subnets");
  upCmd->add_option("--racks", topology.racks, "Racks of a topology")->capture_default_str();
  upCmd->add_option("--nodes-per-rack", topology.nodesPerRack, "Nodes per rack")
      ->capture_default_str();
  upCmd->add_option("--rrs", topology.rrs, "rr: route reflector namespaces")->capture_default_str();
  upCmd->add_flag("--core", topology.core, "as-per-rack: ToRs peer through a core router");
  // A topology has its own shape and store: the flags of `up --nodes` do not mix with it.
  for (const char* shapeFlag : {"--racks", "--nodes-per-rack", "--rrs", "--core"}) {
    upCmd->get_option(shapeFlag)->needs("--topology");
  }
  for (const char* plainFlag : {"--nodes", "--subnets", "--etcd", "--ipip"}) {
    upCmd->get_option("--topology")->excludes(plainFlag);
  }

  SeedOptions seed;
  auto* seedCmd =
      app.add_subcommand("seed", "The seed's two-node lab (S17) and its traffic matrix");
  seedCmd->add_option("--variant", seed.variant, "profile | fixed")
      ->check(CLI::IsMember({"profile", "fixed"}));
  seedCmd->add_flag("--etcd", seed.etcd, "An etcd host as in the seed (192.168.40.10)");
  seedCmd->add_flag("--json", seed.json, "The matrix as JSON");
  seedCmd->add_option("--dataplane", seed.dataplane, "What the agents program")
      ->check(CLI::IsMember({"iptables", "nftables"}))
      ->capture_default_str();

  auto* workloadCmd = app.add_subcommand("workload", "Add or delete a workload");
  workloadCmd->require_subcommand(1);
  WorkloadSpec spec;
  std::string labels;
  auto* addCmd = workloadCmd->add_subcommand("add", "A workload through brindle-cni (CNI ADD)");
  addCmd->add_option("node", spec.node)->required();
  addCmd->add_option("name", spec.name)->required();
  addCmd->add_option("--labels", labels, "k=v,...");
  addCmd->add_option("--profile", spec.profile, "Profile (the CNI network name)");
  addCmd->add_option("--ip", spec.ip, "A fixed IPv4 address");
  std::string delNode, delName;
  auto* delCmd = workloadCmd->add_subcommand("del", "CNI DEL and the namespace removed");
  delCmd->add_option("node", delNode)->required();
  delCmd->add_option("name", delName)->required();

  std::string member;
  std::vector<std::string> command;
  auto* execCmd = app.add_subcommand("exec", "Run a command in a node's or workload's namespace");
  execCmd->add_option("name", member)->required();

  std::string from, to, what;
  auto* probeCmd = app.add_subcommand("probe", "One real connection: allowed or denied");
  probeCmd->add_option("from", from)->required();
  probeCmd->add_option("to", to)->required();
  probeCmd->add_option("what", what,
                       "tcp/PORT | udp/PORT | icmp; none when TO is an address (a topology lab: "
                       "the devices on the way and where it ends)");

  bool routesJson = false;
  auto* routesCmd =
      app.add_subcommand("routes", "Each device's BGP sessions and routes beside the plan");
  routesCmd->add_flag("--json", routesJson, "A JSON list");

  auto* statusCmd = app.add_subcommand("status", "Nodes, BGP sessions, workloads");
  auto* downCmd = app.add_subcommand("down", "Remove everything the lab made");

  // exec's command is everything after NAME (and an optional "--"), its options included, so
  // CLI11 sees only up to NAME.
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] != "exec") continue;
    command.assign(args.begin() + static_cast<long>(i) + 2, args.end());
    if (!command.empty() && command.front() == "--") command.erase(command.begin());
    args.resize(i + 2);
    break;
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (::geteuid() != 0) {
    std::cerr << "brindle-lab: needs root (network namespaces)\n";
    return 1;
  }
  const bool changes = upCmd->parsed() || seedCmd->parsed() || addCmd->parsed() ||
                       delCmd->parsed() || downCmd->parsed();
  auto lab = Lab::open(labName, !downCmd->parsed(), changes);
  if (!lab) {
    std::cerr << "brindle-lab: " << lab.message() << "\n";
    return 1;
  }
  if (upCmd->parsed()) {
    topology.dataplane = up.dataplane;
    return topology.name.empty() ? runUp(*lab, up) : runUpTopology(*lab, topology);
  }
  if (routesCmd->parsed()) return runRoutes(*lab, routesJson);
  if (seedCmd->parsed()) return runSeed(*lab, seed);
  if (addCmd->parsed()) {
    if (!parseLabels(labels, spec.labels)) {
      std::cerr << "brindle-lab: --labels \"" << labels << "\": expected k=v,...\n";
      return 1;
    }
    return runWorkloadAdd(*lab, spec);
  }
  if (delCmd->parsed()) {
    const auto* w = lab->state().workload(delName);
    if (w && w->node != delNode) {
      std::cerr << "brindle-lab: workload " << delName << " is on " << w->node << ", not "
                << delNode << "\n";
      return 1;
    }
    return runWorkloadDel(*lab, delName);
  }
  if (execCmd->parsed()) {
    return runExec(*lab, member, command);
  }
  if (probeCmd->parsed()) {
    return what.empty() ? runWalk(*lab, from, to) : runProbe(*lab, from, to, what);
  }
  if (statusCmd->parsed()) return runStatus(*lab);
  if (downCmd->parsed()) return runDown(*lab);
  return 1;
}
