// Walking a packet through saved iptables and ipset state; see live_path.h.
#include "explain/live_path.h"

#include <netdb.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "os/process.h"
#include "rules/config.h"
#include "rules/names.h"
#include "rules/static_chains.h"

namespace brindle::explain {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> splitArgs(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i >= line.size()) break;
    std::string word;
    if (line[i] == '"') {
      for (++i; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) ++i;
        word += line[i];
      }
      ++i;
    } else {
      while (i < line.size() && line[i] != ' ') word += line[i++];
    }
    out.push_back(std::move(word));
  }
  return out;
}

Status parseIpSets(std::string_view text, KernelState& state) {
  std::istringstream in{std::string(text)};
  std::string line, listing;  // listing: the set whose "Members:" we are in (ipset list)
  int n = 0;
  bool members = false;
  while (std::getline(in, line)) {
    ++n;
    auto words = splitArgs(line);
    if (words.empty()) {
      members = false;
      continue;
    }
    auto addMember = [&](const std::string& set, const std::string& member) -> Status {
      auto cidr = Cidr::parse(member);
      if (!cidr) {
        return makeError(ErrorCode::kInvalid, "ipset line " + std::to_string(n) + ": \"" + member +
                                                  "\" is not an address or network");
      }
      state.ipSets[set].push_back(*cidr);
      return Status::ok();
    };
    if (words[0] == "create" && words.size() >= 2) {
      state.ipSets[words[1]];
    } else if (words[0] == "add" && words.size() >= 3) {
      if (Status s = addMember(words[1], words[2]); !s) return s;
    } else if (words[0] == "Name:" && words.size() >= 2) {
      listing = words[1];
      state.ipSets[listing];
      members = false;
    } else if (words[0] == "Members:") {
      members = true;
    } else if (members && !listing.empty()) {
      if (Status s = addMember(listing, words[0]); !s) return s;
    }
  }
  return Status::ok();
}

std::optional<int> protocolNumber(const std::string& name) {
  int v = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), v);
  if (ec == std::errc() && p == name.data() + name.size()) return v;
  if (name == "icmpv6" || name == "ipv6-icmp") return 58;
  if (const protoent* e = getprotobyname(name.c_str())) return e->p_proto;
  return std::nullopt;
}

std::optional<uint32_t> hex(const std::string& text) {
  uint32_t v = 0;
  std::string_view t = text;
  if (t.starts_with("0x")) t.remove_prefix(2);
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v, 16);
  if (ec != std::errc() || p != t.data() + t.size()) return std::nullopt;
  return v;
}

// "value/mask" (iptables-save prints both in hex; a bare value has mask 0xffffffff).
std::optional<std::pair<uint32_t, uint32_t>> markPair(const std::string& text) {
  const size_t slash = text.find('/');
  auto v = hex(text.substr(0, slash));
  auto m = slash == std::string::npos ? std::optional<uint32_t>(0xffffffff)
                                      : hex(text.substr(slash + 1));
  if (!v || !m) return std::nullopt;
  return std::make_pair(*v, *m);
}

bool interfaceMatches(const std::string& pattern, const std::string& name) {
  if (!pattern.empty() && pattern.back() == '+') {
    return name.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0;
  }
  return pattern == name;
}

bool portListHas(const std::string& list, std::optional<uint16_t> port) {
  if (!port) return false;
  std::istringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    const size_t colon = item.find(':');
    const int first = std::atoi(item.substr(0, colon).c_str());
    const int last = colon == std::string::npos ? first : std::atoi(item.substr(colon + 1).c_str());
    if (*port >= first && *port <= last) return true;
  }
  return false;
}

enum class Flow { kReturn, kAccept, kDrop, kCannot };

struct Walker {
  const KernelState& state;
  const LivePacket& p;
  LiveWalk& walk;
  uint32_t mark = 0;
  rules::RendererConfig config;
  std::string side;  // "egress"/"ingress" while inside cali-fw-*/cali-tw-*
  LiveDecision pendingAccept;
  std::string table = "filter";

