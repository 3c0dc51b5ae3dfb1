// The diff-and-restore writer behind IptablesTable: read hashes from iptables-save, compare with
// the desired hashes, emit only the difference as one iptables-restore --noflush transaction.
#include "dataplane/iptables_table.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <sstream>

#include "dataplane/iptables_render.h"
#include "dataplane/iptables_writer.h"

namespace brindle::dataplane {
namespace {

// Early sections (see RestorePlan) once a restore creates this many chains, this many a section:
// measured on the agent benchmark's 2,000-chain cold start, 100 a section restores as fast as a
// flushing restore of the same rules, one section of all of them ~40% slower.
constexpr size_t kMinChainsForEarlySections = 64;
constexpr size_t kChainsPerEarlySection = 100;
// Early sections of one level are spread over this many concurrent iptables-restore runs: the
// parse (user space) of one overlaps the commit (kernel) of the other; 2 measured 30% faster
// than 1 on the benchmark's cold start on 2 cores.
constexpr size_t kLanes = 2;
constexpr size_t kMaxKeptRestoreInput = 256 * 1024;

// The `cali:<hash>` in a saved rule, or "" when the rule is not ours.
std::string extractHash(std::string_view line) {
  for (std::string_view key :
       {std::string_view("--comment \"cali:"), std::string_view("--comment cali:")}) {
    size_t at = line.find(key);
    if (at == std::string_view::npos) continue;
    size_t start = at + key.size(), end = start;
    while (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) ||
                                 line[end] == '_' || line[end] == '-')) {
      ++end;
    }
    return std::string(line.substr(start, end - start));
  }
  return "";
}

// The chain a rule jumps or goes to ("-j X" / "-g X" / "--jump X" / "--goto X"), or "".
std::string jumpTarget(std::string_view line) {
  std::istringstream in{std::string(line)};
  std::string token, previous;
  while (in >> token) {
    if (previous == "-j" || previous == "-g" || previous == "--jump" || previous == "--goto") {
      return token;
    }
    previous = token;
  }
  return "";
}

// Rule `index` of our rules in kernel chain `chain`: inserted at its position ("-I CHAIN N ...",
// so our rules keep their order at the top) or appended.
std::string hookLine(const std::string& chain, const Rule& rule, const std::string& hash,
                     size_t index, InsertMode mode) {
  if (mode == InsertMode::kAppend) return renderRuleLine(chain, rule, hash);
  std::string line = renderRuleLine(chain, rule, hash, "-I");
  line.insert(3 + chain.size(), " " + std::to_string(index + 1));
  return line;
}

}  // namespace

std::string renderFullRestore(TableName table, const std::vector<Chain>& chains,
                              const std::map<std::string, std::vector<Rule>>& insertions,
                              InsertMode mode) {
  std::string out = std::string("*") + tableNameText(table) + "\n";
  for (const Chain& chain : chains) out += ":" + chain.name + " - [0:0]\n";
  for (const Chain& chain : chains) {
    auto hashes = ruleHashes(chain);
    for (size_t i = 0; i < chain.rules.size(); ++i) {
      out += renderRuleLine(chain.name, chain.rules[i], hashes[i]) + "\n";
    }
  }
  for (const auto& [kernelChain, rules] : insertions) {
    auto hashes = ruleHashes(kernelChain, rules);
    for (size_t i = 0; i < rules.size(); ++i) {
      out += hookLine(kernelChain, rules[i], hashes[i], i, mode) + "\n";
    }
  }
  out += "COMMIT\n";
  return out;
}

IptablesTable::IptablesTable(TableName table, IpVersion version, os::CommandRunner& runner,
                             IptablesTableOptions options)
    : ChainTable(table, version), runner_(runner), options_(std::move(options)) {
  const char* prefix = version_ == IpVersion::kV6 ? "ip6tables" : "iptables";
  if (options_.saveCommand.empty()) options_.saveCommand = std::string(prefix) + "-save";
  if (options_.restoreCommand.empty()) options_.restoreCommand = std::string(prefix) + "-restore";
}

