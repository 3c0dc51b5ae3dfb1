// Defaults and validation for every v3 kind: a small declarative schema per kind (field ->
// checker) rejects unknown fields with their path; cross-field rules follow Calico's validator.
#include "model/validate.h"

#include <algorithm>
#include <functional>
#include <regex>
#include <set>

#include "common/ip.h"
#include "common/strings.h"
#include "model/bgp_views.h"
#include "model/felix_config.h"
#include "model/names.h"
#include "model/rule.h"
#include "model/views.h"

namespace brindle::model {
namespace {

// ---------------------------------------------------------------------------------------------
// Checker combinators. A Checker looks at one JSON value at a dotted path. Objects and lists
// read a number or true/false given for a text field as its text, as calicoctl reads YAML
// (`node: 42` is the node "42"): the value is rewritten when the checker takes the text.

using Checker = std::function<Status(Json& value, const std::string& path)>;

Status checkReadingScalarAsText(const Checker& check, Json& v, const std::string& path) {
  Status st = check(v, path);
  if (st || !(v.is_number() || v.is_boolean())) return st;
  Json text = v.dump();
  if (!check(text, path)) return st;
  v = std::move(text);
  return Status::ok();
}

struct Field {
  std::string_view name;
  Checker check;
  bool required = false;
};

Field req(std::string_view name, Checker check) { return Field{name, std::move(check), true}; }
Field opt(std::string_view name, Checker check) { return Field{name, std::move(check), false}; }

Checker object(std::vector<Field> fields) {
  return [fields = std::move(fields)](Json& v, const std::string& path) -> Status {
    if (!v.is_object()) return invalid(path, "expected an object, got " + quoteJson(v));
    for (auto& [key, value] : v.items()) {
      auto it = std::find_if(fields.begin(), fields.end(),
                             [&, &key = key](const Field& f) { return f.name == key; });
      if (it == fields.end()) return invalid(join(path, key), "unknown field");
      if (auto st = checkReadingScalarAsText(it->check, value, join(path, key)); !st) return st;
    }
    for (const auto& f : fields) {
      if (f.required && !v.contains(std::string(f.name)))
        return invalid(join(path, f.name), "required");
    }
    return Status::ok();
  };
}

Checker listOf(Checker item) {
  return [item = std::move(item)](Json& v, const std::string& path) -> Status {
    if (!v.is_array()) return invalid(path, "expected a list, got " + quoteJson(v));
    for (size_t i = 0; i < v.size(); ++i) {
      if (auto st = checkReadingScalarAsText(item, v[i], indexed(path, i)); !st) return st;
    }
    return Status::ok();
  };
}

Checker anyJson() {
  return [](const Json&, const std::string&) { return Status::ok(); };
}

// Accepts any value of one JSON type; `expected` names that type in the error.
Checker ofType(bool (Json::*isType)() const noexcept, std::string_view expected) {
  return [isType, expected](const Json& v, const std::string& path) -> Status {
    if (!(v.*isType)())
      return invalid(path, "expected " + std::string(expected) + ", got " + quoteJson(v));
    return Status::ok();
  };
}

Checker str() { return ofType(&Json::is_string, "a string"); }
Checker boolean() { return ofType(&Json::is_boolean, "true or false"); }
Checker number() { return ofType(&Json::is_number, "a number"); }

Checker intRange(long long lo, long long hi) {
  return [lo, hi](const Json& v, const std::string& path) -> Status {
    auto n = jsonInt(v);
    if (!n || *n < lo || *n > hi) {
      return invalid(path, quoteJson(v) + " is not an integer in " + std::to_string(lo) + "-" +
                               std::to_string(hi));
    }
    return Status::ok();
  };
}

// With ignoreCase, any spelling of a value is accepted (Calico's "(?i)" patterns; the agent reads
// these fields in any case too).
Checker enumOf(std::vector<std::string> values, bool ignoreCase = false) {
  return [values = std::move(values), ignoreCase](const Json& v,
                                                  const std::string& path) -> Status {
    if (v.is_string() && std::any_of(values.begin(), values.end(), [&](const std::string& s) {
          return ignoreCase ? equalsIgnoreCase(s, v.get<std::string>()) : s == v.get<std::string>();
        })) {
      return Status::ok();
    }
    std::string list, meant;
    for (const auto& s : values) {
      list += (list.empty() ? "" : ", ") + s;
      if (v.is_string() && looseKey(s) == looseKey(v.get_ref<const std::string&>())) meant = s;
    }
    return invalid(path, quoteJson(v) + " is not one of " + list +
                             (ignoreCase ? " (in any case)" : "") +
                             (meant.empty() ? "" : "; did you mean \"" + meant + "\"?"));
  };
}

// std::regex matches recursively, a frame or more per character: a value of some 30,000
// characters exhausts the stack. Every string these patterns describe is far shorter.
constexpr size_t kMaxRegexInput = 4096;

Status tooLongForRegex(const Json& v, const std::string& path) {
  if (!v.is_string() || v.get_ref<const std::string&>().size() <= kMaxRegexInput) {
    return Status::ok();
  }
  return invalid(path, "a value of " + std::to_string(v.get_ref<const std::string&>().size()) +
                           " characters; at most " + std::to_string(kMaxRegexInput) +
                           " are allowed here");
}

// A regular expression (Felix matches interface names with Go's RE2; ECMAScript syntax is close
// enough to catch the usual mistake, "*" for ".*").
Checker regexChecker() {
  return [](const Json& v, const std::string& path) -> Status {
    if (!v.is_string()) return invalid(path, "expected a regular expression, got " + quoteJson(v));
    if (auto st = tooLongForRegex(v, path); !st) return st;
    try {
      std::regex re(v.get<std::string>());
    } catch (const std::regex_error&) {
      return invalid(path, quoteJson(v) + " is not a valid regular expression (e.g. \"eth.*\")");
    }
    return Status::ok();
  };
}

// A string that satisfies `ok` (a names.h grammar).
Checker grammarString(bool (*ok)(std::string_view), std::string what) {
  return [ok, what = std::move(what)](const Json& v, const std::string& path) -> Status {
    if (!v.is_string() || !ok(v.get_ref<const std::string&>())) {
      return invalid(path, quoteJson(v) + " is not " + what);
    }
    return Status::ok();
  };
}

Checker regexString(std::string pattern, std::string what) {
  auto re = std::make_shared<std::regex>(pattern);
  return [re, what = std::move(what)](const Json& v, const std::string& path) -> Status {
    if (auto st = tooLongForRegex(v, path); !st) return st;
    if (!v.is_string() || !std::regex_match(v.get<std::string>(), *re)) {
      return invalid(path, quoteJson(v) + " is not " + what);
    }
    return Status::ok();
  };
}

// family: 0 any, 4 or 6.
Checker ipAddr(int family = 0) {
  return [family](const Json& v, const std::string& path) -> Status {
    std::optional<IpAddr> ip;
    if (v.is_string()) {
      if (auto r = IpAddr::parse(v.get<std::string>())) ip = *r;
    }
    const std::string what = family == 4   ? "an IPv4 address"
                             : family == 6 ? "an IPv6 address"
                                           : "an IP address";
    if (!ip || (family == 4 && !ip->isV4()) || (family == 6 && ip->isV4())) {
      return invalid(path, quoteJson(v) + " is not " + what);
    }
    return Status::ok();
  };
}

// A CIDR (a bare address means a full mask). With strict, host bits must be clear.
Checker cidr(int family = 0, bool strict = false) {
  return [family, strict](const Json& v, const std::string& path) -> Status {
    const std::string what = family == 4 ? "an IPv4 CIDR" : family == 6 ? "an IPv6 CIDR" : "a CIDR";
    if (!v.is_string()) return invalid(path, quoteJson(v) + " is not " + what);
    const std::string s = v.get<std::string>();
    auto c = Cidr::parse(s);
    if (!c || (family == 4 && !c->isV4()) || (family == 6 && c->isV4())) {
      return invalid(path, quoteJson(v) + " is not " + what);
    }
    return strict ? checkMasked(v, *c, path) : Status::ok();
  };
}

Checker mac() {
  // Go's net.ParseMAC also takes EUI-64 and dotted forms; colon or dash separated 6 bytes is
  // what workload interfaces have.
  return grammarString(isMacAddress, "a MAC address");
}

Checker selectorChecker() {
  return [](const Json& v, const std::string& path) -> Status {
    BRINDLE_ASSIGN_OR_RETURN(auto sel, parseSelectorAt(v, path));
    // Calico: global() only means something in a rule's namespaceSelector.
    if (sel.canonical().find("global()") != std::string::npos) {
      return invalid(path, "global() can only be used in a rule's namespaceSelector");
    }
    return Status::ok();
  };
}

Checker asNumber() {
  return [](const Json& v, const std::string& path) -> Status {
    if (!parseAsNumber(v)) return invalid(path, quoteJson(v) + " is not an AS number");
    return Status::ok();
  };
}

bool asNumberIsZero(const Json& v) {
  auto as = parseAsNumber(v);
  return as && *as == 0;
}

Checker resourceNameChecker() {
  return [](const Json& v, const std::string& path) -> Status {
    if (!v.is_string() || !isDnsSubdomain(v.get_ref<const std::string&>())) {
      return invalid(path, quoteJson(v) +
                               " is not a valid name (lower-case letters, digits, '-' and '.', "
                               "starting and ending with a letter or digit)");
    }
    return Status::ok();
  };
}

Checker labelMap() {
  return [](const Json& v, const std::string& path) -> Status {
    if (!v.is_object()) return invalid(path, "expected a map of labels, got " + quoteJson(v));
    for (const auto& [k, val] : v.items()) {
      if (!isQualifiedName(k))
        return invalid(join(path, k), "\"" + k + "\" is not a valid label key");
      if (!val.is_string() || !isLabelValue(val.get<std::string>())) {
        return invalid(join(path, k), quoteJson(val) + " is not a valid label value");
      }
    }
    return Status::ok();
  };
}

Checker annotationMap() {
  return [](const Json& v, const std::string& path) -> Status {
    if (!v.is_object()) return invalid(path, "expected a map of strings, got " + quoteJson(v));
    size_t total = 0;
    for (const auto& [k, val] : v.items()) {
      // Calico lower-cases annotation keys before checking them.
      if (!isQualifiedName(toLower(k)))
        return invalid(join(path, k), "\"" + k + "\" is not a valid annotation key");
      if (!val.is_string()) return invalid(join(path, k), quoteJson(val) + " is not a string");
      total += k.size() + val.get_ref<const std::string&>().size();
    }
    constexpr size_t kMaxAnnotationBytes = 256 << 10;
    if (total > kMaxAnnotationBytes) {
      return invalid(path, "keys and values total " + std::to_string(total) +
                               " bytes; at most 262144 (256 KiB) are allowed");
    }
    return Status::ok();
  };
}

Checker portNumber() { return intRange(1, 65535); }

Checker duration() {
  // Go's time.ParseDuration syntax: "90s", "1m30s", "500ms".
  return regexString("^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$",
                     "a duration such as \"90s\"");
}

Checker interfaceName() {
  return grammarString(isInterfaceName, "an interface name (1-15 of a-z A-Z 0-9 _ . -)");
}

// The list's rules are parsed once the whole spec has passed (see validated()).
Checker ruleList() { return ofType(&Json::is_array, "a list of rules"); }

// "IP", "IPv4:port" or "[IPv6]:port" (BGPPeer.peerIP).
Checker peerIp() {
  return [](const Json& v, const std::string& path) -> Status {
    if (auto st = tooLongForRegex(v, path); !st) return st;
    const Error bad = invalid(path, quoteJson(v) + " is not an IP address or IP:port");
    if (!v.is_string()) return bad;
    std::string s = v.get<std::string>();
    static const std::regex v4port("^([0-9.]+):([0-9]{1,5})$");
    static const std::regex v6port("^\\[([0-9a-fA-F:.]+)\\]:([0-9]{1,5})$");
    std::smatch m;
    std::string ip = s;
    if (std::regex_match(s, m, v4port) || std::regex_match(s, m, v6port)) {
      long port = std::stol(m[2]);
      if (port < 1 || port > 65535) return bad;
      ip = m[1];
    }
    if (!IpAddr::parse(ip)) return bad;
    return Status::ok();
  };
}

Checker secretKeyRef() {
  return object({opt("secretKeyRef",
                     object({req("name", str()), req("key", str()), opt("optional", boolean())}))});
}

// A workload's ports may map a host port and then need no name; a host endpoint's need one.
Checker endpointPorts(bool hostPorts) {
  std::vector<Field> fields = {
      opt("name", str()), req("port", portNumber()),
      opt("protocol", [](const Json& v, const std::string& path) -> Status {
        BRINDLE_ASSIGN_OR_RETURN(auto p, parseProtocol(v, path));
        if (!p.named || !p.supportsPorts()) {
          return invalid(path, quoteJson(v) + " is not TCP, UDP or SCTP");
        }
        return Status::ok();
      })};
  if (hostPorts) {
    fields.push_back(opt("hostPort", intRange(0, 65535)));
    fields.push_back(opt("hostIP", ipAddr()));
  }
  auto port = object(std::move(fields));
  const std::string unnamed = hostPorts ? "required unless hostPort is set" : "required";
  return listOf([port, unnamed](Json& v, const std::string& path) -> Status {
    if (auto st = port(v, path); !st) return st;
    if (!v.contains("protocol"))
      return invalid(join(path, "protocol"), "required: TCP, UDP or SCTP");
    if (v.value("name", "") == "" && v.value("hostPort", 0) == 0) {
      return invalid(join(path, "name"), unnamed);
    }
    return Status::ok();
  });
}

// v1 fields that Calico v3 keeps only to reject them; say what replaced them.
Checker replacedBy(std::string replacement) {
  return [replacement = std::move(replacement)](const Json&, const std::string& path) -> Status {
    return invalid(path, "is not a v3 field; use " + replacement);
  };
}

// ---------------------------------------------------------------------------------------------
// Spec schemas, one per kind.

Checker nodeSpec() {
  return object({
      opt("bgp", object({opt("asNumber", asNumber()), opt("ipv4Address", cidr(4)),
                         opt("ipv6Address", cidr(6)), opt("ipv4IPIPTunnelAddr", ipAddr(4)),
                         opt("routeReflectorClusterID", ipAddr(4))})),
      opt("ipv4VXLANTunnelAddr", ipAddr(4)),
      opt("vxlanTunnelMACAddr", mac()),
      opt("ipv6VXLANTunnelAddr", ipAddr(6)),
      opt("vxlanTunnelMACAddrV6", mac()),
      opt("orchRefs", listOf(object({req("nodeName", str()), req("orchestrator", str())}))),
      opt("wireguard",
          object({opt("interfaceIPv4Address", ipAddr(4)), opt("interfaceIPv6Address", ipAddr(6))})),
      opt("addresses",
          listOf(object({req("address", cidr()),
                         opt("type", enumOf({"CalicoNodeIP", "InternalIP", "ExternalIP"}))}))),
      opt("interfaces", listOf(object({opt("name", str()), opt("addresses", listOf(str()))}))),
  });
}

Checker bgpPeerSpec() {
  return object({
      opt("node", resourceNameChecker()),
      opt("peerIP", peerIp()),
      opt("asNumber", asNumber()),
      opt("nodeSelector", selectorChecker()),
      opt("peerSelector", selectorChecker()),
      opt("localWorkloadSelector", selectorChecker()),
      opt("keepOriginalNextHop", boolean()),
      opt("nextHopMode", enumOf({"Auto", "Self", "Keep"})),
      opt("password", secretKeyRef()),
      opt("sourceAddress", enumOf({"UseNodeIP", "None"})),
      opt("failureDetectionMode", enumOf({"None", "BFDIfDirectlyConnected"})),
      opt("restartMode", enumOf({"GracefulRestart", "LongLivedGracefulRestart"})),
      opt("maxRestartTime", duration()),
      opt("keepaliveTime", duration()),
      opt("localASNumber", asNumber()),
      opt("birdGatewayMode", enumOf({"Recursive", "DirectIfDirectlyConnected"})),
      opt("numAllowedLocalASNumbers", intRange(0, 10)),
      opt("ttlSecurity", intRange(0, 255)),
      opt("filters", listOf(resourceNameChecker())),
      opt("reachableBy", ipAddr()),
      opt("reversePeering", enumOf({"Auto", "Manual"})),
  });
}

// "a:b" (standard: two 16-bit parts) or "a:b:c" (large: three 32-bit parts).
bool isBgpCommunity(const std::string& s) {
  static const std::regex form("^([0-9]{1,10}):([0-9]{1,10})(:([0-9]{1,10}))?$");
  std::smatch m;
  if (s.size() > 32 || !std::regex_match(s, m, form)) return false;
  const long long max = m[3].matched ? 4294967295LL : 65535;
  for (int i : {1, 2, 4}) {
    if (m[i].matched && std::stoll(m[i]) > max) return false;
  }
  return true;
}

Checker bgpCommunity() {
  return [](const Json& v, const std::string& path) -> Status {
    if (!v.is_string() || !isBgpCommunity(v.get<std::string>())) {
      return invalid(path, quoteJson(v) +
                               " is not a BGP community (\"a:b\" with parts up to 65535, or "
                               "\"a:b:c\" with parts up to 4294967295)");
    }
    return Status::ok();
  };
}

Checker bgpConfigurationSpec() {
  auto cidrList = listOf(object({req("cidr", cidr())}));
  return object({
      opt("logSeverityScreen",
          enumOf({"Trace", "Debug", "Info", "Warning", "Error", "Fatal"}, true)),
      opt("nodeToNodeMeshEnabled", boolean()),
      opt("asNumber", asNumber()),
      opt("serviceClusterIPs", cidrList),
      opt("serviceExternalIPs", cidrList),
      opt("serviceLoadBalancerIPs", cidrList),
      opt("listenPort", portNumber()),
      opt("communities", listOf(object({req("name", str()), req("value", bgpCommunity())}))),
      opt("prefixAdvertisements",
          listOf(object({req("cidr", cidr()), req("communities", listOf(str()))}))),
      opt("nodeMeshPassword", secretKeyRef()),
      opt("nodeMeshMaxRestartTime", duration()),
      opt("bindMode", enumOf({"None", "NodeIP"})),
      opt("ignoredInterfaces",
          listOf(regexString("^[a-zA-Z0-9_.*-]{1,15}$",
                             "an interface name or pattern (1-15 of a-z A-Z 0-9 _ . - *)"))),
      opt("localWorkloadPeeringIPV4", ipAddr(4)),
      opt("localWorkloadPeeringIPV6", ipAddr(6)),
      // Stored for the BGP daemon; Brindle does not act on these yet (docs/brindlectl.md).
      opt("serviceLoadBalancerAggregation", enumOf({"Enabled", "Disabled"})),
      opt("programClusterRoutes",
          enumOf({"Enabled", "Disabled", "EnabledIPIPOnly", "EnabledNoEncapOnly"})),
      opt("ipv4NormalRoutePriority", intRange(1, 2147483646)),
      opt("ipv6NormalRoutePriority", intRange(1, 2147483646)),
  });
}

Checker ipPoolSpec() {
  return object({
      req("cidr", cidr()),
      opt("ipipMode", enumOf({"Always", "CrossSubnet", "Never"})),
      opt("vxlanMode", enumOf({"Always", "CrossSubnet", "Never"})),
      opt("natOutgoing", boolean()),
      opt("disabled", boolean()),
      opt("disableBGPExport", boolean()),
      opt("blockSize", intRange(0, 1 << 16)),  // the range per family is checked below
      opt("nodeSelector", selectorChecker()),
      opt("namespaceSelector", selectorChecker()),
      opt("allowedUses", listOf(enumOf({"Workload", "Tunnel", "LoadBalancer"}))),
      opt("assignmentMode", enumOf({"Automatic", "Manual"})),
      opt("ipip", replacedBy("ipipMode")),
      opt("nat-outgoing", replacedBy("natOutgoing")),
  });
}

Checker policyTypes() { return listOf(enumOf({"Ingress", "Egress"})); }

// The spec fields NetworkPolicy and GlobalNetworkPolicy share.
std::vector<Field> policyFields() {
  return {
      opt("order", number()),
      opt("tier", grammarString(isDnsLabel, "a tier name")),
      opt("selector", selectorChecker()),
      opt("types", policyTypes()),
      opt("ingress", ruleList()),
      opt("egress", ruleList()),
      opt("serviceAccountSelector", selectorChecker()),
      opt("performanceHints", listOf(enumOf({"AssumeNeededOnEveryNode"}))),
  };
}

Checker globalNetworkPolicySpec() {
  std::vector<Field> fields = policyFields();
  for (const char* flag : {"doNotTrack", "preDNAT", "applyOnForward"}) {
    fields.push_back(opt(flag, boolean()));
  }
  fields.push_back(opt("namespaceSelector", selectorChecker()));
  return object(std::move(fields));
}

Checker networkPolicySpec() { return object(policyFields()); }

Checker profileSpec() {
  return object(
      {opt("ingress", ruleList()), opt("egress", ruleList()), opt("labelsToApply", labelMap())});
}

// WorkloadEndpoint addresses: Calico v3 wants single hosts (/32 or /128), but v1 accepted
// networks and the seed's own example uses one (192.168.0.0/16), so a network is accepted here
// and lintResource() warns about it.
Checker hostAddress() {
  return [](const Json& v, const std::string& path) -> Status {
    if (!v.is_string()) return invalid(path, quoteJson(v) + " is not an IP address");
    const std::string s = v.get<std::string>();
    auto c = Cidr::parse(s);
    if (!c) {
      return invalid(path, quoteJson(v) + (s.find('/') == std::string::npos
                                               ? " is not an IP address"
                                               : " is not an IP address or /32 (/128) network"));
    }
    return Status::ok();
  };
}

Checker workloadEndpointSpec() {
  return object({
      req("node", resourceNameChecker()),
      opt("orchestrator", str()),
      opt("workload", str()),
      opt("containerID", grammarString(isContainerId, "a container ID")),
      opt("pod", str()),
      opt("endpoint", str()),
      opt("serviceAccountName", str()),
      opt("ipNetworks", listOf(hostAddress())),
      opt("ipNATs", listOf(object({req("internalIP", ipAddr()), req("externalIP", ipAddr())}))),
      opt("ipv4Gateway", ipAddr(4)),
      opt("ipv6Gateway", ipAddr(6)),
      opt("profiles", listOf(resourceNameChecker())),
      req("interfaceName", interfaceName()),
      opt("mac", mac()),
      opt("ports", endpointPorts(true)),
      opt("allowSpoofedSourcePrefixes", listOf(cidr())),
      opt("qosControls", anyJson()),
  });
}

Checker hostEndpointSpec() {
  return object({
      req("node", resourceNameChecker()),
      opt("interfaceName",
          [](Json& v, const std::string& path) -> Status {
            if (v == "*") return Status::ok();  // Calico's all-interfaces host endpoint
            return interfaceName()(v, path);
          }),
      opt("expectedIPs", listOf(ipAddr())),
      opt("profiles", listOf(resourceNameChecker())),
      opt("ports", endpointPorts(false)),
  });
}

Checker networkSetSpec() { return object({opt("nets", listOf(cidr()))}); }

Checker ipReservationSpec() { return object({opt("reservedCIDRs", listOf(cidr()))}); }

Checker clusterInformationSpec() {
  return object({opt("clusterGUID", str()), opt("clusterType", str()), opt("calicoVersion", str()),
                 opt("datastoreReady", boolean()), opt("variant", str())});
}

// Every field of Calico's FelixConfigurationSpec. The agent acts on the ones docs/agent.md
// lists and ignores the rest, which are stored as written (a Calico user's file must not fail).
Checker felixConfigurationSpec() {
  auto logLevel = enumOf({"Trace", "Debug", "Info", "Warning", "Error", "Fatal"}, true);
  // Calico's ProtoPort: any uint16 port (Felix renders 0 as it is), protocol as Calico spells it.
  auto hostPorts =
      listOf(object({req("port", intRange(0, 65535)),
                     req("protocol", enumOf({"TCP", "UDP", "SCTP"})), opt("net", cidr())}));
  auto anyCase = [](std::vector<std::string> values) { return enumOf(std::move(values), true); };
  std::vector<Field> fields = {
      opt("vxlanVNI", intRange(0, 16777215)),
      opt("wireguardInterfaceName", interfaceName()),
      opt("bpfLogLevel", anyCase({"Debug", "Info", "Off"})),
      opt("bpfExternalServiceMode", anyCase({"Tunnel", "DSR"})),
      opt("chainInsertMode", anyCase({"Insert", "Append"})),
      opt("defaultEndpointToHostAction", anyCase({"Drop", "Accept", "Return"})),
      opt("iptablesFilterDenyAction", anyCase({"Drop", "Reject"})),
      opt("iptablesBackend", anyCase({"Auto", "NFT", "Legacy"})),
      opt("natOutgoingAddress", ipAddr(4)),
      opt("natPortRange", regexString("^[0-9]{1,5}(:[0-9]{1,5})?$", "a port range")),
      opt("deviceRouteSourceAddress", ipAddr(4)),
      opt("deviceRouteSourceAddressIPv6", ipAddr(6)),
      opt("routeSource", anyCase({"WorkloadIPs", "CalicoIPAM"})),
      opt("routeTableRange", object({req("min", intRange(1, 250)), req("max", intRange(1, 250))})),
      opt("prometheusMetricsHost",
          regexString("^[a-zA-Z0-9:._+-]{1,64}$", "a host name or IP address")),
      opt("failsafeInboundHostPorts", hostPorts),
      opt("failsafeOutboundHostPorts", hostPorts),
      opt("kubeNodePortRanges", listOf([](Json& v, const std::string& path) -> Status {
            if (jsonInt(v)) return portNumber()(v, path);
            return regexString("^[0-9]{1,5}(:[0-9]{1,5})?$",
                               "a port or port range such as "
                               "\"30000:32767\" (named ports are not allowed here)")(v, path);
          })),
      opt("externalNodesList", listOf(cidr(4))),
      opt("externalNodesCIDRList", replacedBy("externalNodesList")),  // Calico's Go name
      opt("maxIpsetSize", intRange(0, 1 << 30)),
      opt("serviceLoopPrevention", enumOf({"Drop", "Reject", "Disabled"})),
      opt("floatingIPs", enumOf({"Enabled", "Disabled"})),
      opt("awsSrcDstCheck", enumOf({"DoNothing", "Enable", "Disable"})),
      opt("openstackRegion",
          [](const Json& v, const std::string& path) -> Status {
            // It becomes part of a namespace name: "openstack-region-<region>", a DNS label.
            if (v == "") return Status::ok();
            if (!v.is_string() || v.get_ref<const std::string&>().size() > 46 ||
                !isDnsLabel(v.get_ref<const std::string&>())) {
              return invalid(path, quoteJson(v) +
                                       " is not a region name (lower-case letters, digits and "
                                       "'-', at most 46 characters)");
            }
            return Status::ok();
          }),
      opt("routeTableRanges", listOf(object({req("min", intRange(1, 4294967295LL)),
                                             req("max", intRange(1, 4294967295LL))}))),
      opt("healthTimeoutOverrides",
          listOf(
              object({req("name", regexString("^[a-zA-Z0-9_ -]+$",
                                              "a health reporter name (letters, digits, '_', "
                                              "' ', '-')")),
                      req("timeout", regexString("^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$",
                                                 "a duration of 0 or more, such as \"30s\""))}))),
      opt("iptablesNATOutgoingInterfaceFilter",
          regexString("^[a-zA-Z0-9:._+-]{1,15}$", "an interface name or pattern")),
      opt("wireguardRoutingRulePriority", intRange(1, 32765)),
      opt("wireguardInterfaceNameV6", interfaceName()),
      opt("nodeSelector", selectorChecker()),
      opt("featureDetectOverride",
          regexString("^([a-zA-Z0-9-_]+=(true|false|),)*([a-zA-Z0-9-_]+=(true|false|))?$",
                      "a list such as \"Feature1=true,Feature2=false\"")),
      opt("featureGates", regexString("^([a-zA-Z0-9-_]+=([^=]+),)*([a-zA-Z0-9-_]+=([^=]+))?$",
                                      "a list such as \"Gate1=value,Gate2=value\"")),
      opt("logActionRateLimit", regexString("^[1-9][0-9]{0,3}/(second|minute|hour|day)$",
                                            "a rate such as \"10/second\"")),
      opt("logActionRateLimitBurst", intRange(0, 9999)),
      opt("prometheusMetricsClientAuth",
          enumOf({"RequireAndVerifyClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven",
                  "NoClientCert"})),
      opt("natOutgoingExclusions", enumOf({"IPPoolsOnly", "IPPoolsAndHostIPs"})),
      opt("programClusterRoutes",
          enumOf({"Enabled", "Disabled", "EnabledIPIPOnly", "EnabledNoEncapOnly"})),
      opt("nftablesFilterDenyAction", anyCase({"Drop", "Reject"})),
      opt("bpfOverlayHostSourceIP", enumOf({"TunnelAddress", "HostAddress"})),
      opt("bpfJITHardening", enumOf({"Auto", "Strict"})),
      opt("bpfConntrackLogLevel", enumOf({"Off", "Debug"})),
      opt("bpfConntrackMode", enumOf({"Auto", "Userspace", "BPFProgram"})),
      opt("bpfConntrackTimeouts", anyJson()),
      opt("bpfLogFilters", anyJson()),
      opt("bpfConnectTimeLoadBalancing", enumOf({"TCP", "Enabled", "Disabled"})),
      opt("bpfHostNetworkedNATWithoutCTLB", enumOf({"Enabled", "Disabled"})),
      opt("bpfDSROptoutCIDRs", listOf(cidr())),
      opt("bpfExcludeCIDRsFromNAT", listOf(cidr())),
      opt("bpfPSNATPorts", regexString("^[0-9]{1,5}(:[0-9]{1,5})?$", "a port range")),
      opt("bpfMapSizeConntrackScaling", anyCase({"Disabled", "DoubleIfFull"})),
      opt("bpfMapSizeConntrackCleanupQueue", intRange(1, INT32_MAX)),
      opt("bpfEnforceRPF", anyCase({"Disabled", "Strict", "Loose"})),
      opt("bpfForceTrackPacketsFromIfaces",
          listOf(regexString("^[a-zA-Z0-9:._+-]{1,15}$", "an interface name or pattern"))),
      opt("bpfAttachType", enumOf({"TC", "TCX", "Netkit"})),
      opt("workloadSourceSpoofing", anyCase({"Disabled", "Any"})),
      opt("localSubnetL2Reachability", enumOf({"Disabled", "PodsAndLoadBalancers"})),
      opt("windowsManageFirewallRules", enumOf({"Enabled", "Disabled"})),
      opt("bpfMaglevMaxEndpointsPerService", intRange(1, 3000)),
      opt("bpfMaglevMaxServices", intRange(1, 3000)),
  };
  // Fields that share a checker.
  const std::pair<Checker, std::vector<const char*>> groups[] = {
      {boolean(),
       {"useInternalDataplaneDriver", "ipv6Support", "ipipEnabled", "vxlanEnabled",
        "wireguardEnabled", "wireguardEnabledV6", "bpfEnabled", "xdpEnabled", "genericXDPEnabled",
        "endpointReportingEnabled", "removeExternalRoutes"}},
      {boolean(),
       {"healthEnabled", "prometheusMetricsEnabled", "allowVXLANPacketsFromWorkloads",
        "allowIPIPPacketsFromWorkloads", "disableConntrackInvalidCheck",
        "prometheusGoMetricsEnabled", "prometheusProcessMetricsEnabled",
        "prometheusWireGuardMetricsEnabled", "usageReportingEnabled", "debugDisableLogDropping",
        "sidecarAccelerationEnabled"}},
      {boolean(),
       {"bpfDisableUnprivileged", "bpfConnectTimeLoadBalancingEnabled",
        "bpfKubeProxyIptablesCleanupEnabled", "bpfHostConntrackBypass",
        "bpfIPFragmentReassemblyEnabled", "bpfPolicyDebugEnabled", "flowLogsCollectorDebugTrace",
        "routeSyncDisabled", "wireguardThreadingEnabled", "wireguardHostEncryptionEnabled",
        "requireMTUFile"}},
      {str(),
       {"dataplaneDriver", "logFilePath", "logPrefix", "interfacePrefix", "interfaceExclude",
        "healthHost", "metadataAddr", "endpointStatusPathPrefix", "prometheusMetricsCAFile",
        "prometheusMetricsCertFile"}},
      {str(),
       {"prometheusMetricsKeyFile", "policySyncPathPrefix", "debugMemoryProfilePath", "debugHost",
        "cgroupV2Path", "flowLogsGoldmaneServer", "bpfCTLBLogFilter", "istioAmbientMode",
        "flowLogsPolicyEvaluationMode"}},
      {intRange(0, 65535),
       {"ipipMTU", "vxlanMTU", "vxlanMTUV6", "wireguardMTU", "bpfKubeProxyHealthzPort",
        "debugPort"}},
      {portNumber(),
       {"vxlanPort", "wireguardListeningPort", "healthPort", "prometheusMetricsPort",
        "wireguardListeningPortV6"}},
      {anyCase({"Accept", "Return"}),
       {"iptablesFilterAllowAction", "iptablesMangleAllowAction", "nftablesFilterAllowAction",
        "nftablesMangleAllowAction"}},
      {duration(),
       {"iptablesRefreshInterval", "iptablesPostWriteCheckInterval", "iptablesLockTimeout",
        "ipsetsRefreshInterval", "routeRefreshInterval", "netlinkTimeout", "reportingInterval",
        "reportingTTL", "endpointReportingDelay"}},
      {duration(),
       {"dataplaneWatchdogTimeout", "interfaceRefreshInterval", "iptablesLockProbeInterval",
        "xdpRefreshInterval", "usageReportingInitialDelay", "usageReportingInterval",
        "debugSimulateCalcGraphHangAfter", "debugSimulateDataplaneHangAfter",
        "debugSimulateDataplaneApplyDelay"}},
      {duration(),
       {"nftablesRefreshInterval", "bpfIPFragTimeout", "bpfKubeProxyMinSyncPeriod",
        "flowLogsFlushInterval", "liveMigrationRouteConvergenceTime", "wireguardKeepAlive",
        "localSubnetL2ReachabilityRefreshInterval"}},
      {intRange(0, 4294967295LL),
       {"iptablesMarkMask", "nftablesMarkMask", "bpfExtToServiceConnmark"}},
      {logLevel, {"logSeverityScreen", "logSeverityFile", "logSeveritySys"}},
      {regexChecker(),
       {"mtuIfacePattern", "logDebugFilenameRegex", "nftablesFlowTableDataIfacePattern",
        "bpfDataIfacePattern", "bpfL3IfacePattern", "bpfDisableGROForIfaces"}},
      {intRange(1, 2147483646),
       {"ipv4NormalRoutePriority", "ipv4ElevatedRoutePriority", "ipv6NormalRoutePriority",
        "ipv6ElevatedRoutePriority"}},
      {intRange(-1, INT32_MAX), {"goGCThreshold", "goMemoryLimitMB", "goMaxProcs"}},
      {enumOf({"Enabled", "Disabled", "Auto"}),
       {"ipForwarding", "bpfRedirectToPeer", "flowLogsLocalReporter", "bpfProfiling",
        "nftablesMode", "nftablesFlowTableOffload"}},
      {intRange(0, INT32_MAX),
       {"metadataPort", "deviceRouteProtocol", "bpfMapSizeNATFrontend", "bpfMapSizeNATBackend",
        "bpfMapSizeNATAffinity", "bpfMapSizeRoute", "bpfMapSizeConntrack"}},
      {intRange(0, INT32_MAX),
       {"bpfMapSizePerCpuConntrack", "bpfMapSizeIPSets", "bpfMapSizeIfState", "wireguardMTUV6",
        "bpfExportBufferSizeMB", "istioDSCPMark"}},
  };
  for (const auto& [check, names] : groups) {
    for (const char* f : names) fields.push_back(opt(f, check));
  }
  return object(std::move(fields));
}

// ---------------------------------------------------------------------------------------------
// Metadata.

Status checkMetadata(const Resource& r) {
  const KindInfo& info = kindInfo(r.kind);
  const Json& m = r.metadata;
  if (!m.is_object()) return invalid("metadata", "expected an object");
  auto metaSchema = object({
      opt("name", str()),
      opt("namespace", str()),
      opt("labels", labelMap()),
      opt("annotations", annotationMap()),
      opt("resourceVersion", str()),
      opt("uid", str()),
      opt("creationTimestamp", anyJson()),
      opt("deletionTimestamp", anyJson()),
      opt("deletionGracePeriodSeconds", anyJson()),
      opt("generation", anyJson()),
      opt("generateName", str()),
      opt("ownerReferences", anyJson()),
      opt("finalizers", anyJson()),
      opt("managedFields", anyJson()),
  });
  Json meta = m;  // metadata's text fields were read by applyDefaults
  if (auto st = metaSchema(meta, "metadata"); !st) return st;

  Json name = m.value("name", Json(""));
  if (name == "") return invalid("metadata.name", "required");
  const std::string n = name.get<std::string>();
  // A policy name part: a DNS label, but as in Calico only the whole name is limited (253).
  auto label = [](std::string_view part) {
    return part.find('.') == std::string_view::npos && isDnsSubdomain(part);
  };
  if (r.kind == Kind::kTier) {
    // A tier's name is a component of its policies' names: a DNS label, no dots.
    if (!isDnsLabel(n)) {
      return invalid("metadata.name", quoteJson(name) +
                                          " is not a valid tier name (a DNS label of lower-case "
                                          "letters, digits and '-', at most 63 characters)");
    }
  } else if (r.kind == Kind::kGlobalNetworkPolicy || r.kind == Kind::kStagedGlobalNetworkPolicy ||
             r.kind == Kind::kNetworkPolicy || r.kind == Kind::kStagedNetworkPolicy) {
    // A DNS label, optionally prefixed by a tier ("default.allow-dns"); a NetworkPolicy may
    // also be a subdomain after Calico's knp.default./ossg.default. prefixes.
    const size_t dot = n.find('.');
    bool valid =
        n.size() <= 253 &&
        (dot == std::string::npos ? label(n) : label(n.substr(0, dot)) && label(n.substr(dot + 1)));
    for (const char* prefix : {"knp.default.", "ossg.default."}) {
      if (info.namespaced && n.rfind(prefix, 0) == 0) {
        valid = valid || isDnsSubdomain(n.substr(std::strlen(prefix)));
      }
    }
    if (!valid) {
      return invalid("metadata.name", quoteJson(name) +
                                          " is not a valid policy name (a DNS label of "
                                          "lower-case letters, digits and '-', optionally "
                                          "prefixed by a tier, e.g. \"default.allow-dns\")");
    }
  } else {
    if (auto st = resourceNameChecker()(name, "metadata.name"); !st) return st;
  }
  if ((r.kind == Kind::kGlobalNetworkSet || r.kind == Kind::kNetworkSet) &&
      m.value("labels", Json::object()).contains("projectcalico.org/namespace")) {
    return invalid("metadata.labels.projectcalico.org/namespace",
                   "is reserved: Calico sets it to the namespace of namespaced resources");
  }
  if (r.kind == Kind::kClusterInformation && n != "default") {
    return invalid("metadata.name",
                   quoteJson(name) + ": ClusterInformation must be named \"default\"");
  }

  const std::string ns = m.value("namespace", "");
  if (info.namespaced) {
    if (!ns.empty() && !isDnsLabel(ns)) {
      return invalid("metadata.namespace", "\"" + ns + "\" is not a valid namespace (a DNS label)");
    }
  } else if (!ns.empty()) {
    return invalid("metadata.namespace",
                   "\"" + ns + "\" given, but " + std::string(info.name) + " is not namespaced");
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Cross-field rules per kind (run after the schema accepted the spec).

const Cidr kV4LinkLocal = *Cidr::parse("169.254.0.0/16");
const Cidr kV6LinkLocal = *Cidr::parse("fe80::/10");

bool modeEnabled(const Json& spec, const char* field) {
  const std::string v = spec.value(field, "Never");
  return v == "Always" || v == "CrossSubnet";
}

Status checkIpPool(const Json& spec) {
  const Json& cidrJson = spec.at("cidr");
  auto c = Cidr::parse(cidrJson.get<std::string>());
  if (Status masked = checkMasked(cidrJson, *c, "spec.cidr"); !masked) return masked;
  const bool v4 = c->isV4();
  if (v4 && c->overlaps(kV4LinkLocal)) {
    return invalid("spec.cidr",
                   quoteJson(cidrJson) + " overlaps the IPv4 link-local range 169.254.0.0/16");
  }
  if (!v4 && c->overlaps(kV6LinkLocal)) {
    return invalid("spec.cidr",
                   quoteJson(cidrJson) + " overlaps the IPv6 link-local range fe80::/10");
  }
  int blockSize = v4 ? 26 : 122;
  if (auto it = spec.find("blockSize"); it != spec.end() && *jsonInt(*it) != 0) {
    blockSize = static_cast<int>(*jsonInt(*it));
    const int lo = v4 ? 20 : 116;
    const int hi = v4 ? 32 : 128;
    if (blockSize < lo || blockSize > hi) {
      return invalid("spec.blockSize", quoteJson(*it) + " is not a valid " +
                                           (v4 ? "IPv4" : "IPv6") + " block size (" +
                                           std::to_string(lo) + "-" + std::to_string(hi) + ")");
    }
  }
  if (!spec.value("disabled", false) && c->prefixLength() > blockSize) {
    return invalid("spec.cidr", quoteJson(cidrJson) + " is smaller than one block (/" +
                                    std::to_string(blockSize) +
                                    "): the pool must be at least as big as its blockSize");
  }
  if (!v4 && modeEnabled(spec, "ipipMode")) {
    return invalid("spec.ipipMode", "IPIP is not supported on an IPv6 pool (use Never)");
  }
  if (modeEnabled(spec, "ipipMode") && modeEnabled(spec, "vxlanMode")) {
    return invalid("spec.vxlanMode", "ipipMode and vxlanMode cannot both be enabled");
  }
  bool loadBalancer = false;
  bool other = false;
  for (const auto& u : spec.value("allowedUses", Json::array())) {
    (u == "LoadBalancer" ? loadBalancer : other) = true;
  }
  if (loadBalancer) {
    if (other)
      return invalid("spec.allowedUses", "LoadBalancer cannot be combined with other uses");
    if (modeEnabled(spec, "ipipMode") || modeEnabled(spec, "vxlanMode")) {
      return invalid("spec.allowedUses", "a LoadBalancer pool cannot use IPIP or VXLAN");
    }
    if (spec.value("nodeSelector", "all()") != "all()") {
      return invalid("spec.nodeSelector", "a LoadBalancer pool must have nodeSelector all()");
    }
    if (spec.value("disableBGPExport", false)) {
      return invalid("spec.disableBGPExport",
                     "true, but a LoadBalancer pool is advertised by BGP (set false or omit it)");
    }
  }
  const Json uses = spec.value("allowedUses", Json::array());
  if (std::find(uses.begin(), uses.end(), "Tunnel") != uses.end() &&
      spec.value("namespaceSelector", "") != "") {
    return invalid("spec.namespaceSelector",
                   quoteJson(spec["namespaceSelector"]) +
                       " given, but a pool whose allowedUses include Tunnel must have none "
                       "(tunnel addresses belong to nodes, not namespaces)");
  }
  return Status::ok();
}

Status checkBgpPeer(const Json& spec) {
  const bool hasPeerSelector = spec.contains("peerSelector");
  const bool hasWorkload = spec.contains("localWorkloadSelector");
  if (spec.contains("node") && spec.contains("nodeSelector")) {
    return invalid("spec.node", "must be empty when nodeSelector is set");
  }
  if (spec.contains("peerIP") && hasPeerSelector) {
    return invalid("spec.peerIP", "must be empty when peerSelector is set");
  }
  if (spec.contains("asNumber") && !asNumberIsZero(spec["asNumber"]) && hasPeerSelector) {
    return invalid("spec.asNumber",
                   "must be empty when peerSelector is set (the peers' own AS numbers are used)");
  }
  if (hasWorkload && (spec.contains("peerIP") || hasPeerSelector)) {
    return invalid("spec.localWorkloadSelector", "cannot be combined with peerIP or peerSelector");
  }
  if (hasWorkload && !spec.contains("asNumber")) {
    return invalid("spec.asNumber", "required with localWorkloadSelector");
  }
  if (spec.contains("reachableBy") && !spec.contains("peerIP")) {
    return invalid("spec.reachableBy", "needs peerIP");
  }
  if (spec.contains("reachableBy")) {
    // peerIP is "IP", "IPv4:port" or "[IPv6]:port" (checked above).
    const std::string peer = spec["peerIP"].get<std::string>();
    const bool peerV4 = peer.front() != '[' && std::count(peer.begin(), peer.end(), ':') <= 1;
    const bool viaV4 = IpAddr::parse(spec["reachableBy"].get<std::string>())->isV4();
    if (peerV4 != viaV4) {
      return invalid("spec.reachableBy", quoteJson(spec["reachableBy"]) + " is IPv" +
                                             (viaV4 ? "4" : "6") + " but peerIP " +
                                             quoteJson(spec["peerIP"]) + " is IPv" +
                                             (peerV4 ? "4" : "6"));
    }
  }
  if (spec.value("keepOriginalNextHop", false) && spec.contains("nextHopMode")) {
    return invalid("spec.keepOriginalNextHop", "cannot be combined with nextHopMode");
  }
  return Status::ok();
}

Status checkPolicyCommon(const Json& spec) {
  for (const char* list : {"types", "performanceHints"}) {
    std::set<std::string> seen;
    const Json items = spec.value(list, Json::array());
    for (size_t i = 0; i < items.size(); ++i) {
      if (!seen.insert(items[i].get<std::string>()).second) {
        return invalid(indexed(std::string("spec.") + list, i),
                       quoteJson(items[i]) + " is listed more than once");
      }
    }
  }
  // Services may only name the far end: ingress sources and egress destinations.
  for (const char* dir : {"ingress", "egress"}) {
    const Json rules = spec.value(dir, Json::array());
    const char* nearSide = std::string_view(dir) == "ingress" ? "destination" : "source";
    for (size_t i = 0; i < rules.size(); ++i) {
      const std::string p = indexed(std::string("spec.") + dir, i);
      if (rules[i].contains(nearSide) && rules[i][nearSide].contains("services")) {
        return invalid(p + "." + nearSide + ".services",
                       std::string("not allowed in an ") + dir + " rule's " + nearSide);
      }
      if (std::string_view(dir) == "egress" && rules[i].contains("http")) {
        return invalid(p + ".http", "not allowed in an egress rule");
      }
    }
  }
  return Status::ok();
}

Status checkGlobalNetworkPolicy(const Json& spec) {
  if (auto st = checkPolicyCommon(spec); !st) return st;
  // A global policy has no namespace of its own to find a service in.
  for (const char* dir : {"ingress", "egress"}) {
    const Json rules = spec.value(dir, Json::array());
    for (size_t i = 0; i < rules.size(); ++i) {
      for (const char* side : {"source", "destination"}) {
        const Json svc = rules[i].value(side, Json::object()).value("services", Json::object());
        if (!svc.empty() && svc.value("namespace", "") == "") {
          return invalid(
              indexed(std::string("spec.") + dir, i) + "." + side + ".services.namespace",
              "required in a GlobalNetworkPolicy (it has no namespace of its own)");
        }
      }
    }
  }
  const bool preDnat = spec.value("preDNAT", false);
  const bool doNotTrack = spec.value("doNotTrack", false);
  if (preDnat && doNotTrack) return invalid("spec.preDNAT", "cannot be combined with doNotTrack");
  if (preDnat && !spec.value("egress", Json::array()).empty()) {
    return invalid("spec.egress", "a preDNAT policy cannot have egress rules");
  }
  if (preDnat) {
    for (const auto& t : spec.value("types", Json::array())) {
      if (t == "Egress") return invalid("spec.types", "a preDNAT policy cannot have type Egress");
    }
  }
  if ((preDnat || doNotTrack) && !spec.value("applyOnForward", false)) {
    return invalid("spec.applyOnForward", "must be true when preDNAT or doNotTrack is set");
  }
  return Status::ok();
}

Status checkBgpConfiguration(const Json& spec) {
  if (spec.value("nodeToNodeMeshEnabled", true) == false) {
    for (const char* f : {"nodeMeshPassword", "nodeMeshMaxRestartTime"}) {
      if (spec.contains(f)) {
        return invalid(std::string("spec.") + f,
                       "only applies to the node-to-node mesh, but nodeToNodeMeshEnabled is false");
      }
    }
  }
  for (size_t i = 0; i < spec.value("ignoredInterfaces", Json::array()).size(); ++i) {
    if (spec["ignoredInterfaces"][i] == "*") {
      return invalid(indexed("spec.ignoredInterfaces", i),
                     "\"*\" would ignore every interface; name interfaces or patterns such as "
                     "\"eth*\"");
    }
  }
  const Json defined = spec.value("communities", Json::array());
  const Json adverts = spec.value("prefixAdvertisements", Json::array());
  if (!defined.empty() && adverts.empty()) {
    return invalid("spec.communities",
                   "defined but never used: add prefixAdvertisements that name them");
  }
  for (size_t i = 0; i < adverts.size(); ++i) {
    const Json& names = adverts[i]["communities"];
    for (size_t j = 0; j < names.size(); ++j) {
      const std::string path = indexed(indexed("spec.prefixAdvertisements", i) + ".communities", j);
      if (!names[j].is_string()) return invalid(path, quoteJson(names[j]) + " is not a string");
      const std::string c = names[j].get<std::string>();
      if (c.find(':') != std::string::npos) {
        Json community = c;
        if (auto st = bgpCommunity()(community, path); !st) return st;
      } else if (std::none_of(defined.begin(), defined.end(),
                              [&](const Json& d) { return d.value("name", "") == c; })) {
        return invalid(path, quoteJson(names[j]) +
                                 " is neither a community value (\"a:b\", \"a:b:c\") nor the "
                                 "name of one in spec.communities");
      }
    }
  }
  return Status::ok();
}

Status checkNode(const Json& spec) {
  if (auto it = spec.find("bgp"); it != spec.end() && it->empty()) {
    return invalid("spec.bgp", "must not be empty (omit it instead)");
  }
  return Status::ok();
}

Status checkHostEndpoint(const Json& spec) {
  if (!spec.contains("interfaceName") && spec.value("expectedIPs", Json::array()).empty()) {
    return invalid("spec.interfaceName", "required unless expectedIPs is set");
  }
  return Status::ok();
}

Status checkWorkloadEndpoint(const Json& spec) {
  // NATs must map an address the endpoint owns.
  const Json nats = spec.value("ipNATs", Json::array());
  const std::vector<Cidr> nets = cidrList(spec, "ipNetworks").value();  // checked by the schema
  for (size_t i = 0; i < nats.size(); ++i) {
    auto internal = IpAddr::parse(nats[i]["internalIP"].get<std::string>());
    auto external = IpAddr::parse(nats[i]["externalIP"].get<std::string>());
    if (internal->isV4() != external->isV4()) {
      return invalid(indexed("spec.ipNATs", i) + ".externalIP",
                     "IP version differs from internalIP");
    }
    if (std::none_of(nets.begin(), nets.end(),
                     [&](const Cidr& n) { return n.contains(*internal); })) {
      return invalid(indexed("spec.ipNATs", i) + ".internalIP",
                     quoteJson(nats[i]["internalIP"]) + " is not one of the endpoint's ipNetworks");
    }
  }
  return Status::ok();
}

Status checkFelixConfiguration(const Json& spec) {
  if (Status s = checkFelixConfigurationSettings(spec); !s) return s;  // as the agent reads them
  if (auto it = spec.find("kubeNodePortRanges"); it != spec.end() && it->size() > 7) {
    return invalid("spec.kubeNodePortRanges", "at most 7 ranges (iptables multiport limit)");
  }
  if (auto it = spec.find("routeTableRange"); it != spec.end()) {
    if ((*it)["min"].get<int>() > (*it)["max"].get<int>()) {
      return invalid("spec.routeTableRange", "min is greater than max");
    }
    if (spec.contains("routeTableRanges")) {
      return invalid("spec.routeTableRange", "set routeTableRange or routeTableRanges, not both");
    }
  }
  if (auto it = spec.find("routeTableRanges"); it != spec.end()) {
    long long tables = 0;
    for (size_t i = 0; i < it->size(); ++i) {
      const long long lo = *jsonInt((*it)[i]["min"]), hi = *jsonInt((*it)[i]["max"]);
      if (lo > hi) {
        return invalid(indexed("spec.routeTableRanges", i),
                       "min " + std::to_string(lo) + " is greater than max " + std::to_string(hi));
      }
      tables += hi - lo + 1;
    }
    if (tables > 0xffff) {
      return invalid("spec.routeTableRanges",
                     std::to_string(tables) + " route tables; at most 65535 may be designated");
    }
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Tiers, staged policies, BGP filters and node status (Calico's tier.go, staged*.go,
// bgpfilter.go, nodestatus.go and their validators).

Checker tierSpec() {
  return object({opt("order", number()), opt("defaultAction", enumOf({"Deny", "Pass"}))});
}

// The tiers Calico creates itself, with the order and default action its CRD insists on.
Status checkTier(const std::string& name, const Json& spec) {
  struct WellKnown {
    const char* name;
    long long order;
    const char* defaultAction;
  };
  for (const WellKnown& t :
       {WellKnown{"default", 1000000, "Deny"}, WellKnown{"kube-admin", 1000, "Pass"},
        WellKnown{"kube-baseline", 10000000, "Pass"}}) {
    if (name != t.name) continue;
    if (!spec.contains("order") || spec["order"].get<double>() != static_cast<double>(t.order)) {
      return invalid("spec.order", "the '" + name + "' tier's order must be " +
                                       Json(t.order).dump() + ", got " +
                                       spec.value("order", Json()).dump());
    }
    if (spec.value("defaultAction", "Deny") != t.defaultAction) {
      return invalid("spec.defaultAction",
                     "the '" + name + "' tier must have default action " + t.defaultAction);
    }
  }
  return Status::ok();
}

// A staged policy is its enforced kind's spec plus stagedAction: Set (the default) stages the
// policy as written; Delete stages its removal, and then only the tier may be given.
Checker stagedSpec(Kind enforced) {
  const Checker base =
      enforced == Kind::kGlobalNetworkPolicy ? globalNetworkPolicySpec() : networkPolicySpec();
  return [base](Json& v, const std::string& path) -> Status {
    if (!v.is_object()) return invalid(path, "expected an object, got " + quoteJson(v));
    Json rest = v;
    if (auto it = rest.find("stagedAction"); it != rest.end()) {
      if (*it != "") {  // "" means Set, as in Calico
        if (auto st = enumOf({"Set", "Delete"})(*it, join(path, "stagedAction")); !st) return st;
      }
      rest.erase("stagedAction");
    }
    Status st = base(rest, path);
    for (auto& [key, value] : rest.items()) v[key] = std::move(value);  // text read for scalars
    return st;
  };
}

Status checkStaged(const Json& spec, Status (*enforcedCheck)(const Json&)) {
  if (spec.value("stagedAction", "Set") != "Delete") return enforcedCheck(spec);
  for (const auto& [key, value] : spec.items()) {
    if (key == "stagedAction" || key == "tier" || key == "types") continue;
    return invalid("spec." + key,
                   "must be empty when stagedAction is Delete (only tier may be "
                   "given)");
  }
  return Status::ok();
}

Checker bgpFilterRules(int family) {
  const int maxLength = family == 4 ? 32 : 128;
  auto prefixLength =
      object({opt("min", intRange(0, maxLength)), opt("max", intRange(0, maxLength))});
  auto community = regexString("^[0-9]+:[0-9]+(:[0-9]+)?$", "a BGP community (aa:nn or aa:nn:mm)");
  auto oneOperation = object({
      opt("addCommunity", object({req("value", community)})),
      opt("prependASPath", object({req("prefix", listOf(asNumber()))})),
      opt("setPriority", object({req("value", intRange(1, 2147483646))})),
  });
  // Calico: each operation does exactly one thing.
  auto operation = [oneOperation](Json& v, const std::string& path) -> Status {
    if (auto st = oneOperation(v, path); !st) return st;
    if (v.size() != 1) {
      return invalid(path, "set exactly one of addCommunity, prependASPath or setPriority (" +
                               std::to_string(v.size()) + " given)");
    }
    return Status::ok();
  };
  return listOf(object({
      opt("cidr", cidr(family)),
      opt("prefixLength", prefixLength),
      opt("source", enumOf({"RemotePeers"})),
      opt("interface",
          regexString("^(\\*|[a-zA-Z0-9_.*-]{1,15})$", "an interface name or pattern")),
      opt("matchOperator", enumOf({"Equal", "NotEqual", "In", "NotIn"})),
      opt("peerType", enumOf({"eBGP", "iBGP"})),
      opt("communities", object({req("values", listOf(community))})),
      opt("asPathPrefix", listOf(asNumber())),
      opt("priority", intRange(1, 2147483646)),
      req("action", enumOf({"Accept", "Reject"})),
      opt("operations", listOf(operation)),
  }));
}

Checker bgpFilterSpec() {
  return object({opt("exportV4", bgpFilterRules(4)), opt("importV4", bgpFilterRules(4)),
                 opt("exportV6", bgpFilterRules(6)), opt("importV6", bgpFilterRules(6))});
}

// The cross-field rules of Calico's BGPFilterRule CRD.
Status checkBgpFilter(const Json& spec) {
  for (const char* list : {"exportV4", "importV4", "exportV6", "importV6"}) {
    const Json rules = spec.value(list, Json::array());
    for (size_t i = 0; i < rules.size(); ++i) {
      const Json& r = rules[i];
      const std::string p = indexed(std::string("spec.") + list, i);
      const bool hasCidr = !r.value("cidr", "").empty();
      if (hasCidr != !r.value("matchOperator", "").empty()) {
        return invalid(p + (hasCidr ? ".matchOperator" : ".cidr"),
                       "cidr and matchOperator must both be set or both be empty");
      }
      if (r.contains("prefixLength") && !hasCidr) {
        return invalid(p + ".cidr", "required when prefixLength is set");
      }
      if (!r.value("operations", Json::array()).empty() && r.value("action", "") != "Accept") {
        return invalid(p + ".operations", "may only be used with action Accept");
      }
      const Json communities =
          r.value("communities", Json::object()).value("values", Json::array());
      if (communities.size() > 10 || (r.contains("communities") && communities.empty())) {
        return invalid(p + ".communities.values", "1 to 10 values");
      }
    }
  }
  return Status::ok();
}

// CalicoNodeStatus: which status classes a node reports, and how often; the status itself is
// written by the node, not by users.
Checker calicoNodeStatusSpec() {
  return object({
      req("node", resourceNameChecker()),
      req("classes", listOf(enumOf({"Agent", "BGP", "Routes"}))),
      req("updatePeriodSeconds", intRange(0, 86400)),
  });
}

Status checkCalicoNodeStatus(const Json& spec) {
  std::set<std::string> seen;
  for (const auto& c : spec.value("classes", Json::array())) {
    if (!seen.insert(c.get<std::string>()).second) {
      return invalid("spec.classes", quoteJson(c) + " is listed more than once");
    }
  }
  return Status::ok();
}

struct KindRules {
  Checker spec;
  std::function<Status(const Json&)> cross;
};

const KindRules& rulesFor(Kind kind) {
  static const std::map<Kind, KindRules> table = [] {
    std::map<Kind, KindRules> t;
    auto none = [](const Json&) { return Status::ok(); };
    t[Kind::kNode] = {nodeSpec(), checkNode};
    t[Kind::kBGPPeer] = {bgpPeerSpec(), checkBgpPeer};
    t[Kind::kBGPConfiguration] = {bgpConfigurationSpec(), checkBgpConfiguration};
    t[Kind::kIPPool] = {ipPoolSpec(), checkIpPool};
    t[Kind::kGlobalNetworkPolicy] = {globalNetworkPolicySpec(), checkGlobalNetworkPolicy};
    t[Kind::kNetworkPolicy] = {networkPolicySpec(), checkPolicyCommon};
    t[Kind::kProfile] = {profileSpec(), none};
    t[Kind::kWorkloadEndpoint] = {workloadEndpointSpec(), checkWorkloadEndpoint};
    t[Kind::kHostEndpoint] = {hostEndpointSpec(), checkHostEndpoint};
    t[Kind::kGlobalNetworkSet] = {networkSetSpec(), none};
    t[Kind::kNetworkSet] = {networkSetSpec(), none};
    t[Kind::kIPReservation] = {ipReservationSpec(), none};
    t[Kind::kFelixConfiguration] = {felixConfigurationSpec(), checkFelixConfiguration};
    t[Kind::kClusterInformation] = {clusterInformationSpec(), none};
    t[Kind::kTier] = {tierSpec(), none};  // the name-dependent rules run in validateResource
    t[Kind::kStagedGlobalNetworkPolicy] = {
        stagedSpec(Kind::kGlobalNetworkPolicy),
        [](const Json& spec) { return checkStaged(spec, checkGlobalNetworkPolicy); }};
    t[Kind::kStagedNetworkPolicy] = {stagedSpec(Kind::kNetworkPolicy), [](const Json& spec) {
                                       return checkStaged(spec, checkPolicyCommon);
                                     }};
    t[Kind::kBGPFilter] = {bgpFilterSpec(), checkBgpFilter};
    t[Kind::kCalicoNodeStatus] = {calicoNodeStatusSpec(), checkCalicoNodeStatus};
    return t;
  }();
  return table.at(kind);
}

// ---------------------------------------------------------------------------------------------
// Defaults.

// Rewrites rule actions to Calico's spelling ("allow" -> "Allow") so stored policy is canonical;
// anything unparseable is left for validation.
void canonicaliseRules(Json& spec) {
  for (const char* dir : {"ingress", "egress"}) {
    auto it = spec.find(dir);
    if (it == spec.end() || !it->is_array()) continue;
    for (Json& rule : *it) {
      if (!rule.is_object()) continue;
      if (auto a = rule.find("action"); a != rule.end() && a->is_string()) {
        for (Action act : {Action::kAllow, Action::kDeny, Action::kLog, Action::kPass}) {
          if (equalsIgnoreCase(a->get<std::string>(), actionName(act))) {
            *a = std::string(actionName(act));
          }
        }
      }
    }
  }
}

void defaultPolicyTypes(Json& spec) {
  if (spec.contains("types") && !(spec["types"].is_array() && spec["types"].empty())) return;
  const bool hasIngress = spec.contains("ingress") && !spec["ingress"].empty();
  const bool hasEgress = spec.contains("egress") && !spec["egress"].empty();
  // Calico: no egress rules -> Ingress only (even with no rules at all); only egress rules ->
  // Egress; both -> both.
  Json types = Json::array();
  if (!hasEgress) {
    types.push_back("Ingress");
  } else if (!hasIngress) {
    types.push_back("Egress");
  } else {
    types.push_back("Ingress");
    types.push_back("Egress");
  }
  spec["types"] = types;
}

void defaultIpPool(Json& spec) {
  auto it = spec.find("cidr");
  if (it != spec.end() && it->is_string()) {
    const std::string text = it->get<std::string>();
    auto c = Cidr::parse(text);
    auto addr = IpAddr::parse(std::string_view(text).substr(0, text.find('/')));
    if (c && addr && *addr == c->address()) *it = c->toString();  // canonical spelling
    if (c && (!spec.contains("blockSize") || spec["blockSize"] == 0)) {
      spec["blockSize"] = c->isV4() ? 26 : 122;
    }
  }
  if (!spec.contains("ipipMode") || spec["ipipMode"] == "") spec["ipipMode"] = "Never";
  if (!spec.contains("vxlanMode") || spec["vxlanMode"] == "") spec["vxlanMode"] = "Never";
  if (!spec.contains("natOutgoing")) spec["natOutgoing"] = false;
  if (!spec.contains("nodeSelector") || spec["nodeSelector"] == "") spec["nodeSelector"] = "all()";
}

}  // namespace

// calicoctl reads a plain scalar in a string field as its text: `routeReflector: true` is the
// label value "true". Only `keys` of `map` when given, else every value.
void scalarsToStrings(Json& map, std::initializer_list<std::string_view> keys = {}) {
  if (!map.is_object()) return;
  for (auto& [key, value] : map.items()) {
    if (keys.size() != 0 && std::find(keys.begin(), keys.end(), key) == keys.end()) continue;
    if (value.is_boolean() || value.is_number()) value = value.dump();
  }
}

void applyDefaults(Resource& resource) {
  if (!resource.metadata.is_object() || !resource.spec.is_object()) return;
  scalarsToStrings(resource.metadata, {"name", "namespace"});
  for (const char* map : {"labels", "annotations"}) {
    if (auto it = resource.metadata.find(map); it != resource.metadata.end()) scalarsToStrings(*it);
  }
  if (auto it = resource.spec.find("labelsToApply"); it != resource.spec.end()) {
    scalarsToStrings(*it);
  }
  if (kindInfo(resource.kind).namespaced) {
    auto it = resource.metadata.find("namespace");
    if (it == resource.metadata.end() || *it == "" || it->is_null()) {
      resource.metadata["namespace"] = "default";
    }
  }
  Json& spec = resource.spec;
  switch (resource.kind) {
    case Kind::kIPPool:
      defaultIpPool(spec);
      break;
    case Kind::kGlobalNetworkPolicy:
    case Kind::kNetworkPolicy:
      canonicaliseRules(spec);
      defaultPolicyTypes(spec);
      break;
    case Kind::kStagedGlobalNetworkPolicy:
    case Kind::kStagedNetworkPolicy:
      canonicaliseRules(spec);
      // Calico stages a removal without types.
      if (spec.value("stagedAction", "") == "Delete") {
        spec.erase("types");
      } else {
        defaultPolicyTypes(spec);
      }
      break;
    case Kind::kTier:
      // Calico's DefaultTierFields: no order sorts with the default tier.
      if (!spec.contains("order") || spec["order"].is_null()) spec["order"] = 1000000;
      if (!spec.contains("defaultAction")) spec["defaultAction"] = "Deny";
      break;
    case Kind::kProfile:
      canonicaliseRules(spec);
      break;
    default:
      break;
  }
}

namespace {

// Calico v3 takes a workload's ipNetworks as its own addresses, one host each; v1 took any
// network (the seed's example endpoint has a /16), so v1 input gets lint's warning instead.
Status checkHostNetworks(const Resource& resource) {
  if (resource.kind != Kind::kWorkloadEndpoint) return Status::ok();
  const std::vector<Cidr> nets = endpointAddresses(resource).value();  // checked by the schema
  for (size_t i = 0; i < nets.size(); ++i) {
    if (nets[i].prefixLength() == nets[i].address().bits()) continue;
    return invalid(indexed("spec.ipNetworks", i),
                   "\"" + nets[i].toString() + "\" holds more than one address (a workload's " +
                       "ipNetworks are its addresses: /32 or /128)");
  }
  return Status::ok();
}

// Calico refuses a catch-all CIDR in notNets: the rule could then match no traffic. The agent
// still reads such a stored rule (and renders nothing for it), so this is validation's, not
// parseRule's.
Status checkNotNets(const PolicyRules& parsed) {
  for (const auto& [dir, rules] :
       {std::pair{"spec.ingress", &parsed.ingress}, std::pair{"spec.egress", &parsed.egress}}) {
    for (size_t i = 0; i < rules->size(); ++i) {
      const Rule& rule = *(*rules)[i];
      for (const auto& [side, entity] :
           {std::pair{"source", &rule.source}, std::pair{"destination", &rule.destination}}) {
        for (size_t j = 0; j < entity->notNets.size(); ++j) {
          if (entity->notNets[j].prefixLength() != 0) continue;
          return invalid(indexed(indexed(dir, i) + "." + side + ".notNets", j),
                         "\"" + entity->notNets[j].toString() +
                             "\" holds every address, so the rule would match no traffic");
        }
      }
    }
  }
  return Status::ok();
}

// validateResource's checks, handing on the policy rules they parsed so lint need not again.
Result<PolicyRules> validated(Resource& resource, InputApi api) {
  if (auto st = checkMetadata(resource); !st) return st;
  const KindRules& rules = rulesFor(resource.kind);
  if (auto st = rules.spec(resource.spec, "spec"); !st) return st;
  // Only policy kinds' schemas let ingress and egress through.
  PolicyRules parsed{parseRules(resource.spec, "ingress"), parseRules(resource.spec, "egress")};
  for (const auto* list : {&parsed.ingress, &parsed.egress}) {
    for (const Result<Rule>& rule : *list) {
      if (!rule) return rule.status();
    }
  }
  if (auto st = checkNotNets(parsed); !st) return st;
  if (auto st = resource.kind == Kind::kTier ? checkTier(resource.name(), resource.spec)
                                             : rules.cross(resource.spec);
      !st) {
    return st;
  }
  if (api == InputApi::kV3) {
    if (auto st = checkHostNetworks(resource); !st) return st;
  }
  return parsed;
}

}  // namespace

Status validateResource(Resource& resource) { return validated(resource, InputApi::kV3).status(); }

Result<std::vector<std::string>> checkResource(Resource& resource, InputApi api) {
  BRINDLE_ASSIGN_OR_RETURN(auto rules, validated(resource, api));
  return lintResource(resource, rules);
}

Status checkPoolOverlap(const Resource& pool, const std::vector<Resource>& otherPools) {
  auto mine = Cidr::parse(pool.spec.value("cidr", ""));
  if (!mine) return invalid("spec.cidr", mine.message());
  for (const auto& other : otherPools) {
    if (other.kind != Kind::kIPPool || other.name() == pool.name()) continue;
    auto theirs = Cidr::parse(other.spec.value("cidr", ""));
    if (!theirs || theirs->isV4() != mine->isV4()) continue;
    if (mine->overlaps(*theirs)) {
      return invalid("spec.cidr", "\"" + mine->toString() + "\" overlaps IPPool \"" + other.name() +
                                      "\" (" + theirs->toString() + ")");
    }
  }
  return Status::ok();
}

}  // namespace brindle::model
