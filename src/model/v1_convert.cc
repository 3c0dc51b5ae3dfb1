// v1 -> v3 conversion of the seed's resources. Each v1 field is read by name, checked for its
// type and converted; anything not read is an unknown field. Errors name the user's v1 path.
#include "model/v1_convert.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "common/ip.h"
#include "model/names.h"
#include "model/rule.h"

namespace brindle::model {
namespace {

// A conversion failure at a v1 field path. Thrown only inside this file and caught by
// convertV1(): the converters nest deeply and this keeps each one a straight read of the fields.
struct ConvertError {
  std::string path;
  std::string what;
};

[[noreturn]] void fail(std::string path, std::string what) {
  throw ConvertError{std::move(path), std::move(what)};
}

std::string inQuotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string describe(const Json& v) {
  if (v.is_string()) return "the string " + inQuotes(v.get_ref<const std::string&>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return "the number " + v.dump();
  if (v.is_array()) return "a list";
  if (v.is_object()) return "a mapping";
  return "null";
}

// One v1 mapping being read. The fields it may hold are named up front so that an unknown
// (or misspelt) field is reported before anything else in it, in file order.
class Fields {
 public:
  Fields(const Json* obj, std::string path, std::initializer_list<std::string_view> known)
      : path_(std::move(path)) {
    if (obj == nullptr || obj->is_null()) return;
    if (!obj->is_object()) fail(path_, "expected a mapping, got " + describe(*obj));
    obj_ = obj;
    for (const auto& [key, value] : obj->items()) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      std::string what = "unknown field";
      for (auto k : known) {
        if (looseKey(k) == looseKey(key)) what += "; did you mean " + inQuotes(k) + "?";
      }
      fail(join(path_, key), what);
    }
  }

  const std::string& path() const { return path_; }
  std::string path(std::string_view key) const { return join(path_, key); }

  // The value of `key`, or nullptr when it is absent or null.
  const Json* get(std::string_view key) const {
    if (obj_ == nullptr) return nullptr;
    auto it = obj_->find(std::string(key));
    if (it == obj_->end() || it->is_null()) return nullptr;
    return &*it;
  }
  const Json& required(std::string_view key) const {
    const Json* v = get(key);
    if (v == nullptr) fail(path(key), "required field missing");
    return *v;
  }

  std::optional<std::string> str(std::string_view key) const {
    const Json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) fail(path(key), "expected a string, got " + describe(*v));
    return v->get<std::string>();
  }
  std::string requiredStr(std::string_view key) const {
    required(key);
    std::string s = *str(key);
    if (s.empty()) fail(path(key), "must not be empty");
    return s;
  }
  std::optional<bool> boolean(std::string_view key) const {
    const Json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) fail(path(key), "expected true or false, got " + describe(*v));
    return v->get<bool>();
  }
  std::optional<Json> integer(std::string_view key) const {
    const Json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number_integer()) fail(path(key), "expected a whole number, got " + describe(*v));
    return *v;
  }

 private:
  const Json* obj_ = nullptr;
  std::string path_;
};

const Json& listAt(const Json& v, const std::string& path) {
  if (!v.is_array()) fail(path, "expected a list, got " + describe(v));
  return v;
}

std::string stringAt(const Json& v, const std::string& path) {
  if (!v.is_string()) fail(path, "expected a string, got " + describe(v));
  return v.get<std::string>();
}

// The list `v` with each item converted by `item(value, path)`.
template <typename Convert>
Json mapList(const Json& v, const std::string& path, Convert item) {
  Json out = Json::array();
  for (size_t i = 0; i < listAt(v, path).size(); ++i) out.push_back(item(v[i], indexed(path, i)));
  return out;
}

Json stringList(const Json& v, const std::string& path) { return mapList(v, path, stringAt); }

Json labelMap(const Json& v, const std::string& path) {
  if (!v.is_object()) fail(path, "expected a mapping of label keys to values, got " + describe(v));
  Json out = Json::object();
  for (const auto& [key, value] : v.items()) {
    if (!value.is_string()) {
      fail(join(path, key), "label values are strings, got " + describe(value) + " (quote it)");
    }
    out[key] = value;
  }
  return out;
}