void IptablesTable::loadKernel(std::string_view text) {
  kernel_.clear();
  foreignRefs_.clear();
  const std::string wanted = std::string("*") + tableNameText(table_);
  bool inTable = false;  // the text may hold every table: read only ours
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line[0] == '*') {
      inTable = line == wanted;
      continue;
    }
    if (!inTable) continue;
    if (line.size() > 1 && line[0] == ':') {
      size_t end = line.find(' ');
      kernel_[std::string(line.substr(1, end == std::string_view::npos ? end : end - 1))];
    } else if (line.rfind("-A ", 0) == 0) {
      size_t end = line.find(' ', 3);
      std::string chain(line.substr(3, end == std::string_view::npos ? end : end - 3));
      std::string hash = extractHash(line);
      KernelChain& kc = kernel_[chain];
      kc.hashes.push_back(hash);
      if (!ours(chain)) {
        if (!hash.empty()) {
          kc.ourRuleSpecs.emplace_back(end == std::string_view::npos ? "" : line.substr(end + 1));
        } else {
          std::string target = jumpTarget(line);
          if (ours(target)) foreignRefs_.insert(target);
        }
      }
    }
  }
}

std::vector<std::vector<std::string>> IptablesTable::levels(
    const std::vector<std::string>& created) {
  std::set<std::string> pending(created.begin(), created.end());
  std::map<std::string, int> level;
  std::function<int(const std::string&, int)> levelOf = [&](const std::string& name,
                                                            int depth) -> int {
    if (auto it = level.find(name); it != level.end()) return it->second;
    int l = 0;
    if (depth < 64) {  // the kernel allows 16 levels of jumps; deeper means a cycle
      for (const Rule& rule : desired_.at(name).rules) {
        const std::string target(rule.action.chain());
        if (target != name && pending.count(target))
          l = std::max(l, 1 + levelOf(target, depth + 1));
      }
    }
    level[name] = l;
    return l;
  };
  std::vector<std::vector<std::string>> out;
  for (const auto& name : created) {
    size_t l = static_cast<size_t>(levelOf(name, 0));
    if (out.size() <= l) out.resize(l + 1);
    out[l].push_back(name);
  }
  return out;
}

// The final transaction, section by section: chains declared, flushed (dropping their own
// references), rules changed, chains deleted last (after every rule that referred to them has
// been rewritten in the same transaction).
struct IptablesTable::Final {
  std::string declare, flush, body, finish;
  size_t lines = 0;
  void add(std::string& section, const std::string& line) {
    section.append(line).append("\n");
    ++lines;
  }
  std::string text(TableName table) const {
    if (declare.empty() && flush.empty() && body.empty() && finish.empty()) return "";
    return std::string("*") + tableNameText(table) + "\n" + declare + flush + body + finish +
           "COMMIT\n";
  }
};

std::string IptablesTable::section(const std::vector<std::string>& chains, size_t& lines) const {
  Final f;
  for (const auto& name : chains) createChain(name, f);
  lines += f.lines;
  return f.text(table_);
}

std::vector<std::string> IptablesTable::planWaves(const std::vector<std::string>& created,
                                                  RestorePlan& plan) {
  // Sections of up to kChainsPerEarlySection chains, never mixing levels. A level of several
  // sections is a wave of kLanes lanes; consecutive single-section levels share one lane (in
  // level order). The last section (the chains nearest the hooks) joins the final transaction.
  std::vector<std::vector<std::vector<std::string>>> sectionsByLevel;
  for (auto& chains : levels(created)) {
    auto& sections = sectionsByLevel.emplace_back();
    for (size_t at = 0; at < chains.size(); at += kChainsPerEarlySection) {
      size_t end = std::min(chains.size(), at + kChainsPerEarlySection);
      sections.emplace_back(chains.begin() + static_cast<long>(at),
                            chains.begin() + static_cast<long>(end));
    }
  }
  std::vector<std::string> forFinal;
  if (!sectionsByLevel.empty()) {
    forFinal = std::move(sectionsByLevel.back().back());
    sectionsByLevel.back().pop_back();
  }
  bool sharedLane = false;  // the last wave is a lane of single-section levels
  for (const auto& sections : sectionsByLevel) {
    if (sections.empty()) continue;
    if (sections.size() == 1) {
      if (!sharedLane) plan.waves.push_back({std::string()});
      plan.waves.back().front() += section(sections.front(), plan.lines);
      sharedLane = true;
      continue;
    }
    auto& lanes = plan.waves.emplace_back(std::min(kLanes, sections.size()));
    for (size_t i = 0; i < sections.size(); ++i) {
      lanes[i % lanes.size()] += section(sections[i], plan.lines);
    }
    sharedLane = false;
  }
  return forFinal;
}

