// The desired state both backends read; see chain_table.h.
#include "dataplane/chain_table.h"

#include "dataplane/iptables_render.h"

namespace brindle::dataplane {

void ChainTable::updateChain(const Chain& chain) {
  auto it = desired_.find(chain.name);
  if (it != desired_.end() && it->second == chain) return;
  desiredHashes_[chain.name] = ruleHashes(chain);
  desired_[chain.name] = chain;
  dirtyChains_.insert(chain.name);
}

void ChainTable::removeChain(const std::string& name) {
  if (desired_.erase(name) == 0) return;
  desiredHashes_.erase(name);
  dirtyChains_.insert(name);
}

void ChainTable::setRuleInsertions(const std::string& kernelChain, const std::vector<Rule>& rules) {
  auto it = insertions_.find(kernelChain);
  if (it != insertions_.end() && it->second == rules) return;
  if (it == insertions_.end() && rules.empty()) return;
  insertions_[kernelChain] = rules;
  dirtyInsertions_.insert(kernelChain);
}

}  // namespace brindle::dataplane