std::string canonicalIp(const Json& v, const std::string& path) {
  const std::string text = stringAt(v, path);
  auto ip = IpAddr::parse(text);
  if (!ip) fail(path, inQuotes(text) + " is not an IP address");
  return ip->toString();
}

// A network in canonical form; a bare address is a single host (/32 or /128), host bits below
// the prefix are cleared as Calico's converter does.
std::string canonicalNet(const Json& v, const std::string& path) {
  const std::string text = stringAt(v, path);
  auto net = Cidr::parse(text, /*allowBareIp=*/true);
  if (!net) {
    fail(path, inQuotes(text) + (text.find('/') == std::string::npos ? " is not an IP address"
                                                                     : " is not a valid CIDR"));
  }
  return net->toString();
}

// "10.244.0.1/24" kept with its host bits (a node's own address on its subnet).
std::string canonicalIpWithPrefix(const Json& v, const std::string& path) {
  const std::string text = stringAt(v, path);
  const size_t slash = text.find('/');
  auto ip = IpAddr::parse(std::string_view(text).substr(0, slash));
  auto net = Cidr::parse(text, /*allowBareIp=*/true);
  if (!ip || !net) fail(path, inQuotes(text) + " is not an IP address with a prefix length");
  return ip->toString() + "/" + std::to_string(net->prefixLength());
}

// v1 selectors used the label calico/k8s_ns; v3 endpoints carry projectcalico.org/namespace.
std::string convertSelector(std::string sel) {
  static constexpr std::string_view kV1 = "calico/k8s_ns";
  static constexpr std::string_view kV3 = "projectcalico.org/namespace";
  for (size_t at = sel.find(kV1); at != std::string::npos; at = sel.find(kV1, at + kV3.size())) {
    sel.replace(at, kV1.size(), kV3);
  }
  return sel;
}

// Tags are gone in v3: profiles apply each tag as a label with an empty value, so a rule's tag
// becomes `<tag> == ''` (Calico's mergeTagsAndSelectors), and-ed with any selector.
std::string mergeTag(const std::string& sel, const std::optional<std::string>& tag) {
  if (!tag) return sel;
  if (sel.empty()) return *tag + " == ''";
  return "(" + sel + ") && " + *tag + " == ''";
}

std::string convertProfileName(const std::string& name) {
  static constexpr std::string_view kPrefix = "k8s_ns.";
  if (name.rfind(kPrefix, 0) == 0) return "kns." + name.substr(kPrefix.size());
  return name;
}

Json convertProfileList(const Json& v, const std::string& path) {
  Json out = stringList(v, path);
  for (auto& p : out) p = convertProfileName(p.get<std::string>());
  return out;
}

Json convertProtocol(const Json& v, const std::string& path) {
  if (v.is_number_integer()) return v;
  if (v.is_string()) {
    static const std::pair<std::string_view, std::string_view> kNames[] = {
        {"tcp", "TCP"},       {"udp", "UDP"},   {"icmp", "ICMP"},
        {"icmpv6", "ICMPv6"}, {"sctp", "SCTP"}, {"udplite", "UDPLite"},
    };
    const std::string lower = looseKey(v.get<std::string>());
    for (const auto& [v1, v3] : kNames) {
      if (lower == v1) return std::string(v3);
    }
    fail(path, inQuotes(v.get<std::string>()) +
                   " is not a protocol (tcp, udp, icmp, icmpv6, sctp, udplite or a number)");
  }
  fail(path, "expected a protocol name or number, got " + describe(v));
}

Json convertIcmp(const Json& v, const std::string& path) {
  Fields f(&v, path, {"type", "code"});
  Json out = Json::object();
  if (auto t = f.integer("type")) out["type"] = *t;
  if (auto c = f.integer("code")) out["code"] = *c;
  return out;
}

