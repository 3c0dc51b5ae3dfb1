// FelixConfig: every setting the agent acts on, typed, under Felix's names, with the one parser of
// each. The agent's config file, its FELIX_* environment and a FelixConfiguration resource all set
// them through setFelixParam, and validation checks a FelixConfiguration's fields with the same
// parsers, so a value the store accepts is a value the agent can run with.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "model/resource.h"

namespace brindle::model {

enum class EndpointToHostAction { kDrop, kReturn, kAccept };

// A failsafe host port: FailsafeInboundHostPorts "tcp:22", "tcp:10.0.0.0/8:22",
// "udp:[fd00::/8]:53", or FelixConfiguration {protocol, port, net}.
struct FailsafePort {
  std::string protocol;  // "tcp", "udp" or "sctp"
  uint16_t port = 0;
  // Only this network: the source of inbound, the destination of outbound traffic (and only in
  // the rules of its IP version), as Felix.
  std::optional<Cidr> net = std::nullopt;
  bool operator==(const FailsafePort&) const = default;
};

// Calico's default failsafe ports.
std::vector<FailsafePort> defaultFailsafeInbound();
std::vector<FailsafePort> defaultFailsafeOutbound();

struct FelixConfig {
  // This node's name: endpoints whose spec.node equals it are local. From --nodename, else
  // NODENAME, else the file's `Nodename`, else the hostname.
  std::string nodename;

  // IptablesRefreshInterval: how often the agent re-reads iptables (iptables-save) and repairs
  // drift in its own chains. Seconds ("30", "0.5") or Go-style durations ("30s", "1m").
  std::chrono::milliseconds iptablesRefreshInterval{30000};
  // IpsetsRefreshInterval / RouteRefreshInterval: the same for ipsets and routes.
  std::chrono::milliseconds ipsetsRefreshInterval{30000};
  std::chrono::milliseconds routeRefreshInterval{30000};

  // NFTablesMode (FelixConfiguration nftablesMode, FELIX_NFTABLESMODE): Enabled writes the
  // policy into one nftables `table inet calico` instead of iptables and ipsets (docs/nftables.md);
  // Disabled (the default) and Auto use iptables (Calico's Auto follows kube-proxy's mode, which
  // a Brindle node does not have). A change restarts the agent, which then removes the other
  // backend's rules once its own are in place.
  bool nftablesEnabled = false;

  // ChainInsertMode: Insert puts our hooks at the top of INPUT/FORWARD/...; Append at the end
  // (then rules of others run first).
  bool chainInsertAtTop = true;

  // IptablesMarkMask: the packet-mark bits the agent may use. Its three lowest set bits become
  // the accept, pass and from-endpoint marks (default 0x7000000 -> 0x1000000, 0x2000000,
  // 0x4000000, the seed's values); it must have at least three bits set.
  uint32_t iptablesMarkMask = 0x7000000;

  // FailsafeInboundHostPorts / FailsafeOutboundHostPorts: always open to/from host endpoints,
  // whatever the policy ("tcp:22,udp:68" or FelixConfiguration's [{protocol, port}] list).
  std::vector<FailsafePort> failsafeInbound = defaultFailsafeInbound();
  std::vector<FailsafePort> failsafeOutbound = defaultFailsafeOutbound();

  // DefaultEndpointToHostAction: Drop (Calico's default), Return (let the host's INPUT rules
  // decide) or Accept, for workload -> host traffic after the workload's egress policy.
  EndpointToHostAction defaultEndpointToHostAction = EndpointToHostAction::kDrop;

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
};

// The canonical name of a setting given in any case ("iptablesrefreshinterval" ->
// "IptablesRefreshInterval"), nullptr for a name that is not one.
const char* felixParamName(std::string_view name);
// Sets the named setting (any case) from its text form; kInvalid naming what is wrong.
Status setFelixParam(FelixConfig& config, std::string_view name, const std::string& text);

// The settings a FelixConfiguration's spec gives, by canonical name, in the text form
// setFelixParam reads (lists and objects flattened: [{protocol, port}] -> "tcp:22,udp:68").
// Fields the agent does not act on are left out.
std::map<std::string, std::string> felixConfigurationSettings(const Json& spec);
// kInvalid "spec.<field>: ..." at the first field the agent could not run with.
Status checkFelixConfigurationSettings(const Json& spec);

// Go-style duration ("30s", "1m30s", "250ms", "100us") or plain seconds ("30", "0.5").
Result<std::chrono::milliseconds> parseDuration(const std::string& text);

}  // namespace brindle::model
