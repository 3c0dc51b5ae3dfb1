// Policy/profile rule rendering; see policy.h.
#include "rules/policy.h"

#include <cstdio>

#include "rules/names.h"

namespace brindle::rules {
namespace {

using dataplane::IpVersion;

std::string protocolText(const model::Protocol& p) {
  switch (p.number) {
    case 1:
      return "icmp";
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 58:
      return "ipv6-icmp";
    case 132:
      return "sctp";
    case 136:
      return "udplite";
    default:
      return std::to_string(p.number);
  }
}

bool familyMatches(const Cidr& c, IpVersion v) { return c.isV4() == (v == IpVersion::kV4); }

// Splits a port list into groups that fit multiport's 15 slots (a range takes two).
std::vector<std::string> portGroups(const model::PortSet& ports) {
  std::vector<std::string> groups;
  std::string cur;
  int slots = 0;
  for (const auto& r : ports.ranges) {
    int need = r.first == r.last ? 1 : 2;
    if (slots + need > 15) {
      groups.push_back(cur);
      cur.clear();
      slots = 0;
    }
    if (!cur.empty()) cur += ",";
    cur += std::to_string(r.first);
    if (r.first != r.last) cur += ":" + std::to_string(r.last);
    slots += need;
  }
  if (!cur.empty()) groups.push_back(cur);
  return groups;
}

std::string icmpText(const model::IcmpMatch& m) {
  std::string t = std::to_string(m.type.value_or(0));
  if (m.code) t += "/" + std::to_string(*m.code);
  return t;
}

// "<prefix>: " as the LOG target takes it everywhere: no double quote (iptables-restore ends the
// argument there and refuses the line, so every Log rule would be refused) and at most 29
// characters (xt_LOG's limit, which the legacy backend enforces; nft takes more).
std::string logPrefixText(const std::string& prefix) {
  std::string text;
  for (char c : prefix) {
    if (c != '"' && c != '\\' && c != '\n') text.push_back(c);
  }
  if (text.size() > 27) text.resize(27);
  return text + ": ";
}

void append(std::string& out, const std::string& part) {
  if (part.empty()) return;
  if (!out.empty()) out += " ";
  out += part;
}

}  // namespace

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%x", v);
  return buf;
}

std::string setMark(uint32_t value, uint32_t mask) {
  return "-j MARK --set-xmark " + hex(value) + "/" + hex(mask);
}

std::string matchMark(uint32_t value, uint32_t mask) {
  return "-m mark --mark " + hex(value) + "/" + hex(mask);
}

std::optional<std::vector<std::string>> ruleMatches(const calc::ParsedRule& rule,
                                                    IpVersion version) {
  const bool v4 = version == IpVersion::kV4;
  if (rule.ipVersion && *rule.ipVersion != (v4 ? 4 : 6)) return std::nullopt;
  if (rule.protocol && ((rule.protocol->number == 1 && !v4) || (rule.protocol->number == 58 && v4)))
    return std::nullopt;
  if (rule.protocol && rule.notProtocol && *rule.protocol == *rule.notProtocol) return std::nullopt;
  // Positive nets of the other family only: the rule cannot match in this family.
  for (const auto* nets : {&rule.source.nets, &rule.destination.nets}) {
    if (!nets->empty() && !familyMatches(nets->front(), version)) return std::nullopt;
  }
  // Not in 0.0.0.0/0 (::/0): nothing matches, and iptables-nft's kernel refuses "! -s 0.0.0.0/0"
  // (RULE_APPEND: Invalid argument). Felix drops such a rule too. (In a set, with other notNets,
  // it is two /1 halves and the set match is accepted.)
  for (const auto* nets : {&rule.source.notNets, &rule.destination.notNets}) {
    for (const auto& c : *nets) {
      if (familyMatches(c, version) && c.prefixLength() == 0) return std::nullopt;
    }
  }

  std::string fixedPre;  // everything before the port matches
  if (rule.protocol) append(fixedPre, "-p " + protocolText(*rule.protocol));
  std::string src, dst, negated;
  if (!rule.source.nets.empty()) append(src, "-s " + rule.source.nets.front().toString());
  for (const auto& id : rule.source.ipSetIds)
    append(src, "-m set --match-set " + ipSetName(id, version) + " src");
  if (!rule.destination.nets.empty()) append(dst, "-d " + rule.destination.nets.front().toString());
  for (const auto& id : rule.destination.ipSetIds)
    append(dst, "-m set --match-set " + ipSetName(id, version) + " dst");

  std::string icmp;
  if (rule.icmp) {
    icmp = v4 ? "-m icmp --icmp-type " + icmpText(*rule.icmp)
              : "-m icmp6 --icmpv6-type " + icmpText(*rule.icmp);
  }
  // iptables takes one -p a rule: beside a protocol, a notProtocol is either the same (the rule
  // matches nothing) or says nothing more.
  if (rule.notProtocol && !rule.protocol) {
    append(negated, "! -p " + protocolText(*rule.notProtocol));
  }
  for (const auto& c : rule.source.notNets) {
    if (familyMatches(c, version)) append(negated, "! -s " + c.toString());
  }
  for (const auto& id : rule.source.notIpSetIds)
    append(negated, "-m set ! --match-set " + ipSetName(id, version) + " src");
  for (const auto& g : portGroups(rule.source.notPorts))
    append(negated, "-m multiport ! --sports " + g);
  for (const auto& c : rule.destination.notNets) {
    if (familyMatches(c, version)) append(negated, "! -d " + c.toString());
  }
  for (const auto& id : rule.destination.notIpSetIds)
    append(negated, "-m set ! --match-set " + ipSetName(id, version) + " dst");
  for (const auto& g : portGroups(rule.destination.notPorts))
    append(negated, "-m multiport ! --dports " + g);
  if (rule.notIcmp) {
    append(negated, v4 ? "-m icmp ! --icmp-type " + icmpText(*rule.notIcmp)
                       : "-m icmp6 ! --icmpv6-type " + icmpText(*rule.notIcmp));
  }

  // Positive port lists are OR-ed: one match per (source group, destination group) pair.
  std::vector<std::string> srcGroups = portGroups(rule.source.ports);
  std::vector<std::string> dstGroups = portGroups(rule.destination.ports);
  if (srcGroups.empty()) srcGroups.push_back("");
  if (dstGroups.empty()) dstGroups.push_back("");
  std::vector<std::string> out;
  for (const auto& sg : srcGroups) {
    for (const auto& dg : dstGroups) {
      std::string m = fixedPre;
      append(m, src);
      if (!sg.empty()) append(m, "-m multiport --sports " + sg);
      append(m, dst);
      if (!dg.empty()) append(m, "-m multiport --dports " + dg);
      append(m, icmp);
      append(m, negated);
      out.push_back(m);
    }
  }
  return out;
}

