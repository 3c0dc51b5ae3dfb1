// The brindle-agent process wiring (see runtime.h): one function per stage, runAgent() in order.
#include "agent/runtime.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "agent/agent.h"
#include "bgp/status.h"
#include "bgp/supervisor.h"
#include "config/open_datastore.h"
#include "dataplane/ipsets_impl.h"
#include "dataplane/iptables_table.h"
#include "dataplane/nftables_writer.h"
#include "dataplane/route_netlink.h"
#include "dataplane/route_table.h"
#include "os/process.h"
#include "os/sysctl.h"
#include "resources/resource_store.h"

namespace brindle::agent {
namespace {

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

// The full configuration; `felixSpecs` gets the FelixConfiguration specs it was read from (a
// later change to them restarts the agent).
Result<AgentConfig> loadConfig(const CommandLine& cl, const std::map<std::string, std::string>& env,
                               datastore::Client& client,
                               std::map<std::string, std::string>& felixSpecs) {
  resources::ResourceStore store(client);
  FelixConfigReader reader =
      [&](const std::string& name) -> Result<std::optional<model::Resource>> {
    auto r = store.get(model::Kind::kFelixConfiguration, "", name);
    if (!r) {
      if (r.code() == ErrorCode::kNotFound) return std::optional<model::Resource>();
      return r.error();
    }
    felixSpecs[name] = r->spec.dump();
    return std::optional<model::Resource>(std::move(*r));
  };
  return loadAgentConfig(cl, env, reader, hostname());
}

// Each (IP version, table) the agent writes, in apply order. filter last: only filter admits or
// drops (raw/mangle ACCEPTs end just their own table, nat rewrites addresses that filter then
// judges), and with iptables' nft backend every save and restore costs in proportion to the whole
// ruleset, so the small tables go while filter is still small (cold start: ~0.6 s saved at 33k
// rules).
template <typename Fn>
void forEachTable(const AgentConfig& cfg, Fn fn) {
  for (auto v : {dataplane::IpVersion::kV4, dataplane::IpVersion::kV6}) {
    if (v == dataplane::IpVersion::kV6 && !cfg.ipv6Support) continue;
    for (auto t : {dataplane::TableName::kRaw, dataplane::TableName::kMangle,
                   dataplane::TableName::kNat, dataplane::TableName::kFilter}) {
      fn(v, t);
    }
  }
}

// The iptables backend's writers: iptables/ip6tables tables and ipsets, nothing desired yet.
struct IptablesWriters {
  std::vector<std::unique_ptr<dataplane::IptablesTable>> tables;
  std::unique_ptr<dataplane::IpSetsImpl> ipsets;

  IptablesWriters(os::CommandRunner& runner, const AgentConfig& cfg) {
    dataplane::IptablesTableOptions topts;
    topts.insertMode =
        cfg.chainInsertAtTop ? dataplane::InsertMode::kInsert : dataplane::InsertMode::kAppend;
    forEachTable(cfg, [&](dataplane::IpVersion v, dataplane::TableName t) {
      tables.push_back(std::make_unique<dataplane::IptablesTable>(t, v, runner, topts));
    });
    ipsets = std::make_unique<dataplane::IpSetsImpl>(runner);
  }

