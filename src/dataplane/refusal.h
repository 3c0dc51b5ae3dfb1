// Finding what the kernel refuses, without touching anything that carries traffic. When one
// iptables-restore of a batch fails, the agent asks the kernel about parts of the batch: the rules
// of a part are committed into scratch chains (cali-probe-N) that nothing jumps to, and deleted
// again by a second transaction; bisection narrows a refusal down to the chains and rules it
// comes from (docs/dataplane.md, "Refused rules").
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dataplane/chain.h"
#include "os/process.h"

namespace brindle::dataplane {

struct ProbeResult {
  bool accepted = false;
  std::string error;  // the restore's message when refused
};

// True if an iptables-restore error message blames a line of its input (a refusal of what it was
// given), rather than the program failing for some other reason (killed, lock, no memory).
bool namesInputLine(std::string_view error);

// Commits each rule list of `chains` into its own scratch chain of `table` and deletes them again.
// Refused: nothing was committed (a restore transaction is all or nothing) and the error names a
// line. An error: the probe failed otherwise (did not start, killed, ...), which says nothing
// about the rules.
Result<ProbeResult> probeRules(os::CommandRunner& runner, const std::string& restoreCommand,
                               TableName table, const std::vector<std::vector<Rule>>& chains);

// The items of [0, n) that `accepts` refuses on their own, by bisection: `accepts` is asked
// about subsets (indexes ascending) and accepts one when none of its items is refused. Asks
// about [0, n) first; about 2k log(n/k) questions for k refused items. An error of `accepts`
// ends the search with that error.
Result<std::vector<size_t>> findRefused(
    size_t n, const std::function<Result<bool>(const std::vector<size_t>&)>& accepts);

}  // namespace brindle::dataplane
