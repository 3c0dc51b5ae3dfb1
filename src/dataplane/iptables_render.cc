// iptables text of rules and Felix's rule hashes; see iptables_render.h.
#include "dataplane/iptables_render.h"

#include <cstdio>
#include <iterator>

#include "common/digest.h"

namespace brindle::dataplane {
namespace {

// iptables-restore takes both spellings: the short one is what iptables-save prints (and what we
// write), the long one is Felix's, which its rule hashes are computed over.
enum class Spelling { kShort, kFelix };

void appendHex(std::string& out, uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%x", v);
  out += buf;
}

void appendMark(std::string& out, uint32_t value, uint32_t mask, Spelling s) {
  // Felix writes a cleared mark as "0/<mask>".
  if (value == 0 && s == Spelling::kFelix) {
    out += "0";
  } else {
    appendHex(out, value);
  }
  out += "/";
  appendHex(out, mask);
}

// How each criterion is written: `[-m <module> ]["! "]<flag><text><suffix>`, the flag in the short
// spelling or Felix's. Indexed by Match::Kind.
struct CriterionWords {
  const char* module;
  const char* flag;
  const char* felixFlag;
  const char* suffix;
};
constexpr CriterionWords kCriteria[] = {
    {nullptr, "-p ", "-p ", ""},                             // kProtocol
    {nullptr, "-s ", "--source ", ""},                       // kSourceNet
    {nullptr, "-d ", "--destination ", ""},                  // kDestNet
    {"set", "--match-set ", "--match-set ", " src"},         // kSourceIpSet
    {"set", "--match-set ", "--match-set ", " dst"},         // kDestIpSet
    {"multiport", "--sports ", "--source-ports ", ""},       // kSourcePorts
    {"multiport", "--dports ", "--destination-ports ", ""},  // kDestPorts
    {"icmp", "--icmp-type ", "--icmp-type ", ""},            // kIcmpType
    {"icmp6", "--icmpv6-type ", "--icmpv6-type ", ""},       // kIcmp6Type
    {nullptr, "-i ", "--in-interface ", ""},                 // kInInterface
    {nullptr, "-o ", "--out-interface ", ""},                // kOutInterface
    {"mark", "--mark ", "--mark ", ""},                      // kMark
    {"conntrack", "--ctstate ", "--ctstate ", ""},           // kConntrackState
    {"rpfilter", "--invert", "--invert", ""},                // kRpfFailed
    {"addrtype", "--src-type ", "--src-type ", ""},          // kSourceAddrType
    {"addrtype", "--dst-type ", "--dst-type ", ""},          // kDestAddrType
    {"devgroup", "--src-group ", "--src-group ", ""},        // kInGroup
    {"devgroup", "--dst-group ", "--dst-group ", ""},        // kOutGroup
};

static_assert(std::size(kCriteria) == static_cast<size_t>(Match::Kind::kOutGroup) + 1);

void appendCriterion(std::string& out, const Match::Criterion& c, Spelling s) {
  const CriterionWords& w = kCriteria[static_cast<size_t>(c.kind)];
  if (w.module) out.append("-m ").append(w.module).append(" ");
  if (c.negated) out.append("! ");
  out.append(s == Spelling::kFelix ? w.felixFlag : w.flag);
  if (c.kind == Match::Kind::kMark) appendMark(out, c.value, c.mask, s);
  out.append(c.text).append(w.suffix);
}

void appendMatch(std::string& out, const Match& match, Spelling s) {
  for (const auto& c : match.criteria()) {
    if (!out.empty() && out.back() != ' ') out += ' ';
    appendCriterion(out, c, s);
  }
}

void appendAction(std::string& out, const Action& a, Spelling s) {
  using K = Action::Kind;
  if (a.kind == K::kNone) return;
  if (!out.empty() && out.back() != ' ') out += ' ';
  const bool felix = s == Spelling::kFelix;
  if (a.kind == K::kGoto) {
    out.append(felix ? "--goto " : "-g ").append(a.target);
    return;
  }
  out.append(felix ? "--jump " : "-j ");
  switch (a.kind) {
    case K::kAccept:
      out.append("ACCEPT");
      break;
    case K::kDrop:
      out.append("DROP");
      break;
    case K::kReturn:
      out.append("RETURN");
      break;
    case K::kSetMark:
      out.append(felix ? "MARK --set-mark " : "MARK --set-xmark ");
      appendMark(out, a.value, a.mask, s);
      break;
    case K::kLog:
      out.append("LOG --log-prefix \"").append(logPrefix(a.target)).append(": \" --log-level 5");
      break;
    case K::kMasquerade:
      out.append("MASQUERADE");
      break;
    case K::kDnat:
      out.append("DNAT --to-destination ").append(a.target);
      break;
    case K::kSnat:
      out.append("SNAT --to-source ").append(a.target);
      break;
    default:  // kJump
      out.append(a.target);
  }
}

// Comment text as iptables-restore reads it: quoted, no embedded quotes, <= 256 characters.
std::string quoteComment(const std::string& text) {
  std::string clean;
  for (char c : text) clean.push_back(c == '"' || c == '\n' ? '\'' : c);
  if (clean.size() > 256) clean.resize(256);
  return "\"" + clean + "\"";
}

// Felix's comment text in a hash: every character but [A-Za-z0-9_ @%+=:,./-] becomes '_'.
std::string felixComment(const std::string& text) {
  std::string out;
  for (char c : text.substr(0, 256)) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      std::string_view("_ @%+=:,./-").find(c) != std::string_view::npos;
    out.push_back(safe ? c : '_');
  }
  return out;
}

}  // namespace

