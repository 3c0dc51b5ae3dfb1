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
  virtual void setRuleInsertions(const std::string& kernelChain,
                                 const std::vector<Rule>& rules) = 0;

  // Brings the kernel in line with the desired state. Between resyncs the writer trusts its own
  // record of what it wrote and touches only the chains changed since the last apply (an apply
  // with nothing changed runs no program at all). On failure the table stays dirty, forgets its
  // record (the next apply re-reads the kernel) and the next apply() retries.
  virtual Status apply() = 0;
  // Makes the next apply() re-read the kernel (iptables-save) and repair drift made by others in
  // our chains and insertions. The caller calls this every refresh interval.
  virtual void requestResync() = 0;
};
using TablePtr = std::unique_ptr<Table>;

}  // namespace brindle::dataplane
