// NftablesWriter against a fake executor: the transactions it builds (incremental, ordered, drift
// repaired from a listing the test writes) and its record on failure.
#include "dataplane/nftables_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "dataplane/iptables_render.h"

namespace brindle::dataplane {
namespace {

using json = nlohmann::json;

// Records transactions; lists what the test put into `listing` (absent table when null).
class FakeExecutor : public NftExecutor {
 public:
  Status run(const std::string& commands) override {
    runs.push_back(commands);
    if (fail || runs.size() == failRun)
      return makeError(ErrorCode::kUnavailable, "/dev/stdin:3:1-20: Error: refused");
    return Status::ok();
  }
  Status check(const std::string& commands) override {
    ADD_FAILURE() << "the writer commits its probes (nft --check never reaches the kernel)";
    return run(commands);
  }
  Result<std::string> listJson(const std::string& command) override {
    lists.push_back(command);
    if (listing.is_null()) {
      return makeError(ErrorCode::kNotFound, "Error: No such file or directory");
    }
    return json{{"nftables", listing}}.dump();
  }

  // Listing builders, as `nft -j list table inet calico` prints them.
  void chain(const std::string& name) {
    listing.push_back({{"chain", {{"family", "inet"}, {"table", "calico"}, {"name", name}}}});
  }
  void rule(const std::string& chain, const std::string& comment,
            const std::vector<std::string>& sets = {}) {
    json expr = json::array();
    for (const auto& s : sets) {
      expr.push_back({{"match", {{"op", "=="}, {"left", "x"}, {"right", "@" + s}}}});
    }
    expr.push_back({{"accept", nullptr}});
    json r = {{"family", "inet"}, {"table", "calico"}, {"chain", chain}, {"expr", expr}};
    if (!comment.empty()) r["comment"] = comment;
    listing.push_back({{"rule", r}});
  }
  void set(const std::string& name, const json& elements) {
    json s = {{"family", "inet"}, {"table", "calico"}, {"name", name}, {"type", "ipv4_addr"}};
    if (!elements.empty()) s["elem"] = elements;
    listing.push_back({{"set", s}});
  }

  void map(const std::string& name, const std::map<std::string, std::string>& gotos) {
    json elem = json::array();
    for (const auto& [iface, chain] : gotos) {
      elem.push_back({iface, {{"goto", {{"target", chain}}}}});
    }
    json m = {{"family", "inet"},
              {"table", "calico"},
              {"name", name},
              {"type", "ifname"},
              {"map", "verdict"}};
    if (!elem.empty()) m["elem"] = elem;
    listing.push_back({{"map", m}});
  }

  json listing;  // null: no table
  bool fail = false;
  size_t failRun = 0;  // fails the n-th transaction (1-based; 0: none)
  std::vector<std::string> runs, lists;
};

Rule rule(Match match, Action action) { return Rule{std::move(match), std::move(action), ""}; }

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Where `part` is in `text` (npos sorts after everything: a missing line fails EXPECT_LT).
size_t at(const std::string& text, const std::string& part) { return text.find(part); }

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t i = text.find(part); i != std::string::npos; i = text.find(part, i + 1)) ++n;
  return n;
}

// The ids the renderer gives a chain's rules (as the kernel's comments would carry them).
std::vector<std::string> ids(const std::string& chain, const std::vector<Rule>& rules,
                             bool interval = false) {
  auto rendered = renderNftRules(TableName::kFilter, IpVersion::kV4, "filter-" + chain, rules,
                                 ruleHashes(chain, rules),
                                 [&](const std::string& s) { return nftSetName(s, interval); });
  std::vector<std::string> out;
  for (const auto& r : rendered.rules) out.push_back(r.id);
  return out;
}

class NftablesWriterTest : public ::testing::Test {
 protected:
  explicit NftablesWriterTest(NftablesOptions options = {})
      : writer({&filter, &filter6}, nft, std::move(options)) {
    filter.updateChain({"cali-a", a});
    filter.updateChain({"cali-b", b});
    filter.setRuleInsertions("FORWARD", {rule({}, Action::jump("cali-a"))});
  }
  const std::string& last() const { return nft.runs.back(); }

  std::vector<Rule> a = {rule(Match().protocol("tcp"), Action::jump("cali-b"))};
  std::vector<Rule> b = {rule(Match().sourceNet("10.0.0.0/8"), Action::accept()),
                         rule({}, Action::drop())};
  FakeExecutor nft;
  ChainTable filter{TableName::kFilter, IpVersion::kV4};
  ChainTable filter6{TableName::kFilter, IpVersion::kV6};
  NftablesWriter writer;
};

TEST_F(NftablesWriterTest, FirstApplyWritesEverythingInOneTransactionThenNothing) {
  ASSERT_TRUE(writer.apply());
  ASSERT_EQ(nft.runs.size(), 1u);
  EXPECT_EQ(nft.lists, std::vector<std::string>{"list table inet calico"});
  const std::string& tx = last();
  EXPECT_EQ(tx.rfind("add table inet calico { comment \"brindle nftables v2\"; }\n", 0), 0u) << tx;
  EXPECT_TRUE(contains(tx, "add chain inet calico filter-cali-a\n")) << tx;
  EXPECT_TRUE(contains(tx, "add chain inet calico filter-FORWARD { type filter hook forward"))
      << tx;
  EXPECT_TRUE(contains(tx, "add rule inet calico filter-cali-b ip saddr 10.0.0.0/8 accept")) << tx;
  EXPECT_TRUE(contains(tx, "add rule inet calico filter-FORWARD meta nfproto ipv4 jump")) << tx;
  // Every chain declared before any rule (rules jump to chains declared later).
  EXPECT_LT(at(tx, "add chain inet calico filter-cali-b"), at(tx, "add rule"));
  EXPECT_FALSE(contains(tx, "flush")) << tx;
  EXPECT_FALSE(writer.dirty());

  ASSERT_TRUE(writer.apply());
  EXPECT_EQ(nft.runs.size(), 1u) << "nothing changed: nothing run";
  EXPECT_EQ(nft.lists.size(), 1u);
  EXPECT_EQ(writer.stats().transactions, 1);
}

