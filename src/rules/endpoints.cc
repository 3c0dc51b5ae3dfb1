// Endpoint and dispatch chains; see endpoints.h.
#include "rules/endpoints.h"

#include <algorithm>

#include "rules/names.h"
#include "rules/policy.h"

namespace brindle::rules {

using dataplane::Chain;
using dataplane::Rule;

std::vector<Rule> endpointPolicyRules(const std::vector<calc::TierInfo>& tiers,
                                      const std::vector<std::string>& profiles, bool ingress,
                                      const RendererConfig& config) {
  std::vector<Rule> out;
  out.push_back({"", setMark(0, config.markAccept), ""});
  std::vector<const calc::TierInfo*> applying;
  for (const auto& t : tiers) {
    if (!(ingress ? t.ingressPolicies : t.egressPolicies).empty()) applying.push_back(&t);
  }
  const bool onlyDefault = applying.size() == 1 && applying[0]->name == calc::kDefaultTier;
  for (const auto* t : applying) {
    out.push_back({"", setMark(0, config.markPass),
                   onlyDefault ? "Start of policies" : "Start of tier " + t->name});
    for (const auto& id : ingress ? t->ingressPolicies : t->egressPolicies) {
      out.push_back({matchMark(0, config.markPass), "-j " + policyChainName(id, ingress), ""});
      out.push_back({matchMark(config.markAccept, config.markAccept), "-j RETURN",
                     "Return if policy accepted"});
    }
    // A tier whose policies select the endpoint but none of whose rules matched (no Pass) denies.
    out.push_back({matchMark(0, config.markPass), "-j DROP", "Drop if no policies passed packet"});
  }
  for (const auto& p : profiles) {
    out.push_back({"", "-j " + profileChainName(p, ingress), ""});
    out.push_back({matchMark(config.markAccept, config.markAccept), "-j RETURN",
                   "Return if profile accepted"});
  }
  out.push_back({"", "-j DROP", "Drop if no profiles matched"});
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
  from.rules.push_back({"", std::string("-j ") + kChainFailsafeIn, ""});
  auto in = endpointPolicyRules(ep.tiers, ep.profileIds, true, config);
  from.rules.insert(from.rules.end(), in.begin(), in.end());
  Chain to{endpointChainName("cali-th-", ep.interfaceName), {}};
  to.rules.push_back({"", std::string("-j ") + kChainFailsafeOut, ""});
  auto out = endpointPolicyRules(ep.tiers, ep.profileIds, false, config);
  to.rules.insert(to.rules.end(), out.begin(), out.end());
  return {from, to};
}

std::vector<Chain> workloadDispatchChains(
    const std::map<std::string, calc::WorkloadEndpoint>& endpoints) {
  std::vector<std::string> ifaces;
  for (const auto& [id, ep] : endpoints) {
    if (!ep.interfaceName.empty()) ifaces.push_back(ep.interfaceName);
  }
  std::sort(ifaces.begin(), ifaces.end());
  ifaces.erase(std::unique(ifaces.begin(), ifaces.end()), ifaces.end());
  Chain from{kChainFromWlDispatch, {}}, to{kChainToWlDispatch, {}};
  for (const auto& i : ifaces) {
    from.rules.push_back({"-i " + i, "-g " + endpointChainName("cali-fw-", i), ""});
    to.rules.push_back({"-o " + i, "-g " + endpointChainName("cali-tw-", i), ""});
  }
  from.rules.push_back({"", "-j DROP", "Unknown interface"});
  to.rules.push_back({"", "-j DROP", "Unknown interface"});
  return {from, to};
}

std::vector<Chain> hostDispatchChains(const std::map<std::string, calc::HostEndpoint>& endpoints) {
  std::vector<std::string> ifaces;
  for (const auto& [id, ep] : endpoints) {
    if (!ep.interfaceName.empty() && ep.interfaceName != "*") ifaces.push_back(ep.interfaceName);
  }
  std::sort(ifaces.begin(), ifaces.end());
  ifaces.erase(std::unique(ifaces.begin(), ifaces.end()), ifaces.end());
  Chain from{kChainFromHostEndpoint, {}}, to{kChainToHostEndpoint, {}};
  for (const auto& i : ifaces) {
    from.rules.push_back({"-i " + i, "-g " + endpointChainName("cali-fh-", i), ""});
    to.rules.push_back({"-o " + i, "-g " + endpointChainName("cali-th-", i), ""});
  }
  return {from, to};
}

std::vector<Chain> failsafeChains(const RendererConfig& config) {
  Chain in{kChainFailsafeIn, {}}, out{kChainFailsafeOut, {}};
  for (const auto& p : config.failsafeInbound) {
    in.rules.push_back(
        {"-p " + p.protocol + " -m multiport --dports " + std::to_string(p.port), "-j ACCEPT", ""});
  }
  for (const auto& p : config.failsafeOutbound) {
    out.rules.push_back(
        {"-p " + p.protocol + " -m multiport --dports " + std::to_string(p.port), "-j ACCEPT", ""});
  }
  return {in, out};
}

}  // namespace brindle::rules
