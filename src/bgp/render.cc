#include "bgp/render.h"

#include <sstream>

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

void renderPeer(std::ostream& o, const NodeConfig& c, const Peer& p) {
  const bool reflect = !c.rrClusterId.empty() && p.asNumber == c.asNumber;
  o << "protocol bgp " << p.name << " from brindle_bgp {\n";
  o << "  description " << quoted(peerTypeName(p.type)) << ";\n";
  o << "  neighbor " << p.ip.toString();
  if (p.port) o << " port " << *p.port;
  o << " as " << p.asNumber << ";\n";
  if (p.sourceAddress) o << "  source address " << p.sourceAddress->toString() << ";\n";
  if (reflect || p.nextHopKeep || p.nextHopSelf) {
    o << "  " << c.channel() << " {";
    if (reflect) o << " export filter brindle_reflect;";
    if (p.nextHopKeep) o << " next hop keep;";
    if (p.nextHopSelf) o << " next hop self;";
    o << " };\n";
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
  o << "function brindle_own() {\n";
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
  o << "filter brindle_export { brindle_own(); reject; }\n";
  if (!c.rrClusterId.empty()) {
    o << "filter brindle_reflect { brindle_own(); if source = RTS_BGP then accept; reject; }\n";
  }
  o << "# Into the kernel: what peers announce, the blackholes of our own blocks (so unused\n"
       "# addresses of a block do not loop), routes held while sessions are replaced\n"
       "# (brindle_hold). Routes other programs made are never touched.\n";
  o << "filter brindle_to_kernel {\n  if source = RTS_BGP || proto = \"brindle_blocks\" || "
       "proto = \"brindle_hold\" then accept;\n  reject;\n}\n\n";

  o << "protocol device { scan time 2; }\n";
  o << "protocol direct brindle_direct {\n  " << ch
    << ";\n  interface -\"cali*\", -\"kube-ipvs*\", -\"tunl0\", \"*\";\n}\n";
  o << "protocol kernel brindle_kernel {\n  " << ch
    << " { import all; export filter brindle_to_kernel; };\n"
       "  learn;            # workload routes the CNI plugin adds\n"
       "  persist;          # routes stay when BIRD stops (graceful restart)\n"
       "  scan time 2;\n  graceful restart;\n  merge paths on;  # ECMP\n"
       "  netlink rx buffer 8388608;  # bursts of route changes: an overflow waits for a scan\n"
       "}\n";
  renderStatic(o, c, "brindle_blocks", c.blocks);
  renderStatic(o, c, "brindle_services", c.serviceRanges);
  if (std::any_of(c.peers.begin(), c.peers.end(), [](const Peer& p) { return p.bfd; })) {
    o << "protocol bfd brindle_bfd { }\n";
  }
  o << "\n";

  o << "template bgp brindle_bgp {\n  local";
  if (c.listenPort) o << " port " << *c.listenPort;
  o << " as " << c.asNumber << ";\n";
  o << "  " << ch << " { import all; export filter brindle_export; gateway recursive; };\n";
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