TEST_F(NftablesWriterTest, OnlyTheChangedChainIsFlushedAndRewritten) {
  ASSERT_TRUE(writer.apply());
  b.push_back(rule(Match().protocol("udp"), Action::accept()));
  filter.updateChain({"cali-b", b});
  filter.updateChain({"cali-a", a});  // the same again: not a change
  ASSERT_TRUE(writer.apply());
  ASSERT_EQ(nft.runs.size(), 2u);
  const std::string& tx = last();
  EXPECT_TRUE(contains(tx, "flush chain inet calico filter-cali-b\n")) << tx;
  EXPECT_TRUE(contains(tx, "add rule inet calico filter-cali-b meta l4proto")) << tx;
  EXPECT_FALSE(contains(tx, "filter-cali-a")) << tx;
  EXPECT_FALSE(contains(tx, "FORWARD")) << tx;
  EXPECT_FALSE(contains(tx, "add chain")) << tx;
  EXPECT_LT(at(tx, "flush chain"), at(tx, "add rule"));
  EXPECT_EQ(nft.lists.size(), 1u);
}

TEST_F(NftablesWriterTest, DeletedChainsAreAllFlushedBeforeAnyIsDeleted) {
  ASSERT_TRUE(writer.apply());
  filter.removeChain("cali-a");
  filter.removeChain("cali-b");
  filter.setRuleInsertions("FORWARD", {});
  ASSERT_TRUE(writer.apply());
  const std::string& tx = last();
  for (const char* c : {"filter-cali-a", "filter-cali-b", "filter-FORWARD"}) {
    EXPECT_TRUE(contains(tx, std::string("flush chain inet calico ") + c + "\n")) << tx;
    EXPECT_TRUE(contains(tx, std::string("delete chain inet calico ") + c + "\n")) << tx;
  }
  EXPECT_LT(tx.rfind("flush chain"), at(tx, "delete chain"));
  // The base chain went with its last rule: no hook registered for nothing.
  filter.setRuleInsertions("FORWARD", {rule({}, Action::accept())});
  ASSERT_TRUE(writer.apply());
  EXPECT_TRUE(contains(last(), "add chain inet calico filter-FORWARD { type filter")) << last();
}

TEST_F(NftablesWriterTest, BaseChainHoldsBothVersionsAndGoesWhenBothAreEmpty) {
  filter6.updateChain({"cali-a", a});
  filter6.updateChain({"cali-b", {rule({}, Action::drop())}});
  filter6.setRuleInsertions("FORWARD", {rule({}, Action::jump("cali-a"))});
  ASSERT_TRUE(writer.apply());
  const std::string& tx = last();
  EXPECT_LT(at(tx, "filter-FORWARD meta nfproto ipv4"), at(tx, "filter-FORWARD meta nfproto ipv6"))
      << tx;
  EXPECT_TRUE(contains(tx, "add chain inet calico filter6-cali-a\n")) << tx;
  // IPv4's insertions go: the base chain is rewritten with IPv6's alone.
  filter.setRuleInsertions("FORWARD", {});
  ASSERT_TRUE(writer.apply());
  EXPECT_TRUE(contains(last(), "flush chain inet calico filter-FORWARD\n")) << last();
  EXPECT_TRUE(contains(last(), "filter-FORWARD meta nfproto ipv6")) << last();
  EXPECT_FALSE(contains(last(), "nfproto ipv4")) << last();
  EXPECT_FALSE(contains(last(), "delete chain")) << last();
  filter6.setRuleInsertions("FORWARD", {});
  ASSERT_TRUE(writer.apply());
  EXPECT_TRUE(contains(last(), "delete chain inet calico filter-FORWARD\n")) << last();
}

TEST_F(NftablesWriterTest, SetBecomesAnIntervalSetInOneTransactionWithTheChainsUsingIt) {
  writer.replaceMembers({"cali40s:src", "hash:net", IpVersion::kV4}, {"10.0.0.1", "10.0.0.2/32"});
  std::vector<Rule> c = {rule(Match().sourceIpSet("cali40s:src"), Action::accept())};
  filter.updateChain({"cali-c", c});
  ASSERT_TRUE(writer.apply());
  std::string tx = last();
  const std::string hashSet = nftSetName("cali40s:src", false);
  const std::string netSet = nftSetName("cali40s:src", true);
  EXPECT_TRUE(contains(tx, "add set inet calico " + hashSet + " { type ipv4_addr; }")) << tx;
  EXPECT_TRUE(contains(tx, "add element inet calico " + hashSet + " { 10.0.0.1, 10.0.0.2 }")) << tx;
  EXPECT_LT(at(tx, "add set inet calico " + hashSet), at(tx, "add rule"));
  EXPECT_TRUE(contains(tx, "@" + hashSet)) << tx;

  // A host more: one element added, no chain touched.
  writer.addMembers("cali40s:src", {"10.0.0.3"});
  ASSERT_TRUE(writer.apply());
  EXPECT_TRUE(contains(last(), "add element inet calico " + hashSet + " { 10.0.0.3 }")) << last();
  EXPECT_FALSE(contains(last(), "chain")) << last();

  // A CIDR: the interval variant is made, filled (the net covers 10.0.0.1-3 ... not these), the
  // chain rewritten to use it and the old set deleted after the rules.
  writer.addMembers("cali40s:src", {"192.168.0.0/16", "192.168.1.0/24"});
  ASSERT_TRUE(writer.apply());
  tx = last();
  EXPECT_TRUE(
      contains(tx, "add set inet calico " + netSet + " { type ipv4_addr; flags interval; }"))
      << tx;
  EXPECT_TRUE(contains(tx, "add element inet calico " + netSet +
                               " { 10.0.0.1, 10.0.0.2, 10.0.0.3, 192.168.0.0/16 }"))
      << "the /24 inside the /16 is left out (nft refuses overlaps): " << tx;
  EXPECT_TRUE(contains(tx, "flush chain inet calico filter-cali-c\n")) << tx;
  EXPECT_TRUE(contains(tx, "@" + netSet)) << tx;
  EXPECT_TRUE(contains(tx, "delete set inet calico " + hashSet + "\n")) << tx;
  EXPECT_LT(at(tx, "add set"), at(tx, "flush chain"));
  EXPECT_LT(at(tx, "add rule"), at(tx, "delete set"));

  // The /16 goes: its /24 comes out from under it, in the order nft needs.
  writer.removeMembers("cali40s:src", {"192.168.0.0/16"});
  ASSERT_TRUE(writer.apply());
  tx = last();
  EXPECT_TRUE(contains(tx, "delete element inet calico " + netSet + " { 192.168.0.0/16 }")) << tx;
  EXPECT_TRUE(contains(tx, "add element inet calico " + netSet + " { 192.168.1.0/24 }")) << tx;
  EXPECT_LT(at(tx, "delete element"), at(tx, "add element"));
  EXPECT_FALSE(contains(tx, "chain")) << tx;

  // Removed with the rule using it: the rule goes first.
  filter.removeChain("cali-c");
  writer.removeSet("cali40s:src");
  ASSERT_TRUE(writer.apply());
  tx = last();
  EXPECT_LT(at(tx, "delete chain inet calico filter-cali-c"),
            at(tx, "delete set inet calico " + netSet));
  EXPECT_EQ(writer.setCount(), 0u);
}

