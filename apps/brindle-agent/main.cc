// brindle-agent: the per-node agent (Felix's job). Parses flags, installs the signal handlers and
// runs the agent (agent/runtime.h) in the foreground; re-executes itself when its configuration
// changed.
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <iostream>

#include "agent/runtime.h"

namespace {

// The one piece of global state: a signal handler can reach nothing else.
std::atomic<bool> gStop{false};
void onSignal(int) { gStop = true; }

}  // namespace

int main(int argc, char** argv) {
  using namespace brindle;
  auto logger = spdlog::stderr_logger_mt("brindle-agent");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e [%^%l%$] %v");

  CLI::App app{"brindle-agent: the per-node policy and routing agent (see docs/agent.md)"};
  agent::CommandLine cl;
  app.add_option("--nodename", cl.nodename, "this node's name (default: NODENAME, hostname)");
  app.add_option("--config-file", cl.configFile,
                 "agent config file (default: /etc/brindle/agent.cfg if present)");
  app.add_option("--datastore-config,-c", cl.datastoreConfig,
                 "datastore config file, as brindlectl's --config");
  app.add_option("--log-level", cl.logSeverityScreen, "log level (overrides LogSeverityScreen)");
  bool bgpTeardown = false;
  app.add_flag("--bgp-teardown", bgpTeardown,
               "stop this node's BIRD, withdraw its routes and exit (docs/bgp.md)");
  bool cleanup = false;
  app.add_flag("--cleanup", cleanup,
               "remove this node's cali chains, ipsets and routes and exit (node stop --remove)");
  CLI11_PARSE(app, argc, argv);
  if (bgpTeardown) return agent::teardownBgp(cl);
  if (cleanup) return agent::cleanupDataplane(cl);

  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  int rc = agent::runAgent(cl, gStop);
  if (rc == agent::kExitRestart) {
    // A FelixConfiguration changed: start again in place (the kernel state is kept, as on any
    // restart), so no supervisor is needed to pick up the new settings.
    spdlog::info("re-executing to apply the new configuration");
    spdlog::shutdown();
    ::execv("/proc/self/exe", argv);
    std::cerr << "brindle-agent: re-exec failed\n";
    return 1;
  }
  return rc;
}
