// Endpoint and dispatch chains; see endpoints.h.
#include "rules/endpoints.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "calc/hash.h"
#include "common/digest.h"
#include "dataplane/iptables_render.h"
#include "rules/names.h"
#include "rules/policy.h"

namespace brindle::rules {

using dataplane::Action;
using dataplane::Chain;
using dataplane::Match;
using dataplane::Rule;

std::vector<Rule> endpointPolicyRules(const std::vector<calc::TierInfo>& tiers,
                                      const std::vector<std::string>& profiles, bool ingress,
                                      const RendererConfig& config) {
  std::vector<Rule> out;
  out.push_back({{}, Action::clearMark(config.markAccept), ""});
  std::vector<const calc::TierInfo*> applying;
  for (const auto& t : tiers) {
    if (!(ingress ? t.ingressPolicies : t.egressPolicies).empty()) applying.push_back(&t);
  }
  const bool onlyDefault = applying.size() == 1 && applying[0]->name == calc::kDefaultTier;
  for (const auto* t : applying) {
    out.push_back({{},
                   Action::clearMark(config.markPass),
                   onlyDefault ? "Start of policies" : "Start of tier " + t->name});
    for (const auto& id : ingress ? t->ingressPolicies : t->egressPolicies) {
      out.push_back(
          {Match().markClear(config.markPass), Action::jump(policyChainName(id, ingress)), ""});
      out.push_back(
          {Match().markSet(config.markAccept), Action::ret(), "Return if policy accepted"});
    }
    // A tier whose policies select the endpoint but none of whose rules matched (no Pass) denies,
    // unless its default action is Pass: then the next tier (or the profiles) decides.
    if (t->defaultAction != model::Action::kPass) {
      out.push_back({Match().markClear(config.markPass), Action::drop(),
                     "Drop if no policies passed packet"});
    }
  }
  for (const auto& p : profiles) {
    out.push_back({{}, Action::jump(profileChainName(p, ingress)), ""});
    out.push_back(
        {Match().markSet(config.markAccept), Action::ret(), "Return if profile accepted"});
  }
  out.push_back({{}, Action::drop(), "Drop if no profiles matched"});
  return out;
}

std::vector<Chain> workloadEndpointChains(const calc::WorkloadEndpoint& ep,
                                          const RendererConfig& config) {
  return {Chain{endpointChainName("cali-tw-", ep.interfaceName),
                endpointPolicyRules(ep.tiers, ep.profileIds, true, config)},
          Chain{endpointChainName("cali-fw-", ep.interfaceName),
                endpointPolicyRules(ep.tiers, ep.profileIds, false, config)}};
}

std::vector<Chain> hostEndpointChains(const calc::HostEndpoint& ep, const RendererConfig& config) {
  if (ep.interfaceName.empty() || ep.interfaceName == "*") return {};
  Chain from{endpointChainName("cali-fh-", ep.interfaceName), {}};
  from.rules.push_back({{}, Action::jump(kChainFailsafeIn), ""});
  auto in = endpointPolicyRules(ep.tiers, ep.profileIds, true, config);
  from.rules.insert(from.rules.end(), in.begin(), in.end());
  Chain to{endpointChainName("cali-th-", ep.interfaceName), {}};
  to.rules.push_back({{}, Action::jump(kChainFailsafeOut), ""});
  auto out = endpointPolicyRules(ep.tiers, ep.profileIds, false, config);
  to.rules.insert(to.rules.end(), out.begin(), out.end());
  return {from, to};
}

namespace {

// A dispatch chain longer than this is split into a prefix tree: every packet of a new
// connection walks its dispatch chain rule by rule, so 500 flat `-g` rules cost far more than
// the few dozen a tree shows it. Small sets stay one flat chain (the seed's layout).
constexpr size_t kDispatchLeafMax = 16;

// What differs between the four dispatch trees.
struct DispatchKind {
  const char* root;                   // the chain the hooks jump to
  const char* endpointPrefix;         // "cali-fw-" etc.: the per-interface chain
  bool incoming;                      // matches the incoming (else the outgoing) interface
  std::vector<Rule> endRules;         // after the last interface, in the root and in every child
  size_t leafMax = kDispatchLeafMax;  // SIZE_MAX: one flat chain (the nftables verdict map)
};

// The child chain for the interfaces starting with `prefix`. Named by the prefix alone (not by
// the path through the tree) so a new interface elsewhere never renames it. The workload prefix
// "cali" is left out so the name fits in 28 characters ("cali-from-wl-dispatch-0"); other
// prefixes hang off "." instead of "-", so the two kinds never meet. Too long: hashed.
std::string dispatchChildName(const std::string& root, const std::string& prefix) {
  const std::string_view kCali = "cali";
  if (prefix.rfind(kCali, 0) == 0) {
    return calc::lengthLimitedId(root + "-", prefix.substr(kCali.size()), kMaxChainName);
  }
  return calc::lengthLimitedId(root + ".", prefix, kMaxChainName);
}

Match interfaceMatch(const DispatchKind& kind, std::string name) {
  return kind.incoming ? Match().inInterface(std::move(name))
                       : Match().outInterface(std::move(name));
}

// The `-g` to interface `iface`'s endpoint chain.
Rule dispatchRule(const DispatchKind& kind, const std::string& iface) {
  return {interfaceMatch(kind, iface), Action::goTo(endpointChainName(kind.endpointPrefix, iface)),
          ""};
}

// The two workload dispatch kinds: from (cali-fw-), to (cali-tw-).
std::vector<DispatchKind> workloadKinds(bool flat) {
  const std::vector<Rule> drop = {{{}, Action::drop(), "Unknown interface"}};
  const size_t leafMax = flat ? SIZE_MAX : kDispatchLeafMax;
  return {{kChainFromWlDispatch, "cali-fw-", true, drop, leafMax},
          {kChainToWlDispatch, "cali-tw-", false, drop, leafMax}};
}

// Renders chain `name` for the sorted, unique `names` [begin, end) and, recursively, its
// children into `out`. Above kDispatchLeafMax names the chain bins them by the character after
// their common prefix: a bin of one gets its `-g` here, a larger bin a `-i <prefix>+ -g child`.
void buildDispatch(const DispatchKind& kind, const std::string& name,
                   std::vector<std::string>::const_iterator begin,
                   std::vector<std::string>::const_iterator end, std::vector<Chain>& out) {
  Chain chain{name, {}};
  auto direct = [&](const std::string& iface) { chain.rules.push_back(dispatchRule(kind, iface)); };
  std::vector<Chain> children;
  if (static_cast<size_t>(end - begin) <= kind.leafMax) {
    std::for_each(begin, end, direct);
  } else {
    // Sorted: the first and the last name bound the common prefix of all of them.
    const std::string& first = *begin;
    const std::string& last = *(end - 1);
    size_t common = 0;
    while (common < first.size() && common < last.size() && first[common] == last[common]) {
      ++common;
    }
    for (auto it = begin; it != end;) {
      // The bin of *it: the common prefix plus its next character (the prefix itself when the
      // name is that short; sorted first, it stands alone). Bins are contiguous when sorted.
      const std::string key = it->substr(0, std::min(it->size(), common + 1));
      auto binEnd = it + 1;
      while (binEnd != end && key.size() == common + 1 && binEnd->size() > common &&
             binEnd->compare(0, key.size(), key) == 0) {
        ++binEnd;
      }
      if (binEnd - it == 1) {
        direct(*it);
      } else {
        const std::string child = dispatchChildName(kind.root, key);
        chain.rules.push_back({interfaceMatch(kind, key + "+"), Action::goTo(child), ""});
        buildDispatch(kind, child, it, binEnd, children);
      }
      it = binEnd;
    }
  }
  // A child is reached by -g, so a packet that matches none of its interfaces must meet the
  // same end as in the root (workloads: "Unknown interface" DROP; hosts: return to the hook).
  chain.rules.insert(chain.rules.end(), kind.endRules.begin(), kind.endRules.end());
  out.push_back(std::move(chain));
  for (auto& c : children) out.push_back(std::move(c));
}

std::vector<Chain> dispatchTree(const DispatchKind& kind, std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::vector<Chain> out;
  buildDispatch(kind, kind.root, names.begin(), names.end(), out);
  return out;
}

}  // namespace

std::vector<Chain> workloadDispatchChains(
    const std::map<std::string, calc::WorkloadEndpoint>& endpoints) {
  std::vector<std::string> ifaces;
  for (const auto& [id, ep] : endpoints) {
    if (!ep.interfaceName.empty()) ifaces.push_back(ep.interfaceName);
  }
  const auto kinds = workloadKinds(false);
  auto from = dispatchTree(kinds[0], ifaces);
  auto to = dispatchTree(kinds[1], ifaces);
  from.insert(from.end(), std::make_move_iterator(to.begin()), std::make_move_iterator(to.end()));
  return from;
}

std::string workloadGroupChainName(std::string_view prefix, uint32_t group) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "g%08x", group);
  return std::string(prefix) + hex;
}

