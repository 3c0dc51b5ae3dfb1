// renderRuleset: the complete desired iptables state of one IP version from the calculation's
// current state: every table's chains and hooks, built by the agent's own managers (managers.h)
// fed the whole state at once. Used for golden files, for the benchmark's single
// iptables-restore of the final ruleset, and as the reference the agent's incremental updates
// must converge to.
#pragma once

#include <map>
#include <string>

#include "calc/dataplane_state.h"
#include "dataplane/chain.h"
#include "rules/config.h"
#include "rules/static_chains.h"

namespace brindle::rules {

struct Ruleset {
  std::map<dataplane::TableName, TableRules> tables;
};

Ruleset renderRuleset(const calc::DataplaneState& state, dataplane::IpVersion version,
                      const RendererConfig& config);

// All tables as one iptables-restore input (raw, mangle, nat, filter), hashed and laid out by
// the dataplane writer's own renderer so it is byte-for-byte what a first apply writes.
std::string renderRulesetRestore(const Ruleset& ruleset, const RendererConfig& config);

// `ipset restore` input creating and filling every set of this family (hash:net).
std::string renderIpSetsRestore(const calc::DataplaneState& state, dataplane::IpVersion version);

}  // namespace brindle::rules
