#include "cli/node_commands.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "bgp/inputs.h"
#include "bgp/render.h"
#include "bgp/status.h"
#include "bgp/supervisor.h"
#include "cli/table.h"
#include "os/process.h"

namespace brindle::cli {
namespace {

int fail(Session& s, const std::string& message) {
  s.err() << message << "\n";
  return 1;
}

class NodeCommandsImpl final : public NodeCommands {
 public:
  explicit NodeCommandsImpl(CLI::App& app) {
    node_ = app.add_subcommand("node", "What BGP does on a node");
    node_->require_subcommand(1);
    bgpConfig_ = node_->add_subcommand(
        "bgp-config", "Print the BIRD configuration a node runs, rendered from the datastore");
    bgpConfig_->add_option("--node", bgpCmd_.node, "Node name (default: NODENAME, else hostname)");
    bgpConfig_->add_option("--family", bgpCmd_.family, "4 or 6")
        ->check(CLI::IsMember({4, 6}))
        ->capture_default_str();
    bgpConfig_
        ->add_option("--secrets-dir", bgpCmd_.secretsDir,
                     "Where BGP passwords are read: DIR/SECRET/KEY")
        ->default_str(bgp::kDefaultSecretsDir);
    status_ = node_->add_subcommand("status", "Show a node's BGP sessions (from its BIRD)");
    status_->add_option("--node", statusCmd_.node, "Node name (default: NODENAME, else hostname)");
    status_->add_option("--run-dir", statusCmd_.runDir, "The agent's BgpRunDir")
        ->default_str(bgp::kDefaultRunDir);
    system_ = addNodeSystemCommands(*node_);
  }

  bool parsed() const override { return node_->parsed(); }

  int run(Session& session) override {
    if (bgpConfig_->parsed()) return runNodeBgpConfig(session, bgpCmd_);
    if (status_->parsed()) return runNodeStatus(session, statusCmd_);
    if (system_->parsed()) return system_->run(session);
    return fail(session, "No node command given. Run 'brindlectl node --help' for usage.");
  }

 private:
  CLI::App* node_ = nullptr;
  CLI::App* bgpConfig_ = nullptr;
  CLI::App* status_ = nullptr;
  BgpConfigCommand bgpCmd_;
  NodeStatusCommand statusCmd_;
  std::unique_ptr<NodeCommands> system_;
};

}  // namespace

std::unique_ptr<NodeCommands> addNodeCommands(CLI::App& app) {
  return std::make_unique<NodeCommandsImpl>(app);
}

std::string defaultNodeName() {
  if (const char* env = std::getenv("NODENAME"); env != nullptr && *env != '\0') return env;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

int runNodeBgpConfig(Session& s, const BgpConfigCommand& cmd) {
  auto client = s.client();
  if (!client) return fail(s, client.message());
  auto inputs =
      bgp::readInputs(**client, cmd.secretsDir.empty() ? bgp::kDefaultSecretsDir : cmd.secretsDir);
  if (!inputs) return fail(s, "error: " + inputs.message());
  const std::string node = cmd.node.empty() ? defaultNodeName() : cmd.node;
  auto config = bgp::computeNodeConfig(*inputs, node, cmd.family);
  if (!config) return fail(s, "error: " + config.message());
  s.out() << bgp::renderBird(*config);
  return 0;
}

int runNodeStatus(Session& s, const NodeStatusCommand& cmd) {
  const std::string dir = (cmd.runDir.empty() ? std::string(bgp::kDefaultRunDir) : cmd.runDir) +
                          "/" + (cmd.node.empty() ? defaultNodeName() : cmd.node);
  bool running = false;
  std::vector<std::pair<int, std::vector<bgp::PeerStatus>>> families;
  os::ProcessRunner runner;
  for (int family : {4, 6}) {
    const std::string ctl = dir + (family == 4 ? "/bird.ctl" : "/bird6.ctl");
    auto out = runner.run(os::Command({"birdc", "-s", ctl, "show", "protocols"}));
    const bool answers = out && out->exitCode == 0;
    running = running || answers;
    families.push_back(
        {family, answers ? bgp::parsePeers(out->out) : std::vector<bgp::PeerStatus>{}});
  }
  if (!running) {
    s.out() << "Brindle process is not running.\n";
    return 1;
  }
  s.out() << "Brindle process is running.\n";
  for (const auto& [family, peers] : families) {
    const std::string v = "IPv" + std::to_string(family);
    s.out() << "\n" << v << " BGP status\n";
    if (peers.empty()) {
      s.out() << "No " << v << " peers found.\n";
      continue;
    }
    std::vector<Row> rows;
    for (const auto& p : peers) rows.push_back({p.address, p.type, p.state, p.since, p.info});
    printBoxed(s.out(), {"PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"}, rows, {});
  }
  return 0;
}

}  // namespace brindle::cli