// A port is a number, a "from:to" range or a named port; Kubernetes' {int: N} / {string: s}
// form is unwrapped.
Json convertPort(const Json& v, const std::string& path) {
  if (v.is_number_integer() || v.is_string()) return v;
  if (v.is_object() && v.size() == 1) {
    if (auto it = v.find("int"); it != v.end() && it->is_number_integer()) return *it;
    if (auto it = v.find("string"); it != v.end() && it->is_string()) return *it;
  }
  fail(path, "expected a port number, range \"from:to\" or name, got " + describe(v));
}

Json convertPorts(const Json& v, const std::string& path) { return mapList(v, path, convertPort); }

Json convertNets(const Fields& f, std::string_view single, std::string_view plural) {
  Json out = Json::array();
  if (const Json* n = f.get(single)) out.push_back(canonicalNet(*n, f.path(single)));
  if (const Json* ns = f.get(plural)) {
    for (size_t i = 0; i < listAt(*ns, f.path(plural)).size(); ++i) {
      out.push_back(canonicalNet((*ns)[i], indexed(f.path(plural), i)));
    }
  }
  return out;
}

Json convertEntity(const Json* v, const std::string& path) {
  Fields f(v, path,
           {"tag", "net", "nets", "selector", "ports", "notTag", "notNet", "notNets", "notSelector",
            "notPorts"});
  Json out = Json::object();
  if (Json nets = convertNets(f, "net", "nets"); !nets.empty()) out["nets"] = nets;
  if (std::string sel = mergeTag(convertSelector(f.str("selector").value_or("")), f.str("tag"));
      !sel.empty()) {
    out["selector"] = sel;
  }
  if (const Json* p = f.get("ports")) out["ports"] = convertPorts(*p, f.path("ports"));
  if (Json nets = convertNets(f, "notNet", "notNets"); !nets.empty()) out["notNets"] = nets;
  if (std::string sel =
          mergeTag(convertSelector(f.str("notSelector").value_or("")), f.str("notTag"));
      !sel.empty()) {
    out["notSelector"] = sel;
  }
  if (const Json* p = f.get("notPorts")) out["notPorts"] = convertPorts(*p, f.path("notPorts"));
  return out;
}

std::string convertAction(const Fields& f) {
  const std::string action = f.requiredStr("action");
  const std::string lower = looseKey(action);
  if (lower == "allow") return "Allow";
  if (lower == "deny") return "Deny";
  if (lower == "log") return "Log";
  if (lower == "nexttier" || lower == "pass") return "Pass";
  fail(f.path("action"), inQuotes(action) + " is not an action (allow, deny, log, next-tier)");
}

Json convertRule(const Json& v, const std::string& path, std::vector<std::string>& warnings) {
  Fields f(&v, path,
           {"action", "ipVersion", "protocol", "icmp", "notProtocol", "notICMP", "source",
            "destination", "ports"});
  Json out = Json::object();
  out["action"] = convertAction(f);
  if (auto ipv = f.integer("ipVersion")) out["ipVersion"] = *ipv;
  if (const Json* p = f.get("protocol")) out["protocol"] = convertProtocol(*p, f.path("protocol"));
  if (const Json* i = f.get("icmp")) out["icmp"] = convertIcmp(*i, f.path("icmp"));
  if (const Json* p = f.get("notProtocol")) {
    out["notProtocol"] = convertProtocol(*p, f.path("notProtocol"));
  }
  if (const Json* i = f.get("notICMP")) out["notICMP"] = convertIcmp(*i, f.path("notICMP"));
  Json source = convertEntity(f.get("source"), f.path("source"));
  Json destination = convertEntity(f.get("destination"), f.path("destination"));

  // The seed's profile-database writes `ports:` straight under the rule, which no Calico
  // version reads. Its intent (allow MySQL on 3306) is a destination port, and ports need a
  // protocol, so read it that way and say so rather than reject the seed's own lab file.
  if (const Json* ports = f.get("ports")) {
    if (destination.contains("ports")) {
      fail(f.path("ports"), "ports directly under a rule and destination.ports are both given");
    }
    destination["ports"] = convertPorts(*ports, f.path("ports"));
    if (!out.contains("protocol")) {
      out["protocol"] = "TCP";
      warnings.push_back(f.path() +
                         ": ports directly under a rule are read as destination ports with "
                         "protocol TCP");
    } else {
      warnings.push_back(f.path() + ": ports directly under a rule are read as destination ports");
    }
  }
  if (!source.empty()) out["source"] = source;
  if (!destination.empty()) out["destination"] = destination;
  return out;
}

