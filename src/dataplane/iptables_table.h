// IptablesTable: the desired state of our chains in one iptables table (one IP version), written to
// the kernel with one `iptables-restore --noflush` per apply. The model is Felix's: callers update
// and remove whole chains and set the rules inserted at the top of kernel chains (INPUT, FORWARD,
// ...); apply() reads the kernel with iptables-save, compares each chain's rule hashes (the
// `cali:<hash>` comments) with the desired ones and rewrites only the chains that differ. Only
// `cali-` chains and rules carrying our hash comments are ever touched.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dataplane/chain.h"
#include "dataplane/chain_table.h"
#include "dataplane/iptables_render.h"
#include "os/process.h"

namespace brindle::dataplane {

enum class InsertMode { kInsert, kAppend };

struct IptablesTableOptions {
  InsertMode insertMode = InsertMode::kInsert;  // our hooks at the top (or bottom) of kernel chains
  std::string chainPrefix = "cali-";            // chains we own (and sweep)
  // Programs; ip6tables-* are used for IpVersion::kV6 unless overridden.
  std::string saveCommand;
  std::string restoreCommand;
};

// The restore input that creates `chains` and `insertions` into an empty table (what a first
// apply writes into a clean kernel), COMMIT included.
std::string renderFullRestore(TableName table, const std::vector<Chain>& chains,
                              const std::map<std::string, std::vector<Rule>>& insertions,
                              InsertMode mode = InsertMode::kInsert);

// One table's share of an iptables-restore. Chains the kernel does not have yet are referenced
// by nothing there, so once there are many of them they go into early sections, each its own
// transaction (iptables-nft's cost per command grows with the number of chains a transaction
// names, so many small transactions are cheaper than one large one), and nothing becomes
// reachable before `final` (hooks, changed and deleted chains, the last new chains) commits.
// Early sections come in waves, one per level of the jump graph (leaf chains first): a wave's
// lanes only refer to chains of earlier waves, so they may be restored concurrently, each lane
// by its own iptables-restore, while the sections within a lane commit in order.
struct RestorePlan {
  std::vector<std::vector<std::string>> waves;  // wave -> lanes of "*table ... COMMIT\n" text
  std::string final;                            // "" when nothing else changes
  size_t lines = 0;                             // rule and chain lines, without *table / COMMIT
  bool empty() const { return waves.empty() && final.empty(); }
};

class IptablesTable : public ChainTable {
 public:
  IptablesTable(TableName table, IpVersion version, os::CommandRunner& runner,
                IptablesTableOptions options = {});

  // Brings the kernel in line with the desired state. Between resyncs the writer trusts its own
  // record of what it wrote and touches only the chains changed since the last apply (an apply
  // with nothing changed runs no program at all). On failure the table stays dirty, forgets its
  // record (the next apply re-reads the kernel) and the next apply() retries.
  Status apply();
  // Makes the next apply() re-read the kernel (iptables-save) and repair drift made by others in
  // our chains and insertions. The caller calls this every refresh interval.
  void requestResync() { needRead_ = true; }

  // The same apply in steps, for a writer that restores several tables in one program run
  // (IptablesWriter): if needsRead(), loadKernel() with `iptables-save` output (all tables or
  // this one); then plan(), run the plan's text, and report planApplied() or planFailed().
  bool needsRead() const { return needRead_; }
  void loadKernel(std::string_view saveText);
  RestorePlan plan();
  void planApplied();
  void planFailed();
  os::CommandRunner& runner() const { return runner_; }
  const std::string& restoreCommand() const { return options_.restoreCommand; }
  const std::string& saveCommand() const { return options_.saveCommand; }

  // Introspection for tests, metrics and logs.
  struct Stats {
    int saves = 0;
    int restores = 0;
    int restoreErrors = 0;
    size_t linesWritten = 0;           // restore lines (excluding *table and COMMIT) of all applies
    int chainsKeptForForeignRefs = 0;  // unwanted chains left because a foreign rule uses them
  };
  const Stats& stats() const { return stats_; }
  const std::string& lastRestoreInput() const { return lastRestoreInput_; }
  bool dirty() const { return needRead_ || !dirtyChains_.empty() || !dirtyInsertions_.empty(); }

 private:
  // What iptables-save showed (or what we wrote since): per chain, one hash per rule ("" for a
  // rule without our comment) and, for kernel chains, the full text of our insertions so they can
  // be deleted by specification rather than by a position someone else may have shifted.
  struct KernelChain {
    std::vector<std::string> hashes;
    std::vector<std::string> ourRuleSpecs;  // kernel chains only: "-m comment ... -j cali-X"
  };
  bool ours(const std::string& chain) const { return chain.rfind(options_.chainPrefix, 0) == 0; }
  struct Final;
  // The restore input for the difference; fills `deleted` with the chains it deletes.
  RestorePlan buildRestore(bool full, std::set<std::string>& deleted);
  // Our chains worth comparing: all of them after a read (`full`), else the changed ones.
  std::set<std::string> chainsToCompare(bool full) const;
  // Kernel chains whose insertions are worth comparing, likewise.
  std::set<std::string> hooksToCompare(bool full) const;
  // One chain's difference: deleted, new (into `created`, written later) or rules rewritten.
  void diffChain(const std::string& name, Final& out, std::vector<std::string>& created,
                 std::set<std::string>& deleted);
  void createChain(const std::string& name, Final& out) const;
  const std::vector<Rule>& desiredInsertions(const std::string& chain) const;
  // Whether the kernel chain holds exactly our `hashes`, where insertMode puts them.
  bool insertionsPlaced(const std::string& chain, const std::vector<std::string>& hashes) const;
  void diffInsertions(const std::string& chain, Final& out);
  // `created` (chains new to the kernel) grouped by level: level 0 jumps to no other new chain,
  // level n only to new chains of lower levels.
  std::vector<std::vector<std::string>> levels(const std::vector<std::string>& created);
  // The restore text of one section creating `chains`; adds its rule and chain lines to `lines`.
  std::string section(const std::vector<std::string>& chains, size_t& lines) const;
  // Early waves for the new chains; returns the chains left for the final section.
  std::vector<std::string> planWaves(const std::vector<std::string>& created, RestorePlan& plan);
  void recordWritten(bool full, const std::set<std::string>& deleted);

  os::CommandRunner& runner_;
  IptablesTableOptions options_;

  bool needRead_ = true;  // the first apply always reads: start-up never flushes
  std::map<std::string, KernelChain> kernel_;
  std::set<std::string> foreignRefs_;  // our chains that rules not ours jump to: never deleted
  Stats stats_;
  std::string lastRestoreInput_;
  // Between plan() and planApplied()/planFailed().
  bool planFull_ = false;
  std::set<std::string> planDeleted_;
  size_t planLines_ = 0;
};

}  // namespace brindle::dataplane
