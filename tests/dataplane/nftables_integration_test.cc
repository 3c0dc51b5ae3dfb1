// NftablesWriter against the real nft and kernel (root; label `integration`) inside throw-away
// namespaces: the `nft` program through `ip netns exec`, libnftables from a thread that entered
// the namespace, drift made with nft repaired, other tables untouched, a refused transaction
// changing nothing, and pings through a forward base chain and a dispatch verdict map.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "dataplane/iptables_render.h"
#include "dataplane/nftables_writer.h"
#include "netns_fixture.h"
#include "os/netns.h"

namespace brindle::dataplane {
namespace {

using json = nlohmann::json;
using testing::sh;
using testing::shCode;
using testing::TestNetns;

using testing::contains;
using testing::rule;

// The agent's shape in small: dispatch, per-endpoint chains, a selector set, hooks in filter,
// nat and raw, for both versions.
void desire(ChainTable& filter, ChainTable& nat, ChainTable& raw, IpSets& sets) {
  const bool v4 = filter.version() == IpVersion::kV4;
  const std::string set = v4 ? "cali40s:it" : "cali60s:it";
  const std::string net = v4 ? "10.65.0.0/16" : "fd00:65::/64";
  sets.replaceMembers(
      {set, "hash:net", filter.version()},
      v4 ? std::set<std::string>{"10.65.0.1", "10.65.0.2"} : std::set<std::string>{"fd00:65::1"});
  filter.updateChain({"cali-FORWARD",
                      {rule(Match().inInterface("cali1"), Action::goTo("cali-fw-cali1")),
                       rule(Match().inInterface("cali2"), Action::goTo("cali-fw-cali2")),
                       rule(Match().outInterface("cali+"), Action::jump("cali-to-wl"))}});
  for (const char* ep : {"cali1", "cali2"}) {
    filter.updateChain(
        {std::string("cali-fw-") + ep,
         {rule(Match().sourceIpSet(set), Action::accept()),
          rule(Match().sourceNet(net), Action::accept()), rule({}, Action::drop())}});
  }
  filter.updateChain({"cali-to-wl",
                      {rule(Match().protocol("tcp").destPorts("80,443"), Action::accept()),
                       rule({}, Action::drop())}});
  filter.setRuleInsertions("FORWARD", {rule({}, Action::jump("cali-FORWARD"))});
  nat.updateChain(
      {"cali-nat-outgoing", {rule(Match().sourceNet(net).notDestNet(net), Action::masquerade())}});
  nat.setRuleInsertions("POSTROUTING", {rule({}, Action::jump("cali-nat-outgoing"))});
  raw.updateChain(
      {"cali-PREROUTING", {rule(Match().inInterface("cali+"), Action::setMark(0x0, 0xf000000))}});
  raw.setRuleInsertions("PREROUTING", {rule({}, Action::jump("cali-PREROUTING"))});
}

// All the tables of both versions, desired like an agent, on one executor.
struct Backend {
  explicit Backend(NftExecutor& nft, NftablesOptions options = {})
      : writer(tables(), nft, std::move(options)) {
    desire(filter4, nat4, raw4, writer);
    desire(filter6, nat6, raw6, writer);
  }
  std::vector<ChainTable*> tables() { return {&filter4, &nat4, &raw4, &filter6, &nat6, &raw6}; }
  ChainTable filter4{TableName::kFilter, IpVersion::kV4}, nat4{TableName::kNat, IpVersion::kV4},
      raw4{TableName::kRaw, IpVersion::kV4}, filter6{TableName::kFilter, IpVersion::kV6},
      nat6{TableName::kNat, IpVersion::kV6}, raw6{TableName::kRaw, IpVersion::kV6};
  NftablesWriter writer;
};

// What the kernel's table holds, comparable: "chain", "chain: <comment>" and "set: elements"
// (maps too).
std::set<std::string> kernelTable(const std::string& ns) {
  const std::string text = sh({"nft", "-j", "list", "table", "inet", "calico"}, ns);
  std::set<std::string> out;
  if (text.empty()) return out;
  const json doc = json::parse(text);
  for (const auto& item : doc.at("nftables")) {
    if (item.contains("chain")) out.insert(item["chain"]["name"].get<std::string>());
    if (item.contains("rule")) {
      out.insert(item["rule"]["chain"].get<std::string>() + ": " +
                 item["rule"].value("comment", "(none)"));
    }
    for (const char* kind : {"set", "map"}) {
      if (!item.contains(kind)) continue;
      out.insert(item[kind]["name"].get<std::string>() + ": " +
                 item[kind].value("elem", json::array()).dump());
    }
  }
  return out;
}

class NftablesIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  }
};

