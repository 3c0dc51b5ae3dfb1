#include "cli/node_commands.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "bgp/inputs.h"
#include "bgp/render.h"
#include "bgp/status.h"
#include "bgp/supervisor.h"
#include "cli/table.h"
#include "node/run.h"
#include "os/process.h"

namespace brindle::cli {
namespace {

int fail(Session& s, const std::string& message) {
  s.err() << message << "\n";
  return 1;
}

void printReadiness(Session& s, const node::Readiness& r) {
  if (r.ready) {
    s.out() << "Brindle agent is ready\n";
  } else {
    s.out() << "Brindle agent is not ready: " << r.reason << "\n";
  }
}

class NodeCommandsImpl final : public NodeCommands {
 public:
  explicit NodeCommandsImpl(CLI::App& app) {
    node_ = app.add_subcommand("node", "Run, stop and inspect a node");
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
    addRun();
    addStop();
    system_ = addNodeSystemCommands(*node_);
  }

  bool parsed() const override { return node_->parsed(); }

  int run(Session& session) override {
    if (bgpConfig_->parsed()) return runNodeBgpConfig(session, bgpCmd_);
    if (status_->parsed()) return runNodeStatus(session, statusCmd_);
    if (run_->parsed() || stop_->parsed()) return runOrStop(session);
    if (system_->parsed()) return system_->run(session);
    return fail(session, "No node command given. Run 'brindlectl node --help' for usage.");
  }

 private:
  void addRun() {
    run_ = node_->add_subcommand("run", "Set this host up as a Brindle node and start its agent");
    auto& o = runOpts_;
    run_->add_option("--name", o.paths.node, "Node name (default: NODENAME, else hostname)");
    run_->add_option("--ip", o.ip,
                     "IPv4 address: autodetect, none or ADDR/PREFIX (default: the Node's, else "
                     "autodetect)");
    run_->add_option("--ip6", o.ip6,
                     "IPv6 address: autodetect, none or ADDR/PREFIX (default: the Node's, else "
                     "none)");
    const char* methods =
        "first-found, interface=REGEX[,REGEX], skip-interface=REGEX[,REGEX], can-reach=DEST or "
        "cidr=CIDR[,CIDR]";
    run_->add_option("--ip-autodetection-method", o.ipMethod, methods)->default_str("first-found");
    run_->add_option("--ip6-autodetection-method", o.ip6Method, methods)
        ->default_str("first-found");
    run_->add_option("--as", o.asNumber, "The node's AS number (default: the global one)");
    run_->add_flag("--no-default-ippools", o.noDefaultPools,
                   "Do not create the default pools when there are none");
    run_->add_option("--backend", o.backend, "Networking backend")
        ->check(CLI::IsMember({"bird", "none"}))
        ->capture_default_str();
    addPathOptions(run_, o.paths, o.agent);
    run_->add_flag("--init-system", o.initSystem,
                   "Run the agent in the foreground (for systemd) instead of as a daemon");
    run_->add_option("--timeout", timeoutSeconds_, "Seconds to wait for the agent to be ready")
        ->capture_default_str();
  }

  void addStop() {
    stop_ = node_->add_subcommand("stop", "Stop the node's agent and BIRD, leaving the dataplane");
    stop_->add_option("--name", stopOpts_.paths.node,
                      "Node name (default: NODENAME, else hostname)");
    addPathOptions(stop_, stopOpts_.paths, stopOpts_.agent);
    stop_->add_flag("--remove", stopOpts_.remove,
                    "Also remove the node's rules, routes, tunnel, Node resource and files");
  }

  static void addPathOptions(CLI::App* cmd, node::NodePaths& paths, node::AgentSetup& agent) {
    cmd->add_option("--run-dir", paths.runDir, "Pid file and BIRD files go to RUN_DIR/NAME/")
        ->capture_default_str();
    cmd->add_option("--log-dir", paths.logDir, "The agent logs to LOG_DIR/NAME/agent.log")
        ->capture_default_str();
    cmd->add_option("--agent", agent.binary,
                    "brindle-agent binary (default: beside brindlectl, else from PATH)");
  }

  int runOrStop(Session& session) {
    auto opener = [&session]() { return session.client(); };
    for (node::AgentSetup* agent : {&runOpts_.agent, &stopOpts_.agent}) {
      agent->datastoreConfig = session.configPath();
      agent->env = session.env();
    }
    if (run_->parsed()) {
      if (runOpts_.paths.node.empty()) runOpts_.paths.node = defaultNodeName();
      runOpts_.timeout = std::chrono::seconds(timeoutSeconds_);
      return node::runNode(runOpts_, opener, session.out(), session.err());
    }
    if (stopOpts_.paths.node.empty()) stopOpts_.paths.node = defaultNodeName();
    return node::stopNode(stopOpts_, opener, session.out(), session.err());
  }

  CLI::App* node_ = nullptr;
  CLI::App* bgpConfig_ = nullptr;
  CLI::App* status_ = nullptr;
  CLI::App* run_ = nullptr;
  CLI::App* stop_ = nullptr;
  BgpConfigCommand bgpCmd_;
  NodeStatusCommand statusCmd_;
  node::RunOptions runOpts_;
  node::StopOptions stopOpts_;
  int timeoutSeconds_ = 60;
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
  const auto [host, port] = node::healthEndpoint(s.env());
  const node::Readiness ready = node::probeReadiness(host, port);
  if (!running) {
    s.out() << "Brindle process is not running.\n";
    if (ready.reachable) printReadiness(s, ready);
    return 1;
  }
  s.out() << "Brindle process is running.\n";
  if (ready.reachable) printReadiness(s, ready);
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
