// The desired state both backends read; see chain_table.h.
#include "dataplane/chain_table.h"

#include "dataplane/iptables_render.h"

namespace brindle::dataplane {
namespace {

// A chain edited more often than this between two writes is written whole (its edits would cost
// a backend more to replay than the chain to render), and the log stays small.
constexpr size_t kMaxEdits = 64;

}  // namespace

void ChainTable::updateChain(const Chain& chain) {
  auto it = desired_.find(chain.name);
  if (it != desired_.end() && it->second == chain) return;
  desiredHashes_.erase(chain.name);
  desired_[chain.name] = chain;
  dirtyChains_.insert(chain.name);
  edits_.erase(chain.name);
}

void ChainTable::removeChain(const std::string& name) {
  if (desired_.erase(name) == 0) return;
  desiredHashes_.erase(name);
  dirtyChains_.insert(name);
  edits_.erase(name);
}

void ChainTable::insertRule(const std::string& name, size_t index, Rule rule) {
  auto& rules = desired_.at(name).rules;
  rules.insert(rules.begin() + static_cast<long>(index), rule);
  edited(name, {index, true, std::move(rule)});
}

void ChainTable::removeRule(const std::string& name, size_t index) {
  auto& rules = desired_.at(name).rules;
  Rule rule = std::move(rules.at(index));
  rules.erase(rules.begin() + static_cast<long>(index));
  edited(name, {index, false, std::move(rule)});
}

void ChainTable::edited(const std::string& name, RuleEdit edit) {
  desiredHashes_.erase(name);
  // Logged only while nothing else changed the chain since the last write (clearChanged()).
  if (dirtyChains_.insert(name).second) {
    edits_[name] = {std::move(edit)};
    return;
  }
  auto it = edits_.find(name);
  if (it == edits_.end()) return;
  if (it->second.size() >= kMaxEdits) {
    edits_.erase(it);
    return;
  }
  it->second.push_back(std::move(edit));
}

const std::vector<RuleEdit>* ChainTable::ruleEdits(const std::string& name) const {
  auto it = edits_.find(name);
  if (it == edits_.end() || !dirtyChains_.count(name)) return nullptr;
  return &it->second;
}

const std::vector<std::string>* ChainTable::desiredHashes(const std::string& name) const {
  auto chain = desired_.find(name);
  if (chain == desired_.end()) return nullptr;
  auto it = desiredHashes_.find(name);
  if (it == desiredHashes_.end())
    it = desiredHashes_.emplace(name, ruleHashes(chain->second)).first;
  return &it->second;
}

void ChainTable::setRuleInsertions(const std::string& kernelChain, const std::vector<Rule>& rules) {
  auto it = insertions_.find(kernelChain);
  if (it != insertions_.end() && it->second == rules) return;
  if (it == insertions_.end() && rules.empty()) return;
  insertions_[kernelChain] = rules;
  dirtyInsertions_.insert(kernelChain);
}

}  // namespace brindle::dataplane
