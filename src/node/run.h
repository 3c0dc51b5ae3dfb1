// `brindlectl node run` and `node stop` as library calls (the CLI parses flags and prints).
// run: autodetect the node's addresses, check kernel modules, set forwarding and the conntrack
// limit, create or update the Node, create default pools, start the agent as a daemon and wait
// until it is ready. stop: stop the agent and BIRD, leaving the dataplane as it is; with remove,
// also withdraw BGP, sweep the node's rules, sets and routes, and delete the Node.
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <map>
#include <string>

#include "common/result.h"
#include "datastore/client.h"
#include "node/agent_process.h"

namespace brindle::node {

// Opened on first use: a node that is already running never touches the datastore.
using DatastoreOpener = std::function<Result<datastore::Client*>()>;

// How the agent is started (run) or asked to tear down (stop --remove).
struct AgentSetup {
  std::string binary;                      // "" = agentBinary("")
  std::string datastoreConfig;             // brindlectl's --config, passed on as --datastore-config
  std::map<std::string, std::string> env;  // the environment it inherits (DATASTORE_TYPE, ...)
};

struct RunOptions {
  NodePaths paths;
  std::string ip;        // "" keeps the Node's address (else autodetects), "autodetect",
                         // "none" or ADDR[/PREFIX]
  std::string ip6;       // the same, but "" never autodetects (as Calico's IP6)
  std::string ipMethod;  // --ip-autodetection-method ("" = first-found)
  std::string ip6Method;
  std::string asNumber;  // "" keeps the Node's (else the global AS applies)
  bool noDefaultPools = false;
  std::string backend = "bird";  // or "none"
  bool initSystem = false;       // exec the agent in the foreground instead of a daemon
  std::chrono::seconds timeout{60};
  AgentSetup agent;
};
// Exit code 0 or 1; what it did on `out`, problems on `err`.
int runNode(const RunOptions& options, const DatastoreOpener& datastore, std::ostream& out,
            std::ostream& err);

struct StopOptions {
  NodePaths paths;
  bool remove = false;
  std::chrono::milliseconds grace{10000};  // SIGTERM to SIGKILL
  AgentSetup agent;
};
int stopNode(const StopOptions& options, const DatastoreOpener& datastore, std::ostream& out,
             std::ostream& err);

// The agent binary: `given`, else brindle-agent beside this program (or in the build tree's
// apps/brindle-agent), else "brindle-agent" from PATH.
std::string agentBinary(const std::string& given);

// The agent's health endpoint as its environment sets it (FELIX_HEALTHHOST/PORT, defaults
// 127.0.0.1:9099).
std::pair<std::string, int> healthEndpoint(const std::map<std::string, std::string>& env);

}  // namespace brindle::node
