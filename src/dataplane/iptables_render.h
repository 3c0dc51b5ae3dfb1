// The one place where rules (chain.h values) become iptables text: the options written to
// iptables-restore and the `cali:<hash>` comment that marks a rule as ours.
//
// Rule hashes are Felix's (felix/generictables RuleHashes): a SHA-224 chained through the chain,
//   h[-1] = SHA-224(chainName)
//   h[i]  = SHA-224(h[i-1] + "-A <chain> HASH [-m comment --comment \"<c>\"] <match> <action>")
//   hash  = base64url(h[i])[0:16]
// over the rule in Felix's spelling (--jump, --source, --destination-ports, ...), so a rule
// Felix would write the same way carries the same hash (a Felix agent taking over rewrites only
// what differs, and an older agent's rules, hashed otherwise, are all rewritten). The writer
// reads hashes back from iptables-save and rewrites a rule exactly when its hash differs; it
// never parses the rule text (iptables-save normalises it: `-p tcp --dport 80` comes back as
// `-p tcp -m tcp --dport 80`). Insertions into kernel chains are hashed with the kernel chain's
// name. The rule text itself is written in iptables-save's short spelling.
#pragma once

#include <string>
#include <vector>

#include "dataplane/chain.h"

namespace brindle::dataplane {

inline constexpr const char* kHashPrefix = "cali:";
inline constexpr size_t kHashLength = 16;

std::string renderMatch(const Match& match);     // "-p tcp -m multiport --dports 80"; may be ""
std::string renderAction(const Action& action);  // "-j ACCEPT", "-g cali-fw-x"; may be ""

// A LOG prefix as both backends write it (before the ": " they add), so a logged packet reads the
// same whichever backend logged it.
std::string logPrefix(const std::string& prefix);

std::vector<std::string> ruleHashes(const std::string& chainName, const std::vector<Rule>& rules);
inline std::vector<std::string> ruleHashes(const Chain& chain) {
  return ruleHashes(chain.name, chain.rules);
}

// One line (without the newline) for rule `rule` of `chain` whose hash is `hash`:
// `<verb> <chain> <match> -m comment --comment "cali:<hash>" [-m comment --comment "<text>"]
// <action>`. The comments follow the match because iptables-nft (1.8.9) keeps a comment as an xt
// match that the kernel calls on every packet reaching it: after the match it is reached only by
// packets the rule takes, so a rule that does not match costs its native comparisons alone
// (docs/dataplane.md, "Comments").
std::string renderRuleLine(const std::string& chain, const Rule& rule, const std::string& hash,
                           const char* verb = "-A");

}  // namespace brindle::dataplane
