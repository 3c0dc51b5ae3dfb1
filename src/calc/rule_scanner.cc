// RuleScanner: rule parsing into ipset ids and ipset reference counting; see rule_scanner.h.
#include "calc/rule_scanner.h"

#include <algorithm>
#include <functional>

#include "calc/hash.h"
#include "calc/inputs.h"
#include "selector/ast.h"

namespace brindle::calc {
namespace {

// Calico's combination of a rule side's selector with its namespace scope:
//  - namespaceSelector N: (pcns.-prefixed N) && (S); `global()` means non-namespaced items only;
//  - else in a namespaced policy, when S or a notSelector is set: projectcalico.org/namespace ==
//    ns && (S), or the namespace alone (a notSelector on its own is limited to the policy's
//    namespace too: without it the side would match every namespace's endpoints);
//  - else S as written.
std::optional<selector::Selector> combinedSelector(const model::EntityRule& e,
                                                   const std::string& ns) {
  using selector::NodeKind;
  std::vector<selector::NodePtr> parts;
  if (e.namespaceSelector) {
    const selector::Node& n = e.namespaceSelector->root();
    parts.push_back(n.kind() == NodeKind::kGlobal
                        ? selector::negate(selector::hasLabel(std::string(kNamespaceLabel)))
                        : selector::withPrefix(n, kNamespaceSelectorPrefix));
  } else if (!ns.empty() && (e.selector || e.notSelector)) {
    parts.push_back(inNamespace(ns));
  } else {
    return e.selector;
  }
  if (e.selector) parts.push_back(selector::withPrefix(e.selector->root(), ""));
  return selector::Selector(selector::allOf(std::move(parts)));
}

std::string netSetId(std::vector<Cidr> nets) {
  std::sort(nets.begin(), nets.end());
  std::string text;
  for (const auto& n : nets) text += n.toString() + ",";
  return uniqueId("n", text);
}

// Fills one side; false if the side needs something unsupported.
bool scanEntity(const model::EntityRule& in, const std::string& ns, ParsedEntity& out,
                ScannedRules& sets) {
  bool supported =
      !in.serviceAccounts && !in.services && in.ports.names.empty() && in.notPorts.names.empty();
  if (auto sel = combinedSelector(in, ns)) {
    std::string id = selectorIpSetId(*sel);
    out.ipSetIds.push_back(id);
    sets.selectorSets.emplace(id, *sel);
  }
  if (in.notSelector) {
    std::string id = selectorIpSetId(*in.notSelector);
    out.notIpSetIds.push_back(id);
    sets.selectorSets.emplace(id, *in.notSelector);
  }
  if (in.nets.size() == 1) {
    out.nets = in.nets;
  } else if (in.nets.size() > 1) {
    std::string id = netSetId(in.nets);
    out.ipSetIds.push_back(id);
    sets.netSets.emplace(id, in.nets);
  }
  // iptables takes one -s (-d) a rule, negated or not: a single notNet beside a single net goes
  // into a set, as several notNets do.
  if (in.notNets.size() == 1 && out.nets.empty()) {
    out.notNets = in.notNets;
  } else if (!in.notNets.empty()) {
    std::string id = netSetId(in.notNets);
    out.notIpSetIds.push_back(id);
    sets.netSets.emplace(id, in.notNets);
  }
  out.ports.ranges = in.ports.ranges;
  out.notPorts.ranges = in.notPorts.ranges;
  return supported;
}

// One rule into `p` and the sets it needs; false if it is dropped (it needs what Brindle cannot
// match yet and does not deny).
bool scanRule(const model::Rule& r, const std::string& ns, ParsedRule& p, ScannedRules& sets) {
  p.action = r.action;
  p.protocol = r.protocol;
  p.notProtocol = r.notProtocol;
  p.ipVersion = r.ipVersion;
  p.icmp = r.icmp;
  p.notIcmp = r.notICMP;
  bool ok = scanEntity(r.source, ns, p.source, sets);
  ok = scanEntity(r.destination, ns, p.destination, sets) && ok;
  ok = ok && !r.http;
  return ok || r.action == model::Action::kDeny;
}

void addSets(const ScannedRules& from, ScannedRules& to) {
  to.selectorSets.insert(from.selectorSets.begin(), from.selectorSets.end());
  to.netSets.insert(from.netSets.begin(), from.netSets.end());
}

void scanList(const std::vector<model::Rule>& in, const std::string& ns,
              std::vector<ParsedRule>& out, ScannedRules& sets) {
  for (const auto& r : in) {
    ScannedRules ruleSets;
    ParsedRule p;
    if (!scanRule(r, ns, p, ruleSets)) continue;
    addSets(ruleSets, sets);
    out.push_back(std::move(p));
  }
}

}  // namespace

std::string selectorIpSetId(const selector::Selector& sel) {
  return uniqueId("s", sel.canonical());
}

ScannedRules scanRules(const std::vector<model::Rule>& ingress,
                       const std::vector<model::Rule>& egress, const std::string& ns) {
  ScannedRules out;
  scanList(ingress, ns, out.rules.ingress, out);
  scanList(egress, ns, out.rules.egress, out);
  return out;
}

Status RuleCache::scan(const model::Json& spec, const char* field, const std::string& ns,
                       std::vector<ParsedRule>& out, ScannedRules& sets) {
  // Absent or not a list: no rules, as model::parseRules() reads it.
  auto found = spec.find(field);
  if (found == spec.end() || !found->is_array()) return Status::ok();
  const model::Json& list = *found;
  out.reserve(out.size() + list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const model::Json& json = list[i];
    const size_t hash = std::hash<model::Json>{}(json)*31 + std::hash<std::string>{}(ns);
    const Entry* entry = nullptr;
    if (auto b = entries_.find(hash); b != entries_.end()) {
      for (const Entry& e : b->second) {
        if (e.ns == ns && e.json == json) entry = &e;
      }
    }
    if (entry == nullptr) {
      BRINDLE_ASSIGN_OR_RETURN(
          auto rule, model::parseRule(json, model::indexed(std::string("spec.") + field, i)));
      if (size_ >= kMaxEntries) {  // bounded: start again rather than track use
        entries_.clear();
        size_ = 0;
      }
      Entry e{json, ns, false, {}, {}};
      e.kept = scanRule(rule, ns, e.rule, e.sets);
      auto& bucket = entries_[hash];
      bucket.push_back(std::move(e));
      entry = &bucket.back();
      ++size_;
    }
    if (!entry->kept) continue;
    addSets(entry->sets, sets);
    out.push_back(entry->rule);
  }
  return Status::ok();
}

void RuleScanner::swapSets(const ScannedRules* prev, const ScannedRules* next) {
  if (next) {
    for (const auto& [id, sel] : next->selectorSets) {
      if (refs_[id]++ == 0) out_.onSelectorIpSetActive(id, sel);
    }
    for (const auto& [id, nets] : next->netSets) {
      if (refs_[id]++ == 0) out_.onNetIpSetActive(id, nets);
    }
  }
  if (prev) {
    auto drop = [&](const std::string& id) {
      auto it = refs_.find(id);
      if (it != refs_.end() && --it->second == 0) {
        refs_.erase(it);
        out_.onIpSetInactive(id);
      }
    };
    for (const auto& [id, sel] : prev->selectorSets) drop(id);
    for (const auto& [id, nets] : prev->netSets) drop(id);
  }
}

namespace {
// The parsed rules inside `scanned`, sharing its ownership.
std::shared_ptr<const ParsedRules> rulesOf(const ScannedRulesPtr& scanned) {
  return std::shared_ptr<const ParsedRules>(scanned, &scanned->rules);
}
}  // namespace

void RuleScanner::updatePolicy(const PolicyId& id, const ScannedRulesPtr& next) {
  auto it = policies_.find(id);
  if (it != policies_.end() && (it->second == next || it->second->rules == next->rules)) return;
  swapSets(it == policies_.end() ? nullptr : it->second.get(), next.get());
  out_.onPolicyRules(id, rulesOf(next));
  policies_[id] = next;
}

void RuleScanner::removePolicy(const PolicyId& id) {
  auto it = policies_.find(id);
  if (it == policies_.end()) return;
  out_.onPolicyRulesGone(id);
  swapSets(it->second.get(), nullptr);
  policies_.erase(it);
}

void RuleScanner::updateProfile(const std::string& name, const ScannedRulesPtr& next) {
  auto it = profiles_.find(name);
  if (it != profiles_.end() && (it->second == next || it->second->rules == next->rules)) return;
  swapSets(it == profiles_.end() ? nullptr : it->second.get(), next.get());
  out_.onProfileRules(name, rulesOf(next));
  profiles_[name] = next;
}

void RuleScanner::removeProfile(const std::string& name) {
  auto it = profiles_.find(name);
  if (it == profiles_.end()) return;
  out_.onProfileRulesGone(name);
  swapSets(it->second.get(), nullptr);
  profiles_.erase(it);
}

}  // namespace brindle::calc
