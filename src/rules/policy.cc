// Policy/profile rule rendering; see policy.h.
#include "rules/policy.h"

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

}  // namespace

std::optional<std::vector<dataplane::Match>> ruleMatches(const calc::ParsedRule& rule,
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

  using dataplane::Match;
  Match pre, src, dst, negated;  // around the port matches
  if (rule.protocol) pre.protocol(protocolText(*rule.protocol));
  if (!rule.source.nets.empty()) src.sourceNet(rule.source.nets.front().toString());
  for (const auto& id : rule.source.ipSetIds) src.sourceIpSet(ipSetName(id, version));
  if (!rule.destination.nets.empty()) dst.destNet(rule.destination.nets.front().toString());
  for (const auto& id : rule.destination.ipSetIds) dst.destIpSet(ipSetName(id, version));

  Match icmp;
  if (rule.icmp) icmp.icmpType(version, icmpText(*rule.icmp));
  // iptables takes one -p a rule: beside a protocol, a notProtocol is either the same (the rule
  // matches nothing) or says nothing more.
  if (rule.notProtocol && !rule.protocol) negated.notProtocol(protocolText(*rule.notProtocol));
  for (const auto& c : rule.source.notNets) {
    if (familyMatches(c, version)) negated.notSourceNet(c.toString());
  }
  for (const auto& id : rule.source.notIpSetIds) negated.notSourceIpSet(ipSetName(id, version));
  for (const auto& g : portGroups(rule.source.notPorts)) negated.notSourcePorts(g);
  for (const auto& c : rule.destination.notNets) {
    if (familyMatches(c, version)) negated.notDestNet(c.toString());
  }
  for (const auto& id : rule.destination.notIpSetIds) negated.notDestIpSet(ipSetName(id, version));
  for (const auto& g : portGroups(rule.destination.notPorts)) negated.notDestPorts(g);
  if (rule.notIcmp) negated.icmpType(version, icmpText(*rule.notIcmp), true);

  // Positive port lists are OR-ed: one match per (source group, destination group) pair.
  std::vector<std::string> srcGroups = portGroups(rule.source.ports);
  std::vector<std::string> dstGroups = portGroups(rule.destination.ports);
  if (srcGroups.empty()) srcGroups.push_back("");
  if (dstGroups.empty()) dstGroups.push_back("");
  std::vector<Match> out;
  for (const auto& sg : srcGroups) {
    for (const auto& dg : dstGroups) {
      Match m = pre;
      m.append(src);
      if (!sg.empty()) m.sourcePorts(sg);
      m.append(dst);
      if (!dg.empty()) m.destPorts(dg);
      m.append(icmp).append(negated);
      out.push_back(std::move(m));
    }
  }
  return out;
}

std::vector<dataplane::Rule> renderRule(const calc::ParsedRule& rule, IpVersion version,
                                        const RendererConfig& config) {
  using dataplane::Action;
  std::vector<dataplane::Rule> out;
  auto matches = ruleMatches(rule, version);
  if (!matches) return out;
  // Allow and Pass set their mark and return; the endpoint chain reads the mark.
  auto markAndReturn = [&](const dataplane::Match& m, uint32_t mark) {
    out.push_back({m, Action::setMark(mark, mark), ""});
    out.push_back({dataplane::Match().markSet(mark), Action::ret(), ""});
  };
  for (const auto& m : *matches) {
    switch (rule.action) {
      case model::Action::kAllow:
        markAndReturn(m, config.markAccept);
        break;
      case model::Action::kPass:
        markAndReturn(m, config.markPass);
        break;
      case model::Action::kDeny:
        out.push_back({m, Action::drop(), ""});
        break;
      case model::Action::kLog:
        out.push_back({m, Action::log(config.logPrefix), ""});
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