TEST_F(NftablesWriterTest, PortSetsAreMadeOnceAndDeletedWhenNoRuleUsesThem) {
  std::vector<Rule> c = {rule(Match().protocol("tcp").destPorts("80,8000:8080"), Action::accept())};
  filter.updateChain({"cali-c", c});
  filter.updateChain({"cali-d", c});
  ASSERT_TRUE(writer.apply());
  std::string tx = last();
  const size_t made = at(tx, "add set inet calico p-");
  ASSERT_NE(made, std::string::npos) << tx;
  EXPECT_EQ(tx.find("add set inet calico p-", made + 1), std::string::npos) << "shared: " << tx;
  EXPECT_TRUE(contains(tx, "{ type inet_service; flags interval; }")) << tx;
  filter.removeChain("cali-c");
  ASSERT_TRUE(writer.apply());
  EXPECT_FALSE(contains(last(), "delete set")) << "cali-d still uses it: " << last();
  filter.removeChain("cali-d");
  ASSERT_TRUE(writer.apply());
  EXPECT_TRUE(contains(last(), "delete set inet calico p-")) << last();
}

TEST_F(NftablesWriterTest, ResyncRepairsDriftAndDeletesWhatIsNotWanted) {
  writer.replaceMembers({"cali40s:s", "hash:net", IpVersion::kV4}, {"10.0.0.1", "10.0.0.2"});
  const std::string set = nftSetName("cali40s:s", false);
  // The kernel: marker set, cali-a as wanted, cali-b with a foreign rule added, no base chain,
  // a chain nobody wants, the set missing 10.0.0.2 and holding a stranger.
  nft.listing = json::array();
  nft.set("brindle-nftables-v2", json::array());
  nft.set(set, {"10.0.0.1", "10.9.9.9"});
  nft.chain("filter-cali-a");
  for (const auto& id : ids("cali-a", a)) nft.rule("filter-cali-a", "cali:" + id);
  nft.chain("filter-cali-b");
  for (const auto& id : ids("cali-b", b)) nft.rule("filter-cali-b", "cali:" + id);
  nft.rule("filter-cali-b", "");  // someone's `nft add rule`
  nft.chain("filter-cali-stale");
  nft.rule("filter-cali-stale", "cali:old", {set});
  ASSERT_TRUE(writer.apply());
  const std::string& tx = last();
  EXPECT_FALSE(contains(tx, "chain inet calico filter-cali-a")) << "in sync: untouched: " << tx;
  EXPECT_TRUE(contains(tx, "flush chain inet calico filter-cali-b\n")) << tx;
  EXPECT_TRUE(contains(tx, "add chain inet calico filter-FORWARD {")) << tx;
  EXPECT_TRUE(contains(tx, "flush chain inet calico filter-cali-stale\n")) << tx;
  EXPECT_TRUE(contains(tx, "delete chain inet calico filter-cali-stale\n")) << tx;
  EXPECT_TRUE(contains(tx, "add element inet calico " + set + " { 10.0.0.2 }")) << tx;
  EXPECT_TRUE(contains(tx, "delete element inet calico " + set + " { 10.9.9.9 }")) << tx;
  EXPECT_FALSE(contains(tx, "delete set")) << "wanted, and the marker stays: " << tx;
  EXPECT_FALSE(contains(tx, "add set")) << tx;

  // A listing that matches: a resync writes nothing.
  nft.listing = json::array();
  nft.set("brindle-nftables-v2", json::array());
  nft.set(set, {"10.0.0.1", "10.0.0.2"});
  for (const auto& [chain, rules] : {std::pair{"cali-a", a}, std::pair{"cali-b", b}}) {
    nft.chain(std::string("filter-") + chain);
    for (const auto& id : ids(chain, rules)) nft.rule(std::string("filter-") + chain, "cali:" + id);
  }
  nft.chain("filter-FORWARD");
  for (const auto& id : ids("FORWARD", {rule({}, Action::jump("cali-a"))})) {
    nft.rule("filter-FORWARD", "cali:" + id);
  }
  writer.requestResync();
  ASSERT_TRUE(writer.apply());
  EXPECT_EQ(nft.runs.size(), 1u) << last();
  EXPECT_EQ(nft.lists.size(), 2u);
}

TEST_F(NftablesWriterTest, AnOldRendererVersionsTableIsRewrittenWhole) {
  nft.listing = json::array();
  nft.chain("filter-cali-a");
  for (const auto& id : ids("cali-a", a)) nft.rule("filter-cali-a", "cali:" + id);
  nft.chain("filter-FORWARD");
  ASSERT_TRUE(writer.apply());
  const std::string& tx = last();
  EXPECT_TRUE(contains(tx, "flush chain inet calico filter-cali-a\n")) << tx;
  EXPECT_TRUE(contains(tx, "add set inet calico brindle-nftables-v2")) << tx;
  // Base chains declared again: the hook or priority may have changed.
  EXPECT_TRUE(contains(tx,
                       "flush chain inet calico filter-FORWARD\ndelete chain inet calico "
                       "filter-FORWARD\nadd chain inet calico filter-FORWARD { type filter"))
      << tx;
}

