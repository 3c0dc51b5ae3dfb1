// brindle-agent: the per-node agent (Felix's job). Parses flags, loads the configuration, builds
// the object graph (datastore, writers, driver, loop, status server) and runs in the foreground.
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <climits>
#include <iostream>

#include "agent/agent.h"
#include "agent/config.h"
#include "config/open_datastore.h"
#include "dataplane/command_runner.h"
#include "dataplane/ipsets_impl.h"
#include "dataplane/iptables_table.h"
#include "dataplane/route_netlink.h"
#include "dataplane/route_table.h"
#include "os/sysctl.h"
#include "resources/resource_store.h"

namespace {

using namespace brindle;

// The one piece of global state: a signal handler can reach nothing else.
std::atomic<bool> gStop{false};
void onSignal(int) { gStop = true; }

spdlog::level::level_enum levelOf(const std::string& felixLevel) {
  if (felixLevel == "Trace") return spdlog::level::trace;
  if (felixLevel == "Debug") return spdlog::level::debug;
  if (felixLevel == "Warning") return spdlog::level::warn;
  if (felixLevel == "Error") return spdlog::level::err;
  if (felixLevel == "Fatal") return spdlog::level::critical;
  return spdlog::level::info;
}

std::string hostname() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

int runAgent(const agent::CommandLine& cl) {
  auto env = config::processEnvironment();
  auto local = agent::loadLocalAgentConfig(cl, env, hostname());
  if (!local) {
    spdlog::critical("configuration: {}", local.message());
    return 2;
  }
  spdlog::set_level(levelOf(local->logSeverityScreen));
  auto client = config::openDatastore(local->datastore);
  if (!client) {
    spdlog::critical("datastore ({}): {}", local->datastore.source, client.message());
    return 1;
  }
  // FelixConfiguration layers; the specs read are remembered so a later change restarts us.
  resources::ResourceStore store(**client);
  std::map<std::string, std::string> felixSpecs;
  agent::FelixConfigReader reader =
      [&](const std::string& name) -> Result<std::optional<model::Resource>> {
    auto r = store.get(model::Kind::kFelixConfiguration, "", name);
    if (!r) {
      if (r.code() == ErrorCode::kNotFound) return std::optional<model::Resource>();
      return r.error();
    }
    felixSpecs[name] = r->spec.dump();
    return std::optional<model::Resource>(std::move(*r));
  };
  auto cfg = agent::loadAgentConfig(cl, env, reader, hostname());
  if (!cfg) {
    spdlog::critical("configuration: {}", cfg.message());
    return 2;
  }
  spdlog::set_level(levelOf(cfg->logSeverityScreen));
  for (const auto& n : cfg->notes) spdlog::warn("{}", n);
  spdlog::info("brindle-agent {} starting on node {} (datastore: {})", BRINDLE_VERSION,
               cfg->nodename, cfg->datastore.source);
  for (const auto& [name, source] : cfg->sources) spdlog::debug("{} from {}", name, source);

  // Kernel writers: iptables/ip6tables tables, ipsets, routes and sysctls of this namespace.
  dataplane::ProcessRunner runner;
  dataplane::IptablesTableOptions topts;
  topts.insertMode =
      cfg->chainInsertAtTop ? dataplane::InsertMode::kInsert : dataplane::InsertMode::kAppend;
  std::vector<std::unique_ptr<dataplane::IptablesTable>> tables;
  agent::DataplaneDeps deps;
  std::vector<dataplane::IpVersion> versions = {dataplane::IpVersion::kV4};
  if (cfg->ipv6Support) versions.push_back(dataplane::IpVersion::kV6);
  for (auto v : versions) {
    // filter last: only filter admits or drops (raw/mangle ACCEPTs end just their own table,
    // nat rewrites addresses that filter then judges), and with the nft backend every save and
    // restore costs in proportion to the whole ruleset, so the small tables go while filter is
    // still small (cold start: ~0.6 s saved at 33k rules).
    for (auto t : {dataplane::TableName::kRaw, dataplane::TableName::kMangle,
                   dataplane::TableName::kNat, dataplane::TableName::kFilter}) {
      tables.push_back(std::make_unique<dataplane::IptablesTable>(t, v, runner, topts));
      deps.tables.push_back({v, t, tables.back().get()});
    }
  }
  dataplane::IpSetsImpl ipsets(runner);
  deps.ipsets = &ipsets;
  os::ProcSysctlWriter sysctl;
  std::vector<os::SysctlSetting> forwarding = {{"net/ipv4/ip_forward", "1", false}};
  if (cfg->ipv6Support) forwarding.push_back({"net/ipv6/conf/all/forwarding", "1", true});
  if (Status s = sysctl.write(forwarding); !s) spdlog::warn("sysctl: {}", s.message());
  auto netlink = dataplane::openLibnlRouteNetlink();
  if (!netlink) {
    spdlog::critical("netlink: {}", netlink.message());
    return 1;
  }
  dataplane::RouteTableOptions ropts;
  ropts.protocol = cfg->routeProtocol;
  ropts.ipv6 = cfg->ipv6Support;
  dataplane::RouteTable routes(**netlink, sysctl, ropts);
  deps.routes = &routes;

  agent::Metrics metrics;
  agent::defineAgentMetrics(metrics);
  deps.metrics = &metrics;
  agent::HealthState health;
  agent::DataplaneDriver driver(deps, cfg->rendererConfig());

  // Status servers (one when health and metrics share host and port).
  std::vector<std::unique_ptr<agent::HttpServer>> servers;
  auto serve = [&](const std::string& host, int port, bool h, bool m) {
    auto server = std::make_unique<agent::HttpServer>();
    Status s = server->start(host, port, [&health, &metrics, h, m](const std::string& path) {
      return agent::statusEndpoint(path, health, metrics, h, m);
    });
    if (!s) {
      spdlog::error("status server: {}", s.message());
      return;
    }
    spdlog::info("serving{}{} on http://{}:{}", h ? " /liveness /readiness" : "",
                 m ? " /metrics" : "", host, server->port());
    servers.push_back(std::move(server));
  };
  bool shared = cfg->healthEnabled && cfg->prometheusMetricsEnabled &&
                cfg->healthHost == cfg->prometheusMetricsHost &&
                cfg->healthPort == cfg->prometheusMetricsPort;
  if (shared) {
    serve(cfg->healthHost, cfg->healthPort, true, true);
  } else {
    if (cfg->healthEnabled) serve(cfg->healthHost, cfg->healthPort, true, false);
    if (cfg->prometheusMetricsEnabled) {
      serve(cfg->prometheusMetricsHost, cfg->prometheusMetricsPort, false, true);
    }
  }

  agent::Agent loop(*cfg, agent::AgentDeps{**client, driver, metrics, health}, felixSpecs);
  agent::StopReason why = loop.run(gStop);
  for (auto& s : servers) s->stop();
  if (why == agent::StopReason::kConfigChanged) return 129;
  // Deliberately no cleanup of the kernel: a restarted agent takes over the rules in place.
  spdlog::info("stopping; kernel rules left in place");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
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
  CLI11_PARSE(app, argc, argv);

  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  int rc = runAgent(cl);
  if (rc == 129) {
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
