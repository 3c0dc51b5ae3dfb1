// The IPAM consistency check and its repair (see check.h).
#include "ipam/check.h"

#include <algorithm>
#include <map>

#include "model/kinds.h"
#include "model/views.h"
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

  // Adds the address `obj[field]` (a string) or each one of it (an array); returns how many.
  int add(const model::Json& obj, const char* field, const std::string& owner) {
    if (!obj.is_object() || !obj.contains(field)) return 0;
    const model::Json& v = obj[field];
    int n = 0;
    for (const auto& text : v.is_array() ? v : model::Json::array({v})) {
      if (!text.is_string()) continue;
      if (auto c = Cidr::parse(text.get<std::string>(), true))
        owners[c->address()].push_back(owner);
      ++n;
    }
    return n;
  }
};

Result<Users> loadUsers(datastore::Client& client) {
  resources::ResourceStore store(client);
  Users u;
  BRINDLE_ASSIGN_OR_RETURN(auto weps, store.list(Kind::kWorkloadEndpoint));
  for (const auto& w : weps) {
    u.workloadIps +=
        u.add(w.spec, "ipNetworks", "WorkloadEndpoint(" + w.ns() + "/" + w.name() + ")");
  }
  BRINDLE_ASSIGN_OR_RETURN(auto heps, store.list(Kind::kHostEndpoint));
  for (const auto& h : heps) u.add(h.spec, "expectedIPs", "HostEndpoint(" + h.name() + ")");
  BRINDLE_ASSIGN_OR_RETURN(auto nodes, store.list(Kind::kNode));
  for (const auto& n : nodes) {
    u.nodes.insert(n.name());
    const std::string owner = "Node(" + n.name() + ")";
    const model::Json none = model::Json::object();
    const model::Json& bgp = n.spec.contains("bgp") ? n.spec["bgp"] : none;
    const model::Json& wg = n.spec.contains("wireguard") ? n.spec["wireguard"] : none;
    u.nodeIps +=
        u.add(bgp, "ipv4IPIPTunnelAddr", owner) + u.add(n.spec, "ipv4VXLANTunnelAddr", owner) +
        u.add(n.spec, "ipv6VXLANTunnelAddr", owner) + u.add(wg, "interfaceIPv4Address", owner) +
        u.add(wg, "interfaceIPv6Address", owner);
  }
  return u;
}

Result<std::vector<Cidr>> activePools(datastore::Client& client) {
  BRINDLE_ASSIGN_OR_RETURN(auto pools, resources::ResourceStore(client).list(Kind::kIPPool));
  std::vector<Cidr> out;
  for (const auto& p : pools) {
    if (auto view = model::ipPoolView(p); view && !view->disabled) out.push_back(view->cidr);
  }
  return out;
}

}  // namespace

Result<CheckReport> checkConsistency(datastore::Client& client) {
  CheckReport r;
  // Blocks before endpoints: an address a CNI ADD allocates in between is then seen as used
  // but unallocated (reported, never fixed), not as leaked (which --fix would release).
  BRINDLE_ASSIGN_OR_RETURN(auto blockKvs, client.list(kBlockPrefix));
  std::vector<Allocation> allocations;
  std::map<std::string, std::map<std::string, int>> countsByHandle;  // handle -> block -> n
  for (const auto& kv : blockKvs.items) {
    auto b = Block::decode(kv.value);
    if (!b) {
      r.blocks.push_back({kv.key, std::nullopt, b.message()});
      ++r.invalidBlocks;
      continue;
    }
    r.allocations += b->inUse();
    for (const auto& [h, n] : b->countsByHandle()) {
      if (!h.empty()) countsByHandle[h][b->cidr().toString()] += n;
    }
    for (auto& a : allocationsOf(*b)) allocations.push_back(std::move(a));
    r.blocks.push_back({kv.key, std::move(*b), ""});
  }

  BRINDLE_ASSIGN_OR_RETURN(r.activePools, activePools(client));
  BRINDLE_ASSIGN_OR_RETURN(auto users, loadUsers(client));
  r.workloadIps = users.workloadIps;
  r.nodeIps = users.nodeIps;

  std::set<IpAddr> allocated;
  for (auto& a : allocations) {
    allocated.insert(a.ip);
    if (!users.owners.count(a.ip)) r.leaked.push_back(std::move(a));
  }
  for (auto& [ip, owners] : users.owners) {
    const bool inPool = std::any_of(r.activePools.begin(), r.activePools.end(),
                                    [&](const Cidr& c) { return c.contains(ip); });
    const bool isAllocated = allocated.count(ip) > 0;
    if (!isAllocated) ++(inPool ? r.unallocated : r.outsidePools);
    r.inUse.push_back({ip, std::move(owners), isAllocated, inPool});
  }

  BRINDLE_ASSIGN_OR_RETURN(auto handleKvs, client.list(kHandlePrefix));
  r.handles = handleKvs.items.size();
  std::set<std::string> handleNames;
  for (const auto& kv : handleKvs.items) {
    const std::string name = kv.key.substr(std::string(kHandlePrefix).size());
    handleNames.insert(name);
    auto it = countsByHandle.find(name);
    if (it == countsByHandle.end()) {
      r.handleProblems.push_back({kv, name, true, 0});
      ++r.emptyHandles;
    } else if (auto h = Handle::decode(kv.value); h && h->blocks != it->second) {
      r.handleProblems.push_back({kv, name, false, h->total()});
    }
  }
  for (const auto& [name, _] : countsByHandle) {
    if (!handleNames.count(name)) r.missingHandles.push_back(name);
  }

  r.nodesListed = !users.nodes.empty();
  for (const auto& entry : r.blocks) {
    if (!r.nodesListed || !entry.block) continue;
    const std::string aff = entry.block->affinity().value_or("");
    if (aff.rfind("host:", 0) != 0 || users.nodes.count(aff.substr(5))) continue;
    r.blocksOfMissingNodes.push_back({entry.block->cidr(), aff.substr(5)});
    r.missingNodes.insert(aff.substr(5));
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
  for (const auto& node : report.missingNodes) {
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
