// The nftables backend's writer: the difference between the desired chains and sets and its
// record of the kernel, as one nft transaction per apply; see nftables_writer.h.
#include "dataplane/nftables_writer.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/ip.h"
#include "dataplane/iptables_render.h"

namespace brindle::dataplane {
namespace {

using json = nlohmann::json;

// The renderer's output format: bumped when renderNftRules writes other text for the same rules,
// so that the first apply after an upgrade rewrites every chain (their ids alone would not show
// it). The table's comment tells people; an empty marker set named after it tells us, since
// nft 1.0.6 lists no table comment in JSON (and `add table` never changes an existing comment).
constexpr const char* kFormat = "brindle nftables v2";
constexpr const char* kFormatSet = "brindle-nftables-v2";
constexpr size_t kElementsPerLine = 1000;
// An apply creating at least kStepChains chains (a cold start) is written in steps: nft's
// userspace representation of one whole-table transaction peaked at 180 MB at the agent
// benchmark's shape (670 MB at 4x). Early transactions hold only what nothing reaches yet (new
// sets and chains, at most ~kStepElements elements each; then the new chains' rules); the last
// one makes them reachable and changes what exists. The rules go in about kRuleSteps
// transactions of kMinStepBytes..kMaxStepBytes of text, two at a time (runIndependent). Steps
// are not free: each fetches nft's cache of the table's chains and sets again (~2 ms at 1x,
// growing with the table), hence the floor; the cap bounds what one nft context holds.
constexpr size_t kStepChains = 64;
constexpr size_t kStepElements = 50000;
constexpr size_t kRuleSteps = 16;
constexpr size_t kMinStepBytes = 256 * 1024;
constexpr size_t kMaxStepBytes = 1024 * 1024;
constexpr size_t kMaxKeptTransaction = 256 * 1024;

// The id in a rule's "cali:<id>..." comment, or "" when the rule is not ours.
std::string idOf(std::string_view comment) {
  if (!comment.starts_with("cali:")) return "";
  size_t end = 5;
  while (end < comment.size() && (std::isalnum(static_cast<unsigned char>(comment[end])) ||
                                  comment[end] == '_' || comment[end] == '-')) {
    ++end;
  }
  return std::string(comment.substr(5, end - 5));
}

// The named sets ("@name") anywhere in a rule's expressions.
void collectSetRefs(const json& j, std::vector<std::string>& out) {
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s.size() > 1 && s[0] == '@') out.push_back(s.substr(1));
  } else if (j.is_structured()) {
    for (const auto& item : j) collectSetRefs(item, out);
  }
}

std::string scalarText(const json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

// A listed element as nft -f writes it: "10.0.0.1", "10.0.0.0/8", "8000-8080".
std::string elementText(const json& e) {
  if (!e.is_object()) return scalarText(e);
  if (e.contains("elem")) return elementText(e["elem"].value("val", json()));
  if (e.contains("concat") && e["concat"].is_array()) {  // a pair: "cali1 . 268435457"
    std::string out;
    for (const auto& part : e["concat"])
      out.append(out.empty() ? "" : " . ").append(elementText(part));
    return out;
  }
  if (e.contains("prefix")) {
    const auto& p = e["prefix"];
    return scalarText(p.value("addr", json())) + "/" + scalarText(p.value("len", json()));
  }
  if (e.contains("range") && e["range"].size() == 2) {
    return scalarText(e["range"][0]) + "-" + scalarText(e["range"][1]);
  }
  return e.dump();
}

std::string cidrText(const Cidr& c) {
  return c.prefixLength() == c.address().bits() ? c.address().toString() : c.toString();
}

// An interval set's elements: the members not inside another member (nft refuses overlapping
// intervals, and a member inside another adds nothing).
std::vector<std::string> outermost(const std::set<std::string>& members) {
  std::vector<Cidr> cidrs;
  for (const auto& m : members) {
    if (auto c = Cidr::parse(m, true)) cidrs.push_back(*c);
  }
  std::sort(cidrs.begin(), cidrs.end());  // by address, then the wider first
  std::vector<std::string> out;
  const Cidr* cover = nullptr;
  for (const Cidr& c : cidrs) {
    if (cover && cover->contains(c)) continue;
    out.push_back(cidrText(c));
    cover = &c;
  }
  return out;
}

// `a` minus `b`, both sorted.
std::vector<std::string> minus(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// The elements of a port set's rendered text ("80, 8000-8080").
std::set<std::string> portElements(const std::string& text) {
  std::set<std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t comma = text.find(',', at);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(at, comma - at);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.insert(item);
    at = comma + 1;
  }
  return out;
}

std::string addressType(IpVersion v) { return v == IpVersion::kV6 ? "ipv6_addr" : "ipv4_addr"; }

// A listed verdict as the renderer writes it: {"goto": {"target": "x"}} -> "goto x".
std::string verdictText(const json& v) {
  if (!v.is_object() || v.size() != 1) return v.dump();
  const auto& [kind, body] = *v.items().begin();
  if (body.is_object() && body.contains("target")) return kind + " " + scalarText(body["target"]);
  return kind;
}

}  // namespace

