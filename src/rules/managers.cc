// The managers; see managers.h.
#include "rules/managers.h"

#include <algorithm>

#include "rules/endpoints.h"
#include "rules/names.h"

namespace brindle::rules {

using dataplane::Chain;
using dataplane::IpVersion;
using dataplane::TableName;

namespace {

std::set<std::string> membersOf(const std::set<Cidr>& members, IpVersion v) {
  std::set<std::string> out;
  for (const auto& m : members) {
    if (m.isV4() == (v == IpVersion::kV4)) out.insert(m.toString());
  }
  return out;
}

}  // namespace

Managers::Managers(std::vector<TableRef> tables, dataplane::IpSets* ipsets,
                   dataplane::RouteTable* routes, RendererConfig config)
    : tables_(std::move(tables)), ipsets_(ipsets), routes_(routes), config_(std::move(config)) {
  versions_ = {IpVersion::kV4};
  if (config_.ipv6Enabled) versions_.push_back(IpVersion::kV6);
  installStaticChains();
}

dataplane::ChainTable* Managers::table(IpVersion version, TableName name) const {
  for (const auto& t : tables_) {
    if (t.version == version && t.name == name) return t.table;
  }
  return nullptr;
}

void Managers::setOwnedChains(IpVersion version, TableName tableName, const std::string& owner,
                              const std::vector<Chain>& chains) {
  dataplane::ChainTable* t = table(version, tableName);
  if (!t) return;
  auto& list = owned_[owner];
  std::set<std::string> keep;
  for (const auto& c : chains) keep.insert(c.name);
  for (auto it = list.begin(); it != list.end();) {
    if (it->version == version && it->table == tableName) {
      if (!keep.count(it->chain)) t->removeChain(it->chain);
      it = list.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& c : chains) {
    t->updateChain(c);  // the writer compares hashes: an unchanged chain costs no kernel work
    list.push_back({version, tableName, c.name, c.rules.size()});
  }
  dirty_ = true;
}

void Managers::removeOwner(const std::string& owner) {
  counts_.erase(owner);
  auto it = owned_.find(owner);
  if (it == owned_.end()) return;
  for (const auto& o : it->second) {
    if (auto* t = table(o.version, o.table)) t->removeChain(o.chain);
  }
  owned_.erase(it);
  dirty_ = true;
}

void Managers::setInsertions(IpVersion version, TableName name, const TableRules& rules) {
  auto* t = table(version, name);
  if (!t) return;
  // Every hook of the table, so one its rules no longer name loses our insertion.
  for (const char* hook : {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}) {
    auto it = rules.insertions.find(hook);
    t->setRuleInsertions(
        hook, it == rules.insertions.end() ? std::vector<dataplane::Rule>() : it->second);
  }
}

void Managers::installStaticChains() {
  for (IpVersion v : versions()) {
    TableRules raw = rawStaticChains(v, config_), filter = filterStaticChains(v, config_);
    setOwnedChains(v, TableName::kRaw, "static", raw.chains);
    setInsertions(v, TableName::kRaw, raw);
    setOwnedChains(v, TableName::kFilter, "static", filter.chains);
    setInsertions(v, TableName::kFilter, filter);
    setOwnedChains(v, TableName::kFilter, "failsafe", failsafeChains(config_, v));
  }
}

// --- ipsets: created (empty) before any rule uses them, filled, emptied, destroyed last. ---

void Managers::onIpSetAdded(const std::string& id) {
  ipSetIds_.insert(id);
  if (!ipsets_) return;
  for (IpVersion v : versions()) ipsets_->replaceMembers({ipSetName(id, v), "hash:net", v}, {});
  dirty_ = true;
}

void Managers::onIpSetMembersAdded(const std::string& id, const std::set<Cidr>& members) {
  if (!ipsets_) return;
  for (IpVersion v : versions()) {
    auto m = membersOf(members, v);
    if (!m.empty()) ipsets_->addMembers(ipSetName(id, v), m);
  }
  dirty_ = true;
}

void Managers::onIpSetMembersRemoved(const std::string& id, const std::set<Cidr>& members) {
  if (!ipsets_) return;
  for (IpVersion v : versions()) {
    auto m = membersOf(members, v);
    if (!m.empty()) ipsets_->removeMembers(ipSetName(id, v), m);
  }
  dirty_ = true;
}

void Managers::onIpSetRemoved(const std::string& id) {
  ipSetIds_.erase(id);
  if (!ipsets_) return;
  for (IpVersion v : versions()) ipsets_->removeSet(ipSetName(id, v));
  dirty_ = true;
}

// --- policies and profiles: their chains, rendered again when their rules change. ---

void Managers::onPolicyActive(const calc::PolicyId& id, const calc::ParsedRules& r) {
  policies_.insert(id);
  const std::string owner = "pol:" + id.text();
  Counts& counts = counts_[owner];
  for (IpVersion v : versions()) {
    setOwnedChains(v, TableName::kFilter, owner, policyChains(id, r, v, config_, &counts[v]));
  }
  rulesOwnerChanged(owner, false);
}

void Managers::onPolicyInactive(const calc::PolicyId& id) {
  policies_.erase(id);
  removeOwner("pol:" + id.text());
  rulesOwnerChanged("pol:" + id.text(), true);
}

void Managers::onProfileActive(const std::string& name, const calc::ParsedRules& r) {
  profiles_.insert(name);
  const std::string owner = "pro:" + name;
  Counts& counts = counts_[owner];
  for (IpVersion v : versions()) {
    setOwnedChains(v, TableName::kFilter, owner, profileChains(name, r, v, config_, &counts[v]));
  }
  rulesOwnerChanged(owner, false);
}

void Managers::onProfileInactive(const std::string& name) {
  profiles_.erase(name);
  removeOwner("pro:" + name);
  rulesOwnerChanged("pro:" + name, true);
}

// --- endpoints: own chains now, dispatch chains (one per batch) in renderAggregates(). ---

void Managers::countInterface(const std::string& iface, int delta) {
  if (iface.empty()) return;
  if ((wlIfaces_[iface] += delta) <= 0) wlIfaces_.erase(iface);
  interfaceChanged(iface);
}

void Managers::interfaceChanged(const std::string& iface) {
  if (iface.empty()) return;
  wlIfacesChanged_.insert(iface);
  workloadDispatchDirty_ = true;
}

namespace {
std::string groupOwner(uint32_t group) { return workloadGroupChainName("grp:", group); }
}  // namespace

void Managers::regroupEndpoint(const std::string& id, const calc::WorkloadEndpoint* ep,
                               const std::string& oldIface) {
  auto old = endpointGroups_.find(id);
  std::optional<uint32_t> before;
  if (old != endpointGroups_.end()) before = old->second;
  if (!ep) {
    if (before) {
      endpointGroups_.erase(old);
      releaseGroup(*before);
    }
    return;
  }
  auto chains = workloadEndpointChains(*ep, config_);
  std::string digest = workloadChainsDigest(chains);
  auto known = groupByDigest_.find(digest);
  uint32_t group;
  if (known != groupByDigest_.end()) {
    group = known->second;
  } else {
    // The number the chains ask for, or the next free one: two contents never share a number.
    group = preferredWorkloadGroup(digest);
    while (groups_.count(group)) {
      group = group == dataplane::kWorkloadGroupLast ? dataplane::kWorkloadGroupFirst : group + 1;
    }
    groups_[group].digest = digest;
    groupByDigest_[digest] = group;
    chains[0].name = workloadGroupChainName("cali-tw-", group);
    chains[1].name = workloadGroupChainName("cali-fw-", group);
    for (IpVersion v : versions()) setOwnedChains(v, TableName::kFilter, groupOwner(group), chains);
  }
  if (before == group) return;
  ++groups_[group].endpoints;
  endpointGroups_[id] = group;
  const std::string& iface = ep->interfaceName;
  if (before && !iface.empty() && iface == oldIface) {
    leavingGroups_[iface].insert(*before);  // its link carries it until the route table applies
  }
  if (auto it = leavingGroups_.find(iface); it != leavingGroups_.end()) {
    it->second.erase(group);  // back to a group it was leaving: its own again
    if (it->second.empty()) leavingGroups_.erase(it);
  }
  if (before) releaseGroup(*before);
  interfaceChanged(iface);
}

void Managers::releaseGroup(uint32_t group) {
  auto it = groups_.find(group);
  if (it == groups_.end() || --it->second.endpoints > 0) return;
  groupByDigest_.erase(it->second.digest);
  groups_.erase(it);
  removeOwner(groupOwner(group));
}

bool Managers::retireLeavingGroups() {
  if (leavingGroups_.empty()) return false;
  for (const auto& [iface, groups] : leavingGroups_) interfaceChanged(iface);
  leavingGroups_.clear();
  leavingRetired_ = true;
  return true;
}

bool Managers::adoptLinkGroups(const std::map<std::string, uint32_t>& linkGroups) {
  bool any = false;
  for (const auto& [iface, carried] : linkGroups) {
    auto group = interfaceGroup(iface);
    if (!group || *group == carried || !dataplane::inWorkloadGroupRange(carried)) continue;
    leavingGroups_[iface].insert(carried);
    interfaceChanged(iface);
    any = true;
  }
  return any;
}

std::map<std::string, uint32_t> Managers::interfaceGroups() const {
  std::map<std::string, uint32_t> out;
  for (const auto& [id, ep] : workloads_) {  // by id: the last one using an interface wins
    auto g = endpointGroups_.find(id);
    if (g != endpointGroups_.end() && !ep.interfaceName.empty()) out[ep.interfaceName] = g->second;
  }
  return out;
}

std::optional<uint32_t> Managers::interfaceGroup(const std::string& iface) const {
  std::optional<uint32_t> out;
  for (const auto& [id, ep] : workloads_) {
    if (ep.interfaceName != iface) continue;
    auto g = endpointGroups_.find(id);
    if (g != endpointGroups_.end()) out = g->second;
  }
  return out;
}

void Managers::onWorkloadEndpointUpdate(const calc::WorkloadEndpoint& ep) {
  auto old = workloads_.find(ep.id);
  const std::string oldIface = old == workloads_.end() ? "" : old->second.interfaceName;
  if (old == workloads_.end() || old->second.interfaceName != ep.interfaceName) {
    if (old != workloads_.end()) countInterface(old->second.interfaceName, -1);
    countInterface(ep.interfaceName, 1);
  }
  if ((old != workloads_.end() && !old->second.ipNats.empty()) || !ep.ipNats.empty()) {
    natDirty_ = true;
  }
  workloads_[ep.id] = ep;
  if (config_.flatDispatch) {
    regroupEndpoint(ep.id, &ep, oldIface);
    return;
  }
  auto chains = workloadEndpointChains(ep, config_);
  for (IpVersion v : versions()) setOwnedChains(v, TableName::kFilter, "wl:" + ep.id, chains);
}

void Managers::onWorkloadEndpointRemove(const std::string& id) {
  auto it = workloads_.find(id);
  if (it == workloads_.end()) return;
  if (!it->second.ipNats.empty()) natDirty_ = true;
  countInterface(it->second.interfaceName, -1);
  workloads_.erase(it);
  if (config_.flatDispatch) {
    regroupEndpoint(id, nullptr, "");
    return;
  }
  removeOwner("wl:" + id);
}

void Managers::onHostEndpointUpdate(const calc::HostEndpoint& ep) {
  auto old = hosts_.find(ep.id);
  if (old == hosts_.end() || old->second.interfaceName != ep.interfaceName) {
    hostDispatchDirty_ = true;
  }
  hosts_[ep.id] = ep;
  auto chains = hostEndpointChains(ep, config_);
  for (IpVersion v : versions()) setOwnedChains(v, TableName::kFilter, "hep:" + ep.id, chains);
}

void Managers::onHostEndpointRemove(const std::string& id) {
  if (!hosts_.erase(id)) return;
  hostDispatchDirty_ = true;
  removeOwner("hep:" + id);
}

// --- pools (nat-outgoing) and routes. ---

void Managers::onIpPoolUpdate(const calc::IpPool& pool) {
  pools_[pool.cidr] = pool;
  natDirty_ = true;
  dirty_ = true;
  updateIpipEnabled();
}

void Managers::onIpPoolRemove(const Cidr& cidr) {
  pools_.erase(cidr);
  natDirty_ = true;
  dirty_ = true;
  updateIpipEnabled();
}

// The fixed chains admit IPIP from known nodes while some pool uses it (Felix restarts for this;
// here the fixed chains are written again).
void Managers::updateIpipEnabled() {
  const bool ipip = std::any_of(pools_.begin(), pools_.end(),
                                [](const auto& p) { return p.second.ipip && !p.second.disabled; });
  if (ipip == config_.ipipEnabled) return;
  config_.ipipEnabled = ipip;
  installStaticChains();
}

void Managers::onRouteUpdate(const calc::Route& route) {
  routeMap_[route.destination] = route;
  dirty_ = true;
  if (!routes_ || (!route.destination.isV4() && !config_.ipv6Enabled)) return;
  if (route.interfaceName.empty()) {
    routes_->setBlackholeRoute(route.destination);
  } else {
    routes_->setWorkloadRoute(route.destination, route.interfaceName);
  }
}

void Managers::onRouteRemove(const Cidr& destination) {
  auto it = routeMap_.find(destination);
  if (it == routeMap_.end()) return;
  if (routes_) {
    if (it->second.interfaceName.empty()) {
      routes_->removeBlackholeRoute(destination);
    } else {
      routes_->removeWorkloadRoute(destination);
    }
  }
  routeMap_.erase(it);
  dirty_ = true;
}

// --- once per batch. ---

void Managers::renderAggregates() {
  bool rebuilt = false;  // the flat workload dispatch written whole
  const bool groupsChanged = config_.flatDispatch && workloadDispatchDirty_;
  // Flat dispatch: the changed interfaces' groups (nullopt: no endpoint uses it any more), and
  // for a whole build every interface's.
  std::map<std::string, std::optional<uint32_t>> changed;
  if (groupsChanged) {
    for (const auto& iface : wlIfacesChanged_) changed[iface] = interfaceGroup(iface);
  }
  std::map<std::string, uint32_t> groups;
  for (IpVersion v : versions()) {
    if (workloadDispatchDirty_ && !editWorkloadDispatch(v, changed)) {
      if (config_.flatDispatch) {
        if (!rebuilt) groups = interfaceGroups();
        setOwnedChains(v, TableName::kFilter, "wl-dispatch",
                       groupedWorkloadDispatchChains(groups, leavingGroups_));
        rebuilt = true;
      } else {
        setOwnedChains(v, TableName::kFilter, "wl-dispatch", workloadDispatchChains(workloads_));
      }
    }
    if (hostDispatchDirty_) {
      setOwnedChains(v, TableName::kFilter, "hep-dispatch",
                     hostDispatchChains(hosts_, config_.flatDispatch));
      // The mangle table only while this node has a host endpoint (see mangleChains).
      TableRules mangle = mangleChains(hosts_, config_);
      setOwnedChains(v, TableName::kMangle, "mangle", mangle.chains);
      setInsertions(v, TableName::kMangle, mangle);
    }
    if (natDirty_) {
      // The nat table only while something needs NAT (see natChains).
      TableRules nat = natChains(pools_, workloads_, v);
      setOwnedChains(v, TableName::kNat, "nat", nat.chains);
      setInsertions(v, TableName::kNat, nat);
    }
  }
  if (groupsChanged) updateInterfaceGroups(changed, rebuilt ? &groups : nullptr);
  if (workloadDispatchDirty_) leavingRetired_ = false;
  workloadDispatchDirty_ = hostDispatchDirty_ = natDirty_ = false;
  wlIfacesChanged_.clear();
}

// After the dispatch: the route table applies after the rules (DataplaneDriver), so an
// interface joins its group once the group's chains and dispatch entry are in the kernel.
void Managers::updateInterfaceGroups(const std::map<std::string, std::optional<uint32_t>>& changed,
                                     const std::map<std::string, uint32_t>* all) {
  if (!routes_) return;
  for (const auto& [iface, group] : changed) {
    if (group) {
      routes_->setInterfaceGroup(iface, *group);
    } else {
      routes_->removeInterfaceGroup(iface);
    }
  }
  if (!all) return;
  for (const auto& [iface, group] : *all) routes_->setInterfaceGroup(iface, group);
}

// Flat dispatch chains (one rule per interface, nftables' verdict maps) change by the interfaces
// that came or went: a rule each, in place, instead of both chains built, compared and hashed
// again with all their rules, and the nftables writer replays the edits as map elements (an
// endpoint add at 500 local endpoints spent ~2 ms here, growing with the endpoints). A tree
// (iptables) is rebuilt: an interface may move a whole bin into a child chain. So are chains not
// written yet, and many changes at once (an edit moves the rules after it).
bool Managers::editWorkloadDispatch(IpVersion v,
                                    const std::map<std::string, std::optional<uint32_t>>& changed) {
  constexpr size_t kMaxEdits = 32;
  dataplane::ChainTable* t = table(v, TableName::kFilter);
  if (!config_.flatDispatch || !t || wlIfacesChanged_.size() > kMaxEdits ||
      !t->desiredChain(kChainFromWlDispatch) || !t->desiredChain(kChainToWlDispatch)) {
    // Built whole first: with no interface changed, no edit would create them.
    return false;
  }
  // Interfaces moving between groups have rules ahead of the sorted ones: written whole.
  if (!leavingGroups_.empty() || leavingRetired_) return false;
  for (const auto& [iface, group] : changed) {
    if (!editGroupedWorkloadDispatch(*t, iface, group)) return false;
  }
  for (auto& o : owned_["wl-dispatch"]) {
    if (o.version != v) continue;
    if (const auto* chain = t->desiredChain(o.chain)) o.rules = chain->rules.size();
  }
  dirty_ = true;
  return true;
}

std::vector<Chain> Managers::chains(IpVersion version, TableName name) const {
  std::vector<std::string> owners = {"static",      "mangle",       "nat",
                                     "wl-dispatch", "hep-dispatch", "failsafe"};
  for (const auto& [id, ep] : workloads_) owners.push_back("wl:" + id);
  for (const auto& [group, g] : groups_) owners.push_back(groupOwner(group));
  for (const auto& [id, ep] : hosts_) owners.push_back("hep:" + id);
  for (const auto& id : policies_) owners.push_back("pol:" + id.text());
  for (const auto& profile : profiles_) owners.push_back("pro:" + profile);
  std::vector<Chain> out;
  const auto* t = table(version, name);
  for (const auto& owner : owners) {
    auto it = owned_.find(owner);
    if (!t || it == owned_.end()) continue;
    for (const auto& o : it->second) {
      if (o.version != version || o.table != name) continue;
      if (const Chain* c = t->desiredChain(o.chain)) out.push_back(*c);
    }
  }
  return out;
}

}  // namespace brindle::rules
