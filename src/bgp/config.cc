#include "bgp/config.h"

#include <algorithm>
#include <set>

#include "bgp/ipip.h"
#include "model/views.h"
#include "selector/selector.h"

namespace brindle::bgp {
namespace {

using model::NodeBgpView;

Error invalid(const std::string& what, const std::string& why) {
  return makeError(ErrorCode::kInvalid, what + ": " + why);
}

// What the decision needs beside the peer resources: every node's view and the BGP settings.
struct Cluster {
  std::vector<NodeBgpView> nodes;
  model::BgpConfigView global;
  std::map<std::string, model::BgpConfigView> perNode;  // BGPConfiguration node.<name>

  const NodeBgpView* find(const std::string& name) const {
    for (const auto& n : nodes) {
      if (n.name == name) return &n;
    }
    return nullptr;
  }
  const NodeBgpView* byAddress(const IpAddr& ip, int family) const {
    for (const auto& n : nodes) {
      if (n.address(family) && n.address(family)->ip == ip) return &n;
    }
    return nullptr;
  }
  uint32_t asOf(const NodeBgpView& n) const {
    return n.asNumber.value_or(global.asNumber.value_or(kDefaultAsNumber));
  }
  // A node's BGP port: its own BGPConfiguration's, else the global one.
  std::optional<int> listenPort(const std::string& name) const {
    const auto it = perNode.find(name);
    if (it != perNode.end() && it->second.listenPort) return it->second.listenPort;
    return global.listenPort;
  }
};

Result<Cluster> readCluster(const Inputs& in) {
  Cluster c;
  for (const auto& r : in.nodes) {
    auto v = model::nodeBgpView(r);
    if (!v) return invalid("Node(" + r.name() + ")", v.message());
    c.nodes.push_back(std::move(*v));
  }
  for (const auto& r : in.configs) {
    auto v = model::bgpConfigView(r);
    if (!v) return invalid("BGPConfiguration(" + r.name() + ")", v.message());
    if (r.name() == "default") {
      c.global = std::move(*v);
    } else if (r.name().rfind("node.", 0) == 0) {
      c.perNode[r.name().substr(5)] = std::move(*v);
    }
  }
  return c;
}

std::string protocolName(const char* prefix, const IpAddr& ip, std::optional<int> port) {
  std::string name = std::string(prefix) + "_" + ip.toString();
  std::replace_if(
      name.begin(), name.end(), [](char ch) { return ch == '.' || ch == ':'; }, '_');
  if (port) name += "_port_" + std::to_string(*port);
  return name;
}

// confd makes one side of a session between Calico nodes passive, so the two do not both
// connect: the side whose own address sorts lower as text waits.
bool waitsForPeer(const IpAddr& peer, const IpAddr& own) {
  return peer.toString() > own.toString();
}

Result<selector::Selector> parseSelector(const std::string& text, const std::string& what) {
  auto s = selector::Selector::parse(text);
  if (!s) return invalid(what, s.message());
  return s;
}

IpAddr routerIdFor(const NodeBgpView& node) {
  if (node.ipv4) return node.ipv4->ip;
  // No IPv4 address: a stable 32-bit id from the name (FNV-1a), as BIRD needs one.
  uint32_t h = 2166136261u;
  for (unsigned char ch : node.name) h = (h ^ ch) * 16777619u;
  return *IpAddr::parse(std::to_string(h >> 24) + "." + std::to_string(h >> 16 & 255) + "." +
                        std::to_string(h >> 8 & 255) + "." + std::to_string(h & 255));
}

class Decider {
 public:
  Decider(const Inputs& in, const Cluster& cluster, const NodeBgpView& self, int family)
      : in_(in), cluster_(cluster), self_(self), family_(family), own_(*self.address(family)) {}

