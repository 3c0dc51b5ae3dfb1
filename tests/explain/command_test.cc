// brindlectl explain in-process over an embedded store: text and JSON output, --live from a dump
// directory laid out as node diags saves it, exit codes and the errors for bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli/cli_fixture.h"   // tests/cli
#include "explain/scenario.h"  // tests/explain
#include "model/resource.h"

namespace brindle::cli {
namespace {

class ExplainCommandTest : public CliFixture {
 protected:
  void SetUp() override {
    ok({"create", "-f", example("lab/nodes.yaml")});
    ok({"create", "-f", example("seed-lab/endpoints.yaml")});
    ok({"create", "-f", example("seed-lab/profile.yaml")});
    ok({"create", "-f", "-"}, kFrontendOut);
  }
  // The frontends may send (the seed's policy, which would also admit them to the database,
  // is left out: the database's deny-first profile decides).
  static constexpr const char* kFrontendOut =
      "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: "
      "frontend-out}\nspec: {selector: \"service == 'frontend'\", types: [Egress], egress: "
      "[{action: Allow}]}\n";
};

TEST_F(ExplainCommandTest, TextAndJson) {
  RunResult r = run({"explain", "slave1-frontend1", "slave2-database", "tcp/3306"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("decided by: profile profile-database rule 0: Deny -> denied"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("verdict: denied"), std::string::npos) << r.out;
  RunResult j = run({"explain", "slave1/slave1-frontend1", "172.16.1.3", "tcp/3306", "-o", "json"});
  ASSERT_EQ(j.code, 0) << j.err;
  auto json = model::Json::parse(j.out);
  EXPECT_EQ(json["verdict"], "denied");
  EXPECT_EQ(json["ingress"]["decision"]["profile"], "profile-database");
  EXPECT_EQ(json["ingress"]["decision"]["rule"], 0);
  EXPECT_EQ(json["egress"]["decision"]["policy"], "frontend-out");
}

TEST_F(ExplainCommandTest, LiveFromDumpAndMismatchExitCode) {
  // The dump of slave2 as its agent writes it, in a node diags layout.
  auto resources = explain::testing::loadExamples(
      {"lab/nodes.yaml", "seed-lab/endpoints.yaml", "seed-lab/profile.yaml"});
  auto extra = explain::testing::decode(kFrontendOut);
  resources.insert(resources.end(), extra.begin(), extra.end());
  const std::string dump = dir_.file("diags");
  for (const char* node : {"slave1", "slave2"}) {
    std::filesystem::create_directories(dump + "/" + node);
    auto text = explain::testing::render(node, resources);
    std::ofstream(dump + "/" + node + "/iptables-save.txt") << text.iptables;
    std::ofstream(dump + "/" + node + "/ipset.txt") << text.ipsets;
  }
  RunResult r = run({"explain", "slave1-frontend1", "slave2-database", "tcp/3306", "--live",
                     "--from-dump", dump});
  EXPECT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("live verdict: denied"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("<= decides ingress"), std::string::npos) << r.out;
  // The profile's deny flipped in the kernel: a mismatch, exit code 2.
  std::ifstream in(dump + "/slave2/iptables-save.txt");
  std::stringstream all;
  all << in.rdbuf();
  std::string text = all.str();
  const std::string deny = "-A cali-pri-profile-database -m comment";
  const size_t at = text.find(deny);
  ASSERT_NE(at, std::string::npos) << text;
  const size_t drop = text.find("-j DROP", at);
  text.replace(drop, 7, "-j ACCEPT");
  std::ofstream(dump + "/slave2/iptables-save.txt") << text;
  RunResult bad = run({"explain", "slave1-frontend1", "slave2-database", "tcp/3306", "--live",
                       "--from-dump", dump});
  EXPECT_EQ(bad.code, 2) << bad.err << bad.out;
  EXPECT_NE(bad.out.find("MISMATCH (bug): ingress: model says denied by profile profile-database "
                         "rule 0: Deny [cali-pri-profile-database rule 1]; kernel says allow at "
                         "cali-pri-profile-database rule 1"),
            std::string::npos)
      << bad.out;
}

TEST_F(ExplainCommandTest, BadInput) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"nope", "slave2-database", "tcp"}, "Error: FROM: unknown endpoint \"nope\""},
      {{"slave1-frontend1", "frontend", "tcp"},
       "Error: TO: ambiguous endpoint \"frontend\": candidates are slave1/"},
      {{"slave1-frontend1", "slave2-database", "tcp/99999"},
       "Error: protocol \"tcp/99999\": \"99999\" is not a port 1-65535"},
      {{"slave1-frontend1", "slave2-database", "gre"},
       "Error: protocol \"gre\": not tcp, udp, sctp, icmp, icmpv6 or a protocol number 1-255"},
      {{"slave1-frontend1", "host:nowhere", "tcp"}, "Error: TO: unknown node \"host:nowhere\""},
      {{"slave1-frontend1", "slave2-database", "tcp", "--live", "--from-dump", "/nonexistent"},
       "/nonexistent/iptables-save.txt: no such file (node slave1)"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"explain"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    RunResult r = run(args);
    EXPECT_EQ(r.code, 1) << c.message;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace brindle::cli
