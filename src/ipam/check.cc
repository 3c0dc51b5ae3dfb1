// The IPAM consistency check and its repair (see check.h).
#include "ipam/check.h"

#include <algorithm>
#include <map>

#include "model/kinds.h"
#include "resources/resource_store.h"

namespace brindle::ipam {
namespace {

using model::Kind;

// Every address an endpoint or node in the store says it uses, with who uses it.
struct Users {
  std::map<IpAddr, std::vector<std::string>> owners;
  std::set<std::string> nodes;
  int workloadIps = 0;
  int nodeIps = 0;

  void add(const std::string& text, const std::string& owner) {
    if (auto c = Cidr::parse(text, true)) owners[c->address()].push_back(owner);
  }
};

Result<Users> loadUsers(datastore::Client& client) {
  resources::ResourceStore store(client);
  Users u;
  auto weps = store.list(Kind::kWorkloadEndpoint);
  if (!weps) return weps.error();
  for (const auto& w : *weps) {
    auto it = w.spec.find("ipNetworks");
    if (it == w.spec.end() || !it->is_array()) continue;
    for (const auto& n : *it) {
      if (!n.is_string()) continue;
      u.add(n.get<std::string>(), "WorkloadEndpoint(" + w.ns() + "/" + w.name() + ")");
      ++u.workloadIps;
    }
  }
  auto heps = store.list(Kind::kHostEndpoint);
  if (!heps) return heps.error();
  for (const auto& h : *heps) {
    auto it = h.spec.find("expectedIPs");
    if (it == h.spec.end() || !it->is_array()) continue;
    for (const auto& n : *it) {
      if (n.is_string()) u.add(n.get<std::string>(), "HostEndpoint(" + h.name() + ")");
    }
  }
  auto nodeList = store.list(Kind::kNode);
  if (!nodeList) return nodeList.error();
  for (const auto& n : *nodeList) {
    u.nodes.insert(n.name());
    const std::string owner = "Node(" + n.name() + ")";
    auto tunnel = [&](const model::Json& obj, const char* field) {
      if (obj.is_object() && obj.contains(field) && obj[field].is_string()) {
        u.add(obj[field].get<std::string>(), owner);
        ++u.nodeIps;
      }
    };
    if (n.spec.contains("bgp")) tunnel(n.spec["bgp"], "ipv4IPIPTunnelAddr");
    tunnel(n.spec, "ipv4VXLANTunnelAddr");
    tunnel(n.spec, "ipv6VXLANTunnelAddr");
    if (n.spec.contains("wireguard")) {
      tunnel(n.spec["wireguard"], "interfaceIPv4Address");
      tunnel(n.spec["wireguard"], "interfaceIPv6Address");
    }
  }
  return u;
}

Result<std::vector<Cidr>> activePools(datastore::Client& client) {
  auto pools = resources::ResourceStore(client).list(Kind::kIPPool);
  if (!pools) return pools.error();
  std::vector<Cidr> out;
  for (const auto& p : *pools) {
    auto c = Cidr::parse(p.spec.value("cidr", ""), false);
    if (c && !p.spec.value("disabled", false)) out.push_back(*c);
  }
  return out;
}

}  // namespace

int CheckReport::invalidBlocks() const {
  return static_cast<int>(
      std::count_if(blocks.begin(), blocks.end(), [](const BlockEntry& b) { return !b.block; }));
}

size_t CheckReport::unallocated() const {
  return std::count_if(inUse.begin(), inUse.end(),
                       [](const AddressUse& u) { return !u.allocated && u.inActivePool; });
}

size_t CheckReport::outsidePools() const {
  return std::count_if(inUse.begin(), inUse.end(),
                       [](const AddressUse& u) { return !u.allocated && !u.inActivePool; });
}

size_t CheckReport::emptyHandles() const {
  return std::count_if(handleProblems.begin(), handleProblems.end(),
                       [](const HandleProblem& h) { return h.empty; });
}

std::set<std::string> CheckReport::missingNodes() const {
  std::set<std::string> out;
  for (const auto& b : blocksOfMissingNodes) out.insert(b.node);
  return out;
}

size_t CheckReport::problems() const {
  return leaked.size() + unallocated() + handleProblems.size() + missingHandles.size() +
         invalidBlocks() + missingNodes().size();
}

size_t CheckReport::fixable() const {
  return leaked.size() + emptyHandles() + missingNodes().size();
}

Result<CheckReport> checkConsistency(datastore::Client& client) {
  CheckReport r;
  auto blockKvs = client.list(kBlockPrefix);
  if (!blockKvs) return blockKvs.error();
  std::map<std::string, std::map<std::string, int>> countsByHandle;  // handle -> block -> n
  for (const auto& kv : blockKvs->items) {
    auto b = Block::decode(kv.value);
    if (!b) {
      r.blocks.push_back({kv.key, std::nullopt, b.message()});
      continue;
    }
    r.allocations += b->inUse();
    for (const auto& [h, n] : b->countsByHandle()) {
      if (!h.empty()) countsByHandle[h][b->cidr().toString()] += n;
    }
    r.blocks.push_back({kv.key, std::move(*b), ""});
  }

  auto pools = activePools(client);
  if (!pools) return pools.error();
  r.activePools = std::move(*pools);
  auto users = loadUsers(client);
  if (!users) return users.error();
  r.workloadIps = users->workloadIps;
  r.nodeIps = users->nodeIps;

  auto allocations = makeIpam(client)->listAllocations();
  if (!allocations) return allocations.error();
  std::set<IpAddr> allocated;
  for (auto& a : *allocations) {
    allocated.insert(a.ip);
    if (!users->owners.count(a.ip)) r.leaked.push_back(std::move(a));
  }
  for (auto& [ip, owners] : users->owners) {
    const bool inPool = std::any_of(r.activePools.begin(), r.activePools.end(),
                                    [&](const Cidr& c) { return c.contains(ip); });
    r.inUse.push_back({ip, std::move(owners), allocated.count(ip) > 0, inPool});
  }

  auto handleKvs = client.list(kHandlePrefix);
  if (!handleKvs) return handleKvs.error();
  r.handles = handleKvs->items.size();
  std::set<std::string> handleNames;
  for (const auto& kv : handleKvs->items) {
    const std::string name = kv.key.substr(std::string(kHandlePrefix).size());
    handleNames.insert(name);
    auto it = countsByHandle.find(name);
    if (it == countsByHandle.end()) {
      r.handleProblems.push_back({kv, name, true, 0});
    } else if (auto h = Handle::decode(kv.value); h && h->blocks != it->second) {
      r.handleProblems.push_back({kv, name, false, h->total()});
    }
  }
  for (const auto& [name, _] : countsByHandle) {
    if (!handleNames.count(name)) r.missingHandles.push_back(name);
  }

  r.nodesListed = !users->nodes.empty();
  for (const auto& entry : r.blocks) {
    if (!r.nodesListed || !entry.block) continue;
    const std::string aff = entry.block->affinity().value_or("");
    if (aff.rfind("host:", 0) != 0 || users->nodes.count(aff.substr(5))) continue;
    r.blocksOfMissingNodes.push_back({entry.block->cidr(), aff.substr(5)});
  }
  return r;
}

Result<RepairReport> repair(datastore::Client& client, const CheckReport& report) {
  RepairReport out;
  auto ipam = makeIpam(client);
  if (!report.leaked.empty()) {
    std::vector<IpAddr> ips;
    for (const auto& a : report.leaked) ips.push_back(a.ip);
    auto r = ipam->releaseIps(ips);
    if (!r) {
      return makeError(r.code(), "An error occurred while releasing some IPs: " + r.message());
    }
    out.alreadyFree = r->size();
    out.released = ips.size() - r->size();
  }
  for (const auto& h : report.handleProblems) {
    if (!h.empty) continue;
    // Guarded by the revision the check read: a handle that gained an address is left alone.
    Status st = client.remove(h.kv.key, h.kv.modRevision);
    if (st) {
      ++out.handlesDeleted;
    } else if (st.code() == ErrorCode::kConflict || st.code() == ErrorCode::kNotFound) {
      ++out.handlesSkipped;
    } else {
      return makeError(st.code(), "Deleting handle " + h.kv.key + " failed: " + st.message());
    }
  }
  for (const auto& node : report.missingNodes()) {
    auto r = ipam->releaseHostAffinities(node);
    if (!r) {
      return makeError(r.code(),
                       "Releasing the blocks of node " + node + " failed: " + r.message());
    }
    out.nodeBlocksReleased.emplace_back(node, r->size());
  }
  return out;
}

}  // namespace brindle::ipam