TEST_F(NftablesIntegrationTest, NftProgramWritesRepairsDriftAndLeavesOtherTablesAlone) {
  TestNetns ns;
  // Not ours: iptables-nft's `table ip filter` and someone's `table inet other`.
  sh({"iptables", "-A", "FORWARD", "-s", "10.66.0.0/16", "-j", "DROP"}, ns.name());
  sh({"nft", "-f", "-"}, ns.name(),
     "add table inet other\nadd chain inet other c { type filter hook input priority 10; }\n"
     "add rule inet other c tcp dport 22 accept comment \"theirs\"\n");
  const std::string theirs = sh({"nft", "list", "table", "inet", "other"}, ns.name());
  os::ProcessRunner host;
  auto nft = nftCommandExecutor(host, {"ip", "netns", "exec", ns.name()});
  std::set<std::string> written;
  {
    Backend backend(*nft);
    ASSERT_TRUE(backend.writer.apply()) << backend.writer.lastTransaction();
    EXPECT_EQ(backend.writer.stats().transactions, 1);
    written = kernelTable(ns.name());
  }
  for (const char* want :
       {"filter-FORWARD", "nat-POSTROUTING", "raw-PREROUTING", "filter-cali-fw-cali1",
        "filter6-cali-fw-cali1", "brindle-nftables-v2: []",
        "cali40s-it: [\"10.65.0.1\",\"10.65.0.2\"]"}) {
    EXPECT_TRUE(written.count(want)) << want;
  }
  const std::string listed = sh({"nft", "list", "table", "inet", "calico"}, ns.name());
  EXPECT_TRUE(contains(listed, "iifname vmap @filter-cali-FORWARD-map")) << listed;
  EXPECT_TRUE(contains(listed, "\"cali1\" : goto filter-cali-fw-cali1")) << listed;
  EXPECT_TRUE(
      written.count("filter6-cali-FORWARD-map: [[\"cali1\",{\"goto\":{\"target\":"
                    "\"filter6-cali-fw-cali1\"}}],[\"cali2\",{\"goto\":{\"target\":"
                    "\"filter6-cali-fw-cali2\"}}]]"));
  EXPECT_TRUE(contains(listed, "comment \"brindle nftables v2\"")) << listed;

  // A restart with the same desired state: one listing, nothing written.
  Backend backend(*nft);
  ASSERT_TRUE(backend.writer.apply());
  EXPECT_EQ(backend.writer.stats().transactions, 0) << backend.writer.lastTransaction();
  EXPECT_EQ(backend.writer.stats().lists, 1);

  // Drift: a chain flushed, a foreign rule in ours, a chain of someone's in our table, an element
  // gone and one added, a base chain deleted, a dispatch map element gone and one changed.
  sh({"nft", "-f", "-"}, ns.name(),
     "flush chain inet calico filter-cali-to-wl\n"
     "add rule inet calico filter-cali-fw-cali2 counter\n"
     "add chain inet calico extra\n"
     "delete element inet calico cali40s-it { 10.65.0.2 }\n"
     "add element inet calico cali40s-it { 10.65.0.9 }\n"
     "flush chain inet calico raw-PREROUTING\ndelete chain inet calico raw-PREROUTING\n"
     "delete element inet calico filter-cali-FORWARD-map { \"cali1\", \"cali2\" }\n"
     "add element inet calico filter-cali-FORWARD-map { \"cali2\" : goto filter-cali-fw-cali1 }\n");
  ASSERT_NE(kernelTable(ns.name()), written);
  backend.writer.requestResync();
  ASSERT_TRUE(backend.writer.apply()) << backend.writer.lastTransaction();
  EXPECT_EQ(kernelTable(ns.name()), written) << backend.writer.lastTransaction();
  EXPECT_EQ(backend.writer.stats().transactions, 1);

  // Incremental: one chain, one member.
  backend.filter4.updateChain({"cali-to-wl", {rule({}, Action::accept())}});
  backend.writer.addMembers("cali40s:it", {"10.65.0.3"});
  ASSERT_TRUE(backend.writer.apply());
  const std::string& tx = backend.writer.lastTransaction();
  EXPECT_TRUE(contains(tx, "flush chain inet calico filter-cali-to-wl\n")) << tx;
  EXPECT_FALSE(contains(tx, "cali-fw-")) << tx;
  EXPECT_TRUE(
      contains(sh({"nft", "list", "set", "inet", "calico", "cali40s-it"}, ns.name()), "10.65.0.3"));

  // Everything removed: our table is empty but for the marker; theirs as they were.
  for (ChainTable* t : backend.tables()) {
    for (const auto& [name, chain] : std::map(t->desiredChains())) t->removeChain(name);
    for (const auto& [hook, rules] : std::map(t->insertions())) t->setRuleInsertions(hook, {});
  }
  backend.writer.removeSet("cali40s:it");
  backend.writer.removeSet("cali60s:it");
  ASSERT_TRUE(backend.writer.apply()) << backend.writer.lastTransaction();
  EXPECT_EQ(kernelTable(ns.name()), std::set<std::string>{"brindle-nftables-v2: []"});
  ASSERT_TRUE(NftablesWriter::removeTable(*nft));
  ASSERT_TRUE(NftablesWriter::removeTable(*nft)) << "absent is fine";
  EXPECT_EQ(shCode({"nft", "list", "table", "inet", "calico-probe"}, ns.name()), 1);
  EXPECT_EQ(shCode({"nft", "list", "table", "inet", "calico"}, ns.name()), 1);
  EXPECT_EQ(sh({"nft", "list", "table", "inet", "other"}, ns.name()), theirs);
  EXPECT_TRUE(contains(sh({"iptables-save", "-t", "filter"}, ns.name()),
                       "-A FORWARD -s 10.66.0.0/16 -j DROP"));
}