  Status addMesh(NodeConfig& out) {
    const auto& g = cluster_.global;
    if (!g.meshEnabled || !self_.rrClusterId.empty()) return Status::ok();
    std::optional<std::string> password;
    if (g.nodeMeshPassword) {
      BRINDLE_ASSIGN_OR_RETURN(
          auto p, secret(*g.nodeMeshPassword, "BGPConfiguration(default).spec.nodeMeshPassword"));
      password = p;
    }
    for (const auto& n : cluster_.nodes) {
      // Reflectors leave the mesh; their clients reach them through BGPPeers.
      if (!n.address(family_) || !n.rrClusterId.empty()) continue;
      const IpAddr ip = n.address(family_)->ip;
      if (ip == own_.ip) continue;
      Peer p = base("Mesh", PeerType::kMesh, ip, cluster_.listenPort(n.name), cluster_.asOf(n));
      p.sourceAddress = own_.ip;
      p.passive = waitsForPeer(ip, own_.ip);
      p.password = password;
      p.restartSeconds = g.nodeMeshMaxRestartSeconds;
      add(out, std::move(p));
    }
    return Status::ok();
  }

  Status addPeer(const model::Resource& resource, NodeConfig& out) {
    const std::string what = "BGPPeer(" + resource.name() + ")";
    auto view = model::bgpPeerView(resource);
    if (!view) return invalid(what, view.message());
    const model::BgpPeerView& v = *view;
    for (const auto& f : v.filters) {
      if (std::none_of(in_.filters.begin(), in_.filters.end(),
                       [&](const model::Resource& r) { return r.name() == f; })) {
        return invalid(what + ".spec.filters", "no BGPFilter named " + f);
      }
    }
    BRINDLE_ASSIGN_OR_RETURN(auto appliesHere, applies(v, self_, what));
    const bool global = v.node.empty() && v.nodeSelector.empty() && v.peerSelector.empty();
    const PeerType type = global ? PeerType::kGlobal : PeerType::kNode;
    if (appliesHere && v.peerIp) {
      if (v.peerIp->isV4() != (family_ == 4)) return Status::ok();
      const NodeBgpView* node = cluster_.byAddress(*v.peerIp, family_);
      std::optional<int> port = v.port;
      if (!port && node != nullptr) port = cluster_.listenPort(node->name);
      const uint32_t as = v.asNumber.value_or(cluster_.asOf(self_));
      BRINDLE_ASSIGN_OR_RETURN(
          auto p, build(v, type, *v.peerIp, port, as, node ? node->rrClusterId : "", what));
      if (node != nullptr && type == PeerType::kGlobal) p.passive = waitsForPeer(p.ip, own_.ip);
      if (v.reachableBy && v.reachableBy->isV4() == (family_ == 4)) p.reachableBy = v.reachableBy;
      add(out, std::move(p));
    }
    if (v.peerSelector.empty()) return Status::ok();
    BRINDLE_ASSIGN_OR_RETURN(auto peers,
                             parseSelector(v.peerSelector, what + ".spec.peerSelector"));
    for (const auto& n : cluster_.nodes) {
      if (n.name == self_.name || !n.address(family_)) continue;
      bool peerWith = appliesHere && peers.matches(n.labels);
      // Calico adds the reverse of a selector peering unless asked not to.
      if (!peerWith && !v.reversePeeringManual && peers.matches(self_.labels)) {
        BRINDLE_ASSIGN_OR_RETURN(peerWith, applies(v, n, what));
      }
      if (!peerWith) continue;
      BRINDLE_ASSIGN_OR_RETURN(
          auto p, build(v, PeerType::kNode, n.address(family_)->ip, cluster_.listenPort(n.name),
                        cluster_.asOf(n), n.rrClusterId, what));
      add(out, std::move(p));
    }
    return Status::ok();
  }

 private:
  Result<bool> applies(const model::BgpPeerView& v, const NodeBgpView& node,
                       const std::string& what) const {
    if (!v.node.empty()) return v.node == node.name;
    if (v.nodeSelector.empty()) return true;
    BRINDLE_ASSIGN_OR_RETURN(auto s, parseSelector(v.nodeSelector, what + ".spec.nodeSelector"));
    return s.matches(node.labels);
  }

