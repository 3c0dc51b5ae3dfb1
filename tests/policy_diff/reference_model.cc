#include "policy_diff/reference_model.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <vector>

namespace brindle::policydiff {

namespace {

constexpr const char* kNamespaceLabel = "projectcalico.org/namespace";
constexpr const char* kOrchestratorLabel = "projectcalico.org/orchestrator";
constexpr const char* kNamespaceNameLabel = "projectcalico.org/name";

uint32_t parseIp(const std::string& text) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  std::sscanf(text.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d);
  return (a << 24) | (b << 16) | (c << 8) | d;
}

bool inCidr(const std::string& ip, const std::string& cidr) {
  auto slash = cidr.find('/');
  int len = slash == std::string::npos ? 32 : std::stoi(cidr.substr(slash + 1));
  uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
  return (parseIp(ip) & mask) == (parseIp(cidr.substr(0, slash)) & mask);
}

bool inAny(const std::string& ip, const std::vector<std::string>& cidrs) {
  return std::any_of(cidrs.begin(), cidrs.end(), [&](const auto& c) { return inCidr(ip, c); });
}

bool inPorts(int port, const std::vector<PortRange>& ranges) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [&](const auto& r) { return port >= r.first && port <= r.last; });
}

// Something a rule selector can select: a workload endpoint or a network set, with the labels
// selectors see and the addresses that stand for it in a packet.
struct Entity {
  std::string ns;  // "" for non-namespaced (global network sets)
  LabelMap labels;
  std::vector<std::string> cidrs;
};

// An endpoint's labels as selectors see them: its profiles' labelsToApply, its own labels on top,
// and the automatic namespace and orchestrator labels.
LabelMap endpointLabels(const State& state, const Endpoint& ep) {
  LabelMap out;
  for (const auto& name : ep.profiles) {
    for (const auto& p : state.profiles) {
      if (p.name == name) out.insert(p.labelsToApply.begin(), p.labelsToApply.end());
    }
  }
  for (const auto& [k, v] : ep.labels) out[k] = v;
  out[kNamespaceLabel] = ep.ns;
  out[kOrchestratorLabel] = "k8s";
  return out;
}

std::vector<Entity> entities(const State& state) {
  std::vector<Entity> out;
  for (const auto& ep : state.endpoints) {
    out.push_back({ep.ns, endpointLabels(state, ep), {ep.ip + "/32"}});
  }
  for (const auto& s : state.netSets) {
    LabelMap labels = s.labels;
    if (!s.global) labels[kNamespaceLabel] = s.ns;
    out.push_back({s.global ? "" : s.ns, labels, s.nets});
  }
  return out;
}

const Endpoint* endpointWithIp(const State& state, const std::string& ip) {
  for (const auto& ep : state.endpoints) {
    if (ep.ip == ip) return &ep;
  }
  return nullptr;
}

class Evaluator {
 public:
  Evaluator(const State& state, const Reading& reading)
      : state_(state), reading_(reading), entities_(entities(state)) {}

  Verdict decide(const Packet& packet) {
    Verdict out{true, ""};
    // Egress of the sending endpoint first, then ingress of the receiving one; an address that is
    // no endpoint of this node has no policy of its own.
    if (const Endpoint* src = endpointWithIp(state_, packet.srcIp)) {
      Verdict v = direction(*src, false, packet);
      out.reason = v.reason;
      if (!v.allowed) {
        out.allowed = false;
        return out;
      }
    }
    if (const Endpoint* dst = endpointWithIp(state_, packet.dstIp)) {
      Verdict v = direction(*dst, true, packet);
      out.reason += (out.reason.empty() ? "" : "; ") + v.reason;
      out.allowed = v.allowed;
    }
    if (out.reason.empty()) out.reason = "no endpoint on either side";
    return out;
  }

 private:
  static std::vector<std::string> effectiveTypes(const Policy& p) {
    if (p.types) return *p.types;
    // Calico's defaulting: Egress when egress rules are present, Ingress when ingress rules are
    // present or when there are no rules at all.
    std::vector<std::string> out;
    if (!p.ingress.empty() || p.egress.empty()) out.push_back("Ingress");
    if (!p.egress.empty()) out.push_back("Egress");
    return out;
  }

