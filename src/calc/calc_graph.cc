// CalcGraph: dispatch of typed updates and the wiring of the calculation components.
#include "calc/calc_graph.h"

#include <algorithm>

#include "model/bgp_views.h"

namespace brindle::calc {

// All wiring is here. Data flows left to right; the sequencer orders what reaches the dataplane.
//
//  Update -> CalcGraph::onUpdate (by kind)
//    | endpoints (any node), network sets, profile labels
//    +------------------------------------------------> IpSetMemberCalculator --+
//    | local endpoints, policies, profiles                  ^ set needed/gone    | members
//    | (tiers go to the PolicyResolver only)
//    +--> ActiveRulesCalculator --active policy/profile--> RuleScanner ---------+
//    |          | policy x endpoint matches                     | parsed rules   |
//    |          v                                               v                v
//    |     PolicyResolver --endpoint tiers (on flush)-----> EventSequencer --flush--> Dataplane-
//    | pools (+ nat ipsets), routes, affine blocks               ^                   Callbacks
//    | node addresses (the all-hosts ipset while a pool uses IPIP)
//    +-----------------------------------------------------------+
struct CalcGraph::Wiring : ActiveRulesListener, RuleScannerListener {
  explicit Wiring(EventSequencer& seq)
      : sequencer(seq), activeRules(*this), scanner(*this), members(seq) {}

  // ActiveRulesListener
  void onPolicyMatchStarted(const PolicyId& p, const std::string& e) override {
    resolver.matchStarted(p, e);
  }
  void onPolicyMatchStopped(const PolicyId& p, const std::string& e) override {
    resolver.matchStopped(p, e);
  }
  void onPolicyActive(const PolicyId& id, const ScannedRulesPtr& rules) override {
    scanner.updatePolicy(id, rules);
  }
  void onPolicyInactive(const PolicyId& id) override { scanner.removePolicy(id); }
  void onProfileActive(const std::string& name, const ScannedRulesPtr& rules) override {
    scanner.updateProfile(name, rules);
  }
  void onProfileInactive(const std::string& name) override { scanner.removeProfile(name); }

  // RuleScannerListener
  void onSelectorIpSetActive(const std::string& id, const selector::Selector& sel) override {
    members.addSelectorSet(id, sel);
  }
  void onNetIpSetActive(const std::string& id, const std::vector<Cidr>& nets) override {
    members.addNetSet(id, nets);
  }
  void onIpSetInactive(const std::string& id) override { members.removeSet(id); }
  void onPolicyRules(const PolicyId& id, std::shared_ptr<const ParsedRules> r) override {
    sequencer.setPolicy(id, std::move(r));
  }
  void onPolicyRulesGone(const PolicyId& id) override { sequencer.removePolicy(id); }
  void onProfileRules(const std::string& name, std::shared_ptr<const ParsedRules> r) override {
    sequencer.setProfile(name, std::move(r));
  }
  void onProfileRulesGone(const std::string& name) override { sequencer.removeProfile(name); }

