// The model's path of one packet; see model_path.h.
#include "explain/model_path.h"

#include <map>

#include "calc/dataplane_state.h"
#include "calc/event_sequencer.h"
#include "calc/policy_resolver.h"
#include "calc/rule_scanner.h"
#include "rules/config.h"
#include "rules/names.h"
#include "rules/policy.h"

namespace brindle::explain {
namespace {

using calc::ParsedEntity;
using calc::ParsedRule;
using model::Action;

// What holds an address: endpoints (any node) and network sets, as the ipsets hold their CIDRs.
struct Holder {
  std::string name;
  const Labels* labels;
};

std::vector<Holder> holdersOf(const Cluster& c, const std::optional<IpAddr>& ip) {
  std::vector<Holder> out;
  if (!ip) return out;
  for (const auto& e : c.endpoints) {
    for (const auto& a : e.input.addresses) {
      if (a.isV4() == ip->isV4() && a.contains(*ip)) {
        out.push_back({(e.input.host ? "host endpoint " : "workload ") + e.input.id, &e.labels});
        break;
      }
    }
  }
  for (const auto& n : c.networkSets) {
    for (const auto& net : n.nets) {
      if (net.isV4() == ip->isV4() && net.contains(*ip)) {
        out.push_back({"network set " + n.id, &n.labels});
        break;
      }
    }
  }
  return out;
}

// One end of the packet as a rule side sees it.
struct End {
  const char* word;  // "source" / "destination"
  std::optional<IpAddr> ip;
  std::optional<uint16_t> port;
  std::vector<Holder> holders;
};

bool inPorts(const model::PortSet& set, uint16_t port) {
  for (const auto& r : set.ranges) {
    if (port >= r.first && port <= r.last) return true;
  }
  return false;
}

std::string ipText(const End& end) { return end.ip ? end.ip->toString() : "(no address)"; }

// Whether `end` is in ipset `id` of the rule: a selector set holds every address whose holder's
// labels match; a net set its nets. `who` receives the holder that matched.
bool inSet(const calc::ScannedRules& s, const std::string& id, const End& end, std::string& what) {
  if (auto sel = s.selectorSets.find(id); sel != s.selectorSets.end()) {
    what = "selector " + sel->second.canonical();
    for (const auto& h : end.holders) {
      if (sel->second.matches(*h.labels)) {
        what += " (" + h.name + ")";
        return true;
      }
    }
    return false;
  }
  if (auto nets = s.netSets.find(id); nets != s.netSets.end()) {
    what = "nets ";
    bool in = false;
    for (const auto& n : nets->second) {
      what += n.toString() + " ";
      in = in || (end.ip && n.isV4() == end.ip->isV4() && n.contains(*end.ip));
    }
    what.pop_back();
    return in;
  }
  what = "ipset " + id;
  return false;
}

// "" when the side matches, else the first criterion that fails; `ok` collects what matched.
std::string entityFailure(const ParsedEntity& e, const calc::ScannedRules& s, const End& end,
                          std::vector<std::string>& ok) {
  const std::string w = end.word;
  for (const auto& n : e.nets) {
    if (!end.ip || n.isV4() != end.ip->isV4() || !n.contains(*end.ip))
      return w + " " + ipText(end) + " not in " + n.toString();
    ok.push_back(w + " in " + n.toString());
  }
  for (const auto& n : e.notNets) {
    if (end.ip && n.isV4() == end.ip->isV4() && n.contains(*end.ip))
      return w + " " + ipText(end) + " in notNets " + n.toString();
  }
  for (const auto& id : e.ipSetIds) {
    std::string what;
    if (!inSet(s, id, end, what)) {
      return w + " " + ipText(end) + " does not match " + what +
             (end.holders.empty() ? " (no endpoint or network set holds it)" : "");
    }
    ok.push_back(w + " matches " + what);
  }
  for (const auto& id : e.notIpSetIds) {
    std::string what;
    if (inSet(s, id, end, what)) return w + " " + ipText(end) + " matches not-" + what;
  }
  if (!e.ports.empty()) {
    if (!end.port) return w + " port unknown, rule wants ports " + e.ports.text();
    if (!inPorts(e.ports, *end.port))
      return w + " port " + std::to_string(*end.port) + " not in " + e.ports.text();
    ok.push_back(w + " port " + std::to_string(*end.port) + " in " + e.ports.text());
  }
  if (!e.notPorts.empty() && end.port && inPorts(e.notPorts, *end.port))
    return w + " port " + std::to_string(*end.port) + " in notPorts " + e.notPorts.text();
  return "";
}

std::string icmpText(const model::IcmpMatch& m) {
  std::string t = "type " + (m.type ? std::to_string(*m.type) : "any");
  if (m.code) t += " code " + std::to_string(*m.code);
  return t;
}

bool icmpMatches(const model::IcmpMatch& m, const Packet& p) {
  return (!m.type || m.type == p.icmpType) && (!m.code || m.code == p.icmpCode);
}

std::string ruleFailure(const ParsedRule& r, const calc::ScannedRules& s, const Packet& p,
                        const End& src, const End& dst, std::vector<std::string>& ok) {
  const std::string proto = protocolName(p.protocol);
  if (r.protocol) {
    if (r.protocol->number != p.protocol)
      return "protocol " + protocolName(r.protocol->number) + ", packet is " + proto;
    ok.push_back("protocol " + proto);
  }
  if (r.notProtocol && r.notProtocol->number == p.protocol) return "notProtocol " + proto;
  if (r.icmp) {
    if (!icmpMatches(*r.icmp, p))
      return "icmp " + icmpText(*r.icmp) + ", packet is " + icmpText({p.icmpType, p.icmpCode});
    ok.push_back("icmp " + icmpText(*r.icmp));
  }
  if (r.notIcmp && isIcmp(p.protocol) && icmpMatches(*r.notIcmp, p))
    return "notICMP " + icmpText(*r.notIcmp);
  if (auto f = entityFailure(r.source, s, src, ok); !f.empty()) return f;
  if (auto f = entityFailure(r.destination, s, dst, ok); !f.empty()) return f;
  return "";
}

// lint's finding (model/lint.cc): an earlier terminal rule covering this one.
std::string deadFinding(const std::vector<model::Rule>& rules, size_t j) {
  for (size_t i = 0; i < j; ++i) {
    if (model::isTerminal(rules[i].action) && model::ruleCovers(rules[i], rules[j])) {
      return "dead: rule " + std::to_string(i) + " (" + rules[i].describe() +
             ") ends every packet it would see first";
    }
  }
  return "";
}

// How a policy or profile ended for the packet.
struct Ending {
  bool decided = false;  // a terminal rule matched
  Action action = Action::kAllow;
  int rule = -1;
  int kernelFirst = 0, kernelCount = 0;
};

Decision byRule(const std::string& name, const std::string& tier, const Ending& end,
                std::string chain) {
  Decision d;
  d.kind = Decision::Kind::kRule;
  d.allowed = end.action == Action::kAllow;
  d.policy = name;
  d.tier = tier;
  d.rule = end.rule;
  d.action = end.action;
  d.chain = std::move(chain);
  d.kernelFirst = end.kernelFirst;
  d.kernelCount = end.kernelCount;
  return d;
}

Decision drop(Decision::Kind kind, const std::string& tier, std::string chain) {
  Decision d;
  d.kind = kind;
  d.allowed = false;
  d.tier = tier;
  d.action = Action::kDeny;
  d.chain = std::move(chain);
  return d;
}

class Evaluator {
 public:
  Evaluator(const Cluster& c, const Packet& p, const End& src, const End& dst)
      : c_(c), p_(p), src_(src), dst_(dst) {
    version_ = (src.ip && !src.ip->isV4()) || (dst.ip && !dst.ip->isV4())
                   ? dataplane::IpVersion::kV6
                   : dataplane::IpVersion::kV4;
  }