// No double quote (iptables-restore ends the argument there and refuses the line) and at most 29
// characters with the ": " (xt_LOG's limit, which the legacy backend enforces; nft takes more).
std::string logPrefix(const std::string& prefix) {
  std::string text;
  for (char c : prefix) {
    if (c != '"' && c != '\\' && c != '\n') text.push_back(c);
  }
  if (text.size() > 27) text.resize(27);
  return text;
}

const char* tableNameText(TableName table) {
  static constexpr const char* kNames[] = {"raw", "mangle", "nat", "filter"};  // TableName's order
  return kNames[static_cast<int>(table)];
}

std::string renderMatch(const Match& match) {
  std::string out;
  appendMatch(out, match, Spelling::kShort);
  return out;
}

std::string renderAction(const Action& action) {
  std::string out;
  appendAction(out, action, Spelling::kShort);
  return out;
}

std::vector<std::string> ruleHashes(const std::string& chainName, const std::vector<Rule>& rules) {
  std::vector<std::string> out;
  out.reserve(rules.size());
  auto previous = sha224(chainName);
  std::string input;
  for (const Rule& rule : rules) {
    input.assign(reinterpret_cast<const char*>(previous.data()), previous.size());
    input.append("-A ").append(chainName).append(" HASH");
    if (!rule.comment.empty()) {
      input.append(" -m comment --comment \"").append(felixComment(rule.comment)).append("\"");
    }
    input += ' ';
    appendMatch(input, rule.match, Spelling::kFelix);
    appendAction(input, rule.action, Spelling::kFelix);
    if (input.back() == ' ') input.pop_back();
    previous = sha224(input);
    out.push_back(base64Url(previous.data(), previous.size()).substr(0, kHashLength));
  }
  return out;
}

std::string renderRuleLine(const std::string& chain, const Rule& rule, const std::string& hash,
                           const char* verb) {
  std::string line;
  line.reserve(160 + rule.comment.size());
  line.append(verb).append(" ").append(chain).append(" ");
  appendMatch(line, rule.match, Spelling::kShort);
  if (line.back() != ' ') line += ' ';
  line.append("-m comment --comment \"").append(kHashPrefix).append(hash).append("\"");
  if (!rule.comment.empty()) {
    line.append(" -m comment --comment ").append(quoteComment(rule.comment));
  }
  appendAction(line, rule.action, Spelling::kShort);
  return line;
}

}  // namespace brindle::dataplane