TEST_F(NftablesWriterTest, FailureKeepsEverythingDirtyAndListsAgain) {
  ASSERT_TRUE(writer.apply());
  filter.updateChain({"cali-b", {rule({}, Action::accept())}});
  nft.fail = true;
  Status failed = writer.apply();
  ASSERT_FALSE(failed);
  EXPECT_TRUE(contains(failed.message(), "/dev/stdin:3:1-20: Error:")) << failed.message();
  EXPECT_TRUE(writer.dirty());
  EXPECT_EQ(writer.stats().errors, 1);
  EXPECT_EQ(filter.changedChains().count("cali-b"), 1u);
  // The next apply lists the kernel (here: the table is gone) and writes everything again.
  nft.fail = false;
  ASSERT_TRUE(writer.apply());
  EXPECT_EQ(nft.lists.size(), 2u);
  EXPECT_TRUE(contains(last(), "add chain inet calico filter-cali-a\n")) << last();
  EXPECT_TRUE(contains(last(), "add rule inet calico filter-cali-b accept")) << last();
  EXPECT_FALSE(writer.dirty());
}

// The elements in a transaction's "add element" lines.
size_t elementCount(const std::string& tx) {
  size_t n = 0, at = 0;
  while ((at = tx.find("add element", at)) != std::string::npos) {
    const size_t end = tx.find('\n', at);
    n += 1 + std::count(tx.begin() + at, tx.begin() + end, ',');
    at = end;
  }
  return n;
}

// A cold start's shape: many new chains (jumping to each other) and sets with many elements.
// The rules go in transactions of about 48 KB here (the 600 chains' rules are ~150 KB).
class NftablesLargeApplyTest : public NftablesWriterTest {
 protected:
  static constexpr size_t kStepBytes = 48 * 1024;
  NftablesLargeApplyTest() : NftablesWriterTest({.ruleStepBytes = kStepBytes}) {
    for (int s = 0; s < 6; ++s) {
      std::set<std::string> members;
      for (int i = 0; i < 10000; ++i) {
        members.insert("10." + std::to_string(s) + "." + std::to_string(i / 256) + "." +
                       std::to_string(i % 256));
      }
      writer.replaceMembers({"cali40s:s" + std::to_string(s), "hash:ip", IpVersion::kV4}, members);
    }
    for (int c = 0; c < 600; ++c) {
      filter.updateChain(
          {"cali-n" + std::to_string(c),
           {rule(Match().sourceIpSet("cali40s:s" + std::to_string(c % 6)), Action::accept()),
            rule({}, Action::jump("cali-b"))}});
    }
  }
};

TEST_F(NftablesLargeApplyTest, NewSetsAndChainsComeFirstRulesInChunksAndTheHooksLast) {
  ASSERT_TRUE(writer.apply());
  // Declarations and five sets (50,000 elements), the sixth set, the rules of the 602 new chains
  // in chunks, then the base chain.
  ASSERT_GE(nft.runs.size(), 6u) << "at least three chunks of rules";
  EXPECT_EQ(writer.stats().transactions, static_cast<int>(nft.runs.size()));
  const std::string& first = nft.runs[0];
  for (const char* chain :
       {"filter-cali-a", "filter-cali-b", "filter-cali-n0", "filter-cali-n599"}) {
    EXPECT_TRUE(contains(first, "add chain inet calico " + std::string(chain) + "\n")) << chain;
  }
  EXPECT_FALSE(contains(first, "add rule")) << "chains are declared empty";
  std::map<std::string, std::set<size_t>> chunksOf;  // chain -> the transactions with its rules
  for (size_t i = 0; i + 1 < nft.runs.size(); ++i) {
    const std::string& tx = nft.runs[i];
    EXPECT_EQ(tx.rfind("add table inet calico", 0), 0u) << i;
    EXPECT_LE(elementCount(tx), 50000u) << i;
    // Nothing reachable, nothing existing changed: no hook, flush, deletion or marker.
    for (const char* word : {"hook", "flush", "delete", "brindle-nftables-v2"}) {
      EXPECT_FALSE(contains(tx, word)) << i << ": " << word;
    }
    // A chunk only adds rules to chains the first transaction declared, about kStepBytes of
    // them (whole chains: at most one chain's rules over).
    if (i >= 2) {
      EXPECT_LE(tx.size(), kStepBytes + 1024) << i;
      EXPECT_FALSE(contains(tx, "add chain")) << i;
      EXPECT_FALSE(contains(tx, "add set")) << i;
      std::istringstream lines(tx);
      std::string line;
      std::getline(lines, line);  // add table
      while (std::getline(lines, line)) {
        ASSERT_EQ(line.rfind("add rule inet calico ", 0), 0u) << line;
        const std::string chain = line.substr(21, line.find(' ', 21) - 21);
        EXPECT_TRUE(contains(first, "add chain inet calico " + chain + "\n")) << chain;
        chunksOf[chain].insert(i);
      }
    }
  }
  EXPECT_EQ(chunksOf.size(), 602u) << "every new chain's rules in a chunk";
  for (const auto& [chain, chunks] : chunksOf) EXPECT_EQ(chunks.size(), 1u) << chain;
  EXPECT_EQ(elementCount(nft.runs[0]) + elementCount(nft.runs[1]), 60000u);
  EXPECT_TRUE(contains(nft.runs[2], "add rule inet calico filter-cali-n0 ")) << nft.runs[2];
  const std::string& final = last();
  EXPECT_TRUE(contains(final, "add chain inet calico filter-FORWARD { type filter hook forward"));
  EXPECT_TRUE(contains(final, "add rule inet calico filter-FORWARD meta nfproto ipv4 jump"));
  EXPECT_TRUE(contains(final, "brindle-nftables-v2")) << "the marker comes with the hooks";
  EXPECT_FALSE(contains(final, "add rule inet calico filter-cali-")) << final;
  EXPECT_FALSE(writer.dirty());
  const size_t runs = nft.runs.size();
  ASSERT_TRUE(writer.apply());
  EXPECT_EQ(nft.runs.size(), runs) << "nothing changed: nothing run";
}

