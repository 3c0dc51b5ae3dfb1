// brindlectl plan: a table per device role (or JSON, or an SVG drawing) of the planner's result;
// with --from-datastore the plan of the cluster as its resources configure it.
#include "cli/plan_command.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <set>

#include "bgp/inputs.h"
#include "cli/table.h"
#include "plan/plan.h"

namespace brindle::cli {
namespace {

// Sessions each node would have (BIRD's configuration, IPv4, computed as `node run` computes it)
// and the routes of the blocks of every other node; peers that are not nodes become kPeer
// devices named by their address.
Result<plan::Plan> planFromDatastore(datastore::Client& client, std::vector<std::string>& notes) {
  auto in = bgp::readInputs(client, bgp::kDefaultSecretsDir);
  if (!in) return in.error();
  plan::Plan p;
  std::map<std::string, int64_t> ownBlocks;  // device name -> affine blocks
  std::set<IpAddr> nodeAddresses;
  std::map<IpAddr, int64_t> external;  // peer address -> sessions
  std::vector<bgp::NodeConfig> configs;
  for (const auto& node : in->nodes) {
    auto cfg = bgp::computeNodeConfig(*in, node.name(), 4);
    if (!cfg) return cfg.error();
    if (!cfg->address) {
      notes.push_back("node " + node.name() + " has no IPv4 BGP address: not planned");
      continue;
    }
    nodeAddresses.insert(*cfg->address);
    configs.push_back(std::move(*cfg));
  }
  bool reflectors = false;
  for (const auto& cfg : configs) {
    reflectors = reflectors || !cfg.rrClusterId.empty();
    p.blocks += static_cast<int64_t>(cfg.blocks.size());
    for (const auto& peer : cfg.peers) {
      if (!nodeAddresses.count(peer.ip)) ++external[peer.ip];
    }
  }
  for (const auto& cfg : configs) {
    plan::Device d{cfg.node,
                   cfg.rrClusterId.empty() ? plan::kNode : plan::kReflector,
                   0,
                   cfg.asNumber,
                   static_cast<int64_t>(cfg.peers.size()),
                   p.blocks - static_cast<int64_t>(cfg.blocks.size()),
                   1};
    p.devices.push_back(std::move(d));
  }
  for (const auto& [ip, sessions] : external) {
    p.devices.push_back(plan::Device{ip.toString(), plan::kPeer, 0, 0, sessions, 0, 1});
  }
  const bool mesh = !configs.empty() && std::all_of(configs.begin(), configs.end(), [](auto& c) {
    return std::all_of(c.peers.begin(), c.peers.end(),
                       [](auto& peer) { return peer.type == bgp::PeerType::kMesh; });
  });
  p.topology = configs.empty() ? "none" : reflectors ? "rr" : mesh ? "mesh" : "custom";
  if (configs.empty()) notes.push_back("no node has an IPv4 BGP address");
  notes.push_back(
      "node routes assume every node learns every other node's blocks (a mesh, "
      "reflectors); borrowed /32s and service ranges are not counted");
  if (!external.empty()) {
    notes.push_back("the routes of peers outside the cluster are not predicted (shown as 0)");
  }
  return p;
}

class PlanCommandImpl final : public PlanCommand {
 public:
  explicit PlanCommandImpl(CLI::App& app) {
    cmd_ = app.add_subcommand("plan", "Sessions and routes per device of a BGP fabric design");
    std::string names;
    for (const auto& n : plan::topologyNames()) names += (names.empty() ? "" : ", ") + n;
    cmd_->add_option("--topology", t_.name, names)->check(CLI::IsMember(plan::topologyNames()));
    cmd_->add_option("--racks", t_.racks, "Racks")->capture_default_str();
    cmd_->add_option("--nodes-per-rack", t_.nodesPerRack, "Nodes in each rack")
        ->capture_default_str();
    cmd_->add_option("--workloads-per-node", t_.workloadsPerNode, "Addresses each node uses")
        ->capture_default_str();
    cmd_->add_option("--pool", t_.pool, "IPv4 pool of the blocks")->capture_default_str();
    cmd_->add_option("--block-size", t_.blockSize, "Prefix length of a block")
        ->capture_default_str();
    cmd_->add_option("--rrs", t_.rrs, "rr: dedicated route reflectors (default 1)");
    cmd_->add_flag("--core", t_.core, "as-per-rack: ToRs peer through a core router");
    cmd_->add_option("--planes", t_.planes, "ecmp-fabric: L2 planes")->capture_default_str();
    cmd_->add_option("--route-capacity", capacity_,
                     "Routes the strongest device holds: warn about devices over it");
    cmd_->add_option("-o,--output", output_, "table or json")
        ->check(CLI::IsMember({"table", "json"}))
        ->capture_default_str();
    cmd_->add_option("--svg", svg_, "Also write a drawing of the topology to this file");
    auto* from = cmd_->add_flag("--from-datastore", fromDatastore_,
                                "Plan the cluster in the datastore as it is configured");
    for (const char* shape : {"--topology", "--racks", "--nodes-per-rack", "--workloads-per-node",
                              "--pool", "--block-size", "--rrs", "--core", "--planes"}) {
      from->excludes(cmd_->get_option(shape));
    }
  }