  // Whether rule `r` matches; "" on success else the failing criterion, "?..." if unknown.
  std::string evaluate(const KernelRule& r, std::string& lookups, size_t& actionAt) {
    const auto& a = r.args;
    size_t i = 0;
    auto fail = [](std::string why) { return why; };
    while (i < a.size()) {
      bool neg = false;
      if (a[i] == "!") {
        neg = true;
        ++i;
        if (i >= a.size()) return "?dangling !";
      }
      const std::string& opt = a[i];
      auto arg = [&](size_t k) -> const std::string& {
        static const std::string kEmpty;
        return i + k < a.size() ? a[i + k] : kEmpty;
      };
      if (opt == "-j" || opt == "-g") {
        actionAt = i;
        return "";
      }
      if (opt == "-m") {
        const std::string& mod = arg(1);
        if (mod != "comment" && mod != "set" && mod != "multiport" && mod != "icmp" &&
            mod != "icmp6" && mod != "mark" && mod != "conntrack" && mod != "tcp" && mod != "udp" &&
            mod != "sctp" && mod != "addrtype" && mod != "rpfilter") {
          return "?match module " + mod;
        }
        i += 2;
        continue;
      }
      bool ok = false;
      std::string what;
      size_t used = 2;
      if (opt == "--comment") {
        i += 2;
        continue;
      } else if (opt == "-p") {
        auto n = protocolNumber(arg(1));
        if (!n) return "?protocol " + arg(1);
        ok = *n == p.packet.protocol;
        what = "-p " + arg(1);
      } else if (opt == "-s" || opt == "-d") {
        auto c = Cidr::parse(arg(1));
        if (!c) return "?address " + arg(1);
        const IpAddr& ip = opt == "-s" ? p.source : p.destination;
        ok = c->isV4() == ip.isV4() && c->contains(ip);
        what = opt + " " + arg(1);
      } else if (opt == "-i" || opt == "-o") {
        ok = interfaceMatches(arg(1), opt == "-i" ? p.inInterface : p.outInterface);
        what = opt + " " + arg(1);
      } else if (opt == "--match-set") {
        const std::string& set = arg(1);
        const std::string& dir = arg(2);
        used = 3;
        if (dir != "src" && dir != "dst") return "?match-set direction " + dir;
        auto it = state.ipSets.find(set);
        if (it == state.ipSets.end()) return "?ipset " + set + " is not in the ipset dump";
        const IpAddr& ip = dir == "src" ? p.source : p.destination;
        const Cidr* hit = nullptr;
        for (const auto& c : it->second) {
          if (c.isV4() == ip.isV4() && c.contains(ip)) hit = &c;
        }
        ok = hit != nullptr;
        lookups += (lookups.empty() ? "" : "; ") + std::string("ipset ") + set + " " + dir + " " +
                   ip.toString() + (hit ? ": member " + hit->toString() : ": not a member");
        what = "--match-set " + set + " " + dir;
      } else if (opt == "--dports" || opt == "--sports" || opt == "--dport" || opt == "--sport") {
        const bool dst = opt == "--dports" || opt == "--dport";
        ok = portListHas(arg(1), dst ? p.packet.destPort : p.packet.sourcePort);
        what = opt + " " + arg(1);
      } else if (opt == "--icmp-type" || opt == "--icmpv6-type") {
        const std::string& tc = arg(1);
        const size_t slash = tc.find('/');
        const int type = std::atoi(tc.substr(0, slash).c_str());
        ok = isIcmp(p.packet.protocol) && p.packet.icmpType == type &&
             (slash == std::string::npos || p.packet.icmpCode == std::atoi(tc.c_str() + slash + 1));
        what = opt + " " + tc;
      } else if (opt == "--mark") {
        auto m = markPair(arg(1));
        if (!m) return "?mark " + arg(1);
        ok = (mark & m->second) == m->first;
        what = "--mark " + arg(1);
      } else if (opt == "--ctstate") {
        // A new connection's first packet: only NEW (the walk explains connection setup).
        ok = ("," + arg(1) + ",").find(",NEW,") != std::string::npos;
        what = "--ctstate " + arg(1) + " (packet is NEW)";
      } else if (opt == "--dst-type" || opt == "--src-type") {
        // Forwarded traffic: neither end is an address of this host.
        ok = false;
        what = opt + " " + arg(1) + " (forwarded: not local)";
      } else if (opt == "--invert") {
        ok = false;  // rpfilter --invert: the workload's own source routes back
        what = "rpfilter --invert (the source is the workload's own: it routes back)";
        used = 1;
      } else {
        return "?option " + opt;
      }
      if (neg) ok = !ok;
      if (!ok) return fail((neg ? "! " : "") + what + " does not match");
      i += used;
    }
    actionAt = a.size();
    return "";
  }