TEST_F(NftablesLargeApplyTest, AFailedStepMakesTheNextApplyListTheTable) {
  nft.failRun = 3;  // the first chunk of rules
  Status failed = writer.apply();
  ASSERT_FALSE(failed);
  EXPECT_TRUE(contains(failed.message(), "/dev/stdin:3:1-20: Error:")) << failed.message();
  EXPECT_EQ(nft.runs.size(), 3u) << "no step after the failed one";
  EXPECT_EQ(writer.stats().errors, 1);
  EXPECT_TRUE(writer.dirty());
  EXPECT_EQ(filter.changedChains().count("cali-n0"), 1u);
  // The listing shows what the steps before left (declared chains, a set); the next apply
  // writes the rest: the listed chains get their rules, and the hooks come last.
  nft.chain("filter-cali-n0");
  nft.set(nftSetName("cali40s:s0", false), json::array({"10.0.0.0"}));
  nft.failRun = 0;
  ASSERT_TRUE(writer.apply());
  EXPECT_EQ(nft.lists.size(), 2u);
  EXPECT_TRUE(contains(last(), "type filter hook forward")) << last();
  EXPECT_TRUE(contains(last(), "flush chain inet calico filter-cali-n0\n")) << last();
  EXPECT_TRUE(contains(last(), "add element inet calico " + nftSetName("cali40s:s0", false)))
      << "the listed set is completed in the last step";
  EXPECT_FALSE(writer.dirty());
}

TEST_F(NftablesWriterTest, BadMembersFailTheApplyButTheRestIsWritten) {
  writer.replaceMembers({"cali40s:s", "hash:net", IpVersion::kV4}, {"10.0.0.1", "fd00::1", "x"});
  Status s = writer.apply();
  ASSERT_FALSE(s);
  EXPECT_TRUE(contains(s.message(), "bad member fd00::1")) << s.message();
  EXPECT_TRUE(contains(last(), "{ 10.0.0.1 }")) << last();
  EXPECT_EQ(writer.memberCount(), 1u);
  writer.removeMembers("cali40s:s", {"fd00::1", "x"});
  EXPECT_TRUE(writer.apply());
}

TEST_F(NftablesWriterTest, ProbesCommitScratchChainsIntoAScratchTableAndDeleteIt) {
  writer.replaceMembers({"cali40s:n", "hash:net", IpVersion::kV4}, {"10.0.0.0/8"});
  std::vector<std::vector<Rule>> chains = {
      {rule(Match().sourceIpSet("cali40s:n"), Action::jump("cali-pi-x"))},
      {rule(Match().protocol("tcp").destPorts("1,3"), Action::accept()),
       rule(Match().sourceIpSet("cali40s:n"), Action::jump("cali-pi-x"))}};
  auto ok = writer.probe(TableName::kFilter, IpVersion::kV4, chains);
  ASSERT_TRUE(ok) << ok.message();
  EXPECT_TRUE(ok->accepted);
  ASSERT_EQ(nft.runs.size(), 2u);
  const std::string& tx = nft.runs[0];
  EXPECT_EQ(tx.rfind("add table inet calico-probe\ndelete table inet calico-probe\n"
                     "add table inet calico-probe\n",
                     0),
            0u)
      << tx;
  EXPECT_FALSE(contains(tx, "inet calico ")) << "ours untouched: " << tx;
  EXPECT_TRUE(contains(tx, "add chain inet calico-probe probe-0\n")) << tx;
  EXPECT_TRUE(contains(tx, "add chain inet calico-probe probe-1\n")) << tx;
  const std::string netSet = nftSetName("cali40s:n", true);
  EXPECT_TRUE(
      contains(tx, "add set inet calico-probe " + netSet + " { type ipv4_addr; flags interval; }"))
      << tx;
  EXPECT_EQ(at(tx, "add chain inet calico-probe filter-cali-pi-x"),
            tx.rfind("add chain inet calico-probe filter-cali-pi-x"))
      << "declared once: " << tx;
  EXPECT_TRUE(contains(tx, "add set inet calico-probe p-")) << tx;
  EXPECT_LT(at(tx, "add set"), at(tx, "add rule"));
  EXPECT_EQ(nft.runs[1], "delete table inet calico-probe\n");

  nft.fail = true;  // the fake's error names a line: a refusal
  auto refused = writer.probe(TableName::kFilter, IpVersion::kV4, chains);
  ASSERT_TRUE(refused);
  EXPECT_FALSE(refused->accepted);
  EXPECT_TRUE(contains(refused->error, "Error: refused"));
  EXPECT_EQ(nft.runs.size(), 3u) << "nothing committed, nothing to delete";
}

// The agent's flat dispatch (RendererConfig.flatDispatch) at the benchmark's 1x shape: 500 local
// endpoints, both families, both directions.
class NftablesDispatchTest : public NftablesWriterTest {
 protected:
  static std::string iface(int i) { return "cali" + std::to_string(i); }
  void endpoints(std::set<int> ids, const std::map<int, std::string>& targets = {}) {
    for (ChainTable* t : {&filter, &filter6}) {
      std::vector<Rule> from, to;
      for (int i : ids) {
        auto target = targets.count(i) ? targets.at(i) : "cali-fw-" + iface(i);
        from.push_back(rule(Match().inInterface(iface(i)), Action::goTo(target)));
        to.push_back(rule(Match().outInterface(iface(i)), Action::goTo("cali-tw-" + iface(i))));
        if (!live_.count(i)) {
          t->updateChain({"cali-fw-" + iface(i), {rule({}, Action::accept())}});
          t->updateChain({"cali-tw-" + iface(i), {rule({}, Action::accept())}});
        }
      }
      for (int i : live_) {
        if (ids.count(i)) continue;
        t->removeChain("cali-fw-" + iface(i));
        t->removeChain("cali-tw-" + iface(i));
      }
      from.push_back({{}, Action::drop(), "Unknown interface"});
      to.push_back({{}, Action::drop(), "Unknown interface"});
      fromRules_ = from;
      t->updateChain({"cali-from-wl-dispatch", from});
      t->updateChain({"cali-to-wl-dispatch", to});
    }
    live_ = std::move(ids);
  }
  static std::set<int> range(int n) {
    std::set<int> out;
    for (int i = 0; i < n; ++i) out.insert(i);
    return out;
  }
  // Endpoint `i` added or removed as the managers do it for flat dispatch: its chains, and one
  // rule inserted into or removed from each dispatch chain (ChainTable::insertRule/removeRule).
  void edit(int i, bool add) {
    for (ChainTable* t : {&filter, &filter6}) {
      for (const auto& [chain, endpointChain, in] :
           {std::tuple{"cali-from-wl-dispatch", "cali-fw-" + iface(i), true},
            std::tuple{"cali-to-wl-dispatch", "cali-tw-" + iface(i), false}}) {
        // endpoints() orders the rules by number: an added one goes last (before the DROP).
        const auto& rules = t->desiredChain(chain)->rules;
        if (add) {
          t->updateChain({endpointChain, {rule({}, Action::accept())}});
          Match m = in ? Match().inInterface(iface(i)) : Match().outInterface(iface(i));
          t->insertRule(chain, rules.size() - 1, rule(m, Action::goTo(endpointChain)));
        } else {
          auto at = std::find_if(rules.begin(), rules.end(), [&](const Rule& r) {
            return !r.match.empty() && r.match.criteria().front().text == iface(i);
          });
          ASSERT_NE(at, rules.end());
          t->removeChain(endpointChain);
          t->removeRule(chain, static_cast<size_t>(at - rules.begin()));
        }
      }
    }
    if (add) {
      live_.insert(i);
    } else {
      live_.erase(i);
    }
  }
  static constexpr const char* kFromMap = "filter-cali-from-wl-dispatch-map";
  std::set<int> live_;
  std::vector<Rule> fromRules_;
};

