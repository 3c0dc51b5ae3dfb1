// brindlectl node checksystem and node diags: the host-side commands of `node` (the checks and
// the bundle live in src/node; this file reads the flags, the datastore and the agent's config).
#include <CLI/CLI.hpp>
#include <filesystem>

#include "agent/config.h"
#include "agent/http_server.h"
#include "bgp/supervisor.h"
#include "cli/node_commands.h"
#include "model/views.h"
#include "node/diags.h"
#include "node/system_check.h"

namespace brindle::cli {
namespace {

// Whether an enabled pool encapsulates with IPIP, or why the store cannot say.
Result<bool> poolsUseIpip(Session& s) {
  auto store = s.store(Session::Access::kRead);
  if (!store) return store.error();
  auto pools = (*store)->list(model::Kind::kIPPool);
  if (!pools) return pools.error();
  for (const auto& pool : *pools) {
    auto view = model::ipPoolView(pool);
    if (view && !view->disabled && view->ipipMode != "Never") return true;
  }
  return false;
}

std::vector<node::CheckLine> runChecks(Session& s, os::CommandRunner& runner) {
  node::SystemInputs in;
  in.kernel = node::readKernelFacts(runner);
  auto path = s.env().find("PATH");
  in.path = path == s.env().end() ? "" : path->second;
  auto ipip = poolsUseIpip(s);
  if (ipip) {
    in.ipipNeeded = *ipip;
  } else {
    in.poolsError = ipip.message();
  }
  return node::checkSystem(in, runner);
}

struct DiagsCommand {
  std::string node;
  std::string runDir = bgp::kDefaultRunDir;
  std::string logDir = node::kDefaultLogDir;
  std::string output;
};

int runDiags(Session& s, const DiagsCommand& cmd) {
  node::DiagsOptions o;
  o.node = cmd.node.empty() ? defaultNodeName() : cmd.node;
  o.runDir = cmd.runDir;
  o.logDir = cmd.logDir;
  std::error_code ec;
  o.outputDir = cmd.output.empty() ? std::filesystem::temp_directory_path(ec).string() : cmd.output;
  // The agent's own settings say where its health and metrics are and which datastore it uses.
  agent::CommandLine cl;
  cl.nodename = o.node;
  cl.datastoreConfig = s.configPath();
  auto agentConfig = agent::loadLocalAgentConfig(cl, s.env(), o.node);
  if (agentConfig) {
    o.datastore = agentConfig->datastore;
    o.healthHost = agentConfig->healthHost;
    o.healthPort = agentConfig->healthPort;
    o.metricsHost = agentConfig->prometheusMetricsHost;
    o.metricsPort = agentConfig->prometheusMetricsPort;
  } else {
    o.datastoreError = agentConfig.message();
  }
  os::ProcessRunner runner;
  o.extraFiles.push_back({"checksystem.txt", node::formatChecks(runChecks(s, runner))});
  s.out() << "Collecting diagnostics for node " << o.node << "\n";
  auto httpGet = [](const std::string& host, int port,
                    const std::string& path) -> Result<node::HttpReply> {
    auto reply = agent::httpGet(host, port, path);
    if (!reply) return reply.error();
    return node::HttpReply{reply->status, reply->body};
  };
  auto result = node::collectDiags(o, runner, httpGet);
  if (!result) {
    s.err() << "error: " << result.message() << "\n";
    return 1;
  }
  for (const auto& item : result->items) {
    if (!item.problem.empty()) s.out() << "  " << item.file << ": " << item.problem << "\n";
  }
  s.out() << "Diags saved to " << result->tarball << "\n";
  return 0;
}

class NodeSystemCommands final : public NodeCommands {
 public:
  explicit NodeSystemCommands(CLI::App& node) {
    checksystem_ = node.add_subcommand(
        "checksystem", "Check that this host can run a Brindle node (kernel, modules, programs)");
    diags_ = node.add_subcommand("diags", "Collect a node's logs and state into a tarball");
    diags_->add_option("--name", diagsCmd_.node, "Node name (default: NODENAME, else hostname)");
    diags_->add_option("--run-dir", diagsCmd_.runDir, "The agent's BgpRunDir (BIRD's sockets)")
        ->capture_default_str();
    diags_->add_option("--log-dir", diagsCmd_.logDir, "Where node run keeps the node's logs")
        ->capture_default_str();
    diags_->add_option("--output", diagsCmd_.output,
                       "Directory for the tarball (default: the temp directory)");
  }

  bool parsed() const override { return checksystem_->parsed() || diags_->parsed(); }

  int run(Session& s) override {
    if (diags_->parsed()) return runDiags(s, diagsCmd_);
    os::ProcessRunner runner;
    const auto lines = runChecks(s, runner);
    s.out() << node::formatChecks(lines);
    return node::anyFailed(lines) ? 1 : 0;
  }

 private:
  CLI::App* checksystem_ = nullptr;
  CLI::App* diags_ = nullptr;
  DiagsCommand diagsCmd_;
};

}  // namespace

std::unique_ptr<NodeCommands> addNodeSystemCommands(CLI::App& node) {
  return std::make_unique<NodeSystemCommands>(node);
}

}  // namespace brindle::cli
