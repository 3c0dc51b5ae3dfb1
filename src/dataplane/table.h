// Table: the desired state of our chains in one iptables table (one IP version), written to the
// kernel with iptables-restore. The model is Felix's: callers update and remove whole chains and
// set the rules inserted at the top of kernel chains (INPUT, FORWARD, ...); apply() reads the
// kernel with iptables-save, compares each chain's rule hashes (the `cali:<hash>` comments) with
// the desired ones and rewrites only the chains that differ, in one iptables-restore --noflush
// transaction. Only `cali-` chains and rules carrying our hash comments are ever touched.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "dataplane/chain.h"

namespace brindle::dataplane {

class Table {
 public:
  virtual ~Table() = default;

  // Desired state; cheap, nothing reaches the kernel until apply().
  virtual void updateChain(const Chain& chain) = 0;
  virtual void removeChain(const std::string& name) = 0;
  // Rules to keep at the top of a kernel chain (e.g. "FORWARD" -> jump to cali-FORWARD).
  virtual void setRuleInsertions(const std::string& kernelChain, const std::vector<Rule>& rules) = 0;

  // Brings the kernel in line with the desired state (also repairing drift made by others in our
  // chains). On failure the table stays dirty and the next apply() retries.
  virtual Status apply() = 0;
};
using TablePtr = std::unique_ptr<Table>;

}  // namespace brindle::dataplane