Json convertRules(const Json& v, const std::string& path, std::vector<std::string>& warnings) {
  return mapList(v, path, [&](const Json& rule, const std::string& p) {
    return convertRule(rule, p, warnings);
  });
}

Json convertEndpointPorts(const Json& v, const std::string& path) {
  return mapList(v, path, [](const Json& item, const std::string& p) {
    Fields f(&item, p, {"name", "protocol", "port"});
    Json port = Json::object();
    port["name"] = f.requiredStr("name");
    port["protocol"] = convertProtocol(f.required("protocol"), f.path("protocol"));
    port["port"] = convertPort(f.required("port"), f.path("port"));
    return port;
  });
}

// "10.1.0.0/16" -> "10-1-0-0-16" (Calico's cidrToName).
std::string cidrToName(std::string cidr) {
  std::replace(cidr.begin(), cidr.end(), '.', '-');
  std::replace(cidr.begin(), cidr.end(), ':', '-');
  std::replace(cidr.begin(), cidr.end(), '/', '-');
  return cidr;
}

// Calico's convertIpToName: IPv4 with dashes, IPv6 as eight zero-padded groups of four hex
// digits joined by dashes, so that every peer name has one spelling.
std::string ipToName(const std::string& canonical) {
  auto ip = IpAddr::parse(canonical);
  if (ip->isV4()) return cidrToName(canonical);
  std::string out;
  const auto& b = ip->bytes();
  for (size_t i = 0; i < 16; i += 2) {
    char group[8];
    std::snprintf(group, sizeof group, "%02x%02x", b[i], b[i + 1]);
    if (!out.empty()) out += '-';
    out += group;
  }
  return out;
}

Resource convertNode(const Fields& meta, const Fields& spec, std::vector<std::string>&) {
  Resource r;
  r.kind = Kind::kNode;
  r.metadata["name"] = meta.requiredStr("name");
  if (const Json* bgpJson = spec.get("bgp")) {
    Fields bgp(bgpJson, spec.path("bgp"), {"asNumber", "ipv4Address", "ipv6Address"});
    Json out = Json::object();
    // Kept as written (64512 or "1.10"): validation checks both forms.
    if (const Json* as = bgp.get("asNumber")) out["asNumber"] = *as;
    if (const Json* a = bgp.get("ipv4Address")) {
      out["ipv4Address"] = canonicalIpWithPrefix(*a, bgp.path("ipv4Address"));
    }
    if (const Json* a = bgp.get("ipv6Address")) {
      out["ipv6Address"] = canonicalIpWithPrefix(*a, bgp.path("ipv6Address"));
    }
    if (!out.contains("ipv4Address") && !out.contains("ipv6Address")) {
      fail(bgp.path(), "needs ipv4Address or ipv6Address");  // as Calico's converter
    }
    r.spec["bgp"] = out;
  }
  if (const Json* refs = spec.get("orchRefs")) {
    Json out = Json::array();
    for (size_t i = 0; i < listAt(*refs, spec.path("orchRefs")).size(); ++i) {
      Fields ref(&(*refs)[i], indexed(spec.path("orchRefs"), i), {"nodeName", "orchestrator"});
      Json o = Json::object();
      if (auto n = ref.str("nodeName")) o["nodeName"] = *n;
      o["orchestrator"] = ref.requiredStr("orchestrator");
      out.push_back(o);
    }
    r.spec["orchRefs"] = out;
  }
  return r;
}