  Flow chain(const std::string& name, int depth) {
    auto& chains = state.tables.at(table);
    auto it = chains.find(name);
    if (it == chains.end()) {
      walk.reason = "chain " + name + " is missing from the " + table + " table";
      return Flow::kCannot;
    }
    const bool endpointChain = name.rfind("cali-fw-", 0) == 0 || name.rfind("cali-tw-", 0) == 0;
    if (endpointChain) side = name.rfind("cali-fw-", 0) == 0 ? "egress" : "ingress";
    for (const auto& r : it->second) {
      LiveStep step{
          table == "filter" ? name : table + " " + name, r.index, r.hash, r.line, false, "", depth};
      size_t actionAt = 0;
      std::string lookups;
      std::string failure = evaluate(r, lookups, actionAt);
      if (!failure.empty() && failure[0] == '?') {
        step.note = "cannot evaluate: " + failure.substr(1);
        walk.steps.push_back(step);
        walk.reason = "cannot evaluate " + name + " rule " + std::to_string(r.index) +
                      (r.hash.empty() ? "" : " (cali:" + r.hash + ")") + ": " + failure.substr(1);
        return Flow::kCannot;
      }
      step.matched = failure.empty();
      step.note = lookups.empty() ? failure : lookups + (failure.empty() ? "" : "; " + failure);
      if (step.matched && actionAt < r.args.size()) {
        std::string target;
        for (size_t k = actionAt; k < r.args.size(); ++k) target += " " + r.args[k];
        step.note += (step.note.empty() ? "" : "; ") + std::string("then") + target;
      }
      if (r.hash.empty()) step.note += (step.note.empty() ? "" : "; ") + std::string("not ours");
      walk.steps.push_back(step);
      if (!step.matched) continue;
      const auto& a = r.args;
      if (actionAt >= a.size()) continue;  // no target: counts only
      const std::string& verb = a[actionAt];
      const std::string target = actionAt + 1 < a.size() ? a[actionAt + 1] : "";
      if (verb == "-g" || (verb == "-j" && target.rfind("cali-", 0) == 0)) {
        Flow f = chain(target, depth + 1);
        if (f != Flow::kReturn) return f;
        if (verb == "-g") return Flow::kReturn;
        continue;
      }
      if (target == "ACCEPT") {
        if (!side.empty()) decide(name, r, true);
        return Flow::kAccept;
      }
      if (target == "DROP") {
        decide(name, r, false);
        return Flow::kDrop;
      }
      if (target == "RETURN") {
        if (endpointChain && (mark & config.markAccept)) {
          // The endpoint chain returns after a policy or profile accepted: that one decided.
          sideDecision() = pendingAccept;
          side.clear();
        }
        return Flow::kReturn;
      }
      if (target == "MARK") {
        const std::string& how = actionAt + 2 < a.size() ? a[actionAt + 2] : "";
        auto m = markPair(actionAt + 3 < a.size() ? a[actionAt + 3] : "");
        if (!m || (how != "--set-xmark" && how != "--set-mark")) {
          walk.reason =
              "cannot evaluate " + name + " rule " + std::to_string(r.index) + ": MARK " + how;
          return Flow::kCannot;
        }
        mark =
            how == "--set-xmark" ? (mark & ~m->second) ^ m->first : (mark & ~m->second) | m->first;
        if ((m->first & config.markAccept) && !side.empty() && !endpointChain) {
          pendingAccept = LiveDecision{true, true, name, r.index, r.hash, r.line};
        }
        continue;
      }
      if (target == "LOG") continue;
      walk.reason =
          "cannot evaluate " + name + " rule " + std::to_string(r.index) + ": target " + target;
      return Flow::kCannot;
    }
    return Flow::kReturn;
  }