TEST_F(NftablesIntegrationTest, ARefusedTransactionChangesNothingAndTheNextApplyRecovers) {
  TestNetns ns;
  os::ProcessRunner host;
  auto nft = nftCommandExecutor(host, {"ip", "netns", "exec", ns.name()});
  Backend backend(*nft);
  ASSERT_TRUE(backend.writer.apply());
  const std::set<std::string> before = kernelTable(ns.name());
  // A jump loop the kernel refuses at commit (reachable from the forward hook) and a new member,
  // in one transaction.
  backend.filter4.updateChain({"cali-to-wl", {rule({}, Action::jump("cali-loop-a"))}});
  backend.filter4.updateChain({"cali-loop-a", {rule({}, Action::jump("cali-loop-b"))}});
  backend.filter4.updateChain({"cali-loop-b", {rule({}, Action::jump("cali-loop-a"))}});
  backend.writer.addMembers("cali40s:it", {"10.65.0.7"});
  Status s = backend.writer.apply();
  ASSERT_FALSE(s);
  EXPECT_TRUE(namesInputLine(s.message())) << s.message();
  EXPECT_EQ(kernelTable(ns.name()), before);
  EXPECT_TRUE(backend.writer.dirty());
  // The loop goes: the next apply lists the kernel and writes the rest.
  backend.filter4.updateChain({"cali-to-wl", {rule({}, Action::accept())}});
  backend.filter4.removeChain("cali-loop-a");
  backend.filter4.removeChain("cali-loop-b");
  ASSERT_TRUE(backend.writer.apply()) << backend.writer.lastTransaction();
  EXPECT_EQ(backend.writer.stats().lists, 2);
  const std::set<std::string> after = kernelTable(ns.name());
  EXPECT_NE(after, before);
  EXPECT_TRUE(after.count("cali40s-it: [\"10.65.0.1\",\"10.65.0.2\",\"10.65.0.7\"]"));

  // Probes (a scratch table, committed and deleted): a rule using a set of the other family is
  // refused.
  std::vector<std::vector<Rule>> chains = {
      {rule(Match().sourceIpSet("cali40s:it"), Action::accept())},
      {rule(Match().sourceIpSet("cali60s:it"), Action::accept())}};
  auto whole = backend.writer.probe(TableName::kFilter, IpVersion::kV4, chains);
  ASSERT_TRUE(whole) << whole.message();
  EXPECT_FALSE(whole->accepted);
  EXPECT_TRUE(namesInputLine(whole->error)) << whole->error;
  auto good = backend.writer.probe(TableName::kFilter, IpVersion::kV4, {chains[0]});
  ASSERT_TRUE(good) << good.message();
  EXPECT_TRUE(good->accepted) << good->error;
  // Bisection over probes finds the refused rules, as the agent does after a refusal.
  std::vector<Rule> rules = {chains[0][0], chains[1][0], rule({}, Action::drop()),
                             rule(Match().destIpSet("cali60s:it"), Action::drop())};
  auto refused = findRefused(rules.size(), [&](const std::vector<size_t>& subset) -> Result<bool> {
    std::vector<Rule> some;
    for (size_t i : subset) some.push_back(rules[i]);
    BRINDLE_ASSIGN_OR_RETURN(auto r,
                             backend.writer.probe(TableName::kFilter, IpVersion::kV4, {some}));
    return r.accepted;
  });
  ASSERT_TRUE(refused) << refused.message();
  EXPECT_EQ(*refused, (std::vector<size_t>{1, 3}));
  EXPECT_EQ(kernelTable(ns.name()), after);
  EXPECT_FALSE(contains(sh({"nft", "list", "tables"}, ns.name()), "calico-probe"));
}