Resource convertBgpPeer(const Fields& meta, const Fields& spec, std::vector<std::string>&) {
  Resource r;
  r.kind = Kind::kBGPPeer;
  const std::string scope = looseKey(meta.requiredStr("scope"));
  const std::string peerIp = canonicalIp(meta.required("peerIP"), meta.path("peerIP"));
  const std::optional<std::string> node = meta.str("node");
  if (scope == "global") {
    if (node) fail(meta.path("node"), "a peer with scope global has no node");
    r.metadata["name"] = ipToName(peerIp);
  } else if (scope == "node") {
    if (!node || node->empty()) fail(meta.path("node"), "required field missing (scope node)");
    r.metadata["name"] = *node + "." + ipToName(peerIp);
    r.spec["node"] = *node;
  } else {
    fail(meta.path("scope"), inQuotes(*meta.str("scope")) + " is not a scope (global or node)");
  }
  r.spec["peerIP"] = peerIp;
  if (const Json* as = spec.get("asNumber")) r.spec["asNumber"] = *as;
  return r;
}

Resource convertIpPool(const Fields& meta, const Fields& spec, std::vector<std::string>&) {
  Resource r;
  r.kind = Kind::kIPPool;
  const std::string cidr = canonicalNet(meta.required("cidr"), meta.path("cidr"));
  r.metadata["name"] = cidrToName(cidr);
  r.spec["cidr"] = cidr;
  std::string mode = "Never";
  if (const Json* ipipJson = spec.get("ipip")) {
    Fields ipip(ipipJson, spec.path("ipip"), {"enabled", "mode"});
    const std::string v1Mode = looseKey(ipip.str("mode").value_or(""));
    if (v1Mode != "" && v1Mode != "always" && v1Mode != "crosssubnet") {
      fail(ipip.path("mode"),
           inQuotes(*ipip.str("mode")) + " is not an IPIP mode (always or cross-subnet)");
    }
    // As calico-upgrade: no tunnel unless enabled; enabled means Always unless cross-subnet.
    if (ipip.boolean("enabled").value_or(false)) {
      mode = v1Mode == "crosssubnet" ? "CrossSubnet" : "Always";
    }
  }
  r.spec["ipipMode"] = mode;
  if (auto nat = spec.boolean("nat-outgoing")) r.spec["natOutgoing"] = *nat;
  if (auto disabled = spec.boolean("disabled")) r.spec["disabled"] = *disabled;
  return r;
}

Resource convertPolicy(const Fields& meta, const Fields& spec, std::vector<std::string>& warnings) {
  Resource r;
  r.kind = Kind::kGlobalNetworkPolicy;
  // Policies in Calico's default tier are stored as "default.<name>".
  r.metadata["name"] = "default." + meta.requiredStr("name");
  if (const Json* a = meta.get("annotations")) {
    r.metadata["annotations"] = labelMap(*a, meta.path("annotations"));
  }
  if (const Json* order = spec.get("order")) {
    if (!order->is_number()) fail(spec.path("order"), "expected a number, got " + describe(*order));
    r.spec["order"] = *order;
  }
  Json ingress = Json::array();
  Json egress = Json::array();
  if (const Json* in = spec.get("ingress"))
    ingress = convertRules(*in, spec.path("ingress"), warnings);
  if (const Json* eg = spec.get("egress"))
    egress = convertRules(*eg, spec.path("egress"), warnings);
  if (!ingress.empty()) r.spec["ingress"] = ingress;
  if (!egress.empty()) r.spec["egress"] = egress;
  if (auto sel = spec.str("selector")) r.spec["selector"] = convertSelector(*sel);

  Json types = Json::array();
  if (const Json* t = spec.get("types"); t != nullptr && !t->empty()) {
    for (size_t i = 0; i < listAt(*t, spec.path("types")).size(); ++i) {
      const std::string type = stringAt((*t)[i], indexed(spec.path("types"), i));
      if (looseKey(type) == "ingress") {
        types.push_back("Ingress");
      } else if (looseKey(type) == "egress") {
        types.push_back("Egress");
      } else {
        fail(indexed(spec.path("types"), i),
             inQuotes(type) + " is not a policy type (ingress or egress)");
      }
    }
  } else if (egress.empty()) {
    types.push_back("Ingress");  // including a policy with no rules at all, as Calico does
  } else if (ingress.empty()) {
    types.push_back("Egress");
  } else {
    types = Json::array({"Ingress", "Egress"});
  }
  r.spec["types"] = types;

  const auto doNotTrack = spec.boolean("doNotTrack");
  const auto preDnat = spec.boolean("preDNAT");
  auto applyOnForward = spec.boolean("applyOnForward");
  if (doNotTrack) r.spec["doNotTrack"] = *doNotTrack;
  if (preDnat) r.spec["preDNAT"] = *preDnat;
  // Untracked and pre-DNAT policy always applied to forwarded traffic before v3 had the flag.
  if (doNotTrack.value_or(false) || preDnat.value_or(false)) applyOnForward = true;
  if (applyOnForward) r.spec["applyOnForward"] = *applyOnForward;
  return r;
}

