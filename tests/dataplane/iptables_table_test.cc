// IptablesTable against the FakeIptables simulator: minimal diffs, insertions, foreign rules,
// removal order, failures and retries, restart without writes, drift repair.
#include "dataplane/iptables_table.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "dataplane/testing/fake_iptables.h"

namespace brindle::dataplane {
namespace {

using testing::FakeIptables;

Rule rule(Match match, Action action, std::string comment = "") {
  return Rule{std::move(match), std::move(action), std::move(comment)};
}

Chain chain(std::string name, std::vector<Rule> rules) {
  return Chain{std::move(name), std::move(rules)};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class IptablesTableTest : public ::testing::Test {
 protected:
  std::vector<std::string> rules(const std::string& c, IpVersion v = IpVersion::kV4) {
    return fake_.rules(v, "filter", c);
  }
  Status iptables(std::vector<std::string> args) {
    args.insert(args.begin(), "iptables");
    auto out = fake_.run({args, ""});
    if (!out || out->exitCode != 0) return makeError(ErrorCode::kInternal, out ? out->err : "run");
    return Status::ok();
  }
  void desireBasic(IptablesTable& t) {
    t.updateChain(
        chain("cali-FORWARD", {rule(Match().inInterface("cali+"), Action::jump("cali-from-wl")),
                               rule(Match().outInterface("cali+"), Action::jump("cali-to-wl"))}));
    t.updateChain(chain("cali-from-wl", {rule(Match().sourceNet("10.0.0.1"), Action::accept()),
                                         rule({}, Action::drop(), "Drop all")}));
    t.updateChain(chain("cali-to-wl", {rule(Match().destNet("10.0.0.1"), Action::accept()),
                                       rule({}, Action::drop())}));
    t.setRuleInsertions("FORWARD", {rule({}, Action::jump("cali-FORWARD"))});
  }

  FakeIptables fake_;
};

TEST(RuleHashesTest, DependOnChainPositionAndContent) {
  std::vector<Rule> rules = {rule(Match().protocol("tcp"), Action::accept()),
                             rule({}, Action::drop())};
  auto a = ruleHashes("cali-a", rules);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].size(), kHashLength);
  EXPECT_EQ(a, ruleHashes("cali-a", rules));  // deterministic
  EXPECT_NE(a, ruleHashes("cali-b", rules));  // chain name
  auto swapped = ruleHashes("cali-a", {rules[1], rules[0]});
  EXPECT_NE(a[1], swapped[0]);  // position
  auto changed = ruleHashes("cali-a", {rule(Match().protocol("udp"), Action::accept()), rules[1]});
  EXPECT_NE(a[0], changed[0]);  // content, and everything below it
  EXPECT_NE(a[1], changed[1]);
  for (char c : a[0])
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
}

// Known values: Felix's own table tests (felix/iptables/table_test.go) and the rules a Felix
// agent wrote on the seed's nodes (its iptables-save, /work/shared/seed): the same rules hash
// the same, so a Felix agent and ours recognise each other's rules.
TEST(RuleHashesTest, AreFelixs) {
  const Rule drop{{}, Action::drop(), ""}, accept{{}, Action::accept(), ""};
  EXPECT_EQ(ruleHashes("FORWARD", {drop, accept, drop, accept}),
            (std::vector<std::string>{"hecdSCslEjdBPBPo", "plvr29-ZiKUwbzDV", "BMJ7gfua-eMLZ8Gu",
                                      "rmnR1gc8haxMy_0W"}));
  EXPECT_EQ(ruleHashes("FORWARD", {{{}, Action::jump("cali-FORWARD"), ""}}),
            std::vector<std::string>{"wUHhoiAYhphO9Mso"});
  EXPECT_EQ(ruleHashes("cali-FORWARD", {{{}, Action::jump("cali-foobar"), ""}}),
            std::vector<std::string>{"WiiHgeRwfPX6Ol7d"});
  EXPECT_EQ(ruleHashes("cali-foobar", {accept, drop}),
            (std::vector<std::string>{"42h7Q64_2XDzpwKe", "0sUFHicPNNqNyNx8"}));

  EXPECT_EQ(ruleHashes("PREROUTING", {{{}, Action::jump("cali-PREROUTING"), ""}}),
            std::vector<std::string>{"6gwbT8clXdHdC1b1"});
  EXPECT_EQ(ruleHashes("cali-PREROUTING",
                       {{{}, Action::clearMark(0x7000000), ""},
                        {Match().inInterface("cali+"), Action::setMark(0x4000000, 0x4000000), ""},
                        {Match().markClear(0x4000000), Action::jump("cali-from-host-endpoint"), ""},
                        {Match().markSet(0x1000000), Action::accept(), ""}}),
            (std::vector<std::string>{"x4XbVMc5P_kNXnTy", "fQeZek80kVOPa0xO", "xp3NolkIpulCQL_G",
                                      "fbdE50A0BiINbNiA"}));
  EXPECT_EQ(
      ruleHashes("cali-INPUT",
                 {{Match().markSet(0x1000000).conntrackState("UNTRACKED"), Action::accept(), ""},
                  {Match().conntrackState("INVALID"), Action::drop(), ""},
                  {Match().conntrackState("RELATED,ESTABLISHED"), Action::accept(), ""},
                  {Match().inInterface("cali+"), Action::goTo("cali-wl-to-host"), ""},
                  {{}, Action::clearMark(0x7000000), ""},
                  {{}, Action::jump("cali-from-host-endpoint"), ""},
                  {Match().markSet(0x1000000), Action::accept(),
                   "Host endpoint policy accepted packet."}}),
      (std::vector<std::string>{"46gVAqzWLjH8U4O2", "5M2EkEm-RVlDLAfE", "8ggYjLbFRX5Ap9Zj",
                                "mA3ZJKi9nadUmYVF", "hI4IjifGj0fegLPE", "wdegoKfPlcmsZTOM",
                                "r875VVc8vFk1f-ZA"}));
  EXPECT_EQ(
      ruleHashes("cali-wl-to-host", {{Match().protocol("udp").sourcePorts("68").destPorts("67"),
                                      Action::accept(), ""}}),
      std::vector<std::string>{"aEOMPPLgak2S0Lxs"});
}

TEST(RenderTest, TypedRulesInIptablesSaveSpelling) {
  EXPECT_EQ(renderMatch(Match()
                            .protocol("tcp")
                            .sourceNet("10.0.0.0/8")
                            .notDestNet("10.1.0.0/16")
                            .sourceIpSet("cali40s:a")
                            .notDestIpSet("cali40n:b")
                            .sourcePorts("1,2:3")
                            .notDestPorts("80")
                            .icmpType(IpVersion::kV6, "135", true)
                            .inInterface("cali+")
                            .markClear(0x2000000)
                            .conntrackState("INVALID")
                            .rpfFailed()),
            "-p tcp -s 10.0.0.0/8 ! -d 10.1.0.0/16 -m set --match-set cali40s:a src -m set ! "
            "--match-set cali40n:b dst -m multiport --sports 1,2:3 -m multiport ! --dports 80 -m "
            "icmp6 ! --icmpv6-type 135 -i cali+ -m mark --mark 0x0/0x2000000 -m conntrack "
            "--ctstate INVALID -m rpfilter --invert");
  EXPECT_EQ(renderAction(Action::clearMark(0x7000000)), "-j MARK --set-xmark 0x0/0x7000000");
  EXPECT_EQ(renderAction(Action::goTo("cali-fw-x")), "-g cali-fw-x");
  EXPECT_EQ(renderAction(Action::log("calico \"packet\" log prefix too long")),
            "-j LOG --log-prefix \"calico packet log prefix to: \" --log-level 5");
  EXPECT_EQ(renderAction(Action::dnat("10.0.0.1")), "-j DNAT --to-destination 10.0.0.1");
  EXPECT_EQ(renderAction(Action::none()), "");
}

TEST(RenderTest, RuleLineCarriesMatchThenHashThenCommentThenAction) {
  // The comments after the match: iptables-nft evaluates them only for packets the rule takes.
  EXPECT_EQ(renderRuleLine(
                "cali-x",
                rule(Match().protocol("tcp").destPorts("80"), Action::accept(), "say \"hi\""), "H"),
            "-A cali-x -p tcp -m multiport --dports 80 -m comment --comment \"cali:H\" -m comment "
            "--comment "
            "\"say 'hi'\" -j ACCEPT");
  EXPECT_EQ(renderRuleLine("cali-x", rule({}, Action::drop()), "H"),
            "-A cali-x -m comment --comment \"cali:H\" -j DROP");
  std::string full =
      renderFullRestore(TableName::kFilter, {chain("cali-x", {rule({}, Action::drop())})},
                        {{"FORWARD", {rule({}, Action::jump("cali-x"))}}});
  EXPECT_TRUE(full.starts_with("*filter\n:cali-x - [0:0]\n-A cali-x "));
  EXPECT_TRUE(contains(full, "\n-I FORWARD 1 -m comment"));
  EXPECT_TRUE(full.ends_with("COMMIT\n"));
}

TEST_F(IptablesTableTest, FirstApplyCreatesChainsAndInsertsAtTop) {
  ASSERT_TRUE(iptables({"-A", "FORWARD", "-s", "192.168.9.9", "-j", "DROP"}));
  IptablesTable table(TableName::kFilter, IpVersion::kV4, fake_);
  desireBasic(table);
  ASSERT_TRUE(table.apply());
  EXPECT_EQ(fake_.restoreCalls(), 1);
  EXPECT_EQ(rules("cali-from-wl").size(), 2u);
  auto forward = rules("FORWARD");
  ASSERT_EQ(forward.size(), 2u);
  EXPECT_TRUE(contains(forward[0], "-j cali-FORWARD"));
  EXPECT_EQ(forward[1], "-s 192.168.9.9 -j DROP");
  EXPECT_FALSE(table.dirty());
  // The fake has the same rules the benchmark's full text would create.
  FakeIptables other;
  auto out = other.run({{"iptables-restore", "--noflush"}, table.lastRestoreInput()});
  ASSERT_TRUE(out && out->exitCode == 0) << (out ? out->err : "");
}

TEST_F(IptablesTableTest, UnchangedApplyRunsNothing) {
  IptablesTable table(TableName::kFilter, IpVersion::kV4, fake_);
  desireBasic(table);
  ASSERT_TRUE(table.apply());
  fake_.clearHistory();
  desireBasic(table);  // same content again: not dirty
  ASSERT_TRUE(table.apply());
  EXPECT_EQ(fake_.restoreCalls(), 0);
  EXPECT_EQ(fake_.saveCalls(), 0);
}

TEST_F(IptablesTableTest, OnlyTheChangedRulesAreWritten) {
  IptablesTable table(TableName::kFilter, IpVersion::kV4, fake_);
  desireBasic(table);
  ASSERT_TRUE(table.apply());
  fake_.clearHistory();
  table.updateChain(chain("cali-to-wl", {rule(Match().destNet("10.0.0.1"), Action::accept()),
                                         rule(Match().destNet("10.0.0.2"), Action::accept()),
                                         rule({}, Action::drop())}));
  ASSERT_TRUE(table.apply());
  ASSERT_EQ(fake_.restoreCalls(), 1);
  const std::string& input = fake_.restoreInputs()[0];
  EXPECT_FALSE(contains(input, "cali-from-wl"));
  EXPECT_FALSE(contains(input, "FORWARD"));
  EXPECT_FALSE(contains(input, "-R cali-to-wl 1 "));  // the unchanged first rule stays
  EXPECT_TRUE(contains(input, "-R cali-to-wl 2 "));
  EXPECT_TRUE(contains(input, "-A cali-to-wl "));
  auto to = rules("cali-to-wl");
  ASSERT_EQ(to.size(), 3u);
  EXPECT_TRUE(contains(to[1], "-d 10.0.0.2"));

  // Shrinking deletes from the end.
  fake_.clearHistory();
  table.updateChain(chain("cali-to-wl", {rule(Match().destNet("10.0.0.1"), Action::accept())}));
  ASSERT_TRUE(table.apply());
  EXPECT_EQ(fake_.restoreInputs()[0], "*filter\n-D cali-to-wl 3\n-D cali-to-wl 2\nCOMMIT\n");
  EXPECT_EQ(rules("cali-to-wl").size(), 1u);
}

TEST_F(IptablesTableTest, ForeignChainsAndRulesAreNeverTouched) {
  ASSERT_TRUE(iptables({"-N", "docker-thing"}));
  ASSERT_TRUE(iptables({"-A", "docker-thing", "-j", "ACCEPT"}));
  ASSERT_TRUE(iptables({"-A", "FORWARD", "-j", "docker-thing"}));
  ASSERT_TRUE(iptables({"-A", "INPUT", "-p", "tcp", "-j", "ACCEPT"}));
  IptablesTable table(TableName::kFilter, IpVersion::kV4, fake_);
  desireBasic(table);
  ASSERT_TRUE(table.apply());
  table.removeChain("cali-FORWARD");
  table.removeChain("cali-from-wl");
  table.removeChain("cali-to-wl");
  table.setRuleInsertions("FORWARD", {});
  ASSERT_TRUE(table.apply());
  EXPECT_EQ(rules("FORWARD"), std::vector<std::string>{"-j docker-thing"});
  EXPECT_EQ(rules("docker-thing"), std::vector<std::string>{"-j ACCEPT"});
  EXPECT_EQ(rules("INPUT"), std::vector<std::string>{"-p tcp -j ACCEPT"});
  EXPECT_FALSE(fake_.hasChain(IpVersion::kV4, "filter", "cali-FORWARD"));
  for (const auto& input : fake_.restoreInputs()) EXPECT_FALSE(contains(input, "docker-thing"));
}

TEST_F(IptablesTableTest, RemovalDropsReferencesBeforeDeletingChains) {
  IptablesTable table(TableName::kFilter, IpVersion::kV4, fake_);
  desireBasic(table);
  ASSERT_TRUE(table.apply());
  // cali-to-wl is still referenced by the old cali-FORWARD in the kernel: the same transaction
  // must rewrite cali-FORWARD before it deletes cali-to-wl (the fake enforces references).
  table.removeChain("cali-to-wl");
  table.updateChain(
      chain("cali-FORWARD", {rule(Match().inInterface("cali+"), Action::jump("cali-from-wl"))}));
  ASSERT_TRUE(table.apply());
  EXPECT_FALSE(fake_.hasChain(IpVersion::kV4, "filter", "cali-to-wl"));
  // Removing a hooked chain and its hook together works too.
  table.removeChain("cali-FORWARD");
  table.removeChain("cali-from-wl");
  table.setRuleInsertions("FORWARD", {});
  ASSERT_TRUE(table.apply());
  EXPECT_TRUE(rules("FORWARD").empty());
  EXPECT_FALSE(fake_.hasChain(IpVersion::kV4, "filter", "cali-from-wl"));
}

TEST_F(IptablesTableTest, ChainUsedByAForeignRuleIsKept) {
  IptablesTable table(TableName::kFilter, IpVersion::kV4, fake_);
  table.updateChain(chain("cali-x", {rule({}, Action::accept())}));
  ASSERT_TRUE(table.apply());
  ASSERT_TRUE(iptables({"-A", "INPUT", "-j", "cali-x"}));
  table.removeChain("cali-x");
  table.requestResync();
  ASSERT_TRUE(table.apply());  // does not fail forever on a chain it may not delete
  EXPECT_TRUE(fake_.hasChain(IpVersion::kV4, "filter", "cali-x"));
  EXPECT_EQ(table.stats().chainsKeptForForeignRefs, 1);
}

TEST_F(IptablesTableTest, FailureStaysDirtyAndTheRetrySucceeds) {
  IptablesTable table(TableName::kFilter, IpVersion::kV4, fake_);
  desireBasic(table);
  fake_.failNextRestore();
  Status first = table.apply();
  EXPECT_FALSE(first);
  EXPECT_EQ(first.code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(contains(first.message(), "injected"));
  EXPECT_TRUE(table.dirty());
  EXPECT_FALSE(fake_.hasChain(IpVersion::kV4, "filter", "cali-FORWARD"));
  ASSERT_TRUE(table.apply());
  EXPECT_FALSE(table.dirty());
  EXPECT_EQ(rules("cali-from-wl").size(), 2u);

  // A failed incremental apply re-reads the kernel before retrying.
  table.updateChain(chain("cali-from-wl", {rule({}, Action::drop())}));
  fake_.failNextRestore();
  EXPECT_FALSE(table.apply());
  fake_.clearHistory();
  ASSERT_TRUE(table.apply());
  EXPECT_EQ(fake_.saveCalls(), 1);
  EXPECT_EQ(rules("cali-from-wl").size(), 1u);

  // A failing save is reported too, and retried.
  table.requestResync();
  fake_.failNextSave();
  EXPECT_FALSE(table.apply());
  EXPECT_TRUE(table.apply());
}

TEST_F(IptablesTableTest, RestartWithTheSameStateWritesNothing) {
  {
    IptablesTable table(TableName::kFilter, IpVersion::kV4, fake_);
    desireBasic(table);
    ASSERT_TRUE(table.apply());
  }
  fake_.clearHistory();
  IptablesTable restarted(TableName::kFilter, IpVersion::kV4, fake_);
  desireBasic(restarted);
  ASSERT_TRUE(restarted.apply());
  EXPECT_EQ(fake_.saveCalls(), 1);
  EXPECT_EQ(fake_.restoreCalls(), 0);
}

TEST_F(IptablesTableTest, RestartSweepsWhatIsNoLongerWanted) {
  {
    IptablesTable table(TableName::kFilter, IpVersion::kV4, fake_);
    desireBasic(table);
    table.updateChain(chain("cali-stale", {rule({}, Action::accept())}));
    table.setRuleInsertions("INPUT", {rule({}, Action::jump("cali-stale"))});
    ASSERT_TRUE(table.apply());
  }
  IptablesTable restarted(TableName::kFilter, IpVersion::kV4, fake_);
  desireBasic(restarted);
  ASSERT_TRUE(restarted.apply());
  EXPECT_FALSE(fake_.hasChain(IpVersion::kV4, "filter", "cali-stale"));
  EXPECT_TRUE(rules("INPUT").empty());
  EXPECT_EQ(rules("FORWARD").size(), 1u);
}

TEST_F(IptablesTableTest, DriftIsRepairedOnResync) {
  IptablesTable table(TableName::kFilter, IpVersion::kV4, fake_);
  desireBasic(table);
  ASSERT_TRUE(table.apply());
  auto before = rules("cali-from-wl");
  ASSERT_TRUE(iptables({"-F", "cali-from-wl"}));
  ASSERT_TRUE(iptables({"-R", "cali-to-wl", "1", "-j", "ACCEPT"}));  // edited, lost its hash
  ASSERT_TRUE(iptables({"-D", "FORWARD", "1"}));                     // hook removed
  ASSERT_TRUE(iptables({"-I", "FORWARD", "1", "-j", "ACCEPT"}));     // someone else's rule on top
  ASSERT_TRUE(table.apply());  // no resync requested: trusts its record
  EXPECT_TRUE(rules("cali-from-wl").empty());
  table.requestResync();
  ASSERT_TRUE(table.apply());
  EXPECT_EQ(rules("cali-from-wl"), before);
  EXPECT_TRUE(contains(rules("cali-to-wl")[0], "cali:"));
  auto forward = rules("FORWARD");
  ASSERT_EQ(forward.size(), 2u);
  EXPECT_TRUE(contains(forward[0], "-j cali-FORWARD"));
  EXPECT_EQ(forward[1], "-j ACCEPT");
}

TEST_F(IptablesTableTest, InsertionsDisplacedByOthersMoveBackToTheTop) {
  IptablesTable table(TableName::kFilter, IpVersion::kV4, fake_);
  table.updateChain(chain("cali-a", {rule({}, Action::accept())}));
  table.setRuleInsertions("FORWARD", {rule(Match().inInterface("cali+"), Action::jump("cali-a")),
                                      rule(Match().outInterface("cali+"), Action::jump("cali-a"))});
  ASSERT_TRUE(table.apply());
  ASSERT_TRUE(iptables({"-I", "FORWARD", "2", "-j", "DROP"}));  // between our two
  table.requestResync();
  ASSERT_TRUE(table.apply());
  auto forward = rules("FORWARD");
  ASSERT_EQ(forward.size(), 3u);
  EXPECT_TRUE(contains(forward[0], "-i cali+"));
  EXPECT_TRUE(contains(forward[1], "-o cali+"));
  EXPECT_EQ(forward[2], "-j DROP");
}

TEST_F(IptablesTableTest, AppendModeKeepsOurHooksAtTheBottom) {
  ASSERT_TRUE(iptables({"-A", "FORWARD", "-j", "DROP"}));
  IptablesTableOptions options;
  options.insertMode = InsertMode::kAppend;
  IptablesTable table(TableName::kFilter, IpVersion::kV4, fake_, options);
  table.updateChain(chain("cali-a", {rule({}, Action::accept())}));
  table.setRuleInsertions("FORWARD", {rule({}, Action::jump("cali-a"))});
  ASSERT_TRUE(table.apply());
  auto forward = rules("FORWARD");
  ASSERT_EQ(forward.size(), 2u);
  EXPECT_EQ(forward[0], "-j DROP");
  fake_.clearHistory();
  table.requestResync();
  ASSERT_TRUE(table.apply());
  EXPECT_EQ(fake_.restoreCalls(), 0);
}

TEST_F(IptablesTableTest, Ipv6UsesIp6tablesAndOtherTables) {
  IptablesTable table(TableName::kNat, IpVersion::kV6, fake_);
  table.updateChain(
      chain("cali-nat-outgoing", {rule(Match().sourceNet("fd00::/64"), Action::masquerade())}));
  table.setRuleInsertions("POSTROUTING", {rule({}, Action::jump("cali-nat-outgoing"))});
  ASSERT_TRUE(table.apply());
  EXPECT_EQ(fake_.rules(IpVersion::kV6, "nat", "cali-nat-outgoing").size(), 1u);
  EXPECT_TRUE(fake_.rules(IpVersion::kV4, "nat", "POSTROUTING").empty());
  EXPECT_EQ(fake_.rules(IpVersion::kV6, "nat", "POSTROUTING").size(), 1u);
}

TEST_F(IptablesTableTest, ManyChainsOneChangeWritesOneChain) {
  IptablesTable table(TableName::kFilter, IpVersion::kV4, fake_);
  for (int c = 0; c < 50; ++c) {
    std::vector<Rule> rs;
    for (int r = 0; r < 20; ++r)
      rs.push_back(rule(Match().sourceNet("10.0." + std::to_string(c) + "." + std::to_string(r)),
                        Action::accept()));
    table.updateChain(chain("cali-c" + std::to_string(c), rs));
  }
  ASSERT_TRUE(table.apply());
  fake_.clearHistory();
  std::vector<Rule> rs = {rule({}, Action::drop())};
  table.updateChain(chain("cali-c7", rs));
  ASSERT_TRUE(table.apply());
  ASSERT_EQ(fake_.restoreCalls(), 1);
  const std::string& input = fake_.restoreInputs()[0];
  EXPECT_EQ(std::count(input.begin(), input.end(), '\n'),
            1 + 1 + 19 + 1);  // *filter, -R, 19 -D, COMMIT
  EXPECT_EQ(rules("cali-c7").size(), 1u);
}

}  // namespace
}  // namespace brindle::dataplane