std::vector<dataplane::Rule> renderRule(const calc::ParsedRule& rule, IpVersion version,
                                        const RendererConfig& config) {
  std::vector<dataplane::Rule> out;
  auto matches = ruleMatches(rule, version);
  if (!matches) return out;
  for (const auto& m : *matches) {
    switch (rule.action) {
      case model::Action::kAllow:
        out.push_back({m, setMark(config.markAccept, config.markAccept), ""});
        out.push_back({matchMark(config.markAccept, config.markAccept), "-j RETURN", ""});
        break;
      case model::Action::kPass:
        out.push_back({m, setMark(config.markPass, config.markPass), ""});
        out.push_back({matchMark(config.markPass, config.markPass), "-j RETURN", ""});
        break;
      case model::Action::kDeny:
        out.push_back({m, "-j DROP", ""});
        break;
      case model::Action::kLog:
        out.push_back(
            {m, "-j LOG --log-prefix \"" + logPrefixText(config.logPrefix) + "\" --log-level 5",
             ""});
        break;
    }
  }
  return out;
}

std::vector<dataplane::Rule> renderRules(const std::vector<calc::ParsedRule>& rules,
                                         IpVersion version, const RendererConfig& config,
                                         std::vector<uint16_t>* counts) {
  std::vector<dataplane::Rule> out;
  if (counts) counts->clear();
  for (const auto& r : rules) {
    auto rendered = renderRule(r, version, config);
    if (counts) counts->push_back(static_cast<uint16_t>(rendered.size()));
    out.insert(out.end(), rendered.begin(), rendered.end());
  }
  return out;
}

namespace {

// {ingress chain, egress chain} of a policy or profile, with their rule counts.
std::vector<dataplane::Chain> directionChains(std::string ingressName, std::string egressName,
                                              const calc::ParsedRules& rules, IpVersion version,
                                              const RendererConfig& config, RuleCounts* counts) {
  return {
      dataplane::Chain{std::move(ingressName), renderRules(rules.ingress, version, config,
                                                           counts ? &counts->ingress : nullptr)},
      dataplane::Chain{std::move(egressName), renderRules(rules.egress, version, config,
                                                          counts ? &counts->egress : nullptr)}};
}

}  // namespace

std::vector<dataplane::Chain> policyChains(const calc::PolicyId& id, const calc::ParsedRules& rules,
                                           IpVersion version, const RendererConfig& config,
                                           RuleCounts* counts) {
  return directionChains(policyChainName(id, true), policyChainName(id, false), rules, version,
                         config, counts);
}

std::vector<dataplane::Chain> profileChains(const std::string& name, const calc::ParsedRules& rules,
                                            IpVersion version, const RendererConfig& config,
                                            RuleCounts* counts) {
  return directionChains(profileChainName(name, true), profileChainName(name, false), rules,
                         version, config, counts);
}

}  // namespace brindle::rules
