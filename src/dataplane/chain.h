// The vocabulary shared by the rule renderer (src/rules) and the kernel writers (src/dataplane):
// iptables chains as values. A rule is its match, its action and a human comment; the `cali:<hash>`
// comment that marks it as ours is computed here (ruleHashes), never by the renderer.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace brindle::dataplane {

enum class IpVersion { kV4 = 4, kV6 = 6 };

enum class TableName { kRaw, kMangle, kNat, kFilter };
const char* tableNameText(TableName table);  // "raw", "mangle", "nat", "filter"

struct Rule {
  std::string match;    // iptables match options, e.g. "-m conntrack --ctstate INVALID"; may be ""
  std::string action;   // e.g. "-j ACCEPT", "-g cali-fw-cali0ef24b1", "-j MARK --set-xmark
                        // 0x1000000/0x1000000"
  std::string comment;  // human text, rendered as `-m comment --comment "..."` after the hash

  bool operator==(const Rule&) const = default;
};

struct Chain {
  std::string name;  // <= 28 characters, starts with "cali-" for ours
  std::vector<Rule> rules;

  bool operator==(const Chain&) const = default;
};

// The rule-hash scheme (Felix's): one hash per rule, chained through the chain so it depends on
// the chain name, the rule's position and its content, and on every rule above it:
//   h[-1] = chainName + "\n" + kRuleLayout;
//   h[i] = base64url(SHA-256(h[i-1] + "\n" + match + "\n" + action + "\n" + comment))[0:16]
// A rule is written as `-A <chain> <match> -m comment --comment "cali:<h[i]>" ...`; the writer
// reads the hashes back from iptables-save and rewrites a rule exactly when its hash differs, so
// it never parses the rule text itself (iptables-save normalises it: `-p tcp --dport 80` comes
// back as `-p tcp -m tcp --dport 80`). The renderer must not add hashes of its own.
// Insertions into kernel chains are hashed the same way with the kernel chain's name.
inline constexpr const char* kHashPrefix = "cali:";
// Names how a rule is written (renderRuleLine); changes whenever that does.
inline constexpr const char* kRuleLayout = "match-comments-action";
inline constexpr size_t kHashLength = 16;
std::vector<std::string> ruleHashes(const std::string& chainName, const std::vector<Rule>& rules);
inline std::vector<std::string> ruleHashes(const Chain& chain) {
  return ruleHashes(chain.name, chain.rules);
}

}  // namespace brindle::dataplane
