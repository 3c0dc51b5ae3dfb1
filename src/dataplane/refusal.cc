// Scratch-chain probes and the bisection over them; see refusal.h.
#include "dataplane/refusal.h"

#include "dataplane/iptables_table.h"

namespace brindle::dataplane {

bool namesInputLine(std::string_view error) {
  // iptables-restore: "Error occurred at line: N" (parser) or "line N failed" (kernel); nft:
  // "<cmdline>:N:C-D: Error: ..." (parser and kernel alike).
  return error.find("line") != std::string_view::npos ||
         error.find(": Error:") != std::string_view::npos;
}

Result<ProbeResult> probeRules(os::CommandRunner& runner, const std::string& restoreCommand,
                               TableName table, const std::vector<std::vector<Rule>>& chains) {
  const std::string head = std::string("*") + tableNameText(table) + "\n";
  std::string create = head, remove = head;
  for (size_t i = 0; i < chains.size(); ++i) {
    // Declaring a chain that a crashed probe left behind flushes it; the agent's sweep removes
    // any that stay (they carry our prefix and nobody wants them).
    std::string name = "cali-probe-" + std::to_string(i);
    create += ":" + name + " - [0:0]\n";
    for (const Rule& rule : chains[i]) create += renderRuleLine(name, rule, "probe") + "\n";
    remove += "-F " + name + "\n-X " + name + "\n";
  }
  BRINDLE_ASSIGN_OR_RETURN(auto out,
                           runner.run({{restoreCommand, "--noflush"}, create + "COMMIT\n"}));
  if (out.exitCode != 0) {
    if (!namesInputLine(out.err)) {
      return makeError(ErrorCode::kUnavailable, restoreCommand + " failed: " + out.err);
    }
    return ProbeResult{false, out.err};
  }
  (void)runner.run({{restoreCommand, "--noflush"}, remove + "COMMIT\n"});
  return ProbeResult{true, ""};
}

namespace {

Status bisect(const std::vector<size_t>& items,
              const std::function<Result<bool>(const std::vector<size_t>&)>& accepts,
              bool knownRefused, std::vector<size_t>& refused) {
  if (items.empty()) return Status::ok();
  if (!knownRefused) {
    BRINDLE_ASSIGN_OR_RETURN(auto ok, accepts(items));
    if (ok) return Status::ok();
  }
  if (items.size() == 1) {
    refused.push_back(items.front());
    return Status::ok();
  }
  const auto mid = items.begin() + static_cast<long>(items.size() / 2);
  std::vector<size_t> low(items.begin(), mid), high(mid, items.end());
  size_t before = refused.size();
  if (Status s = bisect(low, accepts, false, refused); !s) return s;
  // The whole was refused and the lower half was not: the upper half must be.
  return bisect(high, accepts, refused.size() == before, refused);
}

}  // namespace

Result<std::vector<size_t>> findRefused(
    size_t n, const std::function<Result<bool>(const std::vector<size_t>&)>& accepts) {
  std::vector<size_t> all(n), refused;
  for (size_t i = 0; i < n; ++i) all[i] = i;
  if (Status s = bisect(all, accepts, false, refused); !s) return s.error();
  return refused;
}

}  // namespace brindle::dataplane
