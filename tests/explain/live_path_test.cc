// The kernel walk over what the real renderer makes of a state (the agent's calculation and
// rules, rendered in-process as iptables-restore and ipset restore text): it agrees with the
// model on every probe, and a corrupted chain (rule deleted, action flipped) is a mismatch naming
// the chain and rule.
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "explain/live_path.h"
#include "explain/report.h"
#include "explain/scenario.h"  // tests/explain
#include "testutil/temp_dir.h"

namespace brindle::explain {
namespace {

using dataplane::IpVersion;

class LivePathTest : public ::testing::Test {
 protected:
  LivePathTest() : resources_(testing::scenario()), cluster_(Cluster::load(resources_)) {
    for (const char* node : {"node-a", "node-b"}) nodes_[node] = testing::render(node, resources_);
  }

  StateSource source() const { return testing::renderedSource(nodes_); }

  ModelPath model(const std::string& from, const std::string& to, const std::string& proto) {
    return explainModel(cluster_, *resolvePeer(cluster_, from), *resolvePeer(cluster_, to),
                        *parsePacket(proto));
  }

  LivePath live(const ModelPath& m) {
    auto l = explainLive(m, source());
    EXPECT_TRUE(l) << l.message();
    return l ? *l : LivePath{};
  }

  std::vector<model::Resource> resources_;
  Cluster cluster_;
  std::map<std::string, testing::NodeText> nodes_;
};

TEST_F(LivePathTest, AgreesWithTheModelOnEveryProbe) {
  const std::vector<std::string> peers = {"prod/web",    "cache",       "db",
                                          "prom",        "staging/web", "192.0.2.5",
                                          "192.0.2.200", "10.9.1.1",    "8.8.8.8"};
  const std::vector<std::string> protos = {"tcp/5432", "tcp/5433", "tcp/8080",
                                           "tcp/9100", "tcp/443",  "udp/53",
                                           "icmp",     "icmp/0/0", "47"};
  int walked = 0, allowed = 0;
  for (const auto& from : peers) {
    for (const auto& to : peers) {
      if (from == to) continue;
      for (const auto& proto : protos) {
        ModelPath m = model(from, to, proto);
        LivePath l = live(m);
        const std::string probe = from + " -> " + to + " " + proto;
        EXPECT_FALSE(l.cannotEvaluate) << probe;
        EXPECT_EQ(l.allowed, m.allowed) << probe;
        EXPECT_TRUE(l.mismatches.empty()) << probe << ": " << l.mismatches.front();
        walked += !l.walks.empty();
        allowed += m.allowed;
      }
    }
  }
  EXPECT_GT(walked, 300);
  EXPECT_GT(allowed, 20);
}

TEST_F(LivePathTest, CitesRulesAndIpsetLookups) {
  ModelPath m = model("prod/web", "db", "tcp/5432");
  LivePath l = live(m);
  ASSERT_EQ(l.walks.size(), 2u);
  EXPECT_EQ(l.walks[0].node, "node-a");
  EXPECT_EQ(l.walks[1].node, "node-b");
  EXPECT_EQ(l.walks[1].ingress.chain, m.ingress.decision.chain);
  std::ostringstream text;
  printLivePath(text, l);
  EXPECT_NE(text.str().find("cali-FORWARD rule"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("(cali:"), std::string::npos);
  EXPECT_NE(text.str().find("ipset cali40s:"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find(": member 10.0.0.1/32"), std::string::npos) << text.str();
}

// Removes the line carrying rule id `hash`, or applies `edit` to it.
std::string corrupt(const std::string& text, const std::string& hash, const std::string& from = "",
                    const std::string& to = "") {
  std::istringstream in(text);
  std::string line, out;
  bool found = false;
  while (std::getline(in, line)) {
    if (line.find("cali:" + hash + "\"") != std::string::npos) {
      found = true;
      if (from.empty()) continue;
      line = std::regex_replace(line, std::regex(from), to);
    }
    out += line + "\n";
  }
  EXPECT_TRUE(found) << hash;
  return out;
}

TEST_F(LivePathTest, DeletedRuleIsAMismatchNamingChainAndRule) {
  ModelPath m = model("prod/web", "db", "tcp/5432");
  ASSERT_TRUE(m.allowed);
  LivePath before = live(m);
  ASSERT_TRUE(before.mismatches.empty());
  const LiveDecision deciding = before.walks[1].ingress;
  ASSERT_TRUE(deciding.found);
  nodes_["node-b"].iptables = corrupt(nodes_["node-b"].iptables, deciding.hash);
  LivePath after = live(m);
  EXPECT_FALSE(after.allowed);
  ASSERT_FALSE(after.mismatches.empty());
  std::string all;
  for (const auto& s : after.mismatches) all += s + "\n";
  EXPECT_NE(all.find("verdict: model says allowed, kernel says denied"), std::string::npos) << all;
  EXPECT_NE(all.find("ingress: model says allowed by policy prod/db-access"), std::string::npos)
      << all;
  EXPECT_NE(all.find("[" + deciding.chain + " rule " + std::to_string(deciding.index) + "]"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("kernel says drop at cali-tw-calidb0 rule"), std::string::npos) << all;
}

TEST_F(LivePathTest, FlippedActionIsAMismatchNamingChainAndRule) {
  ModelPath m = model("prod/web", "db", "udp/53");
  ASSERT_FALSE(m.allowed);
  LivePath before = live(m);
  ASSERT_TRUE(before.mismatches.empty()) << before.mismatches.front();
  const LiveDecision deciding = before.walks[0].egress;
  ASSERT_TRUE(deciding.found);
  EXPECT_EQ(deciding.chain, m.egress.decision.chain);
  nodes_["node-a"].iptables =
      corrupt(nodes_["node-a"].iptables, deciding.hash, "-j DROP", "-j ACCEPT");
  LivePath after = live(m);
  ASSERT_FALSE(after.mismatches.empty());
  std::string all;
  for (const auto& s : after.mismatches) all += s + "\n";
  EXPECT_NE(all.find("egress: model says denied"), std::string::npos) << all;
  EXPECT_NE(all.find("kernel says allow at " + deciding.chain + " rule " +
                     std::to_string(deciding.index) + " (cali:" + deciding.hash + ")"),
            std::string::npos)
      << all;
}

TEST_F(LivePathTest, ForeignRuleCannotBeEvaluated) {
  nodes_["node-b"].iptables = std::regex_replace(
      nodes_["node-b"].iptables, std::regex("(-A cali-FORWARD) (-m conntrack --ctstate INVALID)"),
      "-A cali-FORWARD -m hashlimit --hashlimit-upto 5/sec -j DROP\n$1 $2");
  LivePath l = live(model("prod/web", "db", "tcp/5432"));
  EXPECT_TRUE(l.cannotEvaluate);
  EXPECT_NE(l.walks.back().reason.find("match module hashlimit"), std::string::npos)
      << l.walks.back().reason;
}

TEST_F(LivePathTest, HostLocalTrafficIsModelOnly) {
  ModelPath m = model("prod/web", "host:node-a", "tcp/22");
  EXPECT_TRUE(m.hostLocal);
  EXPECT_FALSE(m.allowed);  // DefaultEndpointToHostAction: Drop
  LivePath l = live(m);
  EXPECT_TRUE(l.walks.empty());
  EXPECT_TRUE(l.mismatches.empty());
  EXPECT_EQ(l.allowed, m.allowed);
  ASSERT_EQ(l.notes.size(), 1u);
  EXPECT_NE(l.notes[0].find("INPUT/OUTPUT"), std::string::npos);
}

TEST(KernelStateParse, IpsetListAndSaveFormatsAndErrors) {
  auto s = KernelState::parse("*filter\n:FORWARD DROP [0:0]\nCOMMIT\n",
                              "Name: a\nType: hash:net\nMembers:\n10.0.0.0/24\n\n"
                              "create b hash:net family inet\nadd b 10.1.0.1\n");
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(s->ipSets.at("a").size(), 1u);
  EXPECT_EQ(s->ipSets.at("b").front().toString(), "10.1.0.1/32");
  EXPECT_EQ(s->policies.at("FORWARD"), "DROP");
  auto bad = KernelState::parse("*filter\nbogus line\n", "");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("iptables-save line 2"), std::string::npos);
  EXPECT_FALSE(KernelState::parse("*nat\nCOMMIT\n", ""));
}

// A `node diags` dump of a node on the nftables dataplane: no cali- chains to walk, said plainly.
TEST(KernelStateDump, NftablesNodeIsNotWalked) {
  testutil::TempDir dir;
  dir.write("node-a/iptables-save.txt", "*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n");
  dir.write("node-a/nft-table.txt", "table inet calico {\n}\n");
  auto s = KernelState::fromDump(dir.path(), "node-a", false);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("nftables dataplane"), std::string::npos) << s.message();
  dir.write("node-a/nft-table.txt", "");  // iptables node: the walk goes on
  EXPECT_TRUE(KernelState::fromDump(dir.path(), "node-a", false)) << "empty nft dump";
}

}  // namespace
}  // namespace brindle::explain
