#include "policy_diff/generator.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "model/codec.h"

namespace brindle::policydiff {

const std::vector<LabHost>& labHosts() {
  // Addresses in two /24s so that nets split the namespaces both ways.
  static const std::vector<LabHost> hosts = {
      {"w1", "default", "calipdw1", "10.70.0.1"},
      {"w2", "default", "calipdw2", "10.70.0.2"},
      {"w3", "default", "calipdw3", "10.70.1.3"},
      {"w4", "prod", "calipdw4", "10.70.1.4"},
      {"w5", "prod", "calipdw5", "10.70.0.5"},
      {"w6", "prod", "calipdw6", "10.70.1.6"},
      {"x1", "", "pdx1", "10.99.0.2"},
      {"x2", "", "pdx2", "10.98.0.2"},
  };
  return hosts;
}

const std::vector<std::string>& knownBugs() {
  static const std::vector<std::string> bugs = {"ipset-zero", "nets-notnets", "ns-notselector",
                                                "proto-notproto", "notnets-zero"};
  return bugs;
}

const std::vector<int>& tcpPorts() {
  static const std::vector<int> ports = {80, 443, 3306, 8080};
  return ports;
}

const std::vector<int>& udpPorts() {
  static const std::vector<int> ports = {53, 5353};
  return ports;
}

namespace {

const std::vector<std::string> kNamespaces = {"default", "prod"};

// Label keys and values endpoints, profiles and network sets draw from; small so that
// selectors hit often.
const std::vector<std::string> kEndpointKeys = {"app", "role", "tier"};
const std::vector<std::string> kProfileKeys = {"env", "team"};
const std::vector<std::string> kValues = {"a", "b", "c"};

// Rule nets: the workloads' addresses and blocks, the outside hosts, a net that holds nothing of
// the lab, and 0.0.0.0/0.
const std::vector<std::string> kNets = {
    "10.70.0.1/32",   "10.70.0.5/32", "10.70.1.4/32", "10.70.0.0/24", "10.70.1.0/24",
    "10.70.0.0/16",   "10.99.0.2/32", "10.99.0.0/24", "10.98.0.0/16", "10.64.0.0/10",
    "192.168.7.0/24", "0.0.0.0/0",    "10.70.1.3/32", "10.70.0.0/23"};
// Network set nets: mostly the outside hosts, sometimes a workload block or everything.
const std::vector<std::string> kSetNets = {"10.99.0.0/24",   "10.99.0.2/32", "10.98.0.0/16",
                                           "192.168.7.0/24", "10.70.1.0/24", "0.0.0.0/0"};
const std::vector<PortRange> kPorts = {
    {80, 80},  {443, 443}, {3306, 3306}, {8080, 8080}, {53, 53},     {5353, 5353}, {9999, 9999},
    {80, 443}, {1, 100},   {3000, 4000}, {5000, 6000}, {8000, 9000}, {444, 3305}};

// The JSON the validation sees for one drafted resource.
template <class T>
Json draftJson(const T& made) {
  return made.toJson();
}
template <>
Json draftJson(const Endpoint& made) {
  return made.toJson("node1");
}

}  // namespace

Generator::Generator(uint64_t seed, GeneratorOptions options)
    : rng_(seed * 0x9E3779B97F4A7C15ull + 1), options_(options) {}

size_t Generator::pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

bool Generator::chance(double p) { return std::bernoulli_distribution(p)(rng_); }

template <class T, class F>
T Generator::valid(F make) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    T made = make();
    Json list = Json::array({draftJson(made)});
    if (model::decodeResources(list.dump(), "generated").isOk()) return made;
    ++refused_;
  }
  throw std::runtime_error("generator: 50 refused drafts in a row");
}

LabelMap Generator::endpointLabels() {
  LabelMap out;
  for (const auto& k : kEndpointKeys) {
    if (chance(0.65)) out[k] = oneOf(kValues);
  }
  return out;
}

Sel Generator::leaf(bool namespaceKeys) {
  Sel s;
  // Mostly endpoint keys; profile-applied keys and the automatic namespace label now and then.
  if (namespaceKeys) {
    s.key = "projectcalico.org/namespace";
  } else if (chance(0.2)) {
    s.key = oneOf(kProfileKeys);
  } else {
    s.key = oneOf(kEndpointKeys);
  }
  const auto& values = namespaceKeys ? kNamespaces : kValues;
  switch (pick(6)) {
    case 0:
      s.op = Sel::Op::kEq;
      s.values = {oneOf(values)};
      break;
    case 1:
      s.op = Sel::Op::kNe;
      s.values = {oneOf(values)};
      break;
    case 2:
      s.op = Sel::Op::kIn;
      s.values = {oneOf(values), oneOf(values)};
      break;
    case 3:
      s.op = Sel::Op::kNotIn;
      s.values = {oneOf(values), oneOf(values)};
      break;
    case 4:
      s.op = Sel::Op::kHas;
      break;
    default:
      s.op = Sel::Op::kNotHas;
      break;
  }
  if (s.values.size() == 2 && s.values[0] == s.values[1]) s.values.pop_back();
  return s;
}