TEST_F(NftablesIntegrationTest, AColdStartInStepsRefusedHooksNothingAndTheNextApplyRecovers) {
  TestNetns ns;
  os::ProcessRunner host;
  auto nft = nftCommandExecutor(host, {"ip", "netns", "exec", ns.name()});
  Backend backend(*nft);
  // Enough new chains for the writer to write in steps; one rule nft refuses (a set of the
  // other family) in a chunk of rules, and a jump loop reachable from the hook.
  auto policies = [&](bool badSet, bool loop) {
    for (int i = 0; i < 100; ++i) {
      const std::string set = badSet && i == 70 ? "cali60s:it" : "cali40s:it";
      backend.filter4.updateChain(
          {"cali-pi-" + std::to_string(i),
           {rule(Match().sourceIpSet(set), Action::accept()),
            rule({}, Action::jump(loop && i == 99 ? "cali-pi-0" : "cali-to-wl"))}});
    }
    backend.filter4.updateChain(
        {"cali-pi-0", {rule({}, Action::jump(loop ? "cali-pi-99" : "cali-to-wl"))}});
  };
  policies(true, true);
  backend.filter4.updateChain(
      {"cali-fw-cali1", {rule({}, Action::jump("cali-pi-0")), rule({}, Action::drop())}});
  Status s = backend.writer.apply();
  ASSERT_FALSE(s);
  EXPECT_TRUE(namesInputLine(s.message())) << s.message();
  EXPECT_EQ(backend.writer.stats().transactions, 2);  // the declarations, the refused chunk
  EXPECT_TRUE(backend.writer.dirty());
  // The steps before the refused one left declared chains and filled sets, but no hook: nothing
  // reaches them.
  const std::set<std::string> partial = kernelTable(ns.name());
  EXPECT_TRUE(partial.count("filter-cali-pi-99")) << "declared in the first step";
  for (const char* base : {"filter-FORWARD", "raw-PREROUTING", "nat-POSTROUTING"}) {
    EXPECT_FALSE(partial.count(base)) << base;
  }
  // The loop alone: refused in the last step (the kernel checks loops from the hooks); the
  // next apply lists the table first.
  policies(false, true);
  s = backend.writer.apply();
  ASSERT_FALSE(s);
  EXPECT_TRUE(namesInputLine(s.message())) << s.message();
  EXPECT_EQ(backend.writer.stats().lists, 2);
  // ... and once it is gone, everything is written and hooked.
  policies(false, false);
  ASSERT_TRUE(backend.writer.apply()) << backend.writer.lastTransaction();
  EXPECT_EQ(backend.writer.stats().lists, 3);
  const std::set<std::string> after = kernelTable(ns.name());
  EXPECT_TRUE(after.count("filter-FORWARD"));
  EXPECT_TRUE(after.count("cali40s-it: [\"10.65.0.1\",\"10.65.0.2\"]"));
  size_t policyRules = 0;
  for (const auto& line : after)
    policyRules += line.starts_with("filter-cali-pi-") && contains(line, ": cali:");
  EXPECT_EQ(policyRules, 199u);  // 99 chains of two rules, cali-pi-0 of one
  EXPECT_FALSE(backend.writer.dirty());
}

