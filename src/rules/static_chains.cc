// Fixed chains and hooks; see static_chains.h.
#include "rules/static_chains.h"

#include <algorithm>

#include "rules/names.h"

namespace brindle::rules {

using dataplane::Action;
using dataplane::Chain;
using dataplane::IpVersion;
using dataplane::Match;
using dataplane::Rule;

namespace {

Rule jump(const std::string& chain) { return Rule{{}, Action::jump(chain), ""}; }

Action actionOf(EndpointToHostAction a) {
  switch (a) {
    case EndpointToHostAction::kDrop:
      return Action::drop();
    case EndpointToHostAction::kReturn:
      return Action::ret();
    case EndpointToHostAction::kAccept:
      return Action::accept();
  }
  return Action::drop();
}

// The conntrack fast path at the top of cali-INPUT/FORWARD/OUTPUT.
void conntrackRules(std::vector<Rule>& rules, const RendererConfig& c) {
  rules.push_back(
      {Match().markSet(c.markAccept).conntrackState("UNTRACKED"), Action::accept(), ""});
  rules.push_back({Match().conntrackState("INVALID"), Action::drop(), ""});
  rules.push_back({Match().conntrackState("RELATED,ESTABLISHED"), Action::accept(), ""});
}

Rule hepAccepted(const RendererConfig& c) {
  return {Match().markSet(c.markAccept), Action::accept(), "Host endpoint policy accepted packet."};
}

Rule clearMarks(const RendererConfig& c) { return {{}, Action::clearMark(c.markMask), ""}; }

Rule acceptIfAccepted(const RendererConfig& c) {
  return {Match().markSet(c.markAccept), Action::accept(), ""};
}

}  // namespace

std::vector<std::string> workloadInterfaceWildcards(const RendererConfig& config) {
  std::vector<std::string> out;
  for (const auto& p : config.workloadInterfacePrefixes) out.push_back(p + "+");
  return out;
}

TableRules rawStaticChains(IpVersion version, const RendererConfig& c) {
  (void)version;
  TableRules t;
  Chain pre{kChainPrerouting, {}};
  pre.rules.push_back(clearMarks(c));
  for (const auto& w : workloadInterfaceWildcards(c)) {
    pre.rules.push_back(
        {Match().inInterface(w), Action::setMark(c.markEndpoint, c.markEndpoint), ""});
  }
  if (c.antiSpoofing) {
    // Only the workload's own addresses route back out of its interface.
    pre.rules.push_back({Match().markSet(c.markEndpoint).rpfFailed(), Action::drop(),
                         "Drop if source address is not the workload's"});
  }
  pre.rules.push_back(
      {Match().markClear(c.markEndpoint), Action::jump(kChainFromHostEndpoint), ""});
  pre.rules.push_back(acceptIfAccepted(c));
  Chain out{kChainOutput, {}};
  out.rules.push_back(clearMarks(c));
  out.rules.push_back(jump(kChainToHostEndpoint));
  out.rules.push_back(acceptIfAccepted(c));
  // Untracked (doNotTrack) host endpoint policy is not rendered yet: these stay empty.
  t.chains = {pre, out, Chain{kChainFromHostEndpoint, {}}, Chain{kChainToHostEndpoint, {}}};
  t.insertions["PREROUTING"] = {jump(kChainPrerouting)};
  t.insertions["OUTPUT"] = {jump(kChainOutput)};
  return t;
}

TableRules mangleChains(const std::map<std::string, calc::HostEndpoint>& hosts,
                        const RendererConfig& c) {
  TableRules t;
  if (hosts.empty()) return t;
  Chain pre{kChainPrerouting, {}};
  pre.rules.push_back({Match().conntrackState("RELATED,ESTABLISHED"), Action::accept(), ""});
  pre.rules.push_back(acceptIfAccepted(c));
  // Pre-DNAT host endpoint policy is not rendered yet: cali-from-host-endpoint stays empty.
  pre.rules.push_back(jump(kChainFromHostEndpoint));
  pre.rules.push_back(hepAccepted(c));
  t.chains = {pre, Chain{kChainFromHostEndpoint, {}}};
  t.insertions["PREROUTING"] = {jump(kChainPrerouting)};
  return t;
}

TableRules filterStaticChains(IpVersion version, const RendererConfig& c) {
  TableRules t;
  const auto wildcards = workloadInterfaceWildcards(c);

  const bool ipip = version == IpVersion::kV4 && c.ipipEnabled;
  const std::string allHosts = ipSetName(std::string(calc::kAllHostsIpSetId), version);
  Chain input{kChainInput, {}};
  if (ipip) {
    // IPIP (protocol 4) only from the nodes' addresses, and only to this host.
    input.rules.push_back({Match().protocol("4").sourceIpSet(allHosts).destAddrType("LOCAL"),
                           Action::accept(), "IPIP from a known node"});
    input.rules.push_back({Match().protocol("4"), Action::drop(), "IPIP from an unknown host"});
  }
  conntrackRules(input.rules, c);
  for (const auto& w : wildcards)
    input.rules.push_back({Match().inInterface(w), Action::goTo(kChainWlToHost), ""});
  input.rules.push_back(clearMarks(c));
  input.rules.push_back(jump(kChainFromHostEndpoint));
  input.rules.push_back(hepAccepted(c));

  Chain wlToHost{kChainWlToHost, {}};
  if (version == IpVersion::kV4) {
    wlToHost.rules.push_back(
        {Match().protocol("udp").sourcePorts("68").destPorts("67"), Action::accept(), ""});
  } else {
    // Neighbour discovery and router solicitation must reach the host; DHCPv6.
    for (int type : {130, 131, 132, 133, 135, 136}) {
      wlToHost.rules.push_back(
          {Match().protocol("ipv6-icmp").icmpType(IpVersion::kV6, std::to_string(type)),
           Action::accept(), ""});
    }
    wlToHost.rules.push_back(
        {Match().protocol("udp").sourcePorts("546").destPorts("547"), Action::accept(), ""});
  }
  wlToHost.rules.push_back({Match().protocol("udp").destPorts("53"), Action::accept(), ""});
  wlToHost.rules.push_back(jump(kChainFromWlDispatch));
  wlToHost.rules.push_back(
      {{}, actionOf(c.defaultEndpointToHostAction), "Configured DefaultEndpointToHostAction"});

  Chain forward{kChainForward, {}};
  conntrackRules(forward.rules, c);
  for (const auto& w : wildcards)
    forward.rules.push_back({Match().inInterface(w), Action::jump(kChainFromWlDispatch), ""});
  for (const auto& w : wildcards)
    forward.rules.push_back({Match().outInterface(w), Action::jump(kChainToWlDispatch), ""});
  // Workload traffic that got here was allowed by both ends' policy.
  for (const auto& w : wildcards)
    forward.rules.push_back({Match().inInterface(w), Action::accept(), ""});
  for (const auto& w : wildcards)
    forward.rules.push_back({Match().outInterface(w), Action::accept(), ""});
  forward.rules.push_back(clearMarks(c));
  forward.rules.push_back(jump(kChainFromHostEndpoint));
  forward.rules.push_back(jump(kChainToHostEndpoint));
  forward.rules.push_back(hepAccepted(c));

  Chain output{kChainOutput, {}};
  conntrackRules(output.rules, c);
  // Host to local workload: the workload's ingress policy is not applied (Calico's rule).
  for (const auto& w : wildcards)
    output.rules.push_back({Match().outInterface(w), Action::ret(), ""});
  if (ipip) {
    // So that host endpoint policy cannot cut the tunnel between nodes.
    output.rules.push_back({Match().protocol("4").destIpSet(allHosts).sourceAddrType("LOCAL"),
                            Action::accept(), "IPIP to a known node"});
  }
  output.rules.push_back(clearMarks(c));
  output.rules.push_back(jump(kChainToHostEndpoint));
  output.rules.push_back(hepAccepted(c));

  t.chains = {input, forward, output, wlToHost};
  t.insertions["INPUT"] = {jump(kChainInput)};
  t.insertions["FORWARD"] = {jump(kChainForward)};
  t.insertions["OUTPUT"] = {jump(kChainOutput)};
  return t;
}

namespace {

TableRules natStaticChains() {
  TableRules t;
  t.chains = {Chain{kChainPrerouting, {jump(kChainFipDnat)}},
              Chain{kChainPostrouting, {jump(kChainFipSnat), jump(kChainNatOutgoing)}},
              Chain{kChainOutput, {jump(kChainFipDnat)}}};
  t.insertions["PREROUTING"] = {jump(kChainPrerouting)};
  t.insertions["OUTPUT"] = {jump(kChainOutput)};
  t.insertions["POSTROUTING"] = {jump(kChainPostrouting)};
  return t;
}

// cali-fip-dnat / cali-fip-snat from the endpoints' ipNATs (of this family).
std::vector<Chain> floatingIpChains(const std::map<std::string, calc::WorkloadEndpoint>& endpoints,
                                    IpVersion version) {
  Chain dnat{kChainFipDnat, {}}, snat{kChainFipSnat, {}};
  const bool v4 = version == IpVersion::kV4;
  const std::string hostBits = v4 ? "/32" : "/128";
  for (const auto& [id, ep] : endpoints) {
    for (const auto& nat : ep.ipNats) {
      if (nat.external.isV4() != v4 || nat.internal.isV4() != v4) continue;
      const std::string in = nat.internal.toString(), ex = nat.external.toString();
      dnat.rules.push_back({Match().destNet(ex + hostBits), Action::dnat(in), ""});
      // Hairpin: the workload reaching its own floating IP sees it as the source.
      snat.rules.push_back(
          {Match().sourceNet(in + hostBits).destNet(in + hostBits), Action::snat(ex), ""});
    }
  }
  return {dnat, snat};
}

// cali-nat-outgoing: masquerade from a natOutgoing pool to anywhere outside all pools.
Chain natOutgoingChain(const std::map<Cidr, calc::IpPool>& pools, IpVersion version) {
  Chain c{kChainNatOutgoing, {}};
  const bool v4 = version == IpVersion::kV4;
  bool any = std::any_of(pools.begin(), pools.end(), [&](const auto& p) {
    return p.second.natOutgoing && !p.second.disabled && p.first.isV4() == v4;
  });
  if (any) {
    c.rules.push_back({Match()
                           .sourceIpSet(ipSetName(std::string(calc::kMasqPoolsIpSetId), version))
                           .notDestIpSet(ipSetName(std::string(calc::kAllPoolsIpSetId), version)),
                       Action::masquerade(), ""});
  }
  return c;
}

}  // namespace

TableRules natChains(const std::map<Cidr, calc::IpPool>& pools,
                     const std::map<std::string, calc::WorkloadEndpoint>& endpoints,
                     IpVersion version) {
  bool masquerade = std::any_of(pools.begin(), pools.end(), [](const auto& p) {
    return p.second.natOutgoing && !p.second.disabled;
  });
  bool floating = std::any_of(endpoints.begin(), endpoints.end(),
                              [](const auto& e) { return !e.second.ipNats.empty(); });
  if (!masquerade && !floating) return {};
  TableRules nat = natStaticChains();
  for (auto& c : floatingIpChains(endpoints, version)) nat.chains.push_back(std::move(c));
  nat.chains.push_back(natOutgoingChain(pools, version));
  return nat;
}

}  // namespace brindle::rules