// Endpoint cali500 added to 500 others: its four map elements (after its chains) and nothing
// done to a dispatch chain.
void expectCali500Added(const std::string& tx) {
  EXPECT_EQ(count(tx, "add element"), 4u) << tx;
  EXPECT_EQ(count(tx,
                  "add element inet calico filter-cali-from-wl-dispatch-map { \"cali500\" : "
                  "goto filter-cali-fw-cali500 }\n"),
            1u)
      << tx;
  EXPECT_EQ(count(tx,
                  "add element inet calico filter6-cali-to-wl-dispatch-map { \"cali500\" : "
                  "goto filter6-cali-tw-cali500 }\n"),
            1u)
      << tx;
  EXPECT_LT(at(tx, "add chain inet calico filter-cali-fw-cali500\n"), at(tx, "add element"));
  EXPECT_FALSE(contains(tx, "dispatch ")) << "no dispatch chain flushed or rewritten: " << tx;
  EXPECT_FALSE(contains(tx, "flush")) << tx;
}

TEST_F(NftablesDispatchTest, AnEndpointAddedOrRemovedChangesOneElementPerMapAndNoDispatchChain) {
  endpoints(range(500));
  ASSERT_TRUE(writer.apply());
  // A first apply this large goes in steps (NftablesLargeApplyTest): their text in order.
  std::string tx;
  for (const auto& run : nft.runs) tx += run;
  for (const char* map : {"filter-cali-from-wl-dispatch-map", "filter-cali-to-wl-dispatch-map",
                          "filter6-cali-from-wl-dispatch-map", "filter6-cali-to-wl-dispatch-map"}) {
    const std::string declared = std::string("add map inet calico ") + map;
    EXPECT_TRUE(contains(tx, declared + " { type ifname : verdict; }\n")) << map;
    EXPECT_LT(at(tx, declared), at(tx, "add rule")) << map;
  }
  EXPECT_TRUE(contains(tx,
                       "add rule inet calico filter-cali-from-wl-dispatch iifname vmap "
                       "@filter-cali-from-wl-dispatch-map comment"))
      << tx;
  EXPECT_TRUE(contains(tx,
                       "add rule inet calico filter6-cali-to-wl-dispatch oifname vmap "
                       "@filter6-cali-to-wl-dispatch-map comment"))
      << tx;
  // Elements after the chains they go to are declared (nft refuses a goto to an unknown chain).
  EXPECT_LT(at(tx, "add chain inet calico filter-cali-fw-cali499\n"),
            at(tx,
               "add element inet calico filter-cali-from-wl-dispatch-map { \"cali0\" : goto "
               "filter-cali-fw-cali0, "));

  // One more: its chains and one element in each of the four maps; no dispatch chain touched.
  auto more = range(500);
  more.insert(500);
  endpoints(more);
  ASSERT_TRUE(writer.apply());
  tx = last();
  expectCali500Added(tx);
  EXPECT_FALSE(contains(tx, "add map")) << tx;
  EXPECT_LT(tx.size(), 1500u) << tx;

  // One less: its elements deleted before its chains are.
  auto fewer = more;
  fewer.erase(7);
  endpoints(fewer);
  ASSERT_TRUE(writer.apply());
  tx = last();
  EXPECT_EQ(count(tx, "delete element"), 4u) << tx;
  EXPECT_LT(at(tx, std::string("delete element inet calico ") + kFromMap + " { \"cali7\" }\n"),
            at(tx, "delete chain inet calico filter-cali-fw-cali7\n"))
      << tx;
  EXPECT_LT(at(tx, "delete element inet calico filter6-cali-to-wl-dispatch-map { \"cali7\" }\n"),
            at(tx, "delete chain inet calico filter6-cali-tw-cali7\n"))
      << tx;
  EXPECT_FALSE(contains(tx, "dispatch ")) << tx;
  EXPECT_FALSE(contains(tx, "add element")) << tx;

  // An element whose target changes: deleted and added again (nft refuses to add an existing key).
  filter.updateChain({"cali-other", {rule({}, Action::drop())}});
  endpoints(fewer, {{3, "cali-other"}});
  ASSERT_TRUE(writer.apply());
  tx = last();
  const std::string v4Delete =
      std::string("delete element inet calico ") + kFromMap + " { \"cali3\" }";
  const std::string v4Add = std::string("add element inet calico ") + kFromMap +
                            " { \"cali3\" : goto filter-cali-other }";
  EXPECT_LT(at(tx, v4Delete), at(tx, v4Add)) << tx;
  EXPECT_LT(at(tx, "add chain inet calico filter-cali-other\n"), at(tx, v4Add)) << tx;
  EXPECT_FALSE(contains(tx, "dispatch ")) << tx;
}

