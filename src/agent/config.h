// AgentConfig: every setting of brindle-agent in one documented struct, and the loader that
// merges its sources in the documented precedence (docs/agent.md): flags > FELIX_* environment >
// config file > FelixConfiguration node.<name> > FelixConfiguration default > built-in defaults.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/datastore_config.h"
#include "model/resource.h"
#include "rules/config.h"

namespace brindle::agent {

constexpr const char* kDefaultAgentConfigPath = "/etc/brindle/agent.cfg";

struct AgentConfig {
  // This node's name: endpoints whose spec.node equals it are local. From --nodename, else
  // NODENAME, else the file's `Nodename`, else the hostname.
  std::string nodename;

  // The datastore, found exactly as brindlectl finds it (docs/configuration.md): --datastore-config
  // FILE, else /etc/brindle/brindlectl.cfg, else DATASTORE_TYPE/BRINDLE_STORE_PATH/ETCD_*.
  config::DatastoreConfig datastore;

  // IptablesRefreshInterval: how often the agent re-reads iptables (iptables-save) and repairs
  // drift in its own chains. Seconds ("30", "0.5") or Go-style durations ("30s", "1m").
  std::chrono::milliseconds iptablesRefreshInterval{30000};
  // IpsetsRefreshInterval / RouteRefreshInterval: the same for ipsets and routes.
  std::chrono::milliseconds ipsetsRefreshInterval{30000};
  std::chrono::milliseconds routeRefreshInterval{30000};

  // ChainInsertMode: Insert puts our hooks at the top of INPUT/FORWARD/...; Append at the end
  // (then rules of others run first).
  bool chainInsertAtTop = true;

  // IptablesMarkMask: the packet-mark bits the agent may use. Its three lowest set bits become
  // the accept, pass and from-endpoint marks (default 0x7000000 -> 0x1000000, 0x2000000,
  // 0x4000000, the seed's values); it must have at least three bits set.
  uint32_t iptablesMarkMask = 0x7000000;

  // FailsafeInboundHostPorts / FailsafeOutboundHostPorts: always open to/from host endpoints,
  // whatever the policy ("tcp:22,udp:68" or FelixConfiguration's [{protocol, port}] list).
  std::vector<rules::FailsafePort> failsafeInbound = rules::RendererConfig{}.failsafeInbound;
  std::vector<rules::FailsafePort> failsafeOutbound = rules::RendererConfig{}.failsafeOutbound;

  // DefaultEndpointToHostAction: Drop (Calico's default), Return (let the host's INPUT rules
  // decide) or Accept, for workload -> host traffic after the workload's egress policy.
  rules::EndpointToHostAction defaultEndpointToHostAction = rules::EndpointToHostAction::kDrop;

  // Ipv6Support: program ip6tables, cali60 ipsets and /128 routes too.
  bool ipv6Support = true;

  // RouteProtocol (Brindle's): rtm_protocol of the routes the agent owns (never touches others).
  int routeProtocol = 80;

  // NetworkingBackend (CALICO_NETWORKING_BACKEND): `bird` runs BIRD for BGP (docs/bgp.md),
  // `none` leaves routing between nodes to others (policy only).
  std::string networkingBackend = "bird";
  // BgpRunDir / BgpSecretsDir (Brindle's): each node's BIRD files go to <BgpRunDir>/<node>/; BGP
  // passwords are read from <BgpSecretsDir>/<secret>/<key>. BgpRefreshInterval: the BIRD
  // configuration is rendered again at once when the datastore changes, and at least this often.
  std::string bgpRunDir = "/var/run/brindle";
  std::string bgpSecretsDir = "/etc/brindle/secrets";
  std::chrono::milliseconds bgpRefreshInterval{500};
  // IpInIpMtu (FelixConfiguration ipipMTU): tunl0's MTU when a pool uses IPIP; 0: the MTU of the
  // interface holding the node's IPv4 address, minus 20.
  int ipipMtu = 0;

  // InterfacePrefix: host-side name prefix of workload interfaces (comma list allowed).
  std::vector<std::string> interfacePrefixes = {"cali"};

  // LogPrefix: prefix of iptables LOG rules (policy action Log).
  std::string logPrefix = "calico-packet";

