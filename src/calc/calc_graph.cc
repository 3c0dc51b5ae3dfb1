// CalcGraph: dispatch of typed updates and the wiring of the calculation components.
#include "calc/calc_graph.h"

#include <algorithm>

namespace brindle::calc {

// All wiring is here. Data flows left to right; the sequencer orders what reaches the dataplane.
//
//  Update -> CalcGraph::onUpdate (by kind)
//    | endpoints (any node), network sets, profile labels
//    +------------------------------------------------> IpSetMemberCalculator --+
//    | local endpoints, policies, profiles                  ^ set needed/gone    | members
//    +--> ActiveRulesCalculator --active policy/profile--> RuleScanner ---------+
//    |          | policy x endpoint matches                     | parsed rules   |
//    |          v                                               v                v
//    |     PolicyResolver --endpoint tiers (on flush)-----> EventSequencer --flush--> Dataplane-
//    | pools (+ nat ipsets), routes, affine blocks               ^                   Callbacks
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
    remove(update.key);
    return;
  }
  apply(*update.resource);
}

void CalcGraph::remove(const std::string& key) {
  auto it = known_.find(key);
  if (it == known_.end()) return;
  Known k = std::move(it->second);
  known_.erase(it);
  Wiring& w = *wiring_;
  switch (k.kind) {
    case model::Kind::kWorkloadEndpoint:
    case model::Kind::kHostEndpoint:
      w.members.removeItem(k.itemKey);
      if (k.local) {
        w.activeRules.removeLocalEndpoint(k.itemKey);
        w.resolver.removeEndpoint(k.itemKey);
      }
      for (const auto& r : k.routes) sequencer_.removeRoute(r);
      break;
    case model::Kind::kGlobalNetworkSet:
    case model::Kind::kNetworkSet:
      w.members.removeItem(k.itemKey);
      break;
    case model::Kind::kGlobalNetworkPolicy:
    case model::Kind::kNetworkPolicy:
      w.activeRules.removePolicy(k.policy);
      w.resolver.removePolicy(k.policy);
      break;
    case model::Kind::kProfile:
      w.activeRules.removeProfile(k.name);
      w.members.removeParent(k.name);
      break;
    case model::Kind::kIPPool:
      if (k.cidr) {
        pools_.erase(*k.cidr);
        sequencer_.removePool(*k.cidr);
        updatePoolSets();
      }
      break;
    default:
      if (k.cidr) sequencer_.removeRoute(*k.cidr);  // an affine IPAM block
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
      Known k{r.kind, "n:" + n->id, false, {}, {}, {}, {}};
      w.members.updateItem(k.itemKey, n->labels, {}, n->nets);
      known_[key] = std::move(k);
      return;
    }
    case model::Kind::kGlobalNetworkPolicy:
    case model::Kind::kNetworkPolicy: {
      auto p = policyInput(r);
      if (!p) return reject(p.message());
      auto old = known_.find(key);
      if (old != known_.end() && !(old->second.policy == p->id)) remove(key);
      w.resolver.updatePolicy(*p);
      // Scanned once here; what stays is the scanned form, shared down to the sequencer.
      w.activeRules.updatePolicy(
          p->id, p->selector,
          std::make_shared<const ScannedRules>(scanRules(p->ingress, p->egress, p->ns)));
      Known k{r.kind, "", false, p->id, {}, {}, {}};
      known_[key] = std::move(k);
      return;
    }
    case model::Kind::kProfile: {
      auto p = profileInput(r);
      if (!p) return reject(p.message());
      w.members.updateParent(p->name, p->labelsToApply);
      w.activeRules.updateProfile(
          p->name, p->labelsToApply,
          std::make_shared<const ScannedRules>(scanRules(p->ingress, p->egress, "")));
      known_[key] = Known{r.kind, "", false, {}, p->name, {}, {}};
      return;
    }
    case model::Kind::kIPPool: {
      auto p = ipPoolInput(r);
      if (!p) return reject(p.message());
      auto old = known_.find(key);
      if (old != known_.end() && old->second.cidr && !(*old->second.cidr == p->cidr)) remove(key);
      pools_[p->cidr] = *p;
      sequencer_.setPool(*p);
      updatePoolSets();
      known_[key] = Known{r.kind, "", false, {}, {}, p->cidr, {}};
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
  auto old = known_.find(key);
  std::vector<Cidr> oldRoutes;
  if (old != known_.end()) {
    if (old->second.local && !local) {
      w.activeRules.removeLocalEndpoint(itemKey);
      w.resolver.removeEndpoint(itemKey);
    }
    oldRoutes = old->second.routes;
  }
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
  known_[key] = Known{r.kind, itemKey, local, {}, {}, {}, routes};
}

void CalcGraph::applyBlock(const std::string& key, const BlockUpdate& b, bool deleted) {
  if (deleted || b.affinity != "host:" + nodeName_) {
    remove(key);
    return;
  }
  sequencer_.setRoute(Route{b.cidr, ""});
  known_[key] =
      Known{model::Kind::kIPReservation /* unused: marks "block" */, "", true, {}, {}, b.cidr, {}};
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

}  // namespace brindle::calc
