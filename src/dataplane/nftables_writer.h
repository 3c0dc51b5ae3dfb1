// NftablesWriter: the nftables backend. It reads the desired chains of every ChainTable it is
// given (raw, mangle, nat and filter of IPv4 and IPv6, as the managers wrote them) and keeps the
// selector sets itself (it is the managers' IpSets), and writes all of it into one `table inet`
// of ours (default "calico") with one atomic transaction per apply: sets created and filled,
// chains created or rewritten (flush + rules), base chains' rules, dispatch verdict maps' elements
// added and deleted one by one (a dispatch chain edited a rule at a time is not even rendered:
// its edits become elements, see planEdits), then chains, maps and sets no longer wanted deleted.
// An apply creating many chains (a cold start) is written in steps instead: new sets, maps and
// chains first, where nothing reaches them, then one transaction hooking them. Between resyncs it
// trusts its record of what it wrote and touches only what changed; a resync lists the table (JSON)
// and repairs drift: a chain whose rules' `cali:` ids differ is rewritten, sets and maps whose
// elements differ are corrected, objects not wanted are deleted.
// Nothing outside its table is ever touched. See nftables_render.h for names and rendering.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dataplane/chain_table.h"
#include "dataplane/ipsets.h"
#include "dataplane/nft_executor.h"
#include "dataplane/nftables_render.h"
#include "dataplane/refusal.h"

namespace brindle::dataplane {

struct NftablesOptions {
  std::string table = "calico";  // `table inet <table>`, wholly ours
  // A cold start's rules go in transactions of about this much text; 0: chosen from the total
  // (see nftables_writer.cc).
  size_t ruleStepBytes = 0;
};

class NftablesWriter : public IpSets {
 public:
  // `tables`: at most one per (TableName, IpVersion); they outlive the writer.
  NftablesWriter(std::vector<ChainTable*> tables, NftExecutor& executor,
                 NftablesOptions options = {});

  // IpSets: the desired members; written by apply() in the same transaction as the rules.
  void replaceMembers(const IpSetSpec& spec, const std::set<std::string>& members) override;
  void addMembers(const std::string& name, const std::set<std::string>& members) override;
  void removeMembers(const std::string& name, const std::set<std::string>& members) override;
  void removeSet(const std::string& name) override;
  Status applyUpdates() override { return Status::ok(); }    // apply() writes sets
  Status applyDeletions() override { return Status::ok(); }  // ... and deletes them

  // Brings the kernel in line with the tables and sets, in one transaction (or in steps, see
  // above). On failure nothing reachable changed in the kernel (earlier steps may have left new
  // chains and sets that nothing jumps to), everything stays dirty, the record is forgotten (the
  // next apply lists the table) and the next apply retries.
  Status apply();
  // Makes the next apply() list the table and repair drift.
  void requestResync() { needRead_ = true; }
  bool dirty() const;

  // Whether the kernel takes each rule list of `chains` (rules of `table`/`version`), for finding
  // refused rules: committed as scratch chains into a scratch table "<table>-probe" that hooks
  // nothing, then deleted (nft --check never reaches the kernel). Ours is never touched.
  Result<ProbeResult> probe(TableName table, IpVersion version,
                            const std::vector<std::vector<Rule>>& chains);

  // Deletes `table inet <table>` (and a probe scratch table) if it exists (cleanup, switching to
  // iptables).
  static Status removeTable(NftExecutor& executor, const std::string& table = "calico");

  struct Stats {
    int lists = 0;         // JSON listings (first apply, resyncs)
    int transactions = 0;  // transactions run
    int errors = 0;        // ... that failed
    size_t linesWritten = 0;
    size_t chainsRendered = 0;  // regular chains rendered (replayed edits render none)
  };
  const Stats& stats() const { return stats_; }
  size_t memberCount() const;
  size_t setCount() const;
  const std::string& lastTransaction() const { return lastTransaction_; }

