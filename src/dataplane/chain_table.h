// ChainTable: the desired state of our chains in one table of one IP version, as the managers
// write it: whole chains (each with its rules' `cali:` hashes, computed once here) and the rules
// each kernel chain (INPUT, FORWARD, ...) should hold for us. It remembers what changed until a
// backend has written it (clearChanged()). Both kernel backends read it: IptablesTable is one
// (its own diff against iptables-save), NftablesWriter reads several (one nftables table).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "dataplane/chain.h"

namespace brindle::dataplane {

class ChainTable {
 public:
  ChainTable(TableName table, IpVersion version) : table_(table), version_(version) {}
  virtual ~ChainTable() = default;

  // Desired state; cheap, nothing reaches the kernel until a backend applies it.
  void updateChain(const Chain& chain);
  void removeChain(const std::string& name);
  // Rules to keep at the top of a kernel chain (e.g. "FORWARD" -> jump to cali-FORWARD).
  void setRuleInsertions(const std::string& kernelChain, const std::vector<Rule>& rules);

  TableName name() const { return table_; }
  IpVersion version() const { return version_; }
  // The desired chain `name`, or nullptr; its rule hashes (same order), or nullptr.
  const Chain* desiredChain(const std::string& name) const {
    auto it = desired_.find(name);
    return it == desired_.end() ? nullptr : &it->second;
  }
  const std::vector<std::string>* desiredHashes(const std::string& name) const {
    auto it = desiredHashes_.find(name);
    return it == desiredHashes_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, Chain>& desiredChains() const { return desired_; }
  const std::map<std::string, std::vector<Rule>>& insertions() const { return insertions_; }

  // Chains updated or removed, and kernel chains whose insertions changed, since clearChanged().
  const std::set<std::string>& changedChains() const { return dirtyChains_; }
  const std::set<std::string>& changedInsertions() const { return dirtyInsertions_; }
  void clearChanged() {
    dirtyChains_.clear();
    dirtyInsertions_.clear();
  }

 protected:
  TableName table_;
  IpVersion version_;
  std::map<std::string, Chain> desired_;
  std::map<std::string, std::vector<std::string>> desiredHashes_;
  std::map<std::string, std::vector<Rule>> insertions_;  // kernel chain -> rules
  std::set<std::string> dirtyChains_;                    // updated or removed since written
  std::set<std::string> dirtyInsertions_;
};

}  // namespace brindle::dataplane