TEST_F(NftablesIntegrationTest, LibnftablesFromAThreadInsideTheNamespace) {
  TestNetns ns;
  std::set<std::string> viaLib;
  std::vector<double> millis;
  Status s = os::runInNetns(ns.name(), [&]() -> Status {
    BRINDLE_ASSIGN_OR_RETURN(auto nft, openLibNftables());
    Backend backend(*nft);
    if (Status a = backend.writer.apply(); !a) return a;
    // Endpoint-sized changes on one context: nft's cache survives between transactions.
    for (int i = 0; i < 5; ++i) {
      backend.filter4.updateChain(
          {"cali-fw-cali" + std::to_string(10 + i), {rule({}, Action::drop())}});
      backend.writer.addMembers("cali40s:it", {"10.65.1." + std::to_string(i)});
      auto start = std::chrono::steady_clock::now();
      if (Status a = backend.writer.apply(); !a) return a;
      millis.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
    BRINDLE_ASSIGN_OR_RETURN(auto text, nft->listJson("list table inet calico"));
    const json doc = json::parse(text);
    for (const auto& item : doc.at("nftables")) {
      if (item.contains("chain")) viaLib.insert(item["chain"]["name"].get<std::string>());
    }
    // A check commits nothing; a bad line is named.
    if (Status c = nft->check("add table inet checked\n"); !c) return c;
    if (nft->listJson("list table inet checked")) {
      return makeError(ErrorCode::kInternal, "check committed a table");
    }
    Status bad = nft->check("add table inet checked\nadd chain inet checked c { nonsense; }\n");
    if (bad || !namesInputLine(bad.message())) {
      return makeError(ErrorCode::kInternal, "check of a bad line: not an error naming it");
    }
    auto absent = nft->listJson("list table inet nosuch");
    if (absent || absent.code() != ErrorCode::kNotFound) {
      return makeError(ErrorCode::kInternal, "listing an absent table: not kNotFound");
    }
    return Status::ok();
  });
  ASSERT_TRUE(s) << s.message();
  EXPECT_TRUE(viaLib.count("filter-cali-fw-cali14"));
  std::set<std::string> kernel = kernelTable(ns.name());
  EXPECT_TRUE(kernel.count("filter-cali-fw-cali14"));
  EXPECT_TRUE(kernel.count("filter6-cali-fw-cali1"));
  // The test's own namespace never saw it.
  os::ProcessRunner host;
  auto outside = host.run({{"nft", "list", "table", "inet", "calico"}, ""});
  ASSERT_TRUE(outside);
  EXPECT_FALSE(contains(outside->out, "filter-cali-fw-cali14"));
  std::sort(millis.begin(), millis.end());
  std::cout << "libnftables: one chain and one element, median " << millis[millis.size() / 2]
            << " ms\n";
}

// Independent transactions through libnftables go two at a time; a refused one is named and
// stops the rest, and the ones taken before it are committed.
TEST_F(NftablesIntegrationTest, LibnftablesRunsIndependentTransactionsTwoAtATime) {
  TestNetns ns;
  // Twelve transactions, each one chain with a rule, named <prefix><i>.
  auto chains = [](const std::string& prefix) {
    std::vector<std::string> txs;
    for (int i = 0; i < 12; ++i) {
      const std::string c = prefix + std::to_string(i);
      txs.push_back("add chain inet calico " + c + "\nadd rule inet calico " + c + " tcp dport " +
                    std::to_string(1000 + i) + " accept\n");
    }
    return txs;
  };
  size_t allFailed = 0, failed = 0;
  Status all, bad;
  Status s = os::runInNetns(ns.name(), [&]() -> Status {
    BRINDLE_ASSIGN_OR_RETURN(auto nft, openLibNftables());
    if (Status t = nft->run("add table inet calico\n"); !t) return t;
    all = nft->runIndependent(chains("c"), &allFailed);
    std::vector<std::string> txs = chains("d");
    txs[5] = "add rule inet calico c0 jump nosuch\n";  // a chain that does not exist
    bad = nft->runIndependent(txs, &failed);
    return Status::ok();
  });
  ASSERT_TRUE(s) << s.message();
  ASSERT_TRUE(all) << all.message();
  EXPECT_EQ(allFailed, 12u) << "none failed";
  ASSERT_FALSE(bad);
  EXPECT_EQ(failed, 5u);
  EXPECT_TRUE(namesInputLine(bad.message())) << bad.message();
  const std::set<std::string> kernel = kernelTable(ns.name());
  for (int i = 0; i < 12; ++i) EXPECT_TRUE(kernel.count("c" + std::to_string(i))) << i;
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(kernel.count("d" + std::to_string(i))) << "taken before the refused one: " << i;
  }
  EXPECT_FALSE(kernel.count("d5"));
}

