// Whole-ruleset rendering; see ruleset.h.
#include "rules/ruleset.h"

#include <memory>

#include "dataplane/iptables_table.h"
#include "rules/managers.h"
#include "rules/names.h"

namespace brindle::rules {

using dataplane::IpVersion;
using dataplane::TableName;

Ruleset renderRuleset(const calc::DataplaneState& state, IpVersion version,
                      const RendererConfig& config) {
  std::vector<std::unique_ptr<dataplane::ChainTable>> tables;
  std::vector<TableRef> refs;
  for (TableName t : {TableName::kRaw, TableName::kMangle, TableName::kNat, TableName::kFilter}) {
    tables.push_back(std::make_unique<dataplane::ChainTable>(t, version));
    refs.push_back({version, t, tables.back().get()});
  }
  RendererConfig c = config;
  c.ipv6Enabled = version == IpVersion::kV6;  // the other family has no tables here
  Managers managers(refs, nullptr, nullptr, c);
  for (const auto& [cidr, pool] : state.pools) managers.onIpPoolUpdate(pool);
  for (const auto& [id, ep] : state.workloads) managers.onWorkloadEndpointUpdate(ep);
  for (const auto& [id, ep] : state.hosts) managers.onHostEndpointUpdate(ep);
  for (const auto& [id, rules] : state.policies) managers.onPolicyActive(id, rules);
  for (const auto& [name, rules] : state.profiles) managers.onProfileActive(name, rules);
  managers.renderAggregates();
  Ruleset rs;
  for (const auto& ref : refs) {
    TableRules rules{managers.chains(version, ref.name), ref.table->insertions()};
    // mangle and nat only when they hold something (see mangleChains, natChains)
    if (rules.chains.empty() && ref.name != TableName::kRaw && ref.name != TableName::kFilter) {
      continue;
    }
    rs.tables[ref.name] = std::move(rules);
  }
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