  LiveDecision& sideDecision() { return side == "egress" ? walk.egress : walk.ingress; }

  void decide(const std::string& chain, const KernelRule& r, bool allowed) {
    if (side.empty()) return;
    sideDecision() = LiveDecision{true, allowed, chain, r.index, r.hash, r.line};
  }
};

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Result<KernelState> KernelState::parse(std::string_view iptablesSave, std::string_view ipsets) {
  KernelState state;
  std::istringstream in{std::string(iptablesSave)};
  std::string line, table;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#' || line == "COMMIT") continue;
    auto bad = [&](const std::string& why) {
      return makeError(ErrorCode::kInvalid,
                       "iptables-save line " + std::to_string(n) + ": " + why + ": " + line);
    };
    if (line[0] == '*') {
      table = line.substr(1);
      state.tables[table];
      continue;
    }
    if (table.empty()) return bad("before any *table");
    if (line[0] == ':') {
      auto words = splitArgs(line.substr(1));
      if (words.empty()) return bad("chain without a name");
      state.tables[table][words[0]];
      if (table == "filter" && words.size() > 1) state.policies[words[0]] = words[1];
      continue;
    }
    auto words = splitArgs(line);
    if (words.size() < 2 || (words[0] != "-A" && words[0] != "-I")) {
      return bad("not -A <chain> ... or -I <chain> [N] ...");
    }
    auto& rules = state.tables[table][words[1]];
    auto position = rules.end();
    size_t first = 2;
    if (words[0] == "-I") {  // an iptables-restore input (our renderer's) inserts the hooks
      position = rules.begin();
      if (words.size() > 2 && !words[2].empty() && std::isdigit(words[2][0])) {
        const size_t at = std::min<size_t>(std::stoul(words[2]) - 1, rules.size());
        position = rules.begin() + static_cast<long>(at);
        first = 3;
      }
    }
    KernelRule r;
    r.args.assign(words.begin() + static_cast<long>(first), words.end());
    r.line = line;
    for (size_t i = 0; i + 1 < r.args.size(); ++i) {
      if (r.args[i] == "--comment" && r.args[i + 1].rfind("cali:", 0) == 0) {
        r.hash = r.args[i + 1].substr(5);
        break;
      }
    }
    rules.insert(position, std::move(r));
  }
  for (auto& [name, chains] : state.tables) {
    for (auto& [chain, rules] : chains) {
      for (size_t i = 0; i < rules.size(); ++i) rules[i].index = static_cast<int>(i) + 1;
    }
  }
  if (!state.tables.count("filter")) {
    return makeError(ErrorCode::kInvalid, "iptables-save text has no *filter table");
  }
  if (Status s = parseIpSets(ipsets, state); !s) return s.error();
  return state;
}

namespace {

// A node on the nftables dataplane has no cali- iptables chains to walk: say so rather than
// report every probe as a mismatch.
Status notOnNftables(std::string_view iptablesSave, bool nftTable, const std::string& where) {
  if (!nftTable || iptablesSave.find(":cali-") != std::string_view::npos) return Status::ok();
  return makeError(ErrorCode::kUnavailable,
                   where +
                       " runs the nftables dataplane (table inet calico); --live walks "
                       "iptables and ipsets only (docs/nftables.md)");
}

}  // namespace

