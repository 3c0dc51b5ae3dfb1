// ChainTable: the desired state of our chains in one table of one IP version, as the managers
// write it: whole chains (each with its rules' `cali:` hashes, computed when a backend first asks
// for them) and the rules each kernel chain (INPUT, FORWARD, ...) should hold for us. It remembers
// what changed until a backend has written it (clearChanged()). Both kernel backends read it:
// IptablesTable is one (its own diff against iptables-save), NftablesWriter reads several (one
// nftables table).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "dataplane/chain.h"

namespace brindle::dataplane {

// One rule inserted into or removed from a chain (ChainTable::insertRule / removeRule): at
// `index` of the chain as it was just before, the rule inserted or the one removed.
struct RuleEdit {
  size_t index;
  bool inserted;
  Rule rule;
};

class ChainTable {
 public:
  ChainTable(TableName table, IpVersion version) : table_(table), version_(version) {}
  virtual ~ChainTable() = default;

  // Desired state; cheap, nothing reaches the kernel until a backend applies it.
  void updateChain(const Chain& chain);
  void removeChain(const std::string& name);
  // One rule inserted at / removed from `index` of desired chain `name` (which exists and has
  // that many rules), for chains that change a rule at a time among many (the flat dispatch
  // chains): nothing copies, compares or hashes the whole chain, and a backend learns which rules
  // changed (ruleEdits()).
  void insertRule(const std::string& name, size_t index, Rule rule);
  void removeRule(const std::string& name, size_t index);
  // Rules to keep at the top of a kernel chain (e.g. "FORWARD" -> jump to cali-FORWARD).
  void setRuleInsertions(const std::string& kernelChain, const std::vector<Rule>& rules);

  TableName name() const { return table_; }
  IpVersion version() const { return version_; }
  // The desired chain `name`, or nullptr; its rule hashes (same order), or nullptr. The hashes are
  // computed on first use after a change (each chains from the one before, so one inserted rule
  // changes all after it): a backend that never needs them, such as the nftables writer for an
  // edited dispatch chain, never pays for them.
  const Chain* desiredChain(const std::string& name) const {
    auto it = desired_.find(name);
    return it == desired_.end() ? nullptr : &it->second;
  }
  const std::vector<std::string>* desiredHashes(const std::string& name) const;
  const std::map<std::string, Chain>& desiredChains() const { return desired_; }
  const std::map<std::string, std::vector<Rule>>& insertions() const { return insertions_; }

  // Chains updated or removed, and kernel chains whose insertions changed, since clearChanged().
  const std::set<std::string>& changedChains() const { return dirtyChains_; }
  const std::set<std::string>& changedInsertions() const { return dirtyInsertions_; }
  // For a changed chain that only insertRule/removeRule changed since clearChanged(): those
  // edits, in order. nullptr when it was replaced or removed (or edited too often to be worth
  // replaying): a backend writes it whole.
  const std::vector<RuleEdit>* ruleEdits(const std::string& name) const;
  // Also forgets the rule hashes computed for the backend that just wrote: both backends keep
  // what they need of them in their own record, and a resync computes them again. Kept, they were
  // ~2 MB at the agent benchmark's 1x shape (a 16-character id does not fit std::string's inline
  // buffer), a tenth of the agent's heap.
  void clearChanged() {
    dirtyChains_.clear();
    dirtyInsertions_.clear();
    edits_.clear();
    desiredHashes_.clear();
  }

 protected:
  TableName table_;
  IpVersion version_;
  std::map<std::string, Chain> desired_;
  mutable std::map<std::string, std::vector<std::string>> desiredHashes_;  // those computed
  std::map<std::string, std::vector<Rule>> insertions_;                    // kernel chain -> rules
  std::set<std::string> dirtyChains_;  // updated or removed since written
  std::set<std::string> dirtyInsertions_;

 private:
  void edited(const std::string& name, RuleEdit edit);

  std::map<std::string, std::vector<RuleEdit>> edits_;  // see ruleEdits()
};

}  // namespace brindle::dataplane