  Result<std::string> secret(const model::SecretRef& ref, const std::string& what) const {
    const auto it = in_.secrets.find(ref);
    if (it == in_.secrets.end()) {
      return invalid(what, "no password for secret " + ref.name + "/" + ref.key);
    }
    // BIRD's strings have no escapes: a quote or line break would end the password early.
    if (it->second.find_first_of("\"\n\r") != std::string::npos) {
      return invalid(what, "the password of secret " + ref.name + "/" + ref.key +
                               " holds a quote or line break, which BIRD cannot take");
    }
    return it->second;
  }

  Peer base(const char* prefix, PeerType type, const IpAddr& ip, std::optional<int> port,
            uint32_t as) const {
    Peer p;
    p.name = protocolName(prefix, ip, port);
    p.type = type;
    p.ip = ip;
    p.port = port;
    p.asNumber = as;
    return p;
  }

  Result<Peer> build(const model::BgpPeerView& v, PeerType type, const IpAddr& ip,
                     std::optional<int> port, uint32_t as, const std::string& peerClusterId,
                     const std::string& what) const {
    Peer p = base(type == PeerType::kGlobal ? "Global" : "Node", type, ip, port, as);
    if (v.useNodeIp) p.sourceAddress = own_.ip;
    if (v.password) {
      BRINDLE_ASSIGN_OR_RETURN(p.password, secret(*v.password, what + ".spec.password"));
    }
    p.keepaliveSeconds = v.keepaliveSeconds;
    p.restartSeconds = v.maxRestartSeconds;
    p.longLivedRestart = v.longLivedRestart;
    p.bfd = v.bfd;
    p.ttlSecurity = v.ttlSecurity;
    const uint32_t ownAs = v.localAsNumber.value_or(cluster_.asOf(self_));
    p.localAs = v.localAsNumber;
    p.nextHopKeep = v.nextHopMode == "Keep" || (v.keepOriginalNextHop && as != ownAs);
    p.nextHopSelf = v.nextHopMode == "Self";
    p.allowLocalAs = v.numAllowedLocalAs;
    p.filters = v.filters;
    // A reflector serves its same-AS peers as clients, except reflectors of its own cluster.
    if (as == ownAs && !self_.rrClusterId.empty() && peerClusterId != self_.rrClusterId) {
      p.rrClusterId = self_.rrClusterId;
    }
    return p;
  }

  // Peerings to the node's own address are dropped; one session per address and port, a global
  // peering hiding a node-specific one.
  void add(NodeConfig& out, Peer p) {
    if (p.ip == own_.ip) return;
    for (auto& existing : out.peers) {
      if (existing.ip == p.ip && existing.port == p.port) {
        if (existing.type == PeerType::kNode && p.type == PeerType::kGlobal) existing = p;
        return;
      }
    }
    out.peers.push_back(std::move(p));
  }