Result<KernelState> KernelState::fromDump(const std::string& dir, const std::string& node,
                                          bool v6) {
  fs::path base = fs::path(dir) / node;
  if (node.empty() || !fs::is_directory(base)) base = dir;
  const fs::path rules = base / (v6 ? "ip6tables-save.txt" : "iptables-save.txt");
  if (!fs::exists(rules)) {
    return makeError(ErrorCode::kNotFound, rules.string() + ": no such file (node " + node + ")");
  }
  const std::string saved = readFile(rules);
  const fs::path nft = base / "nft-table.txt";
  if (Status s = notOnNftables(saved, fs::exists(nft) && fs::file_size(nft) > 0, base.string());
      !s) {
    return s.error();
  }
  fs::path sets = base / "ipset.txt";
  if (!fs::exists(sets)) sets = base / "ipset-list.txt";
  auto state = parse(saved, fs::exists(sets) ? readFile(sets) : "");
  if (!state) return makeError(ErrorCode::kInvalid, rules.string() + ": " + state.message());
  return state;
}

Result<KernelState> KernelState::fromNetns(const std::string& netns, bool v6) {
  os::ProcessRunner runner(netns);
  auto rules = runner.run(os::Command({v6 ? "ip6tables-save" : "iptables-save"}));
  if (!rules) return rules.error();
  if (rules->exitCode != 0) {
    return makeError(ErrorCode::kUnavailable, "iptables-save in " + netns + ": " + rules->err);
  }
  auto nft = runner.run(os::Command({"nft", "list", "table", "inet", "calico"}));
  if (Status s = notOnNftables(rules->out, nft && nft->exitCode == 0, "namespace " + netns); !s) {
    return s.error();
  }
  auto sets = runner.run(os::Command({"ipset", "save"}));
  if (!sets) return sets.error();
  return parse(rules->out, sets->exitCode == 0 ? sets->out : "");
}

LiveWalk walkKernel(const KernelState& state, const LivePacket& packet) {
  LiveWalk walk;
  Walker w{state, packet, walk, 0, {}, {}, {}, "raw"};
  // Before filter FORWARD the packet meets our raw and mangle PREROUTING chains (anti-spoofing,
  // the endpoint mark, pre-DNAT host endpoint policy); their ACCEPT only ends that table.
  bool rawWalked = false;
  for (const char* table : {"raw", "mangle"}) {
    auto t = state.tables.find(table);
    if (t == state.tables.end() || !t->second.count(rules::kChainPrerouting)) continue;
    w.table = table;
    rawWalked = rawWalked || w.table == "raw";
    const Flow f = w.chain(rules::kChainPrerouting, 0);
    if (f == Flow::kDrop || f == Flow::kCannot) {
      walk.verdict =
          f == Flow::kDrop ? LiveWalk::Verdict::kDrop : LiveWalk::Verdict::kCannotEvaluate;
      if (f == Flow::kDrop) walk.reason = std::string("dropped in the ") + table + " table";
      return walk;
    }
  }
  w.table = "filter";
  if (!rawWalked) {
    // No raw table in the dump: its cali-PREROUTING would mark what comes from a workload.
    for (const auto& wildcard : rules::workloadInterfaceWildcards(w.config)) {
      if (interfaceMatches(wildcard, packet.inInterface)) w.mark = w.config.markEndpoint;
    }
  }
  switch (w.chain(rules::kChainForward, 0)) {
    case Flow::kAccept:
      walk.verdict = LiveWalk::Verdict::kAccept;
      break;
    case Flow::kDrop:
      walk.verdict = LiveWalk::Verdict::kDrop;
      break;
    case Flow::kCannot:
      walk.verdict = LiveWalk::Verdict::kCannotEvaluate;
      break;
    case Flow::kReturn: {
      auto policy = state.policies.find("FORWARD");
      const bool accept = policy == state.policies.end() || policy->second == "ACCEPT";
      walk.verdict = accept ? LiveWalk::Verdict::kAccept : LiveWalk::Verdict::kDrop;
      walk.reason = "cali-FORWARD returned: FORWARD's policy " +
                    (policy == state.policies.end() ? std::string("ACCEPT") : policy->second);
      break;
    }
  }
  return walk;
}