  // LogSeverityScreen: Trace, Debug, Info, Warning, Error, Fatal (stderr).
  std::string logSeverityScreen = "Info";

  // HealthEnabled/HealthHost/HealthPort: /liveness and /readiness over HTTP (loopback by default).
  bool healthEnabled = true;
  std::string healthHost = "127.0.0.1";
  int healthPort = 9099;

  // PrometheusMetricsEnabled/Host/Port: /metrics in Prometheus text format. On by default (Felix:
  // off) because it listens on loopback only.
  bool prometheusMetricsEnabled = true;
  std::string prometheusMetricsHost = "127.0.0.1";
  int prometheusMetricsPort = 9091;

  // ApplyRetryInitial / ApplyRetryMax (Brindle's): back-off of a failed apply: doubled after each
  // failure, from the initial value up to the maximum.
  std::chrono::milliseconds applyRetryInitial{100};
  std::chrono::milliseconds applyRetryMax{30000};
  // DatastoreReadinessTimeout (Brindle's): how long the datastore may be unreachable before
  // /readiness turns false (the dataplane is kept meanwhile, so liveness stays true).
  std::chrono::milliseconds datastoreReadinessTimeout{20000};

  // Where each setting came from, for the start-up log ("IptablesRefreshInterval" ->
  // "environment FELIX_IPTABLESREFRESHINTERVAL").
  std::map<std::string, std::string> sources;
  // Things worth a warning (unknown FELIX_ variables, ignored settings).
  std::vector<std::string> notes;

  // The renderer's configuration derived from the fields above.
  rules::RendererConfig rendererConfig() const;
};

// One source of settings: parameter name (any case; Felix's names) -> text value.
struct ConfigLayer {
  std::string source;  // "file /etc/brindle/agent.cfg", "FelixConfiguration default", ...
  std::map<std::string, std::string> values;
};

// The config file: `Name = value` lines (Felix's names, any case), `#` or `;` comments, blank
// lines, and optional `[section]` headers (ignored, so Felix's `[global]` files read as is).
// An unknown name is an error: a typo must not silently fall back to a default.
Result<ConfigLayer> layerFromFile(const std::string& text, const std::string& path);
// FELIX_<NAME> variables (any FELIX_ name that is not a parameter becomes a note).
ConfigLayer layerFromEnvironment(const std::map<std::string, std::string>& env,
                                 std::vector<std::string>* notes = nullptr);
// A FelixConfiguration resource's spec (lowerCamel Felix names; lists and objects flattened to
// the text forms above). Fields the agent does not implement are ignored.
ConfigLayer layerFromFelixConfiguration(const model::Resource& resource);

// Applies layers lowest precedence first over the defaults.
Result<AgentConfig> buildAgentConfig(const std::vector<ConfigLayer>& layers);

// Command-line settings that take part in loading.
struct CommandLine {
  std::string nodename;           // --nodename
  std::string configFile;         // --config-file (empty: /etc/brindle/agent.cfg if present)
  std::string datastoreConfig;    // --datastore-config (brindlectl's --config)
  std::string logSeverityScreen;  // --log-level
};

// Reads a FelixConfiguration by name: nullopt if absent, an Error if the store cannot answer.
using FelixConfigReader = std::function<Result<std::optional<model::Resource>>(const std::string&)>;

// The whole precedence: flags, environment, file, then FelixConfiguration `node.<nodename>` and
// `default` read through `reader` (nullptr: no datastore layer). `hostname` is the fallback name.
Result<AgentConfig> loadAgentConfig(const CommandLine& cl,
                                    const std::map<std::string, std::string>& env,
                                    const FelixConfigReader& reader, const std::string& hostname,
                                    const std::string& defaultFile = kDefaultAgentConfigPath);

// The local part (flags, environment, file) without the datastore layers, with the node name
// and the datastore resolved: the agent needs both before it can read FelixConfiguration.
Result<AgentConfig> loadLocalAgentConfig(const CommandLine& cl,
                                         const std::map<std::string, std::string>& env,
                                         const std::string& hostname,
                                         const std::string& defaultFile = kDefaultAgentConfigPath);

// Go-style duration ("30s", "1m30s", "250ms") or plain seconds ("30", "0.5").
Result<std::chrono::milliseconds> parseDuration(const std::string& text);

}  // namespace brindle::agent
