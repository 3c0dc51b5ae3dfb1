// nftables text of rules, chains and sets; see nftables_render.h.
#include "dataplane/nftables_render.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <optional>
#include <utility>

#include "common/digest.h"
#include "dataplane/iptables_render.h"

namespace brindle::dataplane {
namespace {

using Kind = Match::Kind;

constexpr size_t kCommentMax = 128;  // nft refuses longer comments (bytes)
constexpr size_t kPortSetHashLength = 12;

void appendHex(std::string& out, uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%x", v);
  out += buf;
}

std::string hashText(std::string_view input, size_t length) {
  auto digest = sha224(input);
  return base64Url(digest.data(), digest.size()).substr(0, length);
}

std::string_view protocolNumber(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kNumbers[] = {
      {"tcp", "6"},     {"udp", "17"},   {"icmp", "1"},      {"ipv6-icmp", "58"},
      {"icmpv6", "58"}, {"sctp", "132"}, {"udplite", "136"},
  };
  for (const auto& [n, number] : kNumbers) {
    if (n == name) return number;
  }
  return name;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    size_t end = text.find(separator, start);
    out.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

bool parsePort(std::string_view text, uint32_t& port) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return ec == std::errc() && end == text.data() + text.size() && port <= 65535;
}

// A multiport list ("443,80,8000:8080") as nftables set elements ("80", "443", "8000-8080"):
// sorted and with overlapping or adjacent ranges merged, because an interval set refuses
// overlapping elements and equal lists should share one named set. A list naming a port by
// service name keeps its order.
std::vector<std::string> portElements(std::string_view list) {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  bool numeric = true;
  for (std::string_view entry : split(list, ',')) {
    auto bounds = split(entry, ':');
    uint32_t lo = 0, hi = 0;
    if (bounds.size() > 2 || !parsePort(bounds.front(), lo) || !parsePort(bounds.back(), hi)) {
      numeric = false;
      break;
    }
    ranges.emplace_back(std::min(lo, hi), std::max(lo, hi));
  }
  std::vector<std::string> out;
  if (!numeric) {
    for (std::string_view entry : split(list, ',')) {
      std::string e(entry);
      std::replace(e.begin(), e.end(), ':', '-');
      out.push_back(std::move(e));
    }
    return out;
  }
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uint32_t, uint32_t>> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  for (const auto& [lo, hi] : merged) {
    out.push_back(lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi));
  }
  return out;
}

std::string joinElements(const std::vector<std::string>& elements) {
  std::string out;
  for (const auto& e : elements) {
    if (!out.empty()) out += ", ";
    out += e;
  }
  return out;
}

// "RELATED,ESTABLISHED" -> "established,related": lower case, in the order nft lists the bits.
std::string conntrackStates(std::string_view text) {
  static constexpr std::string_view kOrder[] = {"invalid", "established", "related", "new",
                                                "untracked"};
  std::vector<std::string> states;
  for (std::string_view s : split(text, ',')) {
    std::string state(s);
    std::transform(state.begin(), state.end(), state.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    states.push_back(std::move(state));
  }
  auto rank = [](const std::string& s) {
    return std::find(std::begin(kOrder), std::end(kOrder), s) - std::begin(kOrder);
  };
  std::stable_sort(states.begin(), states.end(),
                   [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  std::string out;
  for (const auto& s : states) out.append(out.empty() ? "" : ",").append(s);
  return out;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

// Characters nft takes in an identifier after its first letter; anything else becomes '-'.
std::string identifier(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.' || c == '/';
    if (!ok) c = '-';
  }
  return out;
}

// Writes criteria for one chain family. Port lists of several entries go into named sets
// recorded in `rendered` (rules), or inline when there is none (renderNftMatch).
struct MatchWriter {
  IpVersion version;
  const NftSetNamer& setName;
  NftRendered* rendered;

  void ports(std::string& out, const Match::Criterion& c, const char* field) const {
    out.append("th ").append(field).append(c.negated ? " != " : " ");
    auto elements = portElements(c.text);
    std::string joined = joinElements(elements);
    if (elements.size() == 1) {
      out += joined;
    } else if (!rendered) {
      out.append("{ ").append(joined).append(" }");
    } else {
      std::string name = "p-" + hashText(joined, kPortSetHashLength);
      out.append("@").append(name);
      rendered->portSets.emplace(std::move(name), std::move(joined));
    }
  }

  void icmp(std::string& out, const Match::Criterion& c) const {
    const char* word = c.kind == Kind::kIcmpType ? "icmp" : "icmpv6";
    auto slash = c.text.find('/');
    std::string type = c.text.substr(0, slash);
    if (slash == std::string::npos) {
      out.append(word).append(c.negated ? " type != " : " type ").append(type);
      return;
    }
    std::string code = c.text.substr(slash + 1);
    if (c.negated) {  // a concatenation compares only inside set braces
      out.append(word).append(" type . ").append(word).append(" code != { ");
      out.append(type).append(" . ").append(code).append(" }");
    } else {
      out.append(word).append(" type ").append(type).append(" ");
      out.append(word).append(" code ").append(code);
    }
  }

  void criterion(std::string& out, const Match::Criterion& c) const {
    const char* neq = c.negated ? "!= " : "";
    const char* family = version == IpVersion::kV4 ? "ip " : "ip6 ";
    switch (c.kind) {
      case Kind::kProtocol:
        out.append("meta l4proto ").append(neq).append(protocolNumber(c.text));
        break;
      case Kind::kSourceNet:
      case Kind::kDestNet:
        out.append(family).append(c.kind == Kind::kSourceNet ? "saddr " : "daddr ");
        out.append(neq).append(c.text);
        break;
      case Kind::kSourceIpSet:
      case Kind::kDestIpSet:
        out.append(family).append(c.kind == Kind::kSourceIpSet ? "saddr " : "daddr ");
        out.append(neq).append("@").append(setName(c.text));
        if (rendered) rendered->ipsets.insert(c.text);
        break;
      case Kind::kSourcePorts:
        ports(out, c, "sport");
        break;
      case Kind::kDestPorts:
        ports(out, c, "dport");
        break;
      case Kind::kIcmpType:
      case Kind::kIcmp6Type:
        icmp(out, c);
        break;
      case Kind::kInInterface:
      case Kind::kOutInterface: {
        std::string name = c.text;
        if (!name.empty() && name.back() == '+') name.back() = '*';
        out.append(c.kind == Kind::kInInterface ? "iifname " : "oifname ").append(neq);
        out.append("\"").append(name).append("\"");
        break;
      }
      case Kind::kInGroup:
      case Kind::kOutGroup:
        out.append(c.kind == Kind::kInGroup ? "meta iifgroup " : "meta oifgroup ").append(neq);
        out.append(c.text);
        break;
      case Kind::kMark:
        out.append("meta mark & ");
        appendHex(out, c.mask);
        out.append(c.negated ? " != " : " == ");
        appendHex(out, c.value);
        break;
      case Kind::kConntrackState:
        out.append("ct state ").append(neq).append(conntrackStates(c.text));
        break;
      case Kind::kRpfFailed:
        out.append(c.negated ? "fib saddr . iif oif exists" : "fib saddr . iif oif missing");
        break;
      case Kind::kSourceAddrType:
      case Kind::kDestAddrType:
        out.append(c.kind == Kind::kSourceAddrType ? "fib saddr type " : "fib daddr type ");
        out.append(neq).append(lower(c.text));
        break;
    }
  }

  void match(std::string& out, const Match& m) const {
    for (const auto& c : m.criteria()) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      criterion(out, c);
    }
  }
};

// `comment "cali:<hash>[; <text>]"`: double quotes become single ones, line breaks spaces, at most
// 128 bytes, cut at a character boundary.
std::string comment(const std::string& hash, const std::string& text) {
  std::string body = kHashPrefix + hash;
  if (!text.empty()) {
    body += "; ";
    for (char c : text) body.push_back(c == '"' ? '\'' : c == '\n' || c == '\r' ? ' ' : c);
  }
  if (body.size() > kCommentMax) {
    size_t end = kCommentMax;
    while (end > 0 && (static_cast<unsigned char>(body[end]) & 0xC0) == 0x80) --end;
    body.resize(end);
  }
  return "comment \"" + body + "\"";
}

// What makes `rule` an entry of a dispatch verdict map: one exact interface name, optionally
// followed by a device group of the same direction (a grouped run), a jump or goto, nothing a
// person reads in its comment.
struct DispatchEntry {
  bool incoming = true;
  bool grouped = false;
  std::string_view iface, group;
  // The element of the run's set of pairs ("cali1 . 268435457") or of its map ("cali1").
  std::string key() const {
    return grouped ? std::string(iface) + " . " + std::string(group) : std::string(iface);
  }
  bool sameRun(const DispatchEntry& o) const {
    return incoming == o.incoming && grouped == o.grouped;
  }
};

std::optional<DispatchEntry> dispatchEntry(const Rule& rule) {
  const auto& criteria = rule.match.criteria();
  if (criteria.empty() || criteria.size() > 2 || !rule.comment.empty()) return std::nullopt;
  if (rule.action.chain().empty()) return std::nullopt;
  const auto& c = criteria.front();
  if (c.kind != Kind::kInInterface && c.kind != Kind::kOutInterface) return std::nullopt;
  if (c.negated || c.text.empty() || c.text.back() == '+') return std::nullopt;
  DispatchEntry entry{c.kind == Kind::kInInterface, false, c.text, {}};
  if (criteria.size() == 2) {
    const auto& g = criteria.back();
    if (g.negated || g.kind != (entry.incoming ? Kind::kInGroup : Kind::kOutGroup)) {
      return std::nullopt;
    }
    entry.grouped = true;
    entry.group = g.text;
  }
  return entry;
}

const char* interfaceKey(bool incoming) { return incoming ? "iifname" : "oifname"; }
const char* groupKey(bool incoming) { return incoming ? "meta iifgroup" : "meta oifgroup"; }

}  // namespace

std::string nftChainName(TableName table, IpVersion version, std::string_view chain) {
  std::string out = tableNameText(table);
  if (version == IpVersion::kV6) out += '6';
  return out.append("-").append(identifier(chain));
}

std::string nftBaseChainName(TableName table, std::string_view hook) {
  return std::string(tableNameText(table)).append("-").append(identifier(hook));
}

std::string nftBaseChainSpec(TableName table, std::string_view hook) {
  // The iptables tables' hooks and priorities. nft names dstnat only at prerouting and srcnat
  // only at postrouting, so nat INPUT/OUTPUT take the numbers iptables uses (100 / -100).
  // mangle OUTPUT is a route chain: a changed mark re-routes the packet, as in iptables.
  struct Base {
    TableName table;
    std::string_view hook, type, priority;
  };
  static constexpr Base kBases[] = {
      {TableName::kRaw, "PREROUTING", "filter", "raw"},
      {TableName::kRaw, "OUTPUT", "filter", "raw"},
      {TableName::kMangle, "PREROUTING", "filter", "mangle"},
      {TableName::kMangle, "INPUT", "filter", "mangle"},
      {TableName::kMangle, "FORWARD", "filter", "mangle"},
      {TableName::kMangle, "OUTPUT", "route", "mangle"},
      {TableName::kMangle, "POSTROUTING", "filter", "mangle"},
      {TableName::kNat, "PREROUTING", "nat", "dstnat"},
      {TableName::kNat, "INPUT", "nat", "100"},
      {TableName::kNat, "OUTPUT", "nat", "-100"},
      {TableName::kNat, "POSTROUTING", "nat", "srcnat + 10"},
      {TableName::kFilter, "INPUT", "filter", "filter"},
      {TableName::kFilter, "FORWARD", "filter", "filter"},
      {TableName::kFilter, "OUTPUT", "filter", "filter"},
  };
  for (const Base& b : kBases) {
    if (b.table != table || b.hook != hook) continue;
    std::string out = "type ";
    out.append(b.type).append(" hook ").append(lower(std::string(hook)));
    return out.append(" priority ").append(b.priority).append("; policy accept;");
  }
  return "";
}

NftMapKind nftMapKind(std::string_view name) {
  // "<chain>-gmap[N]-if": a selector set's name may end in "-if" too (base64url), never so.
  const bool pairs = name.ends_with("-if");
  if (pairs) name.remove_suffix(3);
  while (!name.empty() && name.back() >= '0' && name.back() <= '9') name.remove_suffix(1);
  if (!name.ends_with("-gmap")) return NftMapKind::kInterface;
  return pairs ? NftMapKind::kPairs : NftMapKind::kGroup;
}

std::string nftPairSetName(std::string_view map) { return std::string(map) + "-if"; }

std::string nftMapDeclaration(const std::string& table, const std::string& name) {
  switch (nftMapKind(name)) {
    case NftMapKind::kInterface:
      return "add map inet " + table + " " + name + " { type ifname : verdict; }";
    case NftMapKind::kGroup:
      return "add map inet " + table + " " + name + " { type devgroup : verdict; }";
    case NftMapKind::kPairs:
      break;
  }
  return "add set inet " + table + " " + name + " { type ifname . devgroup; }";
}

std::string nftMapElement(NftMapKind kind, const std::string& key, const std::string* verdict) {
  if (kind == NftMapKind::kPairs) {  // "cali1 . 268435457": a set, no verdict
    const size_t dot = key.find(" . ");
    return "\"" + key.substr(0, dot) + "\"" + (dot == std::string::npos ? "" : key.substr(dot));
  }
  std::string out = kind == NftMapKind::kGroup ? key : "\"" + key + "\"";
  if (verdict) out.append(" : ").append(*verdict);
  return out;
}

std::string nftSetName(std::string_view ipsetName, bool interval) {
  std::string out = identifier(ipsetName);
  if (interval) out += "-net";
  return out;
}

std::string renderNftMatch(const Match& match, IpVersion version, const NftSetNamer& setName) {
  std::string out;
  MatchWriter{version, setName, nullptr}.match(out, match);
  return out;
}

std::string renderNftAction(const Action& a, TableName table, IpVersion version) {
  using K = Action::Kind;
  const char* family = version == IpVersion::kV4 ? "ip" : "ip6";
  std::string out;
  switch (a.kind) {
    case K::kNone:
      break;
    case K::kAccept:
      out = "accept";
      break;
    case K::kDrop:
      out = "drop";
      break;
    case K::kReturn:
      out = "return";
      break;
    case K::kJump:
    case K::kGoto:
      out = (a.kind == K::kJump ? "jump " : "goto ") + nftChainName(table, version, a.target);
      break;
    case K::kSetMark:
      // iptables' --set-xmark value/mask: clear the mask's bits, then set value's.
      out = "meta mark set ";
      if (a.mask == 0xffffffff) {
        appendHex(out, a.value);
        break;
      }
      out += "meta mark & ";
      appendHex(out, ~a.mask);
      if (a.value != 0) {
        out += " | ";
        appendHex(out, a.value);
      }
      break;
    case K::kLog: {
      std::string prefix = logPrefix(a.target);
      std::erase(prefix, '$');  // nft expands $name inside a log prefix
      out = "log prefix \"" + prefix + ": \" level notice";
      break;
    }
    case K::kMasquerade:
      out = "masquerade";
      break;
    case K::kDnat:
    case K::kSnat:
      out.append(a.kind == K::kDnat ? "dnat " : "snat ").append(family).append(" to ");
      out.append(a.target);
      break;
  }
  return out;
}

NftRendered renderNftRules(TableName table, IpVersion version, std::string_view mapPrefix,
                           const std::vector<Rule>& rules, const std::vector<std::string>& hashes,
                           const NftSetNamer& setName, bool baseChain) {
  NftRendered out;
  out.rules.reserve(rules.size());
  const MatchWriter writer{version, setName, &out};
  const std::string guard = !baseChain                  ? ""
                            : version == IpVersion::kV4 ? "meta nfproto ipv4 "
                                                        : "meta nfproto ipv6 ";
  std::vector<std::string> ids = hashes;  // re-chained after each map (see the header)
  for (size_t i = 0; i < rules.size(); ++i) {
    // A dispatch run: consecutive dispatchable rules of the same shape and direction, each
    // element once (a repeated name after a jump would be taken twice by the walk, once by a
    // map); in a grouped run every rule of one group goes to the same chain.
    size_t end = i;
    std::optional<DispatchEntry> first = dispatchEntry(rules[i]);
    std::map<std::string, std::string> elements, pairs;  // map key -> verdict; pair -> ""
    if (first) {
      for (; end < rules.size(); ++end) {
        auto entry = dispatchEntry(rules[end]);
        if (!entry || !entry->sameRun(*first)) break;
        std::string verdict = renderNftAction(rules[end].action, table, version);
        if (!pairs.emplace(entry->key(), "").second) break;
        if (!first->grouped) {
          elements.emplace(std::string(entry->iface), std::move(verdict));
          continue;
        }
        auto [at, added] = elements.emplace(std::string(entry->group), verdict);
        if (!added && at->second != verdict) {
          pairs.erase(entry->key());
          break;
        }
      }
    }
    if (end - i >= 2) {
      const size_t n = out.runs.size();
      std::string name = std::string(mapPrefix) + (first->grouped ? "-gmap" : "-map") +
                         (n ? std::to_string(n) : "");
      out.runs.push_back({name, i, end, first->incoming, first->grouped});
      std::string text = guard;
      if (first->grouped) {
        const std::string pairSet = nftPairSetName(name);
        text.append(interfaceKey(first->incoming)).append(" . ").append(groupKey(first->incoming));
        text.append(" @").append(pairSet).append(" ");
        text.append(groupKey(first->incoming)).append(" vmap @").append(name);
        out.maps[pairSet] = std::move(pairs);
      } else {
        text.append(interfaceKey(first->incoming)).append(" vmap @").append(name);
      }
      out.maps[name] = std::move(elements);
      std::string id = hashText(text, kHashLength);
      if (end < rules.size()) {
        auto tail = ruleHashes(id, std::vector<Rule>(rules.begin() + end, rules.end()));
        std::move(tail.begin(), tail.end(), ids.begin() + end);
      }
      text.append(" ").append(comment(id, ""));
      out.rules.push_back({std::move(text), std::move(id)});
      i = end - 1;
      continue;
    }
    const Rule& rule = rules[i];
    std::string text = guard;
    writer.match(text, rule.match);
    std::string action = renderNftAction(rule.action, table, version);
    if (!text.empty() && text.back() != ' ') text += ' ';
    if (rule.match.empty() && action.empty()) text += "counter ";
    if (!action.empty()) text.append(action).append(" ");
    text += comment(ids.at(i), rule.comment);
    out.rules.push_back({std::move(text), ids.at(i)});
  }
  return out;
}

bool replayNftMapEdits(TableName table, IpVersion version, const std::vector<Rule>& rules,
                       const std::vector<RuleEdit>& edits, std::vector<NftMapRun>& runs,
                       const std::map<std::string, std::map<std::string, std::string>>& maps,
                       std::map<std::string, NftElementChanges>& changes) {
  for (const NftMapRun& run : runs) {
    if (!maps.count(run.map) || (run.grouped && !maps.count(nftPairSetName(run.map)))) {
      return false;
    }
  }
  auto joins = [&](const Rule& rule, const NftMapRun& run) {
    auto entry = dispatchEntry(rule);
    return entry && entry->incoming == run.incoming && entry->grouped == run.grouped;
  };
  // The element `key` of `map` after the changes so far: its value, or nullopt.
  auto element = [&](const std::string& map, const std::string& key) -> std::optional<std::string> {
    auto changed = changes.find(map);
    if (changed != changes.end()) {
      auto it = changed->second.find(key);
      if (it != changed->second.end()) return it->second;
    }
    const auto& before = maps.at(map);
    auto it = before.find(key);
    return it == before.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  // Whether a pair of the grouped run's set other than `except` still names `group`.
  auto groupUsed = [&](const std::string& pairSet, const std::string& group,
                       const std::string& except) {
    const std::string suffix = " . " + group;
    auto names = [&](const std::string& pair) {
      return pair != except && pair.size() > suffix.size() &&
             pair.compare(pair.size() - suffix.size(), suffix.size(), suffix) == 0 &&
             element(pairSet, pair).has_value();
    };
    const auto& before = maps.at(pairSet);
    if (std::any_of(before.begin(), before.end(), [&](const auto& e) { return names(e.first); }))
      return true;
    auto changed = changes.find(pairSet);
    return changed != changes.end() && std::any_of(changed->second.begin(), changed->second.end(),
                                                   [&](const auto& e) { return names(e.first); });
  };
  for (const RuleEdit& edit : edits) {
    // The run the edit falls in: an insertion may also extend a run at either end.
    auto run = std::find_if(runs.begin(), runs.end(), [&](const NftMapRun& r) {
      return r.begin <= edit.index && (edit.inserted ? edit.index <= r.end : edit.index < r.end);
    });
    if (run == runs.end() || !joins(edit.rule, *run)) return false;
    const DispatchEntry entry = *dispatchEntry(edit.rule);
    const std::string key = entry.key();
    const std::string& keySet = run->grouped ? nftPairSetName(run->map) : run->map;
    const std::string mapKey = run->grouped ? std::string(entry.group) : key;
    const std::string verdict = renderNftAction(edit.rule.action, table, version);
    if (edit.inserted) {
      if (element(keySet, key)) return false;  // an element twice splits the run
      if (run->grouped) {
        auto have = element(run->map, mapKey);
        if (have && *have != verdict) return false;  // a group going elsewhere splits it too
        changes[keySet][key] = "";
      }
      changes[run->map][mapKey] = verdict;
      ++run->end;
    } else {
      if (run->end - run->begin <= 2 || !element(keySet, key)) return false;  // a map no more
      if (run->grouped) {
        changes[keySet][key] = std::nullopt;
        if (!groupUsed(keySet, mapKey, key)) changes[run->map][mapKey] = std::nullopt;
      } else {
        changes[run->map][mapKey] = std::nullopt;
      }
      --run->end;
    }
    for (auto later = run + 1; later != runs.end(); ++later) {
      later->begin = edit.inserted ? later->begin + 1 : later->begin - 1;
      later->end = edit.inserted ? later->end + 1 : later->end - 1;
    }
  }
  // The rendering walk finds each run again only where it is bounded by rules that cannot join
  // it (a run cut short by a repeated element is rendered again).
  for (const NftMapRun& run : runs) {
    if (run.end > rules.size() || run.end - run.begin < 2) return false;
    if (!joins(rules[run.begin], run) || !joins(rules[run.end - 1], run)) return false;
    if (run.begin > 0 && joins(rules[run.begin - 1], run)) return false;
    if (run.end < rules.size() && joins(rules[run.end], run)) return false;
  }
  return true;
}

}  // namespace brindle::dataplane