// Dispatch chains edited a rule at a time: the writer replays the edits as map elements and
// renders no dispatch chain (an endpoint costs the same at any number of endpoints), and its
// record of the maps stays what a whole rendering finds.
TEST_F(NftablesDispatchTest, EditedDispatchChainsBecomeElementsWithoutRenderingTheChains) {
  endpoints(range(500));
  ASSERT_TRUE(writer.apply());
  size_t rendered = writer.stats().chainsRendered;

  edit(500, true);
  ASSERT_TRUE(writer.apply());
  EXPECT_EQ(writer.stats().chainsRendered - rendered, 4u) << "the new endpoint's chains only";
  std::string tx = last();
  expectCali500Added(tx);

  // Removed, and removed and added back in one apply (nothing to write for that one).
  rendered = writer.stats().chainsRendered;
  edit(7, false);
  edit(42, false);
  edit(42, true);
  ASSERT_TRUE(writer.apply());
  EXPECT_EQ(writer.stats().chainsRendered - rendered, 4u) << "cali42's chains, written again";
  tx = last();
  EXPECT_EQ(count(tx, "delete element"), 4u) << tx;
  EXPECT_LT(at(tx, std::string("delete element inet calico ") + kFromMap + " { \"cali7\" }\n"),
            at(tx, "delete chain inet calico filter-cali-fw-cali7\n"))
      << tx;
  EXPECT_FALSE(contains(tx, "cali42\"")) << tx;
  EXPECT_FALSE(contains(tx, "add element")) << tx;
  EXPECT_FALSE(contains(tx, "dispatch ")) << tx;

  // Whole chains again (as for a tree): rendered and compared with the record, which holds
  // exactly the edited state, so only the new endpoint's elements are written.
  auto more = live_;
  more.insert(501);
  endpoints(more);
  ASSERT_TRUE(writer.apply());
  tx = last();
  EXPECT_EQ(count(tx, "element"), 4u) << tx;
  EXPECT_EQ(count(tx, "\"cali501\" : goto"), 4u) << tx;
  EXPECT_FALSE(contains(tx, "dispatch ")) << tx;
}

// The agent's dispatch by device group (rules/endpoints.h): 500 interfaces in 50 groups. An
// endpoint of an existing group is one pair per set and no verdict (the kernel validates no jump
// graph); a new group adds its verdicts after its chains; the last endpoint of a group takes its
// verdicts and chains with it.
TEST_F(NftablesWriterTest, GroupedDispatchAddsPairsAndVerdictsOnlyForNewGroups) {
  auto groupRule = [](int i, int group, bool in) {
    const std::string iface = "cali" + std::to_string(i);
    Match m = in ? Match().inInterface(iface).inGroup(group)
                 : Match().outInterface(iface).outGroup(group);
    return rule(m, Action::goTo((in ? "cali-fw-g" : "cali-tw-g") + std::to_string(group)));
  };
  auto groupChains = [](ChainTable* t, int group) {
    t->updateChain({"cali-fw-g" + std::to_string(group), {rule({}, Action::accept())}});
    t->updateChain({"cali-tw-g" + std::to_string(group), {rule({}, Action::drop())}});
  };
  const char* kChains[] = {"cali-from-wl-dispatch", "cali-to-wl-dispatch"};
  for (ChainTable* t : {&filter, &filter6}) {
    for (int g = 0; g < 50; ++g) groupChains(t, g);
    for (const char* chain : kChains) {
      const bool in = chain == kChains[0];
      std::vector<Rule> rules;
      for (int i = 0; i < 500; ++i) rules.push_back(groupRule(i, i % 50, in));
      rules.push_back({{}, Action::drop(), "Unknown interface"});
      t->updateChain({chain, rules});
    }
  }
  ASSERT_TRUE(writer.apply());
  std::string tx;
  for (const auto& run : nft.runs) tx += run;
  EXPECT_TRUE(contains(tx,
                       "add set inet calico filter-cali-from-wl-dispatch-gmap-if { type ifname . "
                       "devgroup; }\n"))
      << tx;
  EXPECT_TRUE(contains(
      tx, "add map inet calico filter6-cali-to-wl-dispatch-gmap { type devgroup : verdict; }\n"));
  EXPECT_TRUE(contains(tx,
                       "add rule inet calico filter-cali-from-wl-dispatch iifname . meta iifgroup "
                       "@filter-cali-from-wl-dispatch-gmap-if meta iifgroup vmap "
                       "@filter-cali-from-wl-dispatch-gmap comment"));
  EXPECT_TRUE(contains(tx, "\"cali499\" . 49")) << tx;
  EXPECT_TRUE(contains(tx, "49 : goto filter6-cali-tw-g49")) << tx;

  // An endpoint (each dispatch chain edited as the managers do) in group 3: four pairs.
  auto insert = [&](int i, int group) {
    for (ChainTable* t : {&filter, &filter6}) {
      for (const char* chain : kChains)
        t->insertRule(chain, 500, groupRule(i, group, chain == kChains[0]));
    }
  };
  auto remove = [&](int i) {
    for (ChainTable* t : {&filter, &filter6}) {
      for (const char* chain : kChains) {
        const auto& rules = t->desiredChain(chain)->rules;
        auto at = std::find_if(rules.begin(), rules.end(), [&](const Rule& r) {
          return !r.match.empty() && r.match.criteria().front().text == "cali" + std::to_string(i);
        });
        t->removeRule(chain, static_cast<size_t>(at - rules.begin()));
      }
    }
  };
  size_t rendered = writer.stats().chainsRendered;
  insert(500, 3);
  ASSERT_TRUE(writer.apply());
  tx = last();
  EXPECT_EQ(writer.stats().chainsRendered, rendered) << "no chain rendered";
  EXPECT_EQ(count(tx, "add element"), 4u) << tx;
  EXPECT_EQ(count(tx,
                  "add element inet calico filter-cali-from-wl-dispatch-gmap-if { \"cali500\" . 3 "
                  "}\n"),
            1u)
      << tx;
  EXPECT_FALSE(contains(tx, "goto")) << tx;
  EXPECT_FALSE(contains(tx, "chain")) << tx;

  // In a new group: its chains, then its verdicts.
  for (ChainTable* t : {&filter, &filter6}) groupChains(t, 77);
  insert(501, 77);
  ASSERT_TRUE(writer.apply());
  tx = last();
  EXPECT_EQ(count(tx, "add element"), 8u) << tx;
  EXPECT_LT(at(tx, "add chain inet calico filter-cali-fw-g77\n"),
            at(tx,
               "add element inet calico filter-cali-from-wl-dispatch-gmap { 77 : goto "
               "filter-cali-fw-g77 }\n"))
      << tx;
  EXPECT_FALSE(contains(tx, "dispatch ")) << "no dispatch chain rewritten: " << tx;

  // Group 77's last endpoint gone: pairs and verdicts deleted before the chains.
  remove(501);
  for (ChainTable* t : {&filter, &filter6}) {
    t->removeChain("cali-fw-g77");
    t->removeChain("cali-tw-g77");
  }
  ASSERT_TRUE(writer.apply());
  tx = last();
  EXPECT_EQ(count(tx, "delete element"), 8u) << tx;
  EXPECT_LT(at(tx, "delete element inet calico filter-cali-from-wl-dispatch-gmap { 77 }\n"),
            at(tx, "delete chain inet calico filter-cali-fw-g77\n"))
      << tx;
  // Group 3 keeps its other endpoints: cali500's pairs only.
  remove(500);
  ASSERT_TRUE(writer.apply());
  tx = last();
  EXPECT_EQ(count(tx, "delete element"), 4u) << tx;
  EXPECT_EQ(count(tx, "\"cali500\" . 3"), 4u) << tx;
  EXPECT_FALSE(contains(tx, "goto")) << tx;
}

