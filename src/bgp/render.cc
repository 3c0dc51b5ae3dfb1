#include "bgp/render.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "common/digest.h"

namespace brindle::bgp {
namespace {

// Host-side workload interfaces: brindle-cni names them "cali" + a hash (cni/naming.cc), as
// Calico's CNI plugin does, whatever the agent's InterfacePrefix (a policy setting); confd's
// templates match "cali*" too.
constexpr const char* kWorkloadInterfaces = "\"cali*\"";

// BIRD's log classes for Calico's logSeverityScreen.
const char* logClasses(const std::string& severity) {
  if (severity == "Debug") return "all";
  if (severity == "Warning") return "{ warning, error, auth, fatal, bug }";
  if (severity == "Error") return "{ error, fatal, bug }";
  if (severity == "Fatal") return "{ fatal, bug }";
  return "{ info, remote, warning, error, auth, fatal, bug }";
}

// BIRD strings have no escapes; computeNodeConfig refuses passwords holding quotes.
std::string quoted(const std::string& text) { return "\"" + text + "\""; }

// What a peer is sent: our own routes and, from a reflector to its clients, what BGP brought.
const char* exportBody(bool reflect) {
  return reflect ? "brindle_own(); if source = RTS_BGP then accept; reject;"
                 : "brindle_own(); reject;";
}

// confd's function name for a BGPFilter: 'bgp_<name>_importFilterV4', the name cut to fit BIRD's
// 64-character symbols and then told apart by the start of its SHA-256.
std::string filterFunction(const std::string& filter, bool import, int family) {
  const std::string suffix =
      std::string(import ? "_import" : "_export") + "FilterV" + std::to_string(family);
  const size_t room = 64 - 4 - suffix.size();
  std::string name = filter;
  if (name.size() > room) {
    static const char* kHex = "0123456789ABCDEF";
    const auto digest = sha256(filter);
    name = filter.substr(0, room - 17) + "_";
    for (int i = 0; i < 8; ++i) name += {kHex[digest[i] >> 4], kHex[digest[i] & 15]};
  }
  return "'bgp_" + name + suffix + "'";
}

// One rule as confd writes it: conditions on prefix, source and interface, then the action.
std::string filterStatement(const model::BgpFilterRule& r) {
  std::vector<std::string> conditions;
  if (!r.cidr.empty()) {
    static const std::map<std::string, std::string> kOperator = {
        {"Equal", "="}, {"NotEqual", "!="}, {"In", "~"}, {"NotIn", "!~"}};
    std::string net = r.cidr;
    if (r.prefixMin || r.prefixMax) {
      const Cidr cidr = *Cidr::parse(r.cidr);
      const int min = std::max(cidr.prefixLength(), r.prefixMin.value_or(0));
      const int max = std::min(cidr.address().bits(), r.prefixMax.value_or(128));
      net = "[ " + r.cidr + "{" + std::to_string(min) + "," + std::to_string(max) + "} ]";
    }
    conditions.push_back("(net " + kOperator.at(r.matchOperator) + " " + net + ")");
  }
  if (r.remotePeers) conditions.push_back("((defined(source))&&(source ~ [ RTS_BGP ]))");
  if (!r.interface.empty()) {
    conditions.push_back("((defined(ifname))&&(ifname ~ " + quoted(r.interface) + "))");
  }
  const std::string action = r.accept ? "accept;" : "reject;";
  if (conditions.empty()) return action;
  std::string joined;
  for (const auto& cond : conditions) joined += (joined.empty() ? "" : "&&") + cond;
  return "if (" + joined + ") then { " + action + " }";
}

void renderFilters(std::ostream& o, const NodeConfig& c) {
  if (c.filters.empty()) return;
  o << "# BGPFilters, as confd defines them; a peer's import and export call those it names,\n"
       "# in order, and the first rule that matches decides.\n";
  for (const auto& f : c.filters) {
    if (f.rules(true, c.family).empty() && f.rules(false, c.family).empty()) continue;
    o << "# v" << c.family << " BGPFilter " << f.name << "\n";
    for (bool import : {true, false}) {
      if (f.rules(import, c.family).empty()) continue;
      o << "function " << filterFunction(f.name, import, c.family) << "() {\n";
      for (const auto& r : f.rules(import, c.family)) o << "  " << filterStatement(r) << "\n";
      o << "}\n";
    }
  }
}

// Calls of the peer's BGPFilter functions that have rules for this direction and family.
std::string filterCalls(const NodeConfig& c, const Peer& p, bool import) {
  std::string calls;
  for (const auto& name : p.filters) {
    for (const auto& f : c.filters) {
      if (f.name == name && !f.rules(import, c.family).empty()) {
        calls += filterFunction(name, import, c.family) + "(); ";
      }
    }
  }
  return calls;
}

void renderPeer(std::ostream& o, const NodeConfig& c, const Peer& p) {
  const bool reflect = !c.rrClusterId.empty() && p.asNumber == p.localAs.value_or(c.asNumber);
  const std::string imports = filterCalls(c, p, true);
  const std::string exports = filterCalls(c, p, false);
  o << "protocol bgp " << p.name << " from brindle_bgp {\n";
  o << "  description " << quoted(peerTypeName(p.type)) << ";\n";
  if (p.localAs) o << "  local as " << *p.localAs << ";\n";
  o << "  neighbor " << p.ip.toString();
  if (p.port) o << " port " << *p.port;
  o << " as " << p.asNumber << ";\n";
  if (p.sourceAddress) o << "  source address " << p.sourceAddress->toString() << ";\n";
  // The peer's channel options: on one line, or one a line when BGPFilters make them long.
  std::vector<std::string> channel;
  if (!imports.empty()) channel.push_back("import filter { " + imports + "accept; };");
  if (!exports.empty()) {
    channel.push_back("export filter { " + exports + exportBody(reflect) + " };");
  } else if (reflect) {
    channel.push_back("export filter brindle_reflect;");
  }
  if (p.nextHopKeep) channel.push_back("next hop keep;");
  if (p.nextHopSelf) channel.push_back("next hop self;");
  if (!channel.empty()) {
    const bool multiline = !imports.empty() || !exports.empty();
    o << "  " << c.channel() << " {";
    for (const auto& line : channel) o << (multiline ? "\n    " : " ") << line;
    o << (multiline ? "\n  };\n" : " };\n");
  }
  if (p.ttlSecurity > 0) {
    o << "  ttl security on;\n  multihop " << p.ttlSecurity << ";\n";
  } else {
    o << "  ttl security off;\n  multihop;\n";
  }
  if (!p.rrClusterId.empty()) o << "  rr client;\n  rr cluster id " << p.rrClusterId << ";\n";
  if (p.password) o << "  password " << quoted(*p.password) << ";\n";
  if (p.keepaliveSeconds) {
    o << "  keepalive time " << *p.keepaliveSeconds << ";\n  hold time " << 3 * *p.keepaliveSeconds
      << ";\n";
  }
  if (p.restartSeconds) o << "  graceful restart time " << *p.restartSeconds << ";\n";
  if (p.longLivedRestart) o << "  long lived graceful restart on;\n";
  if (p.bfd) o << "  bfd on;\n";
  if (p.allowLocalAs > 0) o << "  allow local as " << p.allowLocalAs << ";\n";
  if (p.passive) o << "  passive on;\n";
  o << "}\n";
}

void renderStatic(std::ostream& o, const NodeConfig& c, const char* name,
                  const std::vector<Cidr>& routes) {
  o << "protocol static " << name << " {\n  " << c.channel() << ";\n";
  for (const Cidr& r : routes) o << "  route " << r.toString() << " blackhole;\n";
  o << "}\n";
}

// IPIP (docs/bgp.md): the agent routes these through tunl0 (ipip.h decides the same way), so
// BIRD installs no plain route to compete with it.
void renderIpipRejects(std::ostream& o, const NodeConfig& c) {
  for (const IpipPool& pool : c.ipipPools) {
    o << "  if source = RTS_BGP && net ~ [ " << pool.cidr.toString() << "+ ]";
    if (pool.crossSubnet && c.subnet) o << " && !(bgp_next_hop ~ " << c.subnet->toString() << ")";
    o << " then reject;  # IPIP " << (pool.crossSubnet ? "CrossSubnet" : "Always") << "\n";
  }
}

}  // namespace

std::string renderBird(const NodeConfig& c) {
  std::ostringstream o;
  const std::string ch = c.channel();
  o << "# BIRD configuration of node " << c.node << " (IPv" << c.family
    << "), rendered by Brindle from the datastore. Do not edit: it is rewritten.\n";
  for (const auto& note : c.notes) o << "# Note: " << note << "\n";
  o << "router id " << c.routerId.toString() << ";\n";
  o << "log stderr " << logClasses(c.logSeverity) << ";\n\n";

  o << "# Routes this node announces: its IPAM blocks, services, and its workloads outside its\n"
       "# blocks (borrowed or hand-given addresses): the host routes the kernel has to workload\n"
       "# interfaces, so that workloads come and go without a reconfigure.\n";
  if (!c.communities.empty()) {
    o << "# BGPConfiguration prefixAdvertisements: communities for what we announce.\n"
         "function brindle_communities() {\n";
    for (const auto& a : c.communities) {
      o << "  if net ~ " << a.cidr << " then {\n";
      for (const auto& value : a.communities) {
        std::string parts;  // "a:b:c" -> "a, b, c", as confd writes it
        for (char ch : value) parts += ch == ':' ? std::string(", ") : std::string(1, ch);
        const bool large = std::count(value.begin(), value.end(), ':') == 2;
        o << "    " << (large ? "bgp_large_community" : "bgp_community") << ".add((" << parts
          << "));\n";
      }
      o << "  }\n";
    }
    o << "}\n";
  }
  o << "function brindle_own() {\n";
  for (const Cidr& pool : c.noExport) {
    o << "  if net ~ " << pool.toString() << " then reject;  # IPPool disableBGPExport\n";
  }
  if (!c.communities.empty()) o << "  brindle_communities();\n";
  o << "  if proto = \"brindle_blocks\" || proto = \"brindle_services\" then accept;\n";
  o << "  if source = RTS_INHERIT && ifname ~ " << kWorkloadInterfaces
    << " && net.len = " << (c.family == 4 ? 32 : 128);
  if (!c.blocks.empty()) {
    o << " && net !~ [";
    for (size_t i = 0; i < c.blocks.size(); ++i) {
      o << (i == 0 ? " " : ", ") << c.blocks[i].toString() << "+";
    }
    o << " ]";
  }
  o << " then accept;\n}\n";
  o << "filter brindle_export { " << exportBody(false) << " }\n";
  if (!c.rrClusterId.empty()) {
    o << "filter brindle_reflect { " << exportBody(true) << " }\n";
  }
  o << "# Into the kernel: what peers announce, the blackholes of our own blocks (so unused\n"
       "# addresses of a block do not loop), routes held while sessions are replaced\n"
       "# (brindle_hold). Routes other programs made are never touched.\n";
  o << "filter brindle_to_kernel {\n";
  renderIpipRejects(o, c);
  o << "  if source = RTS_BGP || proto = \"brindle_blocks\" || proto = \"brindle_hold\" then "
       "accept;\n";
  const bool peerRoutes =
      std::any_of(c.peers.begin(), c.peers.end(), [](const Peer& p) { return p.reachableBy; });
  if (peerRoutes) o << "  if proto = \"brindle_peer_routes\" then accept;  # reachableBy\n";
  o << "  reject;\n}\n";
  renderFilters(o, c);
  o << "\n";

  o << "protocol device { scan time 2; }\n";
  o << "protocol direct brindle_direct {\n  " << ch << ";\n  interface ";
  for (const auto& name : c.ignoredInterfaces) o << "-" << quoted(name) << ", ";
  o << "-\"cali*\", -\"kube-ipvs*\", -\"tunl0\", \"*\";\n}\n";
  o << "protocol kernel brindle_kernel {\n  " << ch
    << " { import all; export filter brindle_to_kernel; };\n"
       "  learn;            # workload routes the CNI plugin adds\n"
       "  persist;          # routes stay when BIRD stops (graceful restart)\n"
       "  scan time 2;\n  graceful restart;\n  merge paths on;  # ECMP\n"
       "  netlink rx buffer 8388608;  # bursts of route changes: an overflow waits for a scan\n"
       "}\n";
  renderStatic(o, c, "brindle_blocks", c.blocks);
  renderStatic(o, c, "brindle_services", c.serviceRanges);
  if (peerRoutes) {
    o << "# Peers reachable by a gateway (BGPPeer reachableBy); into the kernel, not to peers.\n"
      << "protocol static brindle_peer_routes {\n  " << ch << ";\n";
    for (const auto& p : c.peers) {
      if (!p.reachableBy) continue;
      o << "  route " << p.ip.toString() << "/" << p.ip.bits() << " via "
        << p.reachableBy->toString() << ";\n";
    }
    o << "}\n";
  }
  if (std::any_of(c.peers.begin(), c.peers.end(), [](const Peer& p) { return p.bfd; })) {
    o << "protocol bfd brindle_bfd { }\n";
  }
  o << "\n";

  o << "template bgp brindle_bgp {\n  local";
  if (c.listenAddress) o << " " << c.listenAddress->toString();
  if (c.listenPort) o << " port " << *c.listenPort;
  o << " as " << c.asNumber << ";\n";
  o << "  " << ch << " { import all; export filter brindle_export; gateway recursive; };\n";
  // bindMode: NodeIP: listen on the node's address only (BIRD 2's strict bind; the address is
  // also the session's source unless a peer sets another).
  if (c.listenAddress) o << "  strict bind on;\n";
  o << "  graceful restart;\n  connect delay time 2;\n  connect retry time 5;\n"
       "  error wait time 5,30;\n}\n";
  if (c.peers.empty()) o << "# No BGP peers.\n";
  for (const auto& p : c.peers) renderPeer(o, c, p);
  return o.str();
}

std::string renderHold(int family, const std::vector<std::string>& routes) {
  std::ostringstream o;
  o << kHoldStart << ": the kernel's routes from BIRD, below BGP's\n"
    << "# preference (100), so they stay in the kernel until BGP brings them back.\n";
  o << "protocol static brindle_hold {\n  " << (family == 4 ? "ipv4" : "ipv6")
    << " { preference 50; };\n";
  for (const auto& r : routes) o << "  route " << r << ";\n";
  o << "}\n";
  return o.str();
}

}  // namespace brindle::bgp
