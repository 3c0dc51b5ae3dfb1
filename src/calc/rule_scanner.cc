// RuleScanner: rule parsing into ipset ids and ipset reference counting; see rule_scanner.h.
#include "calc/rule_scanner.h"

#include <algorithm>

#include "calc/hash.h"
#include "calc/inputs.h"
#include "selector/ast.h"

namespace brindle::calc {
namespace {

std::string quoted(const std::string& v) { return "\"" + v + "\""; }

selector::Selector parseOrDie(const std::string& text) {
  auto s = selector::Selector::parse(text);
  if (!s) {
    std::cerr << "brindle: internal error: combined selector does not parse: " << text << "\n";
    std::abort();
  }
  return *s;
}

// Calico's combination of a rule side's selector with its namespace scope:
//  - namespaceSelector N: (pcns.-prefixed N) && (S); `global()` means non-namespaced items only;
//  - else in a namespaced policy: projectcalico.org/namespace == ns && (S), only if S is set;
//  - else S as written.
std::optional<selector::Selector> combinedSelector(const model::EntityRule& e,
                                                   const std::string& ns) {
  std::string sel = e.selector ? e.selector->canonical() : "";
  if (e.namespaceSelector) {
    const auto& n = *e.namespaceSelector;
    std::string scope;
    if (n.root().kind() == selector::NodeKind::kGlobal) {
      scope = "!has(" + std::string(kNamespaceLabel) + ")";
    } else {
      scope = prefixSelectorKeys(n, kNamespaceSelectorPrefix).canonical();
    }
    return parseOrDie(sel.empty() ? scope : "(" + scope + ") && (" + sel + ")");
  }
  if (!e.selector) return std::nullopt;
  if (!ns.empty()) {
    return parseOrDie(std::string(kNamespaceLabel) + " == " + quoted(ns) + " && (" + sel + ")");
  }
  return *e.selector;
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
  if (in.notNets.size() == 1) {
    out.notNets = in.notNets;
  } else if (in.notNets.size() > 1) {
    std::string id = netSetId(in.notNets);
    out.notIpSetIds.push_back(id);
    sets.netSets.emplace(id, in.notNets);
  }
  out.ports.ranges = in.ports.ranges;
  out.notPorts.ranges = in.notPorts.ranges;
  return supported;
}

void scanList(const std::vector<model::Rule>& in, const std::string& ns,
              std::vector<ParsedRule>& out, ScannedRules& sets) {
  for (const auto& r : in) {
    ScannedRules ruleSets;
    ParsedRule p;
    p.action = r.action;
    p.protocol = r.protocol;
    p.notProtocol = r.notProtocol;
    p.ipVersion = r.ipVersion;
    p.icmp = r.icmp;
    p.notIcmp = r.notICMP;
    bool ok = scanEntity(r.source, ns, p.source, ruleSets);
    ok = scanEntity(r.destination, ns, p.destination, ruleSets) && ok;
    ok = ok && !r.http;
    if (!ok && r.action != model::Action::kDeny) continue;
    sets.selectorSets.insert(ruleSets.selectorSets.begin(), ruleSets.selectorSets.end());
    sets.netSets.insert(ruleSets.netSets.begin(), ruleSets.netSets.end());
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