  EventSequencer& sequencer;
  ActiveRulesCalculator activeRules;
  RuleScanner scanner;
  IpSetMemberCalculator members;
  PolicyResolver resolver;
};

CalcGraph::CalcGraph(std::string nodeName, DataplaneCallbacks& out)
    : nodeName_(std::move(nodeName)), out_(out), wiring_(std::make_unique<Wiring>(sequencer_)) {}

CalcGraph::~CalcGraph() = default;

void CalcGraph::flush() {
  wiring_->resolver.flush(sequencer_);
  sequencer_.flush(out_);
}

void CalcGraph::onInSync() {
  flush();
  if (!inSyncSent_) {
    inSyncSent_ = true;
    out_.onInSync();
  }
}

void CalcGraph::onUpdate(const Update& update) {
  if (update.block) {
    applyBlock(update.key, *update.block, update.type == UpdateType::kDeleted);
    return;
  }
  if (update.type == UpdateType::kDeleted || !update.resource) {
    // By the resource's own key, as apply() files it (the same unless the store's key is odd).
    remove(update.resource ? update.resource->key() : update.key);
    return;
  }
  apply(*update.resource);
}

namespace {

// The label-index key of an endpoint or network set ("w:<ns>/<name>", "h:<name>", "n:...").
std::string itemKeyOf(model::Kind kind, std::string_view ns, std::string_view name) {
  std::string key = kind == model::Kind::kWorkloadEndpoint ? "w:"
                    : kind == model::Kind::kHostEndpoint   ? "h:"
                                                           : "n:";
  if (kind == model::Kind::kWorkloadEndpoint || kind == model::Kind::kNetworkSet) {
    key += ns;
    key += '/';
  }
  key += name;
  return key;
}

}  // namespace

void CalcGraph::remove(const std::string& key) {
  Wiring& w = *wiring_;
  if (auto b = blockCidrs_.find(key); b != blockCidrs_.end()) {
    sequencer_.removeRoute(b->second);  // an affine IPAM block
    blockCidrs_.erase(b);
    return;
  }
  auto parts = parseResourceKey(key);
  if (!parts) return;
  switch (parts->kind) {
    case model::Kind::kWorkloadEndpoint:
    case model::Kind::kHostEndpoint: {
      const std::string itemKey = itemKeyOf(parts->kind, parts->ns, parts->name);
      w.members.removeItem(itemKey);
      if (w.resolver.hasEndpoint(itemKey)) {
        w.activeRules.removeLocalEndpoint(itemKey);
        w.resolver.removeEndpoint(itemKey);
      }
      if (auto r = routesOf_.find(itemKey); r != routesOf_.end()) {
        for (const auto& c : r->second) sequencer_.removeRoute(c);
        routesOf_.erase(r);
      }
      break;
    }
    case model::Kind::kGlobalNetworkSet:
    case model::Kind::kNetworkSet:
      w.members.removeItem(itemKeyOf(parts->kind, parts->ns, parts->name));
      break;
    case model::Kind::kGlobalNetworkPolicy:
    case model::Kind::kNetworkPolicy:
      if (auto p = policyIds_.find(key); p != policyIds_.end()) {
        w.activeRules.removePolicy(p->second);
        w.resolver.removePolicy(p->second);
        policyIds_.erase(p);
      }
      break;
    case model::Kind::kTier:
      w.resolver.removeTier(std::string(parts->name));
      break;
    case model::Kind::kProfile:
      w.activeRules.removeProfile(std::string(parts->name));
      w.members.removeParent(std::string(parts->name));
      break;
    case model::Kind::kIPPool:
      if (auto p = poolCidrs_.find(key); p != poolCidrs_.end()) {
        pools_.erase(p->second);
        sequencer_.removePool(p->second);
        poolCidrs_.erase(p);
        updatePoolSets();
        updateHostSet();
      }
      break;
    case model::Kind::kNode:
      if (nodeAddresses_.erase(key) > 0) updateHostSet();
      break;
    default:
      break;
  }
}

void CalcGraph::apply(const model::Resource& r) {
  const std::string key = r.key();
  Wiring& w = *wiring_;
  auto reject = [&](const std::string& why) {
    rejected_.push_back(key + ": " + why);
    remove(key);  // an unreadable new version behaves as a delete (fail closed)
  };
  switch (r.kind) {
    case model::Kind::kWorkloadEndpoint:
    case model::Kind::kHostEndpoint:
      applyEndpoint(key, r);
      return;
    case model::Kind::kGlobalNetworkSet:
    case model::Kind::kNetworkSet: {
      auto n = networkSetInput(r);
      if (!n) return reject(n.message());
      w.members.updateItem("n:" + n->id, n->labels, {}, n->nets);
      return;
    }
    case model::Kind::kGlobalNetworkPolicy:
    case model::Kind::kNetworkPolicy: {
      auto p = policyInput(r, /*withRules=*/false);
      if (!p) return reject(p.message());
      // Scanned once here (repeated rules from the cache); what stays is the scanned form, shared
      // down to the sequencer.
      auto rules = std::make_shared<ScannedRules>();
      for (const char* field : {"ingress", "egress"}) {
        auto& out = field[0] == 'i' ? rules->rules.ingress : rules->rules.egress;
        if (Status s = ruleCache_.scan(r.spec, field, p->ns, out, *rules); !s) {
          return reject(s.error().message);
        }
      }
      auto old = policyIds_.find(key);
      if (old != policyIds_.end() && !(old->second == p->id)) remove(key);
      w.resolver.updatePolicy(*p);
      w.activeRules.updatePolicy(p->id, p->selector, std::move(rules));
      policyIds_[key] = p->id;
      return;
    }
    case model::Kind::kTier: {
      auto t = tierInput(r);
      if (!t) return reject(t.message());
      w.resolver.updateTier(*t);
      return;
    }
    case model::Kind::kProfile: {
      auto p = profileInput(r);
      if (!p) return reject(p.message());
      w.members.updateParent(p->name, p->labelsToApply);
      w.activeRules.updateProfile(
          p->name, p->labelsToApply,
          std::make_shared<const ScannedRules>(scanRules(p->ingress, p->egress, "")));
      return;
    }
    case model::Kind::kIPPool: {
      auto p = ipPoolInput(r);
      if (!p) return reject(p.message());
      auto old = poolCidrs_.find(key);
      if (old != poolCidrs_.end() && !(old->second == p->cidr)) remove(key);
      pools_[p->cidr] = *p;
      sequencer_.setPool(*p);
      updatePoolSets();
      updateHostSet();
      poolCidrs_[key] = p->cidr;
      return;
    }
    case model::Kind::kNode: {
      // Only the node's IPv4 address matters here (the all-hosts set); BGP reads the rest.
      auto view = model::nodeBgpView(r);
      std::optional<Cidr> address;
      if (view && view->ipv4) {
        if (auto host = Cidr::parse(view->ipv4->ip.toString())) address = *host;
      }
      auto old = nodeAddresses_.find(key);
      if (old != nodeAddresses_.end() && address && old->second == *address) return;
      if (address) {
        nodeAddresses_[key] = *address;
      } else if (old == nodeAddresses_.end()) {
        return;
      } else {
        nodeAddresses_.erase(old);
      }
      updateHostSet();
      return;
    }
    default:
      return;  // not the calculation's business (BGP, config, ...)
  }
}

void CalcGraph::applyEndpoint(const std::string& key, const model::Resource& r) {
  auto e = endpointInput(r);
  if (!e) {
    rejected_.push_back(key + ": " + e.message());
    remove(key);
    return;
  }
  Wiring& w = *wiring_;
  const std::string itemKey = (e->host ? "h:" : "w:") + e->id;
  const bool local = e->node == nodeName_;
  if (!local && w.resolver.hasEndpoint(itemKey)) {  // moved away from this node
    w.activeRules.removeLocalEndpoint(itemKey);
    w.resolver.removeEndpoint(itemKey);
  }
  std::vector<Cidr> oldRoutes;
  if (auto old = routesOf_.find(itemKey); old != routesOf_.end()) oldRoutes = old->second;
  w.members.updateItem(itemKey, e->labels, e->profiles, e->addresses);
  std::vector<Cidr> routes;
  if (local) {
    w.activeRules.updateLocalEndpoint(itemKey, e->labels, e->profiles);
    w.resolver.updateEndpoint(itemKey, *e);
    if (!e->host && !e->interfaceName.empty()) {
      for (const auto& a : e->addresses) {
        sequencer_.setRoute(Route{a, e->interfaceName});
        routes.push_back(a);
      }
      for (const auto& nat : e->ipNats) {
        auto c = Cidr::parse(nat.external.toString());
        sequencer_.setRoute(Route{*c, e->interfaceName});
        routes.push_back(*c);
      }
    }
  }
  for (const auto& r2 : oldRoutes) {
    if (std::find(routes.begin(), routes.end(), r2) == routes.end()) sequencer_.removeRoute(r2);
  }
  if (routes.empty()) {
    routesOf_.erase(itemKey);
  } else {
    routesOf_[itemKey] = std::move(routes);
  }
}

void CalcGraph::applyBlock(const std::string& key, const BlockUpdate& b, bool deleted) {
  if (deleted || b.affinity != "host:" + nodeName_) {
    remove(key);
    return;
  }
  auto old = blockCidrs_.find(key);
  if (old != blockCidrs_.end() && !(old->second == b.cidr)) remove(key);
  sequencer_.setRoute(Route{b.cidr, ""});
  blockCidrs_[key] = b.cidr;
}

void CalcGraph::updatePoolSets() {
  // The nat-outgoing rule needs "all pools" and "pools to masquerade" sets, only while some pool
  // masquerades.
  bool anyMasq = std::any_of(pools_.begin(), pools_.end(), [](const auto& p) {
    return p.second.natOutgoing && !p.second.disabled;
  });
  const std::string all(kAllPoolsIpSetId), masq(kMasqPoolsIpSetId);
  sequencer_.removeIpSet(all);
  sequencer_.removeIpSet(masq);
  if (!anyMasq) return;
  sequencer_.addIpSet(all);
  sequencer_.addIpSet(masq);
  for (const auto& [cidr, pool] : pools_) {
    sequencer_.addIpSetMember(all, cidr);
    if (pool.natOutgoing && !pool.disabled) sequencer_.addIpSetMember(masq, cidr);
  }
}

void CalcGraph::updateHostSet() {
  // IPIP is admitted from the nodes' addresses only while some pool uses IPIP.
  const bool ipip = std::any_of(pools_.begin(), pools_.end(),
                                [](const auto& p) { return p.second.ipip && !p.second.disabled; });
  const std::string hosts(kAllHostsIpSetId);
  sequencer_.removeIpSet(hosts);
  if (!ipip) return;
  sequencer_.addIpSet(hosts);
  for (const auto& [key, address] : nodeAddresses_) sequencer_.addIpSetMember(hosts, address);
}

}  // namespace brindle::calc