 private:
  // One ipset: its desired members and how the kernel's elements differ from them.
  struct SetState {
    IpVersion version = IpVersion::kV4;
    bool wanted = true;             // false once removed: deleted by the next apply
    std::set<std::string> members;  // canonical: host addresses without their prefix
    // Since the kernel last held the members (the kernel has members - added + removed); not
    // used after a listing, which shows the kernel's elements.
    std::set<std::string> added, removed;
    std::set<std::string> rejected;  // not an address of the set's family: fails every apply
    size_t nets = 0;                 // members with a prefix: an interval set while > 0
    bool interval() const { return nets > 0; }
  };
  // What one chain of our table holds, as listed or as last written: a digest of its rules' ids
  // in order ("" for a rule without our comment; a chain is rewritten whole when any differs, so
  // the ids themselves are not kept: 8 bytes a chain instead of ~64 a rule) and the named sets its
  // rules use (sorted). No rule text is kept.
  struct KernelChain {
    uint64_t ids = kNoIds;
    std::vector<std::string> sets;
    static constexpr uint64_t kNoIds = 14695981039346656037ull;  // FNV-1a's offset basis
    void addId(std::string_view id);
  };
  struct Plan;

  // Adds/removes one asked-for member; true if the members or the rejects changed.
  static bool addMember(SetState& state, const std::string& member);
  static bool removeMember(SetState& state, const std::string& member);
  std::string setName(const std::string& ipset) const;
  // Lists our table into the record; `listed` gets every set's elements (as nft prints them).
  Status read(std::map<std::string, std::set<std::string>>& listed);
  void planSets(Plan& plan, bool full);
  void planChains(Plan& plan, bool full);
  // One chain's difference: created, or flushed and its rules written, when the rendered ids or
  // sets differ from the record (or a set it uses changes variant, or the table was written by
  // another renderer version); `spec` declares a base chain.
  void planChain(Plan& plan, const std::string& name, const NftRendered& rendered,
                 const std::string& spec = "");
  void planDeleteChain(Plan& plan, const std::string& name);
  // A verdict map's difference from the record: created, elements deleted and added.
  void planMap(Plan& plan, const std::string& name,
               const std::map<std::string, std::string>& elements);
  // Elements `changes` of map `name` written (a changed verdict: deleted and added).
  void planElements(Plan& plan, const std::string& name, NftElementChanges changes);
  // Changed chain `chain` of `table` (nftables `name`) when ChainTable's rule edits only changed
  // its verdict maps' elements (replayNftMapEdits): those planned, true. An endpoint added costs
  // O(log n) here, not a rendering of the n-rule dispatch chain.
  bool planEdits(Plan& plan, const ChainTable& table, const std::string& chain,
                 const std::string& name);
  // The rules of base chain (`table`, `hook`): IPv4's insertions then IPv6's.
  NftRendered renderBase(TableName table, const std::string& hook) const;
  void planSetDeletions(Plan& plan, bool full);
  // Writes the plan: one transaction, or in steps when it creates many chains.
  Status write(Plan& plan);
  Status run(const std::string& text);  // one transaction, counted and kept for diagnosis
  // Transactions that need none of each other's objects (executor's runIndependent); the
  // failed one, or the last, is kept.
  Status runIndependent(const std::vector<std::string>& texts);
  void keep(const std::string& text);  // as lastTransaction()
  Status counted(Status s);            // a failure counted, and the record no longer trusted
  void commit(Plan& plan, bool full);
  Status reportInvalid();

  std::vector<ChainTable*> tables_;
  NftExecutor& executor_;
  NftablesOptions options_;
  bool needRead_ = true;
  Stats stats_;
  std::string lastTransaction_;

  std::map<std::string, SetState> sets_;  // ipset name -> desired
  std::set<std::string> dirtySets_;       // ipsets changed since written
  std::vector<std::string> invalid_;      // problems in the desired sets, reported once
  // The kernel as listed or written since: our chains, the sets in our table, how many chains
  // use each set, the nftables names of the desired ipsets' current variants, and sets not
  // wanted any more that a chain still used when last looked at (deleted once unused).
  std::map<std::string, KernelChain> chains_;
  std::set<std::string> kernelSets_;
  std::map<std::string, int> setRefs_;
  std::set<std::string> wantedSets_;
  std::set<std::string> lingering_;
  // Our verdict maps as listed or written: name -> interface -> verdict ("goto <chain>"). Used,
  // like sets, by the chains that reference them; deleted when none does.
  std::map<std::string, std::map<std::string, std::string>> kernelMaps_;
  // Chains with verdict maps, as last written: which of their rules each map stands for (what
  // planEdits replays ChainTable's edits on).
  std::map<std::string, std::vector<NftMapRun>> mapRuns_;
  bool formatCurrent_ = false;  // the table was written by this renderer version
};

}  // namespace brindle::dataplane
