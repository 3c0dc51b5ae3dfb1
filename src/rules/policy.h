// Policy and profile rules -> iptables chains (cali-pi-/cali-po-/cali-pri-/cali-pro-), Felix's
// rendering: Allow sets the accept mark and returns, Pass sets the pass mark and returns, Deny
// drops, Log logs and goes on. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "calc/types.h"
#include "dataplane/chain.h"
#include "rules/config.h"

namespace brindle::rules {

// The match of one rule for `version`, or nullopt when the rule cannot apply to
// that IP version (its ipVersion, nets or ICMP protocol are of the other family) or matches
// nothing (notNets holding the whole address space, notProtocol equal to protocol). A rule whose
// port lists exceed multiport's 15 slots gives several matches (any of them matches).
std::optional<std::vector<dataplane::Match>> ruleMatches(const calc::ParsedRule& rule,
                                                         dataplane::IpVersion version);

// One calc rule -> its iptables rules.
std::vector<dataplane::Rule> renderRule(const calc::ParsedRule& rule, dataplane::IpVersion version,
                                        const RendererConfig& config);

// All rules of one direction, in order. `counts` (optional) receives how many iptables rules
// each of them became, so an iptables rule can be traced back to its rule in the resource.
std::vector<dataplane::Rule> renderRules(const std::vector<calc::ParsedRule>& rules,
                                         dataplane::IpVersion version, const RendererConfig& config,
                                         std::vector<uint16_t>* counts = nullptr);

// renderRules()' counts of a policy's or profile's two chains.
struct RuleCounts {
  std::vector<uint16_t> ingress;
  std::vector<uint16_t> egress;
};

// {ingress chain, egress chain}.
std::vector<dataplane::Chain> policyChains(const calc::PolicyId& id, const calc::ParsedRules& rules,
                                           dataplane::IpVersion version,
                                           const RendererConfig& config,
                                           RuleCounts* counts = nullptr);
std::vector<dataplane::Chain> profileChains(const std::string& name, const calc::ParsedRules& rules,
                                            dataplane::IpVersion version,
                                            const RendererConfig& config,
                                            RuleCounts* counts = nullptr);

}  // namespace brindle::rules