// A cold start written in many small steps, two at a time through libnftables, leaves what the
// `nft` program writing them one by one leaves; a refused rule in a chunk hooks nothing.
TEST_F(NftablesIntegrationTest, LibnftablesColdStartInParallelStepsMatchesOneByOne) {
  TestNetns lanes, serial;
  auto policies = [](Backend& backend, bool badSet) {
    for (int i = 0; i < 200; ++i) {
      const std::string set = badSet && i == 150 ? "cali60s:it" : "cali40s:it";
      backend.filter4.updateChain(
          {"cali-pi-" + std::to_string(i),
           {rule(Match().sourceIpSet(set).protocol("tcp").destPorts("80,443"), Action::accept()),
            rule({}, Action::jump("cali-to-wl"))}});
    }
    backend.filter4.updateChain(
        {"cali-fw-cali1",
         {rule({}, Action::jump("cali-pi-0")), rule({}, Action::jump("cali-pi-199")),
          rule({}, Action::drop())}});
  };
  int transactions = 0;
  Status refused;
  std::set<std::string> partial;
  Status s = os::runInNetns(lanes.name(), [&]() -> Status {
    BRINDLE_ASSIGN_OR_RETURN(auto nft, openLibNftables());
    Backend backend(*nft, {.ruleStepBytes = 2048});
    policies(backend, true);
    refused = backend.writer.apply();
    partial = kernelTable(lanes.name());
    policies(backend, false);
    if (Status a = backend.writer.apply(); !a) return a;
    transactions = backend.writer.stats().transactions;
    return Status::ok();
  });
  ASSERT_TRUE(s) << s.message();
  ASSERT_FALSE(refused);
  EXPECT_TRUE(namesInputLine(refused.message())) << refused.message();
  for (const char* base : {"filter-FORWARD", "raw-PREROUTING", "nat-POSTROUTING"}) {
    EXPECT_FALSE(partial.count(base)) << base;
  }
  EXPECT_GT(transactions, 20) << "many small steps";

  os::ProcessRunner host;
  auto nft = nftCommandExecutor(host, {"ip", "netns", "exec", serial.name()});
  Backend backend(*nft);
  policies(backend, false);
  ASSERT_TRUE(backend.writer.apply());
  const std::set<std::string> want = kernelTable(serial.name());
  EXPECT_TRUE(want.count("filter-FORWARD"));
  EXPECT_EQ(kernelTable(lanes.name()), want);
}

// a (10.201.1.1) -- r -- b (10.201.2.1): r forwards, and its forward hook is ours.
struct Routed {
  Routed() {
    sh({"ip", "link", "add", "va", "type", "veth", "peer", "name", "ra", "netns", r.name()},
       a.name());
    sh({"ip", "link", "add", "vb", "type", "veth", "peer", "name", "rb", "netns", r.name()},
       b.name());
    sh({"ip", "addr", "add", "10.201.1.1/24", "dev", "va"}, a.name());
    sh({"ip", "addr", "add", "10.201.2.1/24", "dev", "vb"}, b.name());
    sh({"ip", "addr", "add", "10.201.1.254/24", "dev", "ra"}, r.name());
    sh({"ip", "addr", "add", "10.201.2.254/24", "dev", "rb"}, r.name());
    for (auto [ns, dev] :
         {std::pair{&a, "va"}, std::pair{&b, "vb"}, std::pair{&r, "ra"}, std::pair{&r, "rb"}}) {
      sh({"ip", "link", "set", dev, "up"}, ns->name());
    }
    sh({"ip", "route", "add", "default", "via", "10.201.1.254"}, a.name());
    sh({"ip", "route", "add", "default", "via", "10.201.2.254"}, b.name());
    sh({"sysctl", "-qw", "net.ipv4.ip_forward=1"}, r.name());
  }
  bool pingFails() const { return shCode(ping, a.name()) != 0; }
  // Passes: a ping answered within a few tries (the first may wait on neighbour discovery).
  bool passes() const {
    for (int i = 0; i < 5; ++i) {
      if (shCode(ping, a.name()) == 0) return true;
    }
    return false;
  }

  TestNetns a, r, b;
  const std::vector<std::string> ping = {"ping", "-c", "1", "-W", "1", "10.201.2.1"};
  // r's IPv4 filter table, written through the `nft` program in r.
  os::ProcessRunner host;
  NftExecutorPtr nft = nftCommandExecutor(host, {"ip", "netns", "exec", r.name()});
  ChainTable filter{TableName::kFilter, IpVersion::kV4};
  NftablesWriter writer{{&filter}, *nft};
};