Resource convertProfile(const Fields& meta, const Fields& spec,
                        std::vector<std::string>& warnings) {
  Resource r;
  r.kind = Kind::kProfile;
  r.metadata["name"] = convertProfileName(meta.requiredStr("name"));
  if (const Json* in = spec.get("ingress")) {
    if (Json rules = convertRules(*in, spec.path("ingress"), warnings); !rules.empty()) {
      r.spec["ingress"] = rules;
    }
  }
  if (const Json* eg = spec.get("egress")) {
    if (Json rules = convertRules(*eg, spec.path("egress"), warnings); !rules.empty()) {
      r.spec["egress"] = rules;
    }
  }
  Json apply = Json::object();
  if (const Json* l = meta.get("labels")) apply = labelMap(*l, meta.path("labels"));
  if (const Json* tags = meta.get("tags")) {
    const Json list = stringList(*tags, meta.path("tags"));
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string tag = list[i];
      if (apply.contains(tag)) {
        fail(indexed(meta.path("tags"), i),
             "tag " + inQuotes(tag) + " is also a label key; v3 makes tags labels, so rename one");
      }
      apply[tag] = "";
    }
  }
  if (!apply.empty()) r.spec["labelsToApply"] = apply;
  return r;
}

// A name part must not start or end with '-': the doubled-dash escaping could not be undone.
void checkNamePart(const std::string& value, const std::string& path) {
  if (value.front() == '-' || value.back() == '-') {
    fail(path,
         inQuotes(value) + " must not begin or end with '-' (it is part of the endpoint name)");
  }
}