Sel Generator::selector(int depth) {
  size_t k = pick(depth > 0 ? 10 : 6);
  if (k == 0) return Sel{};  // all()
  if (k <= 5) return leaf(chance(0.1));
  Sel s;
  if (k <= 7) {
    s.op = Sel::Op::kAnd;
  } else if (k == 8) {
    s.op = Sel::Op::kOr;
  } else {
    s.op = Sel::Op::kNot;
    s.kids = {selector(depth - 1)};
    return s;
  }
  s.kids = {selector(depth - 1), selector(depth - 1)};
  return s;
}

Sel Generator::namespaceSelector() {
  Sel s;
  s.key = "projectcalico.org/name";
  switch (pick(6)) {
    case 0:
      s.op = Sel::Op::kAll;
      s.key.clear();
      break;
    case 1:
      s.op = Sel::Op::kGlobal;
      s.key.clear();
      break;
    case 2:
      s.op = Sel::Op::kEq;
      s.values = {oneOf(kNamespaces)};
      break;
    case 3:
      s.op = Sel::Op::kNe;
      s.values = {oneOf(kNamespaces)};
      break;
    case 4:
      s.op = Sel::Op::kIn;
      s.values = kNamespaces;
      break;
    default:
      s.op = Sel::Op::kHas;
      break;
  }
  return s;
}

std::vector<std::string> Generator::nets() {
  std::vector<std::string> out = {oneOf(kNets)};
  if (chance(0.4)) {
    std::string more = oneOf(kNets);
    if (more != out[0]) out.push_back(more);
  }
  if (options_.avoids("ipset-zero") && out.size() > 1) {
    // Known bug 1: 0.0.0.0/0 among two or more nets goes into an ipset.
    out.erase(std::remove(out.begin(), out.end(), "0.0.0.0/0"), out.end());
  }
  return out;
}

std::vector<PortRange> Generator::ports() {
  std::vector<PortRange> out = {oneOf(kPorts)};
  if (chance(0.4)) out.push_back(oneOf(kPorts));
  return out;
}

Side Generator::side(bool destination, bool namespaced, const std::string& protocol) {
  Side s;
  if (chance(0.3)) s.nets = nets();
  if (chance(0.2) && !(options_.avoids("nets-notnets") && !s.nets.empty())) s.notNets = nets();
  if (options_.avoids("notnets-zero")) {
    s.notNets.erase(std::remove(s.notNets.begin(), s.notNets.end(), "0.0.0.0/0"), s.notNets.end());
  }
  if (chance(0.35)) s.selector = selector(2);
  if (chance(0.2)) s.notSelector = selector(1);
  if (chance(0.2)) s.namespaceSelector = namespaceSelector();
  if (options_.avoids("ns-notselector") && namespaced && s.notSelector && !s.selector &&
      !s.namespaceSelector) {
    // Known bug 3: a NetworkPolicy side with only a notSelector is not scoped to the namespace.
    s.selector = Sel{};
  }
  if (destination && (protocol == "TCP" || protocol == "UDP")) {
    if (chance(0.45)) s.ports = ports();
    if (chance(0.2)) s.notPorts = ports();
  }
  return s;
}

Rule Generator::rule(bool inProfile, bool namespaced) {
  Rule r;
  static const std::vector<std::string> kPolicyActions = {"Allow", "Allow", "Allow", "Deny",
                                                          "Deny",  "Pass",  "Log"};
  static const std::vector<std::string> kProfileActions = {"Allow", "Allow", "Deny", "Log"};
  r.action = oneOf(inProfile ? kProfileActions : kPolicyActions);
  static const std::vector<std::string> kProtocols = {"TCP", "TCP", "UDP", "ICMP", "ICMP", "SCTP"};
  std::string protocol;
  if (chance(0.6)) {
    protocol = oneOf(kProtocols);
    r.protocol = protocol;
  }
  if (chance(0.15) && !(options_.avoids("proto-notproto") && r.protocol)) {
    std::string notProtocol = oneOf(kProtocols);
    if (notProtocol != protocol) r.notProtocol = notProtocol;
  }
  if (protocol == "ICMP") {
    static const std::vector<int> kTypes = {8, 8, 0, 3};
    auto icmp = [&] {
      Icmp i{oneOf(kTypes), std::nullopt};
      if (chance(0.4)) i.code = static_cast<int>(pick(2));
      return i;
    };
    if (chance(0.45)) r.icmp = icmp();
    if (chance(0.25)) r.notICMP = icmp();
  }
  if (chance(0.35)) r.source = side(false, namespaced, protocol);
  if (chance(0.45)) r.destination = side(true, namespaced, protocol);
  return r;
}

std::vector<Rule> Generator::rules(bool inProfile, bool namespaced, size_t max) {
  std::vector<Rule> out(pick(max + 1));
  for (auto& r : out) r = rule(inProfile, namespaced);
  return out;
}