TEST_F(NftablesIntegrationTest, ForwardBaseChainDecidesWhetherAPingGetsThrough) {
  Routed net;
  ASSERT_TRUE(net.passes());
  ChainTable& filter = net.filter;
  NftablesWriter& writer = net.writer;
  writer.replaceMembers({"cali40s:src", "hash:net", IpVersion::kV4}, {"10.201.1.1"});
  filter.updateChain({"cali-FORWARD",
                      {rule(Match().protocol("icmp").sourceIpSet("cali40s:src"), Action::drop())}});
  filter.setRuleInsertions("FORWARD", {rule({}, Action::jump("cali-FORWARD"))});
  ASSERT_TRUE(writer.apply()) << writer.lastTransaction();
  EXPECT_TRUE(net.pingFails());
  // A net joins the set: it becomes an interval set, still holding a's address.
  writer.addMembers("cali40s:src", {"10.99.0.0/16"});
  ASSERT_TRUE(writer.apply()) << writer.lastTransaction();
  EXPECT_TRUE(contains(writer.lastTransaction(), "delete set inet calico cali40s-src\n"));
  EXPECT_TRUE(net.pingFails());
  writer.removeMembers("cali40s:src", {"10.201.1.1"});
  ASSERT_TRUE(writer.apply()) << writer.lastTransaction();
  EXPECT_TRUE(net.passes());
  filter.updateChain({"cali-FORWARD", {rule(Match().protocol("icmp"), Action::drop())}});
  ASSERT_TRUE(writer.apply());
  EXPECT_TRUE(net.pingFails());
  filter.setRuleInsertions("FORWARD", {});  // the hook goes with its last rule
  ASSERT_TRUE(writer.apply());
  EXPECT_TRUE(net.passes());
}

// Dispatch through a named verdict map in the kernel: each direction's packets go by their
// incoming interface to that interface's chain; elements change one by one, and one deleted
// behind the writer's back comes back on resync.
TEST_F(NftablesIntegrationTest, PacketsAreDispatchedThroughTheMapAndItsDriftIsRepaired) {
  Routed net;
  ASSERT_TRUE(net.passes());
  ChainTable& filter = net.filter;
  NftablesWriter& writer = net.writer;
  auto dispatch = [&](const std::string& fromA) {
    filter.updateChain({"cali-from-wl-dispatch",
                        {rule(Match().inInterface("ra"), Action::goTo(fromA)),
                         rule(Match().inInterface("rb"), Action::goTo("cali-fw-rb")),
                         {{}, Action::drop(), "Unknown interface"}}});
  };
  filter.updateChain({"cali-fw-ra", {rule({}, Action::accept())}});
  filter.updateChain({"cali-fw-rb", {rule({}, Action::accept())}});
  filter.updateChain({"cali-fw-drop", {rule(Match().protocol("icmp"), Action::drop())}});
  dispatch("cali-fw-ra");
  filter.setRuleInsertions("FORWARD", {rule({}, Action::jump("cali-from-wl-dispatch"))});
  ASSERT_TRUE(writer.apply()) << writer.lastTransaction();
  const std::string listed =
      sh({"nft", "list", "chain", "inet", "calico", "filter-cali-from-wl-dispatch"}, net.r.name());
  EXPECT_TRUE(contains(listed, "iifname vmap @filter-cali-from-wl-dispatch-map")) << listed;
  EXPECT_TRUE(net.passes());

  // a's interface goes to a chain dropping ICMP: its element is replaced, the chain left alone.
  dispatch("cali-fw-drop");
  ASSERT_TRUE(writer.apply()) << writer.lastTransaction();
  EXPECT_FALSE(contains(writer.lastTransaction(), "flush")) << writer.lastTransaction();
  EXPECT_TRUE(net.pingFails());
  dispatch("cali-fw-ra");
  ASSERT_TRUE(writer.apply()) << writer.lastTransaction();
  EXPECT_TRUE(net.passes());

  // Deleted behind our back: a's packets meet the "Unknown interface" drop until a resync.
  sh({"nft", "delete", "element", "inet", "calico", "filter-cali-from-wl-dispatch-map",
      "{ \"ra\" }"},
     net.r.name());
  EXPECT_TRUE(net.pingFails());
  ASSERT_TRUE(writer.apply());
  EXPECT_TRUE(net.pingFails()) << "no resync, no listing: the writer trusts its record";
  writer.requestResync();
  ASSERT_TRUE(writer.apply()) << writer.lastTransaction();
  EXPECT_TRUE(contains(writer.lastTransaction(),
                       "add element inet calico filter-cali-from-wl-dispatch-map { \"ra\" : goto "
                       "filter-cali-fw-ra }"))
      << writer.lastTransaction();
  EXPECT_FALSE(contains(writer.lastTransaction(), "flush")) << writer.lastTransaction();
  EXPECT_TRUE(net.passes());
}

