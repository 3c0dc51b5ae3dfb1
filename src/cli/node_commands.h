// brindlectl node: run and stop a node (flags here, the work in src/node/run.h); bgp-config: the
// BIRD configuration it runs or would run, rendered from the datastore without starting
// anything; status: its BGP sessions, read from its BIRD's control socket, as calicoctl node
// status shows them, and its agent's readiness.
#pragma once

#include <memory>
#include <string>

#include "cli/session.h"

namespace CLI {
class App;
}

namespace brindle::cli {

struct BgpConfigCommand {
  std::string node;  // default: this host's name
  int family = 4;
  std::string secretsDir;  // BGP passwords, <dir>/<secret>/<key>
};
int runNodeBgpConfig(Session& session, const BgpConfigCommand& cmd);

struct NodeStatusCommand {
  std::string node;    // default: this host's name
  std::string runDir;  // the agent's BgpRunDir
};
int runNodeStatus(Session& session, const NodeStatusCommand& cmd);

// The `node` subcommand tree, as IpamCommands.
class NodeCommands {
 public:
  virtual ~NodeCommands() = default;
  virtual bool parsed() const = 0;
  virtual int run(Session& session) = 0;
};
std::unique_ptr<NodeCommands> addNodeCommands(CLI::App& app);
// `node checksystem` and `node diags` (node_system_commands.cc), added under `node`.
std::unique_ptr<NodeCommands> addNodeSystemCommands(CLI::App& node);

// NODENAME from the environment, else the host name: the node a command means by default.
std::string defaultNodeName();

}  // namespace brindle::cli