  // Tries the rules of one policy or profile in order into `step`. `passMark`: whether the pass
  // mark is set on entry (only ever for profiles: a policy is entered only with it clear) and
  // after. A Pass rule is rendered as "set the mark if matched" then "return if the mark is
  // set", so with the mark already set the chain returns at its first Pass rule, matched or not.
  Ending tryRules(const std::vector<model::Rule>& rules, bool ingress, const std::string& ns,
                  Step& step, bool& passMark) const {
    Ending end;
    int kernelPos = 1;
    for (size_t i = 0; i < rules.size(); ++i) {
      const model::Rule& r = rules[i];
      RuleTrial t{i, r.describe(), r.action, false, "", deadFinding(rules, i)};
      const std::vector<model::Rule> one{r};
      calc::ScannedRules s = ingress ? calc::scanRules(one, {}, ns) : calc::scanRules({}, one, ns);
      const auto& parsed = ingress ? s.rules.ingress : s.rules.egress;
      if (parsed.empty()) {
        t.reason =
            "not rendered: the agent leaves out rules needing named ports, service "
            "accounts, services or HTTP matches";
        step.rules.push_back(std::move(t));
        continue;
      }
      const int count = static_cast<int>(rules::renderRule(parsed[0], version_, config_).size());
      if (count == 0) {
        t.reason = std::string("not rendered for IPv") + (v4() ? "4" : "6") +
                   " (ipVersion, nets or protocol of the other family, or matches nothing)";
        step.rules.push_back(std::move(t));
        continue;
      }
      std::vector<std::string> ok;
      std::string failure = ruleFailure(parsed[0], s, p_, src_, dst_, ok);
      t.matched = failure.empty();
      if (t.matched) {
        for (const auto& o : ok) t.reason += (t.reason.empty() ? "" : ", ") + o;
        if (t.reason.empty()) t.reason = "no conditions";
      } else {
        t.reason = failure;
      }
      if (r.action == Action::kPass && (passMark || t.matched)) {
        if (!t.matched) {
          t.reason +=
              "; but the pass mark is still set (a tier ended in Pass): the chain "
              "returns here as if it had passed";
        }
        passMark = true;
        step.rules.push_back(std::move(t));
        return {true, Action::kPass, static_cast<int>(i), kernelPos, count};
      }
      step.rules.push_back(std::move(t));
      if (failure.empty() && model::isTerminal(r.action)) {
        end = {true, r.action, static_cast<int>(i), kernelPos, count};
        return end;
      }
      kernelPos += count;
    }
    return end;
  }