namespace {

std::string liveText(const LiveDecision& d) {
  if (!d.found) return "no deciding rule";
  return std::string(d.allowed ? "allow" : "drop") + " at " + d.chain + " rule " +
         std::to_string(d.index) + (d.hash.empty() ? "" : " (cali:" + d.hash + ")");
}

// "" when the kernel decided the side as the model did.
std::string compareSide(const char* name, const Side& side, const LiveDecision& live) {
  if (!side.evaluated) return "";
  const Decision& d = side.decision;
  std::string modelText = d.text() + " [" + d.chain +
                          (d.kernelCount ? " rule " + std::to_string(d.kernelFirst) : "") + "]";
  bool same = live.found && live.allowed == d.allowed && live.chain == d.chain;
  if (same && d.kernelCount) {
    same = live.index >= d.kernelFirst && live.index < d.kernelFirst + d.kernelCount;
  }
  if (same) return "";
  return std::string(name) + ": model says " + (d.allowed ? "allowed" : "denied") + " by " +
         modelText + "; kernel says " + liveText(live);
}

}  // namespace

Result<LivePath> explainLive(const ModelPath& model, const StateSource& stateOf) {
  LivePath out;
  if (model.hostLocal) {
    out.notes.push_back("to or from the node itself (INPUT/OUTPUT): not walked, the model only");
    out.allowed = model.allowed;
    return out;
  }
  if (!model.source || !model.destination) {
    return makeError(ErrorCode::kInvalid, "--live needs an address for both ends");
  }
  const bool v6 = !model.source->isV4();
  const Side& from = model.egress;
  const Side& to = model.ingress;
  // The interface a packet leaves or enters a node by when it is not a workload's.
  const std::string kUplink = "eth0";
  struct Hop {
    std::string node, in, out;
  };
  std::vector<Hop> hops;
  if (from.evaluated && to.evaluated && from.node == to.node) {
    hops.push_back({from.node, from.interfaceName, to.interfaceName});
  } else {
    if (from.evaluated) hops.push_back({from.node, from.interfaceName, kUplink});
    if (to.evaluated) hops.push_back({to.node, kUplink, to.interfaceName});
  }
  if (hops.empty()) {
    out.notes.push_back("no forwarded hop through a node's workload chains: nothing to walk");
    out.allowed = model.allowed;
    return out;
  }
  LiveDecision egress, ingress;
  for (const auto& hop : hops) {
    auto state = stateOf(hop.node, v6);
    if (!state) return state.error();
    LiveWalk walk =
        walkKernel(*state, {*model.source, *model.destination, model.packet, hop.in, hop.out});
    walk.node = hop.node;
    if (walk.egress.found) egress = walk.egress;
    if (walk.ingress.found) ingress = walk.ingress;
    if (walk.verdict == LiveWalk::Verdict::kCannotEvaluate) out.cannotEvaluate = true;
    if (walk.verdict != LiveWalk::Verdict::kAccept) out.allowed = false;
    out.walks.push_back(std::move(walk));
    if (!out.allowed) break;  // the packet stops here
  }
  if (out.cannotEvaluate) return out;
  if (out.allowed != model.allowed) {
    out.mismatches.push_back(std::string("verdict: model says ") +
                             (model.allowed ? "allowed" : "denied") + ", kernel says " +
                             (out.allowed ? "allowed" : "denied"));
  }
  if (auto m = compareSide("egress", from, egress); !m.empty()) out.mismatches.push_back(m);
  // The kernel never reaches the ingress side once egress drops.
  if (from.decision.allowed || !from.evaluated) {
    if (auto m = compareSide("ingress", to, ingress); !m.empty()) out.mismatches.push_back(m);
  }
  return out;
}

}  // namespace brindle::explain