Resource convertWorkloadEndpoint(const Fields& meta, const Fields& spec,
                                 std::vector<std::string>&) {
  Resource r;
  r.kind = Kind::kWorkloadEndpoint;
  const std::string node = meta.requiredStr("node");
  const std::string orchestrator = meta.requiredStr("orchestrator");
  const std::string workload = meta.requiredStr("workload");
  const std::string endpoint = meta.requiredStr("name");
  checkNamePart(node, meta.path("node"));
  checkNamePart(orchestrator, meta.path("orchestrator"));
  checkNamePart(workload, meta.path("workload"));
  checkNamePart(endpoint, meta.path("name"));

  // Orchestrator-specific identity, as Calico's converter: k8s workloads are "<ns>.<pod>"
  // (the seed's lab writes a bare pod name: then the namespace is "default"), cni workloads are
  // container IDs, libnetwork has a fixed workload.
  std::string ns = "default";
  std::string middle = workload;
  Json ids = Json::object();
  if (orchestrator == "k8s") {
    std::string pod = workload;
    if (const size_t dot = workload.find('.'); dot != std::string::npos) {
      ns = workload.substr(0, dot);
      pod = workload.substr(dot + 1);
      if (ns.empty() || pod.empty()) {
        fail(meta.path("workload"), inQuotes(workload) + " is not <namespace>.<pod>");
      }
      checkNamePart(pod, meta.path("workload"));
    }
    middle = pod;
    ids["pod"] = pod;
    if (auto id = meta.str("activeInstanceID")) ids["containerID"] = *id;
  } else if (orchestrator == "cni") {
    ids["containerID"] = workload;
  } else if (orchestrator == "libnetwork") {
    middle = "libnetwork";
    ids["workload"] = "libnetwork";
  } else {
    ids["workload"] = workload;
  }

  r.metadata["name"] = workloadEndpointName({node, orchestrator, middle, endpoint});
  r.metadata["namespace"] = ns;
  if (const Json* l = meta.get("labels")) {
    Json labels = labelMap(*l, meta.path("labels"));
    // v3 names the namespace label projectcalico.org/namespace (Calico's convertLabels).
    if (auto it = labels.find("calico/k8s_ns"); it != labels.end()) {
      Json value = *it;
      labels.erase("calico/k8s_ns");
      labels["projectcalico.org/namespace"] = value;
    }
    if (!labels.empty()) r.metadata["labels"] = labels;
  }

  r.spec["orchestrator"] = orchestrator;
  if (ids.contains("workload")) r.spec["workload"] = ids["workload"];
  r.spec["node"] = node;
  if (ids.contains("containerID")) r.spec["containerID"] = ids["containerID"];
  if (ids.contains("pod")) r.spec["pod"] = ids["pod"];
  r.spec["endpoint"] = endpoint;
  if (const Json* nets = spec.get("ipNetworks")) {
    r.spec["ipNetworks"] = mapList(*nets, spec.path("ipNetworks"), canonicalNet);
  }
  if (const Json* nats = spec.get("ipNATs")) {
    r.spec["ipNATs"] = mapList(*nats, spec.path("ipNATs"), [](const Json& v, const std::string& p) {
      Fields nat(&v, p, {"internalIP", "externalIP"});
      Json o = Json::object();
      o["internalIP"] = canonicalIp(nat.required("internalIP"), nat.path("internalIP"));
      o["externalIP"] = canonicalIp(nat.required("externalIP"), nat.path("externalIP"));
      return o;
    });
  }
  if (const Json* gw = spec.get("ipv4Gateway")) {
    r.spec["ipv4Gateway"] = canonicalIp(*gw, spec.path("ipv4Gateway"));
  }
  if (const Json* gw = spec.get("ipv6Gateway")) {
    r.spec["ipv6Gateway"] = canonicalIp(*gw, spec.path("ipv6Gateway"));
  }
  if (const Json* p = spec.get("profiles")) {
    r.spec["profiles"] = convertProfileList(*p, spec.path("profiles"));
  }
  if (auto iface = spec.str("interfaceName")) r.spec["interfaceName"] = *iface;
  if (auto mac = spec.str("mac")) r.spec["mac"] = *mac;
  if (const Json* p = spec.get("ports"))
    r.spec["ports"] = convertEndpointPorts(*p, spec.path("ports"));
  return r;
}

Resource convertHostEndpoint(const Fields& meta, const Fields& spec, std::vector<std::string>&) {
  Resource r;
  r.kind = Kind::kHostEndpoint;
  const std::string node = meta.requiredStr("node");
  // Calico's converter names a host endpoint "<node>.<v1 name>": v1 names were only unique
  // per node.
  r.metadata["name"] = node + "." + meta.requiredStr("name");
  if (const Json* l = meta.get("labels")) {
    if (Json labels = labelMap(*l, meta.path("labels")); !labels.empty()) {
      r.metadata["labels"] = labels;
    }
  }
  r.spec["node"] = node;
  if (auto iface = spec.str("interfaceName")) r.spec["interfaceName"] = *iface;
  if (const Json* ips = spec.get("expectedIPs")) {
    r.spec["expectedIPs"] = mapList(*ips, spec.path("expectedIPs"), canonicalIp);
  }
  if (const Json* p = spec.get("profiles")) {
    r.spec["profiles"] = convertProfileList(*p, spec.path("profiles"));
  }
  if (const Json* p = spec.get("ports"))
    r.spec["ports"] = convertEndpointPorts(*p, spec.path("ports"));
  return r;
}

