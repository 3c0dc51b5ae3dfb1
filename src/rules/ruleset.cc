// Whole-ruleset rendering; see ruleset.h.
#include "rules/ruleset.h"

#include "dataplane/iptables_table.h"
#include "rules/endpoints.h"
#include "rules/names.h"
#include "rules/policy.h"

namespace brindle::rules {

using dataplane::IpVersion;
using dataplane::TableName;

Ruleset renderRuleset(const calc::DataplaneState& state, IpVersion version,
                      const RendererConfig& config) {
  Ruleset rs;
  rs.tables[TableName::kRaw] = rawStaticChains(version, config);
  TableRules mangle = mangleChains(state.hosts, config);
  if (!mangle.chains.empty()) rs.tables[TableName::kMangle] = std::move(mangle);

  TableRules nat = natChains(state.pools, state.workloads, version);
  if (!nat.chains.empty()) rs.tables[TableName::kNat] = std::move(nat);

  TableRules filter = filterStaticChains(version, config);
  auto add = [&](std::vector<dataplane::Chain> chains) {
    for (auto& c : chains) filter.chains.push_back(std::move(c));
  };
  add(workloadDispatchChains(state.workloads));
  add(hostDispatchChains(state.hosts));
  add(failsafeChains(config));
  for (const auto& [id, ep] : state.workloads) add(workloadEndpointChains(ep, config));
  for (const auto& [id, ep] : state.hosts) add(hostEndpointChains(ep, config));
  for (const auto& [id, rules] : state.policies) add(policyChains(id, rules, version, config));
  for (const auto& [name, rules] : state.profiles) add(profileChains(name, rules, version, config));
  rs.tables[TableName::kFilter] = std::move(filter);
  return rs;
}

std::string renderRulesetRestore(const Ruleset& ruleset, const RendererConfig& config) {
  std::string out;
  for (const auto& [table, rules] : ruleset.tables) {
    out += dataplane::renderFullRestore(
        table, rules.chains, rules.insertions,
        config.insertHooks ? dataplane::InsertMode::kInsert : dataplane::InsertMode::kAppend);
  }
  return out;
}

std::string renderIpSetsRestore(const calc::DataplaneState& state, IpVersion version) {
  const bool v4 = version == IpVersion::kV4;
  std::string out;
  for (const auto& [id, members] : state.ipSets) {
    const std::string name = ipSetName(id, version);
    out += "create " + name + " hash:net family " + (v4 ? "inet" : "inet6") + " maxelem 1048576\n";
    for (const auto& m : members) {
      if (m.isV4() == v4) out += "add " + name + " " + m.toString() + "\n";
    }
  }
  return out;
}

}  // namespace brindle::rules