std::set<std::string> IptablesTable::chainsToCompare(bool full) const {
  // All of ours after a read (stale ones included), else only those changed since last apply.
  if (!full) return dirtyChains_;
  std::set<std::string> names;
  for (const auto& [name, chain] : desired_) names.insert(name);
  for (const auto& [name, kc] : kernel_) {
    if (ours(name)) names.insert(name);
  }
  return names;
}

std::set<std::string> IptablesTable::hooksToCompare(bool full) const {
  if (!full) return dirtyInsertions_;
  std::set<std::string> hooks;
  for (const auto& [chain, rules] : insertions_) hooks.insert(chain);
  for (const auto& [chain, kc] : kernel_) {
    if (!ours(chain) && !kc.ourRuleSpecs.empty()) hooks.insert(chain);
  }
  return hooks;
}

void IptablesTable::diffChain(const std::string& name, Final& out,
                              std::vector<std::string>& created, std::set<std::string>& deleted) {
  auto want = desired_.find(name);
  auto have = kernel_.find(name);
  if (want == desired_.end()) {
    if (have == kernel_.end()) return;
    if (foreignRefs_.count(name)) {
      ++stats_.chainsKeptForForeignRefs;
      return;
    }
    out.add(out.flush, "-F " + name);
    out.add(out.finish, "-X " + name);
    deleted.insert(name);
    return;
  }
  if (have == kernel_.end()) {
    created.push_back(name);
    return;
  }
  // Rules whose hash differs are replaced in place, extra ones appended, missing ones deleted.
  const auto& hashes = *desiredHashes(name);
  const auto& rules = want->second.rules;
  const auto& old = have->second.hashes;
  if (old == hashes) return;
  size_t common = std::min(old.size(), hashes.size());
  for (size_t i = 0; i < common; ++i) {
    if (old[i] == hashes[i]) continue;
    std::string line = renderRuleLine(name, rules[i], hashes[i], "-R");
    line.insert(3 + name.size(), " " + std::to_string(i + 1));
    out.add(out.body, line);
  }
  for (size_t i = common; i < hashes.size(); ++i) {
    out.add(out.body, renderRuleLine(name, rules[i], hashes[i]));
  }
  for (size_t i = old.size(); i > hashes.size(); --i) {
    out.add(out.body, "-D " + name + " " + std::to_string(i));
  }
}

const std::vector<Rule>& IptablesTable::desiredInsertions(const std::string& chain) const {
  static const std::vector<Rule> kNone;
  auto it = insertions_.find(chain);
  return it == insertions_.end() ? kNone : it->second;
}

bool IptablesTable::insertionsPlaced(const std::string& chain,
                                     const std::vector<std::string>& hashes) const {
  auto have = kernel_.find(chain);
  if (have == kernel_.end()) return hashes.empty();
  const auto& all = have->second.hashes;
  size_t ours = std::count_if(all.begin(), all.end(), [](const auto& h) { return !h.empty(); });
  if (ours != hashes.size()) return false;
  if (options_.insertMode == InsertMode::kInsert) {
    return std::equal(hashes.begin(), hashes.end(), all.begin());
  }
  return std::equal(hashes.begin(), hashes.end(), all.end() - static_cast<long>(hashes.size()));
}

void IptablesTable::diffInsertions(const std::string& chain, Final& out) {
  // Our rules must be exactly the desired ones, at the top (insert) or the bottom (append) of
  // the kernel chain; otherwise ours are deleted by specification and added again.
  const auto& rules = desiredInsertions(chain);
  auto hashes = ruleHashes(chain, rules);
  if (insertionsPlaced(chain, hashes)) return;
  if (auto have = kernel_.find(chain); have != kernel_.end()) {
    for (const auto& spec : have->second.ourRuleSpecs)
      out.add(out.body, "-D " + chain + " " + spec);
  }
  for (size_t i = 0; i < rules.size(); ++i) {
    out.add(out.body, hookLine(chain, rules[i], hashes[i], i, options_.insertMode));
  }
}