  bool parsed() const override { return cmd_->parsed(); }

  int run(Session& s) override {
    if (!fromDatastore_ && cmd_->get_option("--topology")->empty()) {
      s.err() << "Invalid option: plan needs --topology NAME or --from-datastore\n";
      return 1;
    }
    std::vector<std::string> notes;
    Result<plan::Plan> p = fromDatastore_ ? current(s, notes) : plan::plan(t_, capacity_);
    if (!p) {
      s.err() << "Error: " << p.message() << "\n";
      return 1;
    }
    if (fromDatastore_) plan::complete(*p, capacity_);
    if (!svg_.empty()) {
      std::ofstream file(svg_);
      file << plan::toSvg(*p);
      if (!file.flush()) {
        s.err() << "Error: --svg: cannot write " << svg_ << "\n";
        return 1;
      }
    }
    if (output_ == "json") {
      s.out() << plan::toJson(*p);
    } else {
      printPlan(s.out(), *p, notes);
    }
    s.warn(p->warnings);
    return 0;
  }

 private:
  Result<plan::Plan> current(Session& s, std::vector<std::string>& notes) {
    // Read only: an embedded store that does not exist is not created.
    if (auto store = s.store(Session::Access::kRead); !store) return store.error();
    auto client = s.client();
    if (!client) return client.error();
    return planFromDatastore(**client, notes);
  }

  void printPlan(std::ostream& out, const plan::Plan& p, const std::vector<std::string>& notes) {
    std::vector<Row> rows;
    for (const auto& r : plan::summarize(p)) {
      rows.push_back({r.role, std::to_string(r.devices), r.sessionsText(), r.routesText()});
    }
    printTable(out, {"ROLE", "DEVICES", "SESSIONS EACH", "ROUTES EACH"}, rows);
    out << "\nTopology " << p.topology << ": " << p.totalSessions << " BGP sessions, " << p.blocks
        << " blocks";
    if (!fromDatastore_) out << " of /" << t_.blockSize;
    out << ".\n";
    for (const auto& n : notes) out << "Assumed: " << n << ".\n";
  }

  CLI::App* cmd_ = nullptr;
  plan::Topology t_;
  std::optional<int64_t> capacity_;
  std::string output_ = "table";
  std::string svg_;
  bool fromDatastore_ = false;
};

}  // namespace

std::unique_ptr<PlanCommand> addPlanCommand(CLI::App& app) {
  return std::make_unique<PlanCommandImpl>(app);
}

}  // namespace brindle::cli
