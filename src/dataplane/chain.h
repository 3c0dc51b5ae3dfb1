// The vocabulary shared by the rule renderer (src/rules) and the kernel writers (src/dataplane):
// iptables chains as values. A rule is its match, its action and the `cali:<hash>` comment that
// marks it as ours; rendering produces these, the Table writer diffs and applies them.
#pragma once

#include <string>
#include <vector>

namespace brindle::dataplane {

enum class IpVersion { kV4 = 4, kV6 = 6 };

enum class TableName { kRaw, kMangle, kNat, kFilter };
const char* tableNameText(TableName table);  // "raw", "mangle", "nat", "filter"

struct Rule {
  std::string match;    // iptables match options, e.g. "-m conntrack --ctstate INVALID"; may be ""
  std::string action;   // e.g. "-j ACCEPT", "-g cali-fw-cali0ef24b1", "-j MARK --set-xmark 0x1000000/0x1000000"
  std::string comment;  // human text, rendered as `-m comment --comment "..."` after the hash

  bool operator==(const Rule&) const = default;
};

struct Chain {
  std::string name;  // <= 28 characters, starts with "cali-" for ours
  std::vector<Rule> rules;

  bool operator==(const Chain&) const = default;
};

}  // namespace brindle::dataplane
