// Table names and the rule-hash scheme documented in chain.h.
#include "dataplane/chain.h"

#include "common/digest.h"

namespace brindle::dataplane {

const char* tableNameText(TableName table) {
  switch (table) {
    case TableName::kRaw:
      return "raw";
    case TableName::kMangle:
      return "mangle";
    case TableName::kNat:
      return "nat";
    case TableName::kFilter:
      return "filter";
  }
  return "filter";
}

std::vector<std::string> ruleHashes(const std::string& chainName, const std::vector<Rule>& rules) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::vector<std::string> out;
  out.reserve(rules.size());
  // The layout of the written line (where the comments go) is part of every hash, so an agent
  // that writes rules differently replaces the rules an older one left instead of keeping them.
  std::string previous = chainName + "\n" + kRuleLayout;
  std::string input;
  for (const Rule& rule : rules) {
    input.clear();
    input.append(previous).append("\n").append(rule.match).append("\n").append(rule.action);
    input.append("\n").append(rule.comment);
    auto digest = sha256(input);
    // base64url of the first 12 bytes = exactly 16 characters, no padding.
    std::string hash;
    hash.reserve(kHashLength);
    for (size_t i = 0; i < 12; i += 3) {
      uint32_t v = (uint32_t(digest[i]) << 16) | (uint32_t(digest[i + 1]) << 8) | digest[i + 2];
      hash.push_back(kAlphabet[(v >> 18) & 63]);
      hash.push_back(kAlphabet[(v >> 12) & 63]);
      hash.push_back(kAlphabet[(v >> 6) & 63]);
      hash.push_back(kAlphabet[v & 63]);
    }
    out.push_back(hash);
    previous = std::move(hash);
  }
  return out;
}

}  // namespace brindle::dataplane