  Verdict direction(const Endpoint& ep, bool ingress, const Packet& packet) {
    std::string where = std::string(ingress ? "ingress " : "egress ") + ep.id() + ": ";
    LabelMap labels = endpointLabels(state_, ep);
    std::vector<const Policy*> applied;
    for (const auto& p : state_.policies) {
      if (!p.global && p.ns != ep.ns) continue;  // a NetworkPolicy selects only its namespace
      if (!p.selector.matches(labels)) continue;
      auto types = effectiveTypes(p);
      if (std::find(types.begin(), types.end(), ingress ? "Ingress" : "Egress") == types.end()) {
        continue;
      }
      applied.push_back(&p);
    }
    // Lowest order first, no order after every ordered one, ties by name.
    std::sort(applied.begin(), applied.end(), [](const Policy* a, const Policy* b) {
      double oa = a->order.value_or(std::numeric_limits<double>::infinity());
      double ob = b->order.value_or(std::numeric_limits<double>::infinity());
      if (oa != ob) return oa < ob;
      return a->name < b->name;
    });
    if (!applied.empty()) {
      bool passed = false;
      for (const Policy* p : applied) {
        const auto& rules = ingress ? p->ingress : p->egress;
        for (size_t i = 0; i < rules.size() && !passed; ++i) {
          if (!ruleMatches(rules[i], packet, p->global ? "" : p->ns)) continue;
          std::string what = where + "policy " + p->id() + (ingress ? " ingress[" : " egress[") +
                             std::to_string(i) + "] " + rules[i].action;
          if (rules[i].action == "Allow") return {true, what};
          if (rules[i].action == "Deny") return {false, what};
          if (rules[i].action == "Pass") passed = true;  // skips the rest of the tier
        }
        if (passed) break;
      }
      if (!passed) return {false, where + "no rule of the applied policies matched (tier end)"};
      where += "passed to profiles: ";
    }
    for (const auto& name : ep.profiles) {
      for (const auto& prof : state_.profiles) {
        if (prof.name != name) continue;
        const auto& rules = ingress ? prof.ingress : prof.egress;
        for (size_t i = 0; i < rules.size(); ++i) {
          if (!ruleMatches(rules[i], packet, "")) continue;
          std::string what = where + "profile " + name + (ingress ? " ingress[" : " egress[") +
                             std::to_string(i) + "] " + rules[i].action;
          if (rules[i].action == "Allow") return {true, what};
          if (rules[i].action == "Deny") return {false, what};
        }
      }
    }
    return {false,
            where + (applied.empty() ? "no policy applies and " : "") + "no profile rule matched"};
  }

  bool ruleMatches(const Rule& r, const Packet& packet, const std::string& policyNs) {
    std::string proto = packet.proto == "tcp" ? "TCP" : packet.proto == "udp" ? "UDP" : "ICMP";
    if (r.protocol && *r.protocol != proto) return false;
    if (r.notProtocol && *r.notProtocol == proto) return false;
    auto icmpMatches = [&](const Icmp& m) {
      // Our ICMP probes are echo requests: type 8, code 0.
      return proto == "ICMP" && m.type == 8 && (!m.code || *m.code == 0);
    };
    if (r.icmp && !icmpMatches(*r.icmp)) return false;
    if (r.notICMP && icmpMatches(*r.notICMP)) return false;
    bool ported = proto != "ICMP";
    // Source ports are ephemeral and never generated; only the destination side has ports.
    if (!sideMatches(r.source, packet.srcIp, policyNs)) return false;
    if (!sideMatches(r.destination, packet.dstIp, policyNs)) return false;
    if (!r.destination.ports.empty() && !(ported && inPorts(packet.port, r.destination.ports))) {
      return false;
    }
    if (!r.destination.notPorts.empty() && ported && inPorts(packet.port, r.destination.notPorts)) {
      return false;
    }
    return true;
  }

  // Whether `e` is inside the side's namespace scope: the namespaceSelector's namespaces, else a
  // NetworkPolicy's own namespace (for its selectors), else everything.
  bool inScope(const Side& s, const Entity& e, const std::string& policyNs) {
    if (s.namespaceSelector) {
      const Sel& n = *s.namespaceSelector;
      if (n.op == Sel::Op::kGlobal) return e.ns.empty();
      if (e.ns.empty()) return reading_.namespaceSelectorOnGlobals && n.matches({});
      return n.matches({{kNamespaceNameLabel, e.ns}});
    }
    if (!policyNs.empty()) return e.ns == policyNs;
    return true;
  }

  bool sideMatches(const Side& s, const std::string& ip, const std::string& policyNs) {
    if (!s.nets.empty() && !inAny(ip, s.nets)) return false;
    if (!s.notNets.empty() && inAny(ip, s.notNets)) return false;
    // The scope is a positive condition whenever a namespaceSelector is given, or a NetworkPolicy
    // side names any selector: the peer must be something selected inside it.
    bool scoped = s.namespaceSelector || (!policyNs.empty() && (s.selector || s.notSelector));
    if (s.selector || scoped) {
      bool found = false;
      for (const auto& e : entities_) {
        if (!inScope(s, e, policyNs)) continue;
        if (s.selector && !s.selector->matches(e.labels)) continue;
        if (inAny(ip, e.cidrs)) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    if (s.notSelector) {
      for (const auto& e : entities_) {
        if (reading_.scopedNotSelector && !inScope(s, e, policyNs)) continue;
        if (s.notSelector->matches(e.labels) && inAny(ip, e.cidrs)) return false;
      }
    }
    return true;
  }

  const State& state_;
  Reading reading_;
  std::vector<Entity> entities_;
};

}  // namespace

std::string Packet::text() const {
  return srcIp + " -> " + dstIp + " " + proto + (proto == "icmp" ? "" : "/" + std::to_string(port));
}

Verdict decide(const State& state, const Packet& packet, const Reading& reading) {
  return Evaluator(state, reading).decide(packet);
}

ModelAnswer decideAllReadings(const State& state, const Packet& packet) {
  ModelAnswer out;
  out.verdict = decide(state, packet, Reading{});
  for (bool scoped : {false, true}) {
    for (bool globals : {false, true}) {
      if (decide(state, packet, Reading{scoped, globals}).allowed != out.verdict.allowed) {
        out.ambiguous = true;
      }
    }
  }
  return out;
}

}  // namespace brindle::policydiff