  Side side(const Peer& peer, bool ingress) const {
    Side side;
    side.ingress = ingress;
    side.endpoint = peer.text();
    side.node = peer.node;
    if (!peer.endpoint) {
      side.skipped = peer.host ? "the host itself: no workload policy on this side"
                               : "not one of our endpoints: no policy on this side";
      return side;
    }
    const Endpoint& e = *peer.endpoint;
    if (e.input.host) {
      side.skipped =
          "host endpoint: its policy is for the host's own traffic (forwarded traffic is not "
          "policed: applyOnForward is not rendered yet)";
      return side;
    }
    side.evaluated = true;
    side.interfaceName = e.input.interfaceName;
    const std::string endpointChain =
        rules::endpointChainName(ingress ? "cali-tw-" : "cali-fw-", e.input.interfaceName);
    const calc::WorkloadEndpoint resolved = resolve(e);
    Decision& d = side.decision;
    d.chain = endpointChain;
    bool passMark = false;  // set by the Pass rule that ended the last tier, cleared per tier
    for (const auto& tier : resolved.tiers) {
      const auto& ids = ingress ? tier.ingressPolicies : tier.egressPolicies;
      if (ids.empty()) continue;
      bool passed = false;
      passMark = false;
      for (const auto& id : ids) {
        const calc::PolicyInput& p = *policies_.at(id);
        Step step{false, id.name, id.tier, rules::policyChainName(id, ingress), {}, ""};
        bool policyPass = false;  // the jump to a policy is guarded by "pass mark clear"
        Ending end = tryRules(ingress ? p.ingress : p.egress, ingress, p.ns, step, policyPass);
        step.outcome = end.decided ? std::string(model::actionName(end.action)) + " (rule " +
                                         std::to_string(end.rule) + ")"
                                   : "no rule matched";
        side.steps.push_back(std::move(step));
        if (!end.decided) continue;
        if (end.action == Action::kPass) {
          passed = passMark = true;
          break;
        }
        d = byRule(id.name, id.tier, end, rules::policyChainName(id, ingress));
        return side;
      }
      if (!passed && tier.defaultAction != Action::kPass) {
        d = drop(Decision::Kind::kEndOfTier, tier.name, endpointChain);
        return side;
      }
    }
    for (const auto& name : e.input.profiles) {
      Step step{true, name, "", rules::profileChainName(name, ingress), {}, ""};
      auto prof = c_.profiles.find(name);
      Ending end;
      if (prof == c_.profiles.end()) {
        step.outcome = "missing profile: no rules";
      } else {
        end = tryRules(ingress ? prof->second.ingress : prof->second.egress, ingress, "", step,
                       passMark);
        step.outcome = end.decided ? std::string(model::actionName(end.action)) + " (rule " +
                                         std::to_string(end.rule) + ")"
                                   : "no rule matched";
      }
      side.steps.push_back(std::move(step));
      // Pass in a profile only sets the pass mark: the next profile decides.
      if (!end.decided || end.action == Action::kPass) continue;
      d = byRule(name, "", end, rules::profileChainName(name, ingress));
      d.profile = true;
      return side;
    }
    d = drop(Decision::Kind::kNoProfile, "", endpointChain);
    return side;
  }