  // With nothing desired, the first apply of each writer reads the kernel and sweeps what is
  // ours: rules go before the ipsets they match on. The first error, if any.
  Status sweep() {
    Status first;
    auto note = [&first](Status s) {
      if (!s && first) first = s;
    };
    for (auto& t : tables) note(t->apply());
    note(ipsets->applyUpdates());
    note(ipsets->applyDeletions());
    return first;
  }
};

// The nftables backend: the managers' tables (desired state only) and the writer of `table inet
// calico`, through libnftables.
struct NftablesWriters {
  std::vector<std::unique_ptr<dataplane::ChainTable>> tables;
  dataplane::NftExecutorPtr executor;
  std::unique_ptr<dataplane::NftablesWriter> writer;
};

// The kernel writers of this namespace: one backend's rules and sets, routes and sysctls.
struct KernelWriters {
  os::ProcessRunner runner;
  std::unique_ptr<IptablesWriters> iptables;  // iptables mode
  NftablesWriters nftables;                   // nftables mode
  os::ProcSysctlWriter sysctl;
  dataplane::RouteNetlinkPtr netlink;
  std::unique_ptr<dataplane::RouteTable> routes;
  DataplaneDeps deps;
};

Result<std::unique_ptr<KernelWriters>> openKernelWriters(const AgentConfig& cfg) {
  auto k = std::make_unique<KernelWriters>();
  if (cfg.nftablesEnabled) {
    BRINDLE_ASSIGN_OR_RETURN(k->nftables.executor, dataplane::openLibNftables());
    std::vector<dataplane::ChainTable*> tables;
    forEachTable(cfg, [&](dataplane::IpVersion v, dataplane::TableName t) {
      k->nftables.tables.push_back(std::make_unique<dataplane::ChainTable>(t, v));
      tables.push_back(k->nftables.tables.back().get());
      k->deps.tables.push_back({v, t, tables.back()});
    });
    k->nftables.writer = std::make_unique<dataplane::NftablesWriter>(tables, *k->nftables.executor);
    k->deps.nftables = k->nftables.writer.get();
  } else {
    k->iptables = std::make_unique<IptablesWriters>(k->runner, cfg);
    for (auto& t : k->iptables->tables)
      k->deps.tables.push_back({t->version(), t->name(), t.get()});
    k->deps.ipsets = k->iptables->ipsets.get();
  }
  std::vector<os::SysctlSetting> forwarding = {{"net/ipv4/ip_forward", "1", false}};
  if (cfg.ipv6Support) forwarding.push_back({"net/ipv6/conf/all/forwarding", "1", true});
  if (Status s = k->sysctl.write(forwarding); !s) spdlog::warn("sysctl: {}", s.message());
  auto netlink = dataplane::openLibnlRouteNetlink();
  if (!netlink) return makeError(netlink.code(), "netlink: " + netlink.message());
  k->netlink = std::move(*netlink);
  dataplane::RouteTableOptions ropts;
  ropts.protocol = cfg.routeProtocol;
  ropts.ipv6 = cfg.ipv6Support;
  ropts.sweepLinkGroups = cfg.nftablesEnabled;  // iptables mode: once nftables is gone
  k->routes = std::make_unique<dataplane::RouteTable>(*k->netlink, k->sysctl, ropts);
  k->deps.routes = k->routes.get();
  return k;
}

// Deletes our nftables table if there is one, through the nft program: an agent in iptables mode
// never loads libnftables' parser and cache into itself for this add-and-delete once per start
// (0.8 MB of its resident memory at the agent benchmark's 1x shape).
Status removeNftables(os::CommandRunner& runner) {
  return dataplane::NftablesWriter::removeTable(*dataplane::nftCommandExecutor(runner));
}

// After the first complete apply in one backend, the other backend's rules go (a switch of
// backend is a restart; until here both guard the traffic with the same policy). A failure is
// retried after later applies (periodic resyncs make them), at most every 10 s; the first is a
// warning, the rest debug lines.
// In iptables mode the workload interfaces' device groups go only after the nftables table:
// while it exists, its dispatch admits an interface only with the group it was given.
std::function<bool()> removeOtherBackend(KernelWriters& k, const AgentConfig& cfg) {
  using Clock = std::chrono::steady_clock;
  return [&k, &cfg, failures = 0, last = Clock::time_point()]() mutable {
    const auto now = Clock::now();
    if (failures > 0 && now - last < std::chrono::seconds(10)) return false;
    last = now;
    const char* other = cfg.nftablesEnabled ? "iptables" : "nftables";
    Status s =
        cfg.nftablesEnabled ? IptablesWriters(k.runner, cfg).sweep() : removeNftables(k.runner);
    if (!s) {
      spdlog::log(failures++ == 0 ? spdlog::level::warn : spdlog::level::debug,
                  "removing the {} rules of the other backend (tried again after the next "
                  "apply): {}",
                  other, s.message());
      return false;
    }
    if (failures > 0) spdlog::info("removed the {} rules of the other backend", other);
    if (cfg.nftablesEnabled) return true;
    k.routes->setSweepLinkGroups(true);
    if (Status swept = k.routes->apply(); !swept) {
      spdlog::warn("resetting the nftables device groups: {}", swept.message());
    }
    return true;
  };
}

// The status servers: one when health and metrics share host and port. A server that cannot
// start is logged and left out (the agent still programs the kernel).
std::vector<std::unique_ptr<HttpServer>> startStatusServers(const AgentConfig& cfg,
                                                            const HealthState& health,
                                                            const Metrics& metrics) {
  std::vector<std::unique_ptr<HttpServer>> servers;
  auto serve = [&](const std::string& host, int port, bool h, bool m) {
    auto server = std::make_unique<HttpServer>();
    Status s = server->start(host, port, [&health, &metrics, h, m](const std::string& path) {
      return statusEndpoint(path, health, metrics, h, m);
    });
    if (!s) {
      spdlog::error("status server: {}", s.message());
      return;
    }
    spdlog::info("serving{}{} on http://{}:{}", h ? " /liveness /readiness" : "",
                 m ? " /metrics" : "", host, server->port());
    servers.push_back(std::move(server));
  };
  const bool shared = cfg.healthEnabled && cfg.prometheusMetricsEnabled &&
                      cfg.healthHost == cfg.prometheusMetricsHost &&
                      cfg.healthPort == cfg.prometheusMetricsPort;
  if (shared) {
    serve(cfg.healthHost, cfg.healthPort, true, true);
  } else {
    if (cfg.healthEnabled) serve(cfg.healthHost, cfg.healthPort, true, false);
    if (cfg.prometheusMetricsEnabled) {
      serve(cfg.prometheusMetricsHost, cfg.prometheusMetricsPort, false, true);
    }
  }
  return servers;
}

bgp::SupervisorOptions bgpOptions(const AgentConfig& cfg) {
  bgp::SupervisorOptions o;
  o.node = cfg.nodename;
  o.runDir = cfg.bgpRunDir;
  o.secretsDir = cfg.bgpSecretsDir;
  o.ipipMtu = cfg.ipipMtu;
  return o;
}

// Sessions by BGP state and the routes they import and export, per family, read from BIRD's
// control sockets into metrics. Returns "" or that no session is Established although some are
// configured: a readiness note that does not gate (docs/bgp.md).
std::string publishSessions(const bgp::Supervisor& supervisor, Metrics& metrics) {
  std::map<std::string, double> sessions, routes;
  int configured = 0, established = 0;
  for (int family : {4, 6}) {
    const std::string ctl = supervisor.path(family, ".ctl");
    if (!std::filesystem::exists(ctl)) continue;
    auto peers = bgp::readPeers(ctl);
    if (!peers) continue;
    const std::string v = "ip_version=\"" + std::to_string(family) + "\"";
    sessions[v + ",state=\"Established\""] += 0;
    double& imported = routes[v + ",direction=\"imported\""];
    double& exported = routes[v + ",direction=\"exported\""];
    for (const auto& p : *peers) {
      const std::string state = p.bgpState();
      sessions[v + ",state=\"" + state + "\""] += 1;
      imported += static_cast<double>(p.imported);
      exported += static_cast<double>(p.exported);
      ++configured;
      established += state == "Established";
    }
  }
  metrics.setSeries("brindle_bgp_sessions", std::move(sessions));
  metrics.setSeries("brindle_bgp_routes", std::move(routes));
  if (configured == 0 || established > 0) return "";
  return "BGP: no session Established (" + std::to_string(configured) +
         " configured); not gating readiness";
}

// NetworkingBackend bird: BIRD under a Supervisor, on its own thread and datastore client so a
// slow BIRD never holds up policy. Its problems are readiness reasons; its counts are metrics.
void runBgp(const AgentConfig& cfg, HealthState& health, Metrics& metrics,
            const std::atomic<bool>& stop) {
  auto client = config::openDatastore(cfg.datastore);
  if (!client) {
    health.setBgpProblem("BGP: datastore: " + client.message());
    return;
  }
  bgp::Supervisor supervisor(**client, bgpOptions(cfg));
  bgp::SupervisorCounters last;
  std::string lastProblem;
  std::chrono::steady_clock::time_point published{};
  bgp::runSupervisor(supervisor, **client, cfg.bgpRefreshInterval, stop, [&] {
    const std::string problem = supervisor.problem();
    if (problem != lastProblem && !problem.empty()) spdlog::error("BGP: {}", problem);
    lastProblem = problem;
    health.setBgpProblem(problem.empty() ? "" : "BGP: " + problem);
    if (std::chrono::steady_clock::now() - published >=
        cfg.bgpRefreshInterval) {  // a birdc run per family
      health.setBgpNote(publishSessions(supervisor, metrics));
      published = std::chrono::steady_clock::now();
    }
    const auto now = supervisor.counters();
    metrics.add("brindle_bgp_reconfigures_total", double(now.reconfigures - last.reconfigures));
    metrics.add("brindle_bgp_config_rejected_total", double(now.rejected - last.rejected));
    metrics.add("brindle_bird_restarts_total", double(now.restarts - last.restarts));
    last = now;
  });
  // Deliberately leaves BIRD running: its sessions and routes outlive an agent restart.
}

}  // namespace

int teardownBgp(const CommandLine& cl) {
  auto env = config::processEnvironment();
  auto local = loadLocalAgentConfig(cl, env, hostname());
  if (!local) {
    spdlog::critical("configuration: {}", local.message());
    return kExitBadConfig;
  }
  auto client = config::openDatastore(local->datastore);
  if (!client) {
    spdlog::critical("datastore: {}", client.message());
    return kExitFailed;
  }
  bgp::Supervisor(**client, bgpOptions(*local)).teardown();
  spdlog::info("BIRD of node {} stopped, its routes withdrawn", local->nodename);
  return kExitStopped;
}

int cleanupDataplane(const CommandLine& cl) {
  auto cfg = loadLocalAgentConfig(cl, config::processEnvironment(), hostname());
  if (!cfg) {
    spdlog::critical("configuration: {}", cfg.message());
    return kExitBadConfig;
  }
  auto kernel = openKernelWriters(*cfg);
  if (!kernel) {
    spdlog::critical("{}", kernel.message());
    return kExitFailed;
  }
  // Both backends, whichever is configured: a node may have switched.
  Status first = IptablesWriters((*kernel)->runner, *cfg).sweep();
  auto note = [&first](Status s) {
    if (!s && first) first = s;
  };
  note(removeNftables((*kernel)->runner));
  (*kernel)->routes->setSweepLinkGroups(true);  // the table that used them is gone
  note((*kernel)->routes->apply());
  if (!first) {
    spdlog::error("cleanup: {}", first.message());
    return kExitFailed;
  }
  spdlog::info("removed this node's cali chains, ipsets, nftables table and routes");
  return kExitStopped;
}

int runAgent(const CommandLine& cl, const std::atomic<bool>& stop) {
  auto env = config::processEnvironment();
  auto local = loadLocalAgentConfig(cl, env, hostname());
  if (!local) {
    spdlog::critical("configuration: {}", local.message());
    return kExitBadConfig;
  }
  spdlog::set_level(levelOf(local->logSeverityScreen));
  auto client = config::openDatastore(local->datastore);
  if (!client) {
    spdlog::critical("datastore ({}): {}", local->datastore.source, client.message());
    return kExitFailed;
  }
  std::map<std::string, std::string> felixSpecs;
  auto loaded = loadConfig(cl, env, **client, felixSpecs);
  if (!loaded) {
    spdlog::critical("configuration: {}", loaded.message());
    return kExitBadConfig;
  }
  const AgentConfig& cfg = *loaded;
  spdlog::set_level(levelOf(cfg.logSeverityScreen));
  for (const auto& n : cfg.notes) spdlog::warn("{}", n);
  spdlog::info("brindle-agent {} starting on node {} (datastore: {})", BRINDLE_VERSION,
               cfg.nodename, cfg.datastore.source);
  for (const auto& [name, source] : cfg.sources) spdlog::debug("{} from {}", name, source);

  auto kernel = openKernelWriters(cfg);
  if (!kernel) {
    spdlog::critical("{}", kernel.message());
    return kExitFailed;
  }
  Metrics metrics;
  defineAgentMetrics(metrics);
  (*kernel)->deps.metrics = &metrics;
  (*kernel)->deps.afterApplyUntilDone = removeOtherBackend(**kernel, cfg);
  spdlog::info("dataplane: {}", cfg.nftablesEnabled ? "nftables (table inet calico)" : "iptables");
  HealthState health;
  DataplaneDriver driver((*kernel)->deps, cfg.rendererConfig());
  auto servers = startStatusServers(cfg, health, metrics);

  std::atomic<bool> bgpStop{false};
  std::thread bgpThread;
  if (cfg.networkingBackend == "bird") {
    metrics.defineCounter("brindle_bgp_reconfigures_total", "birdc configure with a new text");
    metrics.defineCounter("brindle_bgp_config_rejected_total",
                          "rendered BIRD configurations bird -p refused (old one kept)");
    metrics.defineCounter("brindle_bird_restarts_total", "BIRD restarts after it died");
    metrics.defineGaugeFamily(
        "brindle_bgp_sessions",
        "BGP sessions by state (labels: ip_version, state: BIRD's BGP state)");
    metrics.defineGaugeFamily("brindle_bgp_routes",
                              "Routes the node's BGP sessions import and export, summed over "
                              "sessions (labels: ip_version, direction)");
    bgpThread = std::thread(runBgp, std::cref(cfg), std::ref(health), std::ref(metrics),
                            std::cref(bgpStop));
  }

  Agent loop(cfg, AgentDeps{**client, driver, metrics, health}, felixSpecs);
  StopReason why = loop.run(stop);
  bgpStop = true;
  if (bgpThread.joinable()) bgpThread.join();
  for (auto& s : servers) s->stop();
  if (why == StopReason::kConfigChanged) return kExitRestart;
  // Deliberately no cleanup of the kernel: a restarted agent takes over the rules in place.
  spdlog::info("stopping; kernel rules left in place");
  return kExitStopped;
}

}  // namespace brindle::agent