Policy Generator::policy(size_t index, const std::vector<Policy>& earlier) {
  Policy p;
  p.global = chance(0.5);
  p.ns = p.global ? "" : oneOf(kNamespaces);
  p.name = (p.global ? "gnp-" : "np-") + std::to_string(index);
  static const std::vector<double> kOrders = {1, 5, 10, 10, 20, 100.5};
  if (chance(0.75)) p.order = oneOf(kOrders);
  // Equal orders are broken by name; Calico compares names within one kind and namespace, and
  // how it compares a GlobalNetworkPolicy with a NetworkPolicy is not documented: such ties get
  // a distinct order instead.
  for (const auto& e : earlier) {
    if (e.order == p.order && (e.global != p.global || e.ns != p.ns)) {
      p.order = 200 + static_cast<double>(index);
      break;
    }
  }
  p.selector = chance(0.15) ? Sel{} : selector(2);
  p.ingress = rules(false, !p.global, 3);
  p.egress = rules(false, !p.global, 3);
  if (chance(0.55)) {
    // Explicit types: the directions with rules, and sometimes one without (default deny).
    std::vector<std::string> types;
    if (!p.ingress.empty() || chance(0.4)) types.push_back("Ingress");
    if (!p.egress.empty() || chance(0.4)) types.push_back("Egress");
    if (types.empty()) types.push_back(chance(0.5) ? "Ingress" : "Egress");
    p.types = types;
  }
  return p;
}

Profile Generator::profile(size_t index) {
  Profile p;
  p.name = "prof-" + std::to_string(index);
  if (chance(0.6)) p.labelsToApply[oneOf(kProfileKeys)] = oneOf(kValues);
  p.ingress = rules(true, false, 3);
  p.egress = rules(true, false, 3);
  return p;
}

NetSet Generator::netSet(size_t index) {
  NetSet s;
  s.global = chance(0.5);
  s.ns = s.global ? "" : oneOf(kNamespaces);
  s.name = (s.global ? "gns-" : "ns-") + std::to_string(index);
  s.labels = endpointLabels();
  if (s.labels.empty()) s.labels["app"] = oneOf(kValues);
  std::set<std::string> nets = {oneOf(kSetNets)};
  if (chance(0.4)) nets.insert(oneOf(kSetNets));
  // Known bug 1: a network set's nets always go into an ipset.
  if (options_.avoids("ipset-zero")) nets.erase("0.0.0.0/0");
  if (nets.empty()) nets.insert("10.99.0.0/24");
  s.nets.assign(nets.begin(), nets.end());
  return s;
}

State Generator::state() {
  State st;
  size_t profiles = 1 + pick(3);
  for (size_t i = 0; i < profiles; ++i) {
    st.profiles.push_back(valid<Profile>([&] { return profile(i); }));
  }
  for (const auto& h : labHosts()) {
    if (!h.workload()) continue;
    Endpoint e;
    e.name = "node1-k8s-" + h.name + "-eth0";
    e.ns = h.ns;
    e.workload = h.name;
    e.iface = h.iface;
    e.ip = h.ip;
    e.labels = endpointLabels();
    // Up to two profiles whose labelsToApply do not disagree on a key (which one would win is
    // not documented).
    LabelMap applied;
    for (size_t n = pick(3); n > 0; --n) {
      const Profile& p = oneOf(st.profiles);
      if (std::find(e.profiles.begin(), e.profiles.end(), p.name) != e.profiles.end()) continue;
      bool clash = false;
      for (const auto& [k, v] : p.labelsToApply) {
        if (applied.count(k) && applied[k] != v) clash = true;
      }
      if (clash) continue;
      applied.insert(p.labelsToApply.begin(), p.labelsToApply.end());
      e.profiles.push_back(p.name);
    }
    st.endpoints.push_back(valid<Endpoint>([&] { return e; }));
  }
  size_t sets = pick(4);
  for (size_t i = 0; i < sets; ++i) {
    st.netSets.push_back(valid<NetSet>([&] { return netSet(i); }));
  }
  size_t policies = 3 + pick(6);
  for (size_t i = 0; i < policies; ++i) {
    st.policies.push_back(valid<Policy>([&] { return policy(i, st.policies); }));
  }
  return st;
}

std::vector<Packet> Generator::probes(size_t count) {
  std::vector<Packet> out;
  std::set<std::string> seen;
  const auto& hosts = labHosts();
  for (int attempt = 0; out.size() < count && attempt < 1000; ++attempt) {
    const LabHost& from = oneOf(hosts);
    const LabHost& to = oneOf(hosts);
    if (&from == &to || (!from.workload() && !to.workload())) continue;
    Packet p;
    p.srcIp = from.ip;
    p.dstIp = to.ip;
    size_t kind = pick(10);
    if (kind < 5) {
      p.proto = "tcp";
      p.port = oneOf(tcpPorts());
    } else if (kind < 7) {
      p.proto = "udp";
      p.port = oneOf(udpPorts());
    } else {
      p.proto = "icmp";
    }
    if (seen.insert(p.text()).second) out.push_back(p);
  }
  return out;
}

}  // namespace brindle::policydiff