Resource convert(const Json& document, std::vector<std::string>& warnings) {
  Fields top(&document, "", {"apiVersion", "kind", "metadata", "spec"});
  const std::string kind = top.requiredStr("kind");
  const Json* m = top.get("metadata");
  const Json* s = top.get("spec");
  if (kind == "node") {
    return convertNode(Fields(m, "metadata", {"name"}), Fields(s, "spec", {"bgp", "orchRefs"}),
                       warnings);
  }
  if (kind == "bgpPeer") {
    return convertBgpPeer(Fields(m, "metadata", {"scope", "node", "peerIP"}),
                          Fields(s, "spec", {"asNumber"}), warnings);
  }
  if (kind == "ipPool") {
    return convertIpPool(Fields(m, "metadata", {"cidr"}),
                         Fields(s, "spec", {"ipip", "nat-outgoing", "disabled"}), warnings);
  }
  if (kind == "policy") {
    return convertPolicy(Fields(m, "metadata", {"name", "annotations"}),
                         Fields(s, "spec",
                                {"order", "selector", "ingress", "egress", "types", "doNotTrack",
                                 "preDNAT", "applyOnForward"}),
                         warnings);
  }
  if (kind == "profile") {
    return convertProfile(Fields(m, "metadata", {"name", "labels", "tags"}),
                          Fields(s, "spec", {"ingress", "egress"}), warnings);
  }
  if (kind == "workloadEndpoint") {
    return convertWorkloadEndpoint(
        Fields(m, "metadata",
               {"name", "workload", "orchestrator", "node", "activeInstanceID", "labels"}),
        Fields(s, "spec",
               {"ipNetworks", "ipNATs", "ipv4Gateway", "ipv6Gateway", "interfaceName", "mac",
                "profiles", "ports"}),
        warnings);
  }
  if (kind == "hostEndpoint") {
    return convertHostEndpoint(
        Fields(m, "metadata", {"name", "node", "labels"}),
        Fields(s, "spec", {"interfaceName", "expectedIPs", "profiles", "ports"}), warnings);
  }
  fail("kind", inQuotes(kind) + " is not a v1 resource kind");
}

}  // namespace

std::string workloadEndpointName(const std::vector<std::string>& parts) {
  std::string name;
  for (const auto& part : parts) {
    if (!name.empty()) name += '-';
    for (char c : part) {
      name += c;
      if (c == '-') name += '-';
    }
  }
  return name;
}

Result<V1Conversion> convertV1(const Json& document) {
  V1Conversion out;
  try {
    out.resource = convert(document, out.warnings);
  } catch (const ConvertError& e) {
    return makeError(ErrorCode::kInvalid, e.path.empty() ? e.what : e.path + ": " + e.what);
  }
  return out;
}

Status normalizeRulePorts(Json& spec) {
  if (!spec.is_object()) return Status::ok();
  try {
    for (const char* direction : {"ingress", "egress"}) {
      auto rules = spec.find(direction);
      if (rules == spec.end() || !rules->is_array()) continue;
      for (size_t i = 0; i < rules->size(); ++i) {
        Json& rule = (*rules)[i];
        if (!rule.is_object()) continue;
        for (const char* side : {"source", "destination"}) {
          auto entity = rule.find(side);
          if (entity == rule.end() || !entity->is_object()) continue;
          for (const char* field : {"ports", "notPorts"}) {
            auto ports = entity->find(field);
            if (ports == entity->end() || !ports->is_array()) continue;
            const std::string path = "spec." + std::string(direction) + "[" + std::to_string(i) +
                                     "]." + side + "." + field;
            for (size_t p = 0; p < ports->size(); ++p) {
              (*ports)[p] = convertPort((*ports)[p], indexed(path, p));
            }
          }
        }
      }
    }
  } catch (const ConvertError& e) {
    return makeError(ErrorCode::kInvalid, e.path + ": " + e.what);
  }
  return Status::ok();
}

}  // namespace brindle::model