 private:
  bool v4() const { return version_ == dataplane::IpVersion::kV4; }

  // The endpoint's tiers exactly as the agent resolves them: the resolver fed the tiers and the
  // policies whose selector matches the endpoint's labels.
  calc::WorkloadEndpoint resolve(const Endpoint& e) const {
    calc::PolicyResolver resolver;
    for (const auto& t : c_.tiers) resolver.updateTier(t);
    const std::string key = "w:" + e.input.id;
    for (const auto& p : c_.policies) {
      if (!p.selector.matches(e.labels)) continue;
      resolver.updatePolicy(p);
      resolver.matchStarted(p.id, key);
      policies_[p.id] = &p;
    }
    resolver.updateEndpoint(key, e.input);
    calc::EventSequencer sequencer;
    resolver.flush(sequencer);
    calc::DataplaneState state;
    sequencer.flush(state);
    return state.workloads.at(e.input.id);
  }

  const Cluster& c_;
  const Packet& p_;
  const End& src_;
  const End& dst_;
  dataplane::IpVersion version_;
  rules::RendererConfig config_;
  mutable std::map<calc::PolicyId, const calc::PolicyInput*> policies_;
};

// A workload's address of the other end's family.
std::optional<IpAddr> addressFor(const Peer& peer, const std::optional<IpAddr>& other) {
  if (!peer.endpoint) return peer.ip;
  if (peer.ip && (!other || peer.ip->isV4() == other->isV4())) return peer.ip;
  for (const auto& a : peer.endpoint->input.addresses) {
    if (!other || a.isV4() == other->isV4()) return a.address();
  }
  return peer.ip;
}

}  // namespace

std::string Decision::text() const {
  switch (kind) {
    case Kind::kRule:
      if (rule < 0) return policy + ": " + std::string(model::actionName(action));  // a setting
      return std::string(profile ? "profile " : "policy ") + policy +
             (profile ? "" : " (tier " + tier + ")") + " rule " + std::to_string(rule) + ": " +
             std::string(model::actionName(action));
    case Kind::kEndOfTier:
      return "end of tier " + tier + ": no policy decided (Deny)";
    case Kind::kNoProfile:
      return "no policy or profile allowed it: endpoint's default drop";
    case Kind::kNotPoliced:
      return "not policed";
  }
  return "";
}

ModelPath explainModel(const Cluster& cluster, const Peer& from, const Peer& to,
                       const Packet& packet) {
  ModelPath path;
  path.from = from.text();
  path.to = to.text();
  path.packet = packet;
  path.source = addressFor(from, to.ip);
  path.destination = addressFor(to, path.source);
  End src{"source", path.source, packet.sourcePort, holdersOf(cluster, path.source)};
  End dst{"destination", path.destination, packet.destPort, holdersOf(cluster, path.destination)};
  Evaluator eval(cluster, packet, src, dst);
  path.egress = eval.side(from, false);
  path.allowed = path.egress.decision.allowed;
  const bool sameNode = !from.node.empty() && from.node == to.node;
  path.hostLocal = sameNode && (from.host || to.host);
  if (to.host && sameNode && from.endpoint) {
    path.ingress.endpoint = to.text();
    path.ingress.skipped = "to its own host: DefaultEndpointToHostAction decides after egress";
    rules::RendererConfig config;
    if (config.defaultEndpointToHostAction == rules::EndpointToHostAction::kDrop) {
      path.ingress.decision = drop(Decision::Kind::kRule, "", rules::kChainWlToHost);
      path.ingress.decision.policy = "DefaultEndpointToHostAction";
    }
  } else if (from.host && sameNode && to.endpoint) {
    path.ingress.endpoint = to.text();
    path.ingress.skipped = "from its own host: Calico applies no workload ingress policy";
  } else {
    path.ingress = eval.side(to, true);
  }
  if (!path.egress.decision.allowed && path.ingress.evaluated) {
    path.notes.push_back("egress denies: the packet never reaches the ingress side shown");
  }
  if (path.allowed) path.allowed = path.ingress.decision.allowed;
  return path;
}

}  // namespace brindle::explain