  const Inputs& in_;
  const Cluster& cluster_;
  const NodeBgpView& self_;
  int family_;
  model::HostAddress own_;
};

bool inFamily(const Cidr& c, int family) { return c.isV4() == (family == 4); }

void addExports(const Inputs& in, const Cluster& cluster, NodeConfig& out) {
  const int family = out.family;
  for (const auto& pool : in.pools) {
    if (auto view = model::ipPoolView(pool);
        view && !view->disabled && inFamily(view->cidr, family)) {
      out.pools.push_back(view->cidr);
    }
    if (auto view = model::ipPoolView(pool);
        view && inFamily(view->cidr, family) && pool.spec.value("disableBGPExport", false)) {
      out.noExport.push_back(view->cidr);
    }
  }
  out.blocks = affineBlocks(in, out.node, family);
  if (family == 4) {
    out.ipipPools = ipipPools(in);
    if (const NodeBgpView* self = cluster.find(out.node)) out.subnet = subnetOf(*self);
  }
  // Local workloads outside those blocks (borrowed addresses, hand-given ones) are not listed:
  // BIRD exports their host routes from the kernel by interface (render.cc), so a workload added
  // or removed changes no configuration.
  const auto& g = cluster.global;
  const auto own = cluster.perNode.find(out.node);
  const auto& adverts = own != cluster.perNode.end() && own->second.prefixAdvertisements
                            ? own->second.prefixAdvertisements
                            : g.prefixAdvertisements;
  for (const auto& a : adverts.value_or(std::vector<model::PrefixAdvertisement>{})) {
    if (inFamily(*Cidr::parse(a.cidr), family)) out.communities.push_back(a);
  }
  for (const auto* list :
       {&g.serviceClusterIps, &g.serviceExternalIps, &g.serviceLoadBalancerIps}) {
    for (const Cidr& c : *list) {
      if (inFamily(c, family)) out.serviceRanges.push_back(c);
    }
  }
  std::sort(out.pools.begin(), out.pools.end());
  std::sort(out.noExport.begin(), out.noExport.end());
}

}  // namespace

std::vector<Cidr> affineBlocks(const Inputs& in, const std::string& node, int family) {
  const std::string affinity = "host:" + node;
  std::vector<Cidr> out;
  for (const auto& block : in.blocks) {
    if (inFamily(block.cidr(), family) && block.affinity() == affinity) {
      out.push_back(block.cidr());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Cidr> borrowedHosts(const Inputs& in, const std::string& node, int family) {
  const std::string affinity = "host:" + node;
  std::set<Cidr> hosts;
  // The node's workloads' addresses in a block affine to another node (or to none). Addresses
  // given by hand (the seed lab's) are in no block, outside the pools, where no tunnel is asked
  // for; BIRD exports them from the kernel.
  for (const auto& block : in.blocks) {
    if (!inFamily(block.cidr(), family) || block.affinity() == affinity) continue;
    for (int ordinal : block.allocatedOrdinals()) {
      const auto* attr = block.attributeOf(ordinal);
      if (attr == nullptr) continue;
      const auto owner = attr->secondary.find("node");
      if (owner != attr->secondary.end() && owner->second == node) {
        hosts.insert(*Cidr::parse(block.ordinalToIp(ordinal).toString()));
      }
    }
  }
  return {hosts.begin(), hosts.end()};
}

const char* peerTypeName(PeerType type) {
  switch (type) {
    case PeerType::kMesh:
      return "node-to-node mesh";
    case PeerType::kGlobal:
      return "global";
    case PeerType::kNode:
      return "node specific";
  }
  return "";
}

Result<NodeConfig> computeNodeConfig(const Inputs& inputs, const std::string& node, int family) {
  if (family != 4 && family != 6) return invalid("family", std::to_string(family));
  BRINDLE_ASSIGN_OR_RETURN(auto cluster, readCluster(inputs));
  const NodeBgpView* self = cluster.find(node);
  if (self == nullptr) return makeError(ErrorCode::kNotFound, "node does not exist: " + node);

  NodeConfig out;
  out.node = node;
  out.family = family;
  out.routerId = routerIdFor(*self);
  out.asNumber = cluster.asOf(*self);
  out.listenPort = cluster.listenPort(node);
  out.logSeverity = cluster.global.logSeverityScreen;
  out.rrClusterId = self->rrClusterId;
  out.ignoredInterfaces = cluster.global.ignoredInterfaces;
  if (const auto& addr = self->address(family)) {
    out.address = addr->ip;
    if (cluster.global.bindNodeIp) out.listenAddress = addr->ip;
  }
  addExports(inputs, cluster, out);
  for (const auto& r : inputs.filters) {
    auto f = model::bgpFilterView(r);
    if (!f)
      return makeError(ErrorCode::kInvalid, "BGPFilter(" + r.name() + ").spec." + f.message());
    out.filters.push_back(std::move(*f));
  }
  std::sort(out.filters.begin(), out.filters.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  if (!out.address) return out;  // no address in this family: no sessions

  Decider decider(inputs, cluster, *self, family);
  if (Status s = decider.addMesh(out); !s.isOk()) return s.error();
  for (const auto& peer : inputs.peers) {
    if (Status s = decider.addPeer(peer, out); !s.isOk()) return s.error();
  }
  std::sort(out.peers.begin(), out.peers.end(),
            [](const Peer& a, const Peer& b) { return a.name < b.name; });
  return out;
}

}  // namespace brindle::bgp