// Dispatch by device group in the kernel (the agent's workload dispatch, rules/endpoints.h): a
// packet goes to its group's chain only when its interface carries the group admitted for it.
// An interface moving to another group has its old group admitted, to the new group's chains,
// until its link has the new one; the old group's chains go at once.
TEST_F(NftablesIntegrationTest, PacketsAreDispatchedByTheirInterfacesGroup) {
  Routed net;
  ASSERT_TRUE(net.passes());
  ChainTable& filter = net.filter;
  NftablesWriter& writer = net.writer;
  constexpr uint32_t kOpen = 0x10000001, kClosed = 0x10000002, kOther = 0x10000003;
  auto entry = [](const std::string& iface, uint32_t group, const std::string& chain) {
    return rule(Match().inInterface(iface).inGroup(group), Action::goTo(chain));
  };
  auto group = [&](const std::string& iface, uint32_t g) {
    sh({"ip", "link", "set", iface, "group", std::to_string(g)}, net.r.name());
  };
  const Rule unknown{{}, Action::drop(), "Unknown interface"};
  filter.updateChain({"cali-fw-g10000001", {rule({}, Action::accept())}});
  filter.updateChain({"cali-fw-g10000003", {rule({}, Action::accept())}});
  filter.updateChain({"cali-from-wl-dispatch",
                      {entry("ra", kOpen, "cali-fw-g10000001"),
                       entry("rb", kOther, "cali-fw-g10000003"), unknown}});
  filter.setRuleInsertions("FORWARD", {rule({}, Action::jump("cali-from-wl-dispatch"))});
  ASSERT_TRUE(writer.apply()) << writer.lastTransaction();
  const std::string listed =
      sh({"nft", "list", "chain", "inet", "calico", "filter-cali-from-wl-dispatch"}, net.r.name());
  EXPECT_TRUE(contains(listed,
                       "iifname . iifgroup @filter-cali-from-wl-dispatch-gmap-if iifgroup "
                       "vmap @filter-cali-from-wl-dispatch-gmap"))
      << listed;
  group("rb", kOther);  // b's replies
  EXPECT_TRUE(net.pingFails()) << "ra carries no group yet";
  group("ra", kOther);
  EXPECT_TRUE(net.pingFails()) << "a group not admitted for ra: Unknown interface";
  group("ra", kOpen);
  EXPECT_TRUE(net.passes());

  // ra moves to a group dropping ICMP; its link still has the old one, which now leads to the new
  // chain; the old chain goes in the same transaction.
  Rule moving = entry("ra", kOpen, "cali-fw-g10000002");
  moving.comment = "Interface moving to its new group";
  filter.updateChain({"cali-fw-g10000002", {rule(Match().protocol("icmp"), Action::drop())}});
  filter.removeChain("cali-fw-g10000001");
  filter.updateChain({"cali-from-wl-dispatch",
                      {moving, entry("ra", kClosed, "cali-fw-g10000002"),
                       entry("rb", kOther, "cali-fw-g10000003"), unknown}});
  ASSERT_TRUE(writer.apply()) << writer.lastTransaction();
  EXPECT_TRUE(net.pingFails()) << "the old group leads to the new chain";
  group("ra", kClosed);
  EXPECT_TRUE(net.pingFails()) << "the new group's chain";

  // Moved: the old group is no longer admitted.
  filter.updateChain({"cali-from-wl-dispatch",
                      {entry("ra", kClosed, "cali-fw-g10000002"),
                       entry("rb", kOther, "cali-fw-g10000003"), unknown}});
  ASSERT_TRUE(writer.apply()) << writer.lastTransaction();
  group("ra", kOpen);
  EXPECT_TRUE(net.pingFails()) << "a group no longer admitted";
  group("ra", kClosed);
  filter.updateChain({"cali-fw-g10000002", {rule({}, Action::accept())}});
  ASSERT_TRUE(writer.apply()) << writer.lastTransaction();
  EXPECT_TRUE(net.passes());

  // rb leaves: a run of one is a plain rule, and the set and map go with the run.
  filter.removeRule("cali-from-wl-dispatch", 1);
  filter.removeChain("cali-fw-g10000003");
  ASSERT_TRUE(writer.apply()) << writer.lastTransaction();
  const std::string lone =
      sh({"nft", "list", "chain", "inet", "calico", "filter-cali-from-wl-dispatch"}, net.r.name());
  EXPECT_TRUE(contains(lone, "iifname \"ra\" iifgroup 268435458 goto filter-cali-fw-g10000002"))
      << lone;
  EXPECT_FALSE(contains(sh({"nft", "list", "table", "inet", "calico"}, net.r.name()), "gmap"));

  // A resync finds the kernel as written: nothing to repair.
  const size_t transactions = writer.stats().transactions;
  writer.requestResync();
  ASSERT_TRUE(writer.apply()) << writer.lastTransaction();
  EXPECT_EQ(writer.stats().transactions, transactions) << writer.lastTransaction();
}

}  // namespace
}  // namespace brindle::dataplane