TEST_F(NftablesDispatchTest, AMapNoRuleUsesIsDeletedAfterItsRuleAndBeforeTheChainsItGoesTo) {
  endpoints({1, 2});
  ASSERT_TRUE(writer.apply());
  endpoints({1});  // a run of one is a plain rule: the map goes
  ASSERT_TRUE(writer.apply());
  std::string tx = last();
  const std::string deleted = std::string("delete map inet calico ") + kFromMap + "\n";
  EXPECT_TRUE(contains(tx, deleted)) << tx;
  EXPECT_TRUE(contains(tx,
                       "add rule inet calico filter-cali-from-wl-dispatch iifname \"cali1\" "
                       "goto filter-cali-fw-cali1"))
      << tx;
  EXPECT_LT(at(tx, "flush chain inet calico filter-cali-from-wl-dispatch\n"), at(tx, deleted));
  EXPECT_LT(at(tx, deleted), at(tx, "delete chain inet calico filter-cali-fw-cali2\n")) << tx;
  EXPECT_FALSE(contains(tx, "element")) << "deleted with the map: " << tx;
  // Back to two: made again.
  endpoints({1, 3});
  ASSERT_TRUE(writer.apply());
  EXPECT_TRUE(contains(last(), std::string("add map inet calico ") + kFromMap)) << last();
}

TEST_F(NftablesDispatchTest, ResyncRepairsMissingExtraAndWrongElements) {
  endpoints({1, 2, 3});
  ASSERT_TRUE(writer.apply());
  // The kernel as written, but for the IPv4 from-map: cali2 missing, cali9 extra, cali3 elsewhere.
  nft.listing = json::array();
  nft.set("brindle-nftables-v2", json::array());
  nft.chain("filter-cali-from-wl-dispatch");
  auto dispatchIds = ids("cali-from-wl-dispatch", fromRules_);
  ASSERT_EQ(dispatchIds.size(), 2u);
  nft.rule("filter-cali-from-wl-dispatch", "cali:" + dispatchIds[0], {kFromMap});
  nft.rule("filter-cali-from-wl-dispatch", "cali:" + dispatchIds[1]);
  nft.map(kFromMap, {{"cali1", "filter-cali-fw-cali1"},
                     {"cali3", "filter-cali-fw-cali1"},
                     {"cali9", "filter-cali-fw-cali9"}});
  nft.map("filter-stale-map", {{"cali1", "filter-cali-fw-cali1"}});  // used by no rule
  writer.requestResync();
  ASSERT_TRUE(writer.apply());
  const std::string tx = last();
  const std::string head = std::string("inet calico ") + kFromMap;
  EXPECT_TRUE(contains(tx, "delete element " + head + " { \"cali3\", \"cali9\" }\n")) << tx;
  EXPECT_TRUE(contains(tx, "add element " + head +
                               " { \"cali2\" : goto filter-cali-fw-cali2, \"cali3\" : goto "
                               "filter-cali-fw-cali3 }\n"))
      << tx;
  EXPECT_FALSE(contains(tx, "flush chain inet calico filter-cali-from-wl-dispatch\n"))
      << "its rules are in sync: " << tx;
  EXPECT_FALSE(contains(tx, "add map " + head)) << tx;
  EXPECT_TRUE(contains(tx, "delete map inet calico filter-stale-map\n")) << tx;
  // Maps the listing lacks (the other three) are made again, with the chains using them.
  EXPECT_TRUE(contains(tx, "add map inet calico filter6-cali-from-wl-dispatch-map")) << tx;
  // In sync now: a resync that lists the same writes nothing more for the map.
  nft.listing = json::array();
  nft.set("brindle-nftables-v2", json::array());
  nft.chain("filter-cali-from-wl-dispatch");
  nft.rule("filter-cali-from-wl-dispatch", "cali:" + dispatchIds[0], {kFromMap});
  nft.rule("filter-cali-from-wl-dispatch", "cali:" + dispatchIds[1]);
  nft.map(kFromMap, {{"cali1", "filter-cali-fw-cali1"},
                     {"cali2", "filter-cali-fw-cali2"},
                     {"cali3", "filter-cali-fw-cali3"}});
  writer.requestResync();
  ASSERT_TRUE(writer.apply());
  EXPECT_FALSE(contains(last(), kFromMap)) << last();
}

// No listing (nft 1.0.6 reads every table's rules for `list tables`): ours and a crashed probe's
// scratch table are added and deleted in one transaction, so they are gone whether or not there.
TEST(NftablesRemoveTable, AddsAndDeletesInOneTransaction) {
  FakeExecutor nft;
  ASSERT_TRUE(NftablesWriter::removeTable(nft));
  EXPECT_EQ(nft.runs, std::vector<std::string>{
                          "add table inet calico\ndelete table inet calico\n"
                          "add table inet calico-probe\ndelete table inet calico-probe\n"});
  nft.fail = true;
  EXPECT_FALSE(NftablesWriter::removeTable(nft)) << "a failure is reported";
}

}  // namespace
}  // namespace brindle::dataplane