std::string workloadChainsDigest(const std::vector<Chain>& chains) {
  // Felix's rule hashes chain each rule's hash from the one before: the last covers the chain.
  std::string digest;
  for (size_t i = 0; i < chains.size(); ++i) {
    auto hashes = dataplane::ruleHashes("cali-wl-group-" + std::to_string(i), chains[i].rules);
    digest.append(hashes.empty() ? "-" : hashes.back()).append("/");
  }
  return digest;
}

uint32_t preferredWorkloadGroup(const std::string& digest) {
  const auto d = sha224(digest);
  const uint32_t n = (uint32_t{d[0]} << 24) | (uint32_t{d[1]} << 16) | (uint32_t{d[2]} << 8) | d[3];
  return dataplane::kWorkloadGroupFirst +
         n % (dataplane::kWorkloadGroupLast - dataplane::kWorkloadGroupFirst + 1);
}

namespace {

// The grouped dispatch rule of interface `iface` in group `group`.
Rule groupedDispatchRule(const DispatchKind& kind, const std::string& iface, uint32_t group) {
  Match match = interfaceMatch(kind, iface);
  if (kind.incoming) {
    match.inGroup(group);
  } else {
    match.outGroup(group);
  }
  return {std::move(match), Action::goTo(workloadGroupChainName(kind.endpointPrefix, group)), ""};
}

}  // namespace