void IptablesTable::createChain(const std::string& name, Final& out) const {
  out.add(out.declare, ":" + name + " - [0:0]");
  const auto& rules = desired_.at(name).rules;
  const auto& hashes = *desiredHashes(name);
  for (size_t i = 0; i < rules.size(); ++i) {
    out.add(out.body, renderRuleLine(name, rules[i], hashes[i]));
  }
}

RestorePlan IptablesTable::buildRestore(bool full, std::set<std::string>& deleted) {
  RestorePlan plan;
  Final final;
  std::vector<std::string> created;  // chains the kernel does not have
  for (const auto& name : chainsToCompare(full)) diffChain(name, final, created, deleted);
  for (const auto& chain : hooksToCompare(full)) diffInsertions(chain, final);
  if (created.size() >= kMinChainsForEarlySections) created = planWaves(created, plan);
  for (const auto& name : created) createChain(name, final);
  plan.lines += final.lines;
  plan.final = final.text(table_);
  return plan;
}

void IptablesTable::recordWritten(bool full, const std::set<std::string>& deleted) {
  // After a successful restore the kernel holds exactly what we asked for (in our chains and
  // insertions): update our record instead of paying for another iptables-save.
  for (const auto& name : deleted) kernel_.erase(name);
  for (const auto& name : full ? chainsToCompare(true) : dirtyChains_) {
    if (const auto* want = desiredHashes(name)) kernel_[name].hashes = *want;
  }
  for (const auto& chain : hooksToCompare(full)) {
    const auto& rules = desiredInsertions(chain);
    auto hashes = ruleHashes(chain, rules);
    KernelChain& kc = kernel_[chain];
    std::vector<std::string> foreign(std::count(kc.hashes.begin(), kc.hashes.end(), ""), "");
    kc.hashes.clear();
    kc.ourRuleSpecs.clear();
    if (options_.insertMode == InsertMode::kAppend) kc.hashes = foreign;
    for (size_t i = 0; i < rules.size(); ++i) {
      kc.hashes.push_back(hashes[i]);
      kc.ourRuleSpecs.push_back(
          renderRuleLine(chain, rules[i], hashes[i]).substr(4 + chain.size()));
    }
    if (options_.insertMode == InsertMode::kInsert) {
      kc.hashes.insert(kc.hashes.end(), foreign.begin(), foreign.end());
    }
  }
}

RestorePlan IptablesTable::plan() {
  planFull_ = needRead_;
  planDeleted_.clear();
  if (!planFull_ && dirtyChains_.empty() && dirtyInsertions_.empty()) return {};
  RestorePlan plan = buildRestore(planFull_, planDeleted_);
  planLines_ = plan.lines;
  // Kept for tests and error reports, but not a second copy of a cold start's megabytes.
  lastRestoreInput_.clear();
  size_t size = plan.final.size();
  for (const auto& wave : plan.waves) {
    for (const auto& lane : wave) size += lane.size();
  }
  if (size <= kMaxKeptRestoreInput) {
    for (const auto& wave : plan.waves) {
      for (const auto& lane : wave) lastRestoreInput_ += lane;
    }
    lastRestoreInput_ += plan.final;
  } else {
    lastRestoreInput_ = "(" + std::to_string(size) + " bytes, not kept)\n";
  }
  return plan;
}

void IptablesTable::planApplied() {
  stats_.linesWritten += planLines_;
  planLines_ = 0;
  recordWritten(planFull_, planDeleted_);
  needRead_ = false;
  clearChanged();
  planDeleted_.clear();
}

void IptablesTable::planFailed() {
  // Stay dirty and forget our record: someone else may have changed the kernel under us, and
  // early sections may have committed before the failing one.
  needRead_ = true;
  planDeleted_.clear();
  planLines_ = 0;
}

Status IptablesTable::apply() {
  // A writer of this table alone: the same save, plan and restore as the agent's.
  IptablesWriter writer({this});
  Status s = writer.apply();
  stats_.saves += writer.stats().saves;
  stats_.restores += writer.stats().restores;
  stats_.restoreErrors += writer.stats().restoreErrors;
  return s;
}

}  // namespace brindle::dataplane