void NftablesWriter::KernelChain::addId(std::string_view id) {
  // FNV-1a over the id and a terminator, so ["ab", ""] and ["a", "b"] differ.
  for (char c : id) ids = (ids ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  ids = (ids ^ 0xffu) * 1099511628211ull;
}

// One transaction, section by section in commit order: sets and maps created, sets filled and
// elements changed (deletions first: an interval may only be added once an overlapping one is
// gone; a map element whose target changes is deleted and added), chains declared, map elements
// added (after the chains they go to are declared), changed and unwanted chains flushed, rules
// written, unwanted maps deleted (after the rules using them), unwanted chains deleted (after
// every rule and map element going to them is gone), unwanted sets deleted (after every rule
// using them).
// New sets (with their elements), new maps (empty) and new regular chains (declared, then each
// one's rules) are kept apart: nothing reaches them until chains that exist or base chains jump
// to them, so a large apply may write them in earlier transactions (NftablesWriter::write); map
// elements come in the last one, when every chain they go to is declared. Beside the text, what
// the record becomes once it commits.
struct NftablesWriter::Plan {
  std::string sets, elementsDel, elementsAdd, declare, mapsAdd, flush, rules, deleteMaps,
      deleteChains, deleteSets;
  // New regular chains and maps declared empty; new sets with their elements; new chains' rules.
  // One string each (not one a set or chain: their buffers would scatter between the record's
  // allocations and keep its pages after the apply) with where each set or chain ends.
  std::string declareNew, newSets, newRules;
  std::vector<std::pair<size_t, size_t>> setEnds;  // end in newSets, its elements
  std::vector<size_t> chainEnds;                   // end in newRules
  size_t lines = 0;
  const std::map<std::string, std::set<std::string>>* listed = nullptr;  // full: the kernel's
  std::map<std::string, std::optional<KernelChain>> chains;              // nullopt: deleted
  std::map<std::string, std::optional<NftElementChanges>> maps;          // likewise; else changes
  std::map<std::string, std::vector<NftMapRun>> runs;  // chains rendered or replayed: their runs
  std::set<std::string> createdSets, deletedSets, lingering, candidates;
  std::map<std::string, int> refDelta;
  std::set<std::string> forced;  // chains to rewrite: a set they use changes its variant

  void add(std::string& section, const std::string& line) {
    section.append(line).push_back('\n');
    ++lines;
  }
  void elements(std::string& section, const std::string& verb, const std::string& head,
                const std::vector<std::string>& items) {
    for (size_t at = 0; at < items.size(); at += kElementsPerLine) {
      std::string line = verb + " element " + head + " { ";
      const size_t end = std::min(items.size(), at + kElementsPerLine);
      for (size_t i = at; i < end; ++i) line += (i == at ? "" : ", ") + items[i];
      add(section, line + " }");
    }
  }
  void newSet(const std::string& head, const std::string& spec,
              const std::vector<std::string>& items) {
    add(newSets, "add set " + head + " { " + spec + "}");
    elements(newSets, "add", head, items);
    setEnds.emplace_back(newSets.size(), items.size());
  }
  static std::string head(const std::string& table) {
    return "add table inet " + table + " { comment \"" + kFormat + "\"; }\n";
  }
  // What makes the new objects reachable and changes existing ones.
  std::string last(const std::string& table) const {
    return head(table) + sets + elementsDel + elementsAdd + declare + mapsAdd + flush + rules +
           deleteMaps + deleteChains + deleteSets;
  }
  std::string text(const std::string& table) const {
    return head(table) + declareNew + newSets + sets + elementsDel + elementsAdd + declare +
           mapsAdd + flush + newRules + rules + deleteMaps + deleteChains + deleteSets;
  }
};

NftablesWriter::NftablesWriter(std::vector<ChainTable*> tables, NftExecutor& executor,
                               NftablesOptions options)
    : tables_(std::move(tables)), executor_(executor), options_(std::move(options)) {
  // IPv4's tables first: a base chain holds IPv4's insertions before IPv6's.
  std::stable_sort(tables_.begin(), tables_.end(), [](const ChainTable* a, const ChainTable* b) {
    return a->version() < b->version();
  });
}

// --- IpSets: the desired members ---

bool NftablesWriter::addMember(SetState& state, const std::string& member) {
  auto cidr = Cidr::parse(member, true);
  if (!cidr || cidr->isV4() != (state.version == IpVersion::kV4)) {
    return state.rejected.insert(member).second;
  }
  std::string canonical = cidrText(*cidr);
  if (!state.members.insert(canonical).second) return false;
  if (cidr->prefixLength() != cidr->address().bits()) ++state.nets;
  if (state.removed.erase(canonical) == 0) state.added.insert(std::move(canonical));
  return true;
}

bool NftablesWriter::removeMember(SetState& state, const std::string& member) {
  if (state.rejected.erase(member) > 0) return true;
  auto cidr = Cidr::parse(member, true);
  if (!cidr) return false;
  std::string canonical = cidrText(*cidr);
  if (state.members.erase(canonical) == 0) return false;
  if (cidr->prefixLength() != cidr->address().bits()) --state.nets;
  if (state.added.erase(canonical) == 0) state.removed.insert(std::move(canonical));
  return true;
}

void NftablesWriter::replaceMembers(const IpSetSpec& spec, const std::set<std::string>& members) {
  if (spec.type != "hash:net" && spec.type != "hash:ip") {
    invalid_.push_back("ipset " + spec.name + ": type " + spec.type +
                       " has no nftables set (hash:net and hash:ip only)");
    return;
  }
  auto [it, created] = sets_.try_emplace(spec.name);
  SetState& state = it->second;
  if (created) {
    state.version = spec.version;
    // A set removed earlier whose elements are still in the kernel (a rule used it): learn them.
    if (lingering_.count(nftSetName(spec.name, false)) ||
        lingering_.count(nftSetName(spec.name, true))) {
      needRead_ = true;
    }
  }
  bool changed = created || !state.wanted;
  state.wanted = true;
  SetState want;
  want.version = state.version;
  for (const auto& m : members) addMember(want, m);
  std::vector<std::string> gone;
  for (const auto& m : state.members) {
    if (!want.members.count(m)) gone.push_back(m);
  }
  for (const auto& m : gone) changed = removeMember(state, m) || changed;
  for (const auto& m : want.members) changed = addMember(state, m) || changed;
  if (state.rejected != want.rejected) {
    state.rejected = std::move(want.rejected);
    changed = true;
  }
  if (changed) dirtySets_.insert(spec.name);
}

void NftablesWriter::addMembers(const std::string& name, const std::set<std::string>& members) {
  auto it = sets_.find(name);
  if (it == sets_.end() || !it->second.wanted) {
    invalid_.push_back("ipset " + name + ": addMembers to an unknown set");
    return;
  }
  for (const auto& m : members) {
    if (addMember(it->second, m)) dirtySets_.insert(name);
  }
}

void NftablesWriter::removeMembers(const std::string& name, const std::set<std::string>& members) {
  auto it = sets_.find(name);
  if (it == sets_.end() || !it->second.wanted) return;
  for (const auto& m : members) {
    if (removeMember(it->second, m)) dirtySets_.insert(name);
  }
}

void NftablesWriter::removeSet(const std::string& name) {
  auto it = sets_.find(name);
  if (it == sets_.end() || !it->second.wanted) return;
  it->second.wanted = false;  // its members stay: what the kernel holds until the set goes
  dirtySets_.insert(name);
}

size_t NftablesWriter::memberCount() const {
  size_t n = 0;
  for (const auto& [name, set] : sets_) n += set.wanted ? set.members.size() : 0;
  return n;
}

size_t NftablesWriter::setCount() const {
  return std::count_if(sets_.begin(), sets_.end(), [](const auto& s) { return s.second.wanted; });
}

std::string NftablesWriter::setName(const std::string& ipset) const {
  auto it = sets_.find(ipset);
  return nftSetName(ipset, it != sets_.end() && it->second.interval());
}

bool NftablesWriter::dirty() const {
  if (needRead_ || !dirtySets_.empty()) return true;
  return std::any_of(tables_.begin(), tables_.end(), [](const ChainTable* t) {
    return !t->changedChains().empty() || !t->changedInsertions().empty();
  });
}

// --- the kernel's state ---

Status NftablesWriter::read(std::map<std::string, std::set<std::string>>& listed) {
  ++stats_.lists;
  chains_.clear();
  kernelSets_.clear();
  setRefs_.clear();
  lingering_.clear();
  kernelMaps_.clear();
  mapRuns_.clear();
  formatCurrent_ = false;
  auto text = executor_.listJson("list table inet " + options_.table);
  if (!text) return text.code() == ErrorCode::kNotFound ? Status::ok() : text.status();
  try {
    const json doc = json::parse(*text);
    for (const auto& item : doc.at("nftables")) {
      if (item.contains("set")) {
        const auto& set = item["set"];
        const std::string name = set.at("name").get<std::string>();
        if (nftMapKind(name) == NftMapKind::kPairs) {  // kept with the maps it belongs to
          auto& pairs = kernelMaps_[name];
          for (const auto& e : set.value("elem", json::array())) pairs[elementText(e)];
          continue;
        }
        kernelSets_.insert(name);
        auto& elements = listed[name];
        for (const auto& e : set.value("elem", json::array())) elements.insert(elementText(e));
      } else if (item.contains("map")) {
        const auto& map = item["map"];
        auto& elements = kernelMaps_[map.at("name").get<std::string>()];
        for (const auto& e : map.value("elem", json::array())) {
          if (e.is_array() && e.size() == 2) elements[elementText(e[0])] = verdictText(e[1]);
        }
      } else if (item.contains("chain")) {
        chains_[item["chain"].at("name").get<std::string>()];
      } else if (item.contains("rule")) {
        const auto& rule = item["rule"];
        KernelChain& chain = chains_[rule.at("chain").get<std::string>()];
        chain.addId(idOf(rule.value("comment", "")));
        collectSetRefs(rule.value("expr", json::array()), chain.sets);
      }
    }
  } catch (const json::exception& e) {
    chains_.clear();
    kernelSets_.clear();
    kernelMaps_.clear();
    return makeError(ErrorCode::kCorrupt,
                     "nft list table inet " + options_.table + ": unreadable JSON: " + e.what());
  }
  for (auto& [name, chain] : chains_) {
    std::sort(chain.sets.begin(), chain.sets.end());
    chain.sets.erase(std::unique(chain.sets.begin(), chain.sets.end()), chain.sets.end());
    for (const auto& s : chain.sets) ++setRefs_[s];
  }
  formatCurrent_ = kernelSets_.count(kFormatSet) > 0;
  return Status::ok();
}

// --- planning ---

void NftablesWriter::planSets(Plan& plan, bool full) {
  const std::string& t = options_.table;
  std::vector<std::string> names;
  if (full) {
    wantedSets_.clear();
    for (const auto& [name, state] : sets_) names.push_back(name);
  } else {
    names.assign(dirtySets_.begin(), dirtySets_.end());
  }
  for (const auto& ipset : names) {
    const SetState& state = sets_.at(ipset);
    const std::string hashName = nftSetName(ipset, false), netName = nftSetName(ipset, true);
    const bool interval = state.interval();
    const std::string& name = interval ? netName : hashName;
    const std::string& other = interval ? hashName : netName;
    plan.candidates.insert(hashName);
    plan.candidates.insert(netName);
    wantedSets_.erase(hashName);
    wantedSets_.erase(netName);
    if (!state.wanted) continue;  // deleted after the rules, with the other unwanted sets
    wantedSets_.insert(name);
    std::vector<std::string> want =
        interval ? outermost(state.members)
                 : std::vector<std::string>(state.members.begin(), state.members.end());
    const std::string head = "inet " + t + " " + name;
    if (!kernelSets_.count(name)) {
      plan.newSet(
          head, "type " + addressType(state.version) + "; " + (interval ? "flags interval; " : ""),
          want);
      plan.createdSets.insert(name);
    } else {
      std::vector<std::string> have;
      if (full) {
        auto it = plan.listed->find(name);
        if (it != plan.listed->end()) have.assign(it->second.begin(), it->second.end());
      } else {
        std::set<std::string> before;
        std::set_difference(state.members.begin(), state.members.end(), state.added.begin(),
                            state.added.end(), std::inserter(before, before.end()));
        before.insert(state.removed.begin(), state.removed.end());
        have =
            interval ? outermost(before) : std::vector<std::string>(before.begin(), before.end());
      }
      std::sort(want.begin(), want.end());
      std::sort(have.begin(), have.end());
      plan.elements(plan.elementsDel, "delete", head, minus(have, want));
      plan.elements(plan.elementsAdd, "add", head, minus(want, have));
    }
    if (kernelSets_.count(other)) {
      // The variant changes: every chain using the old one is rewritten to use the new one.
      for (const auto& [chain, kc] : chains_) {
        if (std::binary_search(kc.sets.begin(), kc.sets.end(), other)) plan.forced.insert(chain);
      }
    }
  }
}

NftRendered NftablesWriter::renderBase(TableName table, const std::string& hook) const {
  const NftSetNamer namer = [this](const std::string& s) { return setName(s); };
  NftRendered all;
  for (const ChainTable* t : tables_) {
    if (t->name() != table) continue;
    auto it = t->insertions().find(hook);
    if (it == t->insertions().end() || it->second.empty()) continue;
    NftRendered r = renderNftRules(table, t->version(), nftChainName(table, t->version(), hook),
                                   it->second, ruleHashes(hook, it->second), namer, true);
    all.rules.insert(all.rules.end(), std::make_move_iterator(r.rules.begin()),
                     std::make_move_iterator(r.rules.end()));
    all.ipsets.insert(r.ipsets.begin(), r.ipsets.end());
    all.portSets.insert(r.portSets.begin(), r.portSets.end());
    all.maps.merge(r.maps);
  }
  return all;
}

void NftablesWriter::planChain(Plan& plan, const std::string& name, const NftRendered& rendered,
                               const std::string& spec) {
  const std::string& t = options_.table;
  KernelChain want;
  for (const auto& rule : rendered.rules) want.addId(rule.id);
  for (const auto& ipset : rendered.ipsets) want.sets.push_back(setName(ipset));
  for (const auto& [portSet, elements] : rendered.portSets) want.sets.push_back(portSet);
  for (const auto& [map, elements] : rendered.maps) {
    want.sets.push_back(map);
    planMap(plan, map, elements);  // even when the chain is unchanged: its rules name no element
  }
  std::sort(want.sets.begin(), want.sets.end());
  want.sets.erase(std::unique(want.sets.begin(), want.sets.end()), want.sets.end());

  for (const auto& [portSet, elements] : rendered.portSets) {
    // Content-addressed: created once with its elements, never changed (but repaired).
    if (plan.createdSets.count(portSet)) continue;
    const std::string head = "inet " + t + " " + portSet;
    std::vector<std::string> items;
    for (const auto& e : portElements(elements)) items.push_back(e);
    if (!kernelSets_.count(portSet)) {
      const bool ranges = elements.find('-') != std::string::npos;
      plan.newSet(head, std::string("type inet_service; ") + (ranges ? "flags interval; " : ""),
                  items);
      plan.createdSets.insert(portSet);
      continue;
    } else if (plan.listed) {
      auto it = plan.listed->find(portSet);
      if (it != plan.listed->end() && it->second == portElements(elements)) continue;
      plan.add(plan.sets, "flush set " + head);
    } else {
      continue;
    }
    plan.elements(plan.sets, "add", head, items);
    plan.createdSets.insert(portSet);
  }
  auto have = chains_.find(name);
  const bool force = !formatCurrent_ || plan.forced.count(name);
  if (have != chains_.end() && !force && have->second.ids == want.ids &&
      have->second.sets == want.sets) {
    return;
  }
  const std::string head = "add rule inet " + t + " " + name + " ";
  if (have == chains_.end() && spec.empty()) {
    plan.add(plan.declareNew, "add chain inet " + t + " " + name);
    for (const auto& rule : rendered.rules) plan.add(plan.newRules, head + rule.text);
    plan.chainEnds.push_back(plan.newRules.size());
  } else if (have == chains_.end()) {
    plan.add(plan.declare, "add chain inet " + t + " " + name + " { " + spec + " }");
  } else {
    plan.add(plan.flush, "flush chain inet " + t + " " + name);
    if (!spec.empty() && !formatCurrent_) {
      // Another renderer version may have hooked it elsewhere: declared again (in the same
      // transaction, so packets never see it missing).
      plan.add(plan.flush, "delete chain inet " + t + " " + name);
      plan.add(plan.flush, "add chain inet " + t + " " + name + " { " + spec + " }");
    }
    for (const auto& s : have->second.sets) --plan.refDelta[s];
  }
  if (have != chains_.end() || !spec.empty()) {
    for (const auto& rule : rendered.rules) plan.add(plan.rules, head + rule.text);
  }
  for (const auto& s : want.sets) ++plan.refDelta[s];
  plan.chains[name] = std::move(want);
}

void NftablesWriter::planDeleteChain(Plan& plan, const std::string& name) {
  auto have = chains_.find(name);
  if (have == chains_.end() || plan.chains.count(name)) return;
  // Flushed with the changed chains, deleted after all rules: unwanted chains may jump to each
  // other.
  plan.add(plan.flush, "flush chain inet " + options_.table + " " + name);
  plan.add(plan.deleteChains, "delete chain inet " + options_.table + " " + name);
  for (const auto& s : have->second.sets) --plan.refDelta[s];
  plan.chains[name] = std::nullopt;
}

void NftablesWriter::planMap(Plan& plan, const std::string& name,
                             const std::map<std::string, std::string>& elements) {
  static const std::map<std::string, std::string> kNone;
  auto have = kernelMaps_.find(name);
  // Declared with the new chains: a new dispatch chain's rule, written in an early step of a
  // large apply, refers to it.
  if (have == kernelMaps_.end()) {
    plan.add(plan.declareNew, nftMapDeclaration(options_.table, name));
  }
  const auto& before = have == kernelMaps_.end() ? kNone : have->second;
  NftElementChanges changes;
  for (const auto& [iface, verdict] : before) {
    if (!elements.count(iface)) changes.emplace(iface, std::nullopt);
  }
  for (const auto& [iface, verdict] : elements) {
    auto it = before.find(iface);
    if (it == before.end() || it->second != verdict) changes.emplace(iface, verdict);
  }
  if (have != kernelMaps_.end() && changes.empty()) return;
  planElements(plan, name, std::move(changes));
}

void NftablesWriter::planElements(Plan& plan, const std::string& name, NftElementChanges changes) {
  static const std::map<std::string, std::string> kNone;
  auto have = kernelMaps_.find(name);
  const auto& before = have == kernelMaps_.end() ? kNone : have->second;
  const NftMapKind kind = nftMapKind(name);
  std::vector<std::string> gone, added;
  for (const auto& [key, verdict] : changes) {
    auto it = before.find(key);
    const bool had = it != before.end();
    if (verdict && had && it->second == *verdict) continue;
    if (had) gone.push_back(nftMapElement(kind, key));
    if (verdict) added.push_back(nftMapElement(kind, key, &*verdict));
  }
  const std::string head = "inet " + options_.table + " " + name;
  plan.elements(plan.elementsDel, "delete", head, gone);
  plan.elements(plan.mapsAdd, "add", head, added);
  plan.maps[name] = std::move(changes);
}

bool NftablesWriter::planEdits(Plan& plan, const ChainTable& table, const std::string& chain,
                               const std::string& name) {
  const std::vector<RuleEdit>* edits = table.ruleEdits(chain);
  auto cached = mapRuns_.find(name);
  if (!edits || cached == mapRuns_.end() || !chains_.count(name) || plan.forced.count(name)) {
    return false;
  }
  std::vector<NftMapRun> runs = cached->second;
  std::map<std::string, NftElementChanges> changes;
  if (!replayNftMapEdits(table.name(), table.version(), table.desiredChain(chain)->rules, *edits,
                         runs, kernelMaps_, changes)) {
    return false;
  }
  for (auto& [map, elements] : changes) planElements(plan, map, std::move(elements));
  plan.runs[name] = std::move(runs);
  return true;
}

void NftablesWriter::planChains(Plan& plan, bool full) {
  const NftSetNamer namer = [this](const std::string& s) { return setName(s); };
  const bool all = full || !formatCurrent_;
  std::set<std::string> done;  // nftables chain names planned (or found unchanged)
  auto regular = [&](const ChainTable* t, const std::string& chain) {
    std::string name = nftChainName(t->name(), t->version(), chain);
    if (!done.insert(name).second) return;
    const Chain* want = t->desiredChain(chain);
    if (!want) return planDeleteChain(plan, name);
    // A dispatch chain that gained or lost an interface: its map's elements, without rendering
    // (or hashing) its rules again.
    if (!all && planEdits(plan, *t, chain, name)) return;
    NftRendered rendered =
        renderNftRules(t->name(), t->version(), name, want->rules, *t->desiredHashes(chain), namer);
    ++stats_.chainsRendered;
    if (!rendered.runs.empty() || mapRuns_.count(name)) plan.runs[name] = rendered.runs;
    planChain(plan, name, rendered);
  };
  auto base = [&](TableName table, const std::string& hook) {
    std::string name = nftBaseChainName(table, hook);
    if (!done.insert(name).second) return;
    NftRendered rendered = renderBase(table, hook);
    if (rendered.rules.empty()) return planDeleteChain(plan, name);
    std::string spec = nftBaseChainSpec(table, hook);
    if (spec.empty()) {
      invalid_.push_back(std::string(tableNameText(table)) + " " + hook +
                         ": no nftables hook for this kernel chain");
      return;
    }
    planChain(plan, name, rendered, spec);
  };
  for (const ChainTable* t : tables_) {
    if (all) {
      for (const auto& [chain, rules] : t->desiredChains()) regular(t, chain);
      for (const auto& [hook, rules] : t->insertions()) base(t->name(), hook);
    } else {
      for (const auto& chain : t->changedChains()) regular(t, chain);
      for (const auto& hook : t->changedInsertions()) base(t->name(), hook);
    }
  }
  if (!all && !plan.forced.empty()) {
    // Unchanged chains using a set whose variant changes: found by name among all of them.
    for (const ChainTable* t : tables_) {
      for (const auto& [chain, rules] : t->desiredChains()) {
        if (plan.forced.count(nftChainName(t->name(), t->version(), chain))) regular(t, chain);
      }
      for (const auto& [hook, rules] : t->insertions()) {
        if (plan.forced.count(nftBaseChainName(t->name(), hook))) base(t->name(), hook);
      }
    }
  }
  if (full) {
    // The whole table is ours: what is not wanted goes.
    for (const auto& [name, chain] : chains_) {
      if (!done.count(name)) planDeleteChain(plan, name);
    }
  }
}

void NftablesWriter::planSetDeletions(Plan& plan, bool full) {
  std::set<std::string> candidates = full ? kernelSets_ : plan.candidates;
  if (full) {
    for (const auto& [name, elements] : kernelMaps_) candidates.insert(name);
  } else {
    candidates.insert(lingering_.begin(), lingering_.end());
    for (const auto& [name, delta] : plan.refDelta) {
      if (delta < 0) candidates.insert(name);
    }
  }
  for (const auto& name : candidates) {
    const bool map = kernelMaps_.count(name) > 0;
    if ((!map && !kernelSets_.count(name)) || name == kFormatSet || wantedSets_.count(name)) {
      continue;
    }
    auto refs = setRefs_.find(name);
    auto delta = plan.refDelta.find(name);
    int after = (refs == setRefs_.end() ? 0 : refs->second) +
                (delta == plan.refDelta.end() ? 0 : delta->second);
    if (after > 0) {
      plan.lingering.insert(name);  // a chain still uses it; deleted once none does
      continue;
    }
    if (map) {
      const char* what =
          nftMapKind(name) == NftMapKind::kPairs ? "delete set inet " : "delete map inet ";
      plan.add(plan.deleteMaps, what + options_.table + " " + name);
      plan.maps[name] = std::nullopt;
      continue;
    }
    plan.add(plan.deleteSets, "delete set inet " + options_.table + " " + name);
    plan.deletedSets.insert(name);
  }
}

void NftablesWriter::commit(Plan& plan, bool full) {
  for (auto& [name, chain] : plan.chains) {
    if (chain) {
      chains_[name] = std::move(*chain);
    } else {
      chains_.erase(name);
      mapRuns_.erase(name);
    }
  }
  for (auto& [name, runs] : plan.runs) {
    if (runs.empty()) {
      mapRuns_.erase(name);
    } else {
      mapRuns_[name] = std::move(runs);
    }
  }
  for (auto& [name, changes] : plan.maps) {
    if (!changes) {
      kernelMaps_.erase(name);
      continue;
    }
    auto& elements = kernelMaps_[name];
    for (auto& [iface, verdict] : *changes) {
      if (verdict) {
        elements[iface] = std::move(*verdict);
      } else {
        elements.erase(iface);
      }
    }
  }
  for (const auto& [name, delta] : plan.refDelta) {
    if ((setRefs_[name] += delta) <= 0) setRefs_.erase(name);
  }
  kernelSets_.insert(plan.createdSets.begin(), plan.createdSets.end());
  for (const auto& name : plan.deletedSets) kernelSets_.erase(name);
  lingering_ = std::move(plan.lingering);
  if (full) {
    for (const auto& [name, state] : sets_) dirtySets_.insert(name);
  }
  for (const auto& name : dirtySets_) {
    auto it = sets_.find(name);
    if (it == sets_.end()) continue;
    if (!it->second.wanted) {
      sets_.erase(it);
    } else {
      it->second.added.clear();
      it->second.removed.clear();
    }
  }
  dirtySets_.clear();
  for (ChainTable* t : tables_) t->clearChanged();
  needRead_ = false;
  formatCurrent_ = true;
}

Status NftablesWriter::reportInvalid() {
  // A member or hook the kernel cannot take fails every apply until it is no longer asked for:
  // the apply must not report success while the kernel holds less than the desired state.
  std::string message;
  for (const auto& problem : invalid_) message += (message.empty() ? "" : "; ") + problem;
  invalid_.clear();
  for (const auto& [name, set] : sets_) {
    if (!set.wanted) continue;
    for (const auto& member : set.rejected) {
      message += (message.empty() ? "" : "; ") + ("ipset " + name + ": bad member " + member);
    }
  }
  if (message.empty()) return Status::ok();
  return makeError(ErrorCode::kInvalid, message);
}

Status NftablesWriter::apply() {
  const bool full = needRead_;
  if (!full && !dirty()) return reportInvalid();
  std::map<std::string, std::set<std::string>> listed;
  if (full) {
    if (Status s = read(listed); !s) {
      ++stats_.errors;
      return s;
    }
  }
  Plan plan;
  plan.listed = full ? &listed : nullptr;
  if (!kernelSets_.count(kFormatSet)) {
    plan.add(plan.sets, "add set inet " + options_.table + " " + kFormatSet + " { type mark; }");
    plan.createdSets.insert(kFormatSet);
  }
  planSets(plan, full);
  planChains(plan, full);
  planSetDeletions(plan, full);
  listed.clear();
  if (plan.lines > 0) {
    if (Status s = write(plan); !s) return s;
    stats_.linesWritten += plan.lines;
  }
  commit(plan, full);
  return reportInvalid();
}

Status NftablesWriter::run(const std::string& text) {
  keep(text);
  ++stats_.transactions;
  return counted(executor_.run(text));
}

Status NftablesWriter::runIndependent(const std::vector<std::string>& texts) {
  stats_.transactions += static_cast<int>(texts.size());
  size_t failed = texts.size();
  Status s = counted(executor_.runIndependent(texts, &failed));
  if (failed < texts.size()) {
    keep(texts[failed]);
  } else if (s && !texts.empty()) {
    keep(texts.back());
  }
  return s;
}

Status NftablesWriter::counted(Status s) {
  if (!s) {
    // The failed transaction changed nothing, but earlier steps or someone else may have: the
    // record is not trusted, the next apply lists the table.
    ++stats_.errors;
    needRead_ = true;
  }
  return s;
}

void NftablesWriter::keep(const std::string& text) {
  lastTransaction_ = text.size() <= kMaxKeptTransaction
                         ? text
                         : "(" + std::to_string(text.size()) + " bytes, not kept)\n";
}

Status NftablesWriter::write(Plan& plan) {
  const std::string& t = options_.table;
  if (plan.chainEnds.size() < kStepChains) return run(plan.text(t));
  // In steps: the new chains declared (empty) and the new sets filled, then the new chains'
  // rules (their jumps go to chains declared before), then the rest. Until the last step no
  // base chain or existing chain reaches anything new. A failed step leaves the record
  // untrusted (run()), so the next apply lists the table and writes what is missing.
  std::string tx = Plan::head(t) + plan.declareNew;
  size_t elements = 0, from = 0;
  for (const auto& [end, count] : plan.setEnds) {
    if (elements > 0 && elements + count > kStepElements) {
      if (Status s = run(tx); !s) return s;
      tx = Plan::head(t);
      elements = 0;
    }
    tx.append(plan.newSets, from, end - from);
    from = end;
    elements += count;
  }
  if (Status s = run(tx); !s) return s;
  // The new chains' rules: whole chains to a transaction, independent of each other (their
  // jumps go to chains declared above).
  const size_t target = options_.ruleStepBytes > 0 ? options_.ruleStepBytes
                                                   : std::clamp(plan.newRules.size() / kRuleSteps,
                                                                kMinStepBytes, kMaxStepBytes);
  std::vector<std::string> steps;
  from = 0;
  for (size_t i = 0; i < plan.chainEnds.size(); ++i) {
    const size_t end = plan.chainEnds[i];
    if (end - from < target && i + 1 < plan.chainEnds.size()) continue;
    steps.push_back(Plan::head(t));
    steps.back().append(plan.newRules, from, end - from);
    from = end;
  }
  if (Status s = runIndependent(steps); !s) return s;
  return run(plan.last(t));
}

// --- probes and cleanup ---

Result<ProbeResult> NftablesWriter::probe(TableName table, IpVersion version,
                                          const std::vector<std::vector<Rule>>& chains) {
  // nft --check (1.0.6) never reaches the kernel: a rule only the kernel refuses (measured:
  // masquerade in a filter hook's chain) passes it. So the scratch chains are committed, into a
  // scratch table of their own that hooks nothing (empty stand-ins for the sets and chains they
  // use), which is made afresh (one a crash left behind goes) and deleted again.
  const std::string t = options_.table + "-probe";
  const NftSetNamer namer = [this](const std::string& s) { return setName(s); };
  std::string declare = "add table inet " + t + "\ndelete table inet " + t + "\nadd table inet " +
                        t + "\n",
              body;
  std::set<std::string> declared;  // sets and chains
  auto once = [&](const std::string& name, const std::string& lines) {
    if (declared.insert(name).second) declare += lines;
  };
  for (size_t i = 0; i < chains.size(); ++i) {
    const std::string name = "probe-" + std::to_string(i);
    NftRendered rendered =
        renderNftRules(table, version, name, chains[i], ruleHashes(name, chains[i]), namer);
    once(name, "add chain inet " + t + " " + name + "\n");
    for (const auto& rule : chains[i]) {
      if (rule.action.chain().empty()) continue;
      std::string target = nftChainName(table, version, rule.action.chain());
      once(target, "add chain inet " + t + " " + target + "\n");
    }
    for (const auto& [map, elements] : rendered.maps) {  // after the chains its elements go to
      std::string lines = nftMapDeclaration(t, map) + "\n";
      const NftMapKind kind = nftMapKind(map);
      for (const auto& [key, verdict] : elements) {
        lines += "add element inet " + t + " " + map + " { " + nftMapElement(kind, key, &verdict) +
                 " }\n";
      }
      once(map, lines);
    }
    for (const auto& ipset : rendered.ipsets) {
      auto it = sets_.find(ipset);
      const bool interval = it != sets_.end() && it->second.interval();
      const IpVersion v = it != sets_.end() ? it->second.version : version;
      once(nftSetName(ipset, interval), "add set inet " + t + " " + nftSetName(ipset, interval) +
                                            " { type " + addressType(v) + "; " +
                                            (interval ? "flags interval; " : "") + "}\n");
    }
    for (const auto& [portSet, elements] : rendered.portSets) {
      const bool ranges = elements.find('-') != std::string::npos;
      once(portSet, "add set inet " + t + " " + portSet + " { type inet_service; " +
                        (ranges ? "flags interval; " : "") + "}\nadd element inet " + t + " " +
                        portSet + " { " + elements + " }\n");
    }
    for (const auto& rule : rendered.rules) {
      body += "add rule inet " + t + " " + name + " " + rule.text + "\n";
    }
  }
  Status s = executor_.run(declare + body);
  if (!s) {
    if (!namesInputLine(s.message())) return s.error();
    return ProbeResult{false, s.message()};  // nothing committed
  }
  (void)executor_.run("delete table inet " + t + "\n");
  return ProbeResult{true, ""};
}

Status NftablesWriter::removeTable(NftExecutor& executor, const std::string& table) {
  // Added then deleted in one transaction: gone whether or not it was there, without a listing
  // (nft 1.0.6's `list tables` reads every rule of every table first: 0.7 s and 131 MB beside the
  // agent benchmark's iptables-nft ruleset). Also a scratch table a crashed probe left.
  std::string commands;
  for (const std::string& name : {table, table + "-probe"}) {
    commands += "add table inet " + name + "\ndelete table inet " + name + "\n";
  }
  return executor.run(commands);
}

}  // namespace brindle::dataplane