std::vector<Chain> groupedWorkloadDispatchChains(
    const std::map<std::string, uint32_t>& groups,
    const std::map<std::string, std::set<uint32_t>>& moving) {
  std::vector<Chain> out;
  for (const auto& kind : workloadKinds(true)) {
    Chain chain{kind.root, {}};
    for (const auto& [iface, old] : moving) {
      auto now = groups.find(iface);
      if (now == groups.end()) continue;
      for (uint32_t g : old) {
        // Commented, so never part of the map's run (nftables_render.h): a lone rule.
        Rule rule = groupedDispatchRule(kind, iface, g);
        rule.action = Action::goTo(workloadGroupChainName(kind.endpointPrefix, now->second));
        rule.comment = "Interface moving to its new group";
        chain.rules.push_back(std::move(rule));
      }
    }
    for (const auto& [iface, group] : groups) {  // sorted by interface
      chain.rules.push_back(groupedDispatchRule(kind, iface, group));
    }
    chain.rules.insert(chain.rules.end(), kind.endRules.begin(), kind.endRules.end());
    out.push_back(std::move(chain));
  }
  return out;
}

bool editGroupedWorkloadDispatch(dataplane::ChainTable& table, const std::string& iface,
                                 std::optional<uint32_t> group) {
  const auto kinds = workloadKinds(true);
  for (const auto& kind : kinds) {
    const Chain* chain = table.desiredChain(kind.root);
    if (!chain || chain->rules.size() < kind.endRules.size()) return false;
  }
  for (const auto& kind : kinds) {
    // The interfaces' rules, sorted by name as groupedWorkloadDispatchChains sorts them, then
    // the end rules.
    const auto& rules = table.desiredChain(kind.root)->rules;
    const auto end = rules.end() - static_cast<long>(kind.endRules.size());
    auto at = std::lower_bound(rules.begin(), end, iface, [](const Rule& r, const std::string& i) {
      return r.match.criteria().front().text < i;
    });
    const bool there = at != end && at->match.criteria().front().text == iface;
    const auto index = static_cast<size_t>(at - rules.begin());
    std::optional<Rule> want;
    if (group) want = groupedDispatchRule(kind, iface, *group);
    if (there && want && *at == *want) continue;
    if (there) table.removeRule(kind.root, index);
    if (want) table.insertRule(kind.root, index, std::move(*want));
  }
  return true;
}

std::vector<Chain> hostDispatchChains(const std::map<std::string, calc::HostEndpoint>& endpoints,
                                      bool flat) {
  std::vector<std::string> ifaces;
  for (const auto& [id, ep] : endpoints) {
    if (!ep.interfaceName.empty() && ep.interfaceName != "*") ifaces.push_back(ep.interfaceName);
  }
  const size_t leafMax = flat ? SIZE_MAX : kDispatchLeafMax;
  auto from = dispatchTree({kChainFromHostEndpoint, "cali-fh-", true, {}, leafMax}, ifaces);
  auto to = dispatchTree({kChainToHostEndpoint, "cali-th-", false, {}, leafMax}, ifaces);
  from.insert(from.end(), std::make_move_iterator(to.begin()), std::make_move_iterator(to.end()));
  return from;
}

std::vector<Chain> failsafeChains(const RendererConfig& config, dataplane::IpVersion v) {
  Chain in{kChainFailsafeIn, {}}, out{kChainFailsafeOut, {}};
  // A port limited to a network is allowed from (inbound) or to (outbound) that network only, in
  // the rules of its IP version only, as Felix.
  auto add = [v](Chain& chain, const FailsafePort& p, bool inbound) {
    Match m = Match().protocol(p.protocol).destPorts(std::to_string(p.port));
    if (p.net) {
      if (p.net->isV4() != (v == dataplane::IpVersion::kV4)) return;
      if (inbound) {
        m.sourceNet(p.net->toString());
      } else {
        m.destNet(p.net->toString());
      }
    }
    chain.rules.push_back(Rule{std::move(m), Action::accept(), ""});
  };
  for (const auto& p : config.failsafeInbound) add(in, p, true);
  for (const auto& p : config.failsafeOutbound) add(out, p, false);
  return {in, out};
}

}  // namespace brindle::rules
