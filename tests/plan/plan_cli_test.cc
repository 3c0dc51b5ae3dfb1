// brindlectl plan: the table, -o json, the drawing file, bad options, and
// --from-datastore on a small cluster in a mesh, then behind a reflector and an outside peer.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli_fixture.h"
#include "ipam/ipam.h"
#include "plan/xml_check.h"

namespace brindle::cli {
namespace {

using PlanCli = CliFixture;

TEST_F(PlanCli, TablePerRole) {
  EXPECT_EQ(ok({"plan", "--topology", "as-per-rack", "--racks", "2", "--nodes-per-rack", "2"}),
            "ROLE   DEVICES   SESSIONS EACH   ROUTES EACH\n"
            "node   4         1               3\n"
            "tor    2         3               4\n"
            "\n"
            "Topology as-per-rack: 5 BGP sessions, 4 blocks of /26.\n");
}

TEST_F(PlanCli, CapacityWarningPerRole) {
  RunResult r = run({"plan", "--topology", "downward-default", "--racks", "2", "--nodes-per-rack",
                     "2", "--route-capacity", "3"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "Warning: 1 of 1 core devices hold more than 3 routes (up to 4)\n");
}

TEST_F(PlanCli, Json) {
  const auto j = nlohmann::json::parse(
      ok({"plan", "--topology", "rr", "--rrs", "2", "--nodes-per-rack", "3", "-o", "json"}));
  EXPECT_EQ(j["totals"]["sessions"], 7);
  ASSERT_EQ(j["devices"].size(), 5u);
  EXPECT_EQ(j["devices"][3]["name"], "rr1");
  EXPECT_EQ(j["devices"][3]["sessions"], 4);
  EXPECT_EQ(j["devices"][3]["routes"], 3);
}

TEST_F(PlanCli, SvgFile) {
  const std::string file = dir_.file("rr.svg");
  ok({"plan", "--topology", "rr", "--rrs", "2", "--nodes-per-rack", "3", "--svg", file});
  std::ifstream in(file);
  const std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(plan::xmlProblem(svg), "");
  EXPECT_NE(svg.find(">rr2<"), std::string::npos);
  EXPECT_NE(svg.find(">4 sess, 3 routes<"), std::string::npos);
}

TEST_F(PlanCli, BadOptions) {
  RunResult r = run({"plan"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Invalid option: plan needs --topology NAME or --from-datastore\n");
  r = run({"plan", "--topology", "mesh", "--core"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Error: --core:"), std::string::npos) << r.err;
  r = run({"plan", "--topology", "mesh", "--from-datastore"});
  EXPECT_EQ(r.code, 1);
  r = run({"plan", "--topology", "mesh", "--svg", dir_.file("no/such/dir/x.svg")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--svg: cannot write"), std::string::npos) << r.err;
}

TEST_F(PlanCli, FromDatastore) {
  std::string nodes;
  for (int i = 1; i <= 3; ++i) {
    nodes += "- apiVersion: projectcalico.org/v3\n  kind: Node\n  metadata:\n    name: n" +
             std::to_string(i) + "\n  spec:\n    bgp:\n      ipv4Address: 10.0.0." +
             std::to_string(i) + "/24\n";
  }
  ok({"create", "-f", dir_.write("nodes.yaml", nodes)});
  ok({"create", "-f",
      dir_.write("pool.yaml",
                 "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n"
                 "  name: p\nspec:\n  cidr: 10.244.0.0/16\n  blockSize: 26\n")});
  {
    auto client = openStore();
    ASSERT_TRUE(client);
    auto ipam = ipam::makeIpam(*client);
    for (const std::string node : {"n1", "n2", "n3"}) {
      ipam::AssignArgs args;
      args.handle = "w-" + node;
      args.node = node;
      auto a = ipam->autoAssign(args);
      ASSERT_TRUE(a.isOk()) << a.message();
    }
  }
  auto j = nlohmann::json::parse(ok({"plan", "--from-datastore", "-o", "json"}));
  EXPECT_EQ(j["topology"], "mesh");
  EXPECT_EQ(j["totals"]["sessions"], 3);
  EXPECT_EQ(j["totals"]["blocks"], 3);
  for (const auto& d : j["devices"]) {
    EXPECT_EQ(d["sessions"], 2) << d;
    EXPECT_EQ(d["routes"], 2) << d;
  }

  // n3 reflects for the others; a ToR outside the cluster peers with every node.
  ok({"create", "-f",
      dir_.write("rr.yaml",
                 "- apiVersion: projectcalico.org/v3\n  kind: BGPConfiguration\n  metadata:\n"
                 "    name: default\n  spec:\n    nodeToNodeMeshEnabled: false\n"
                 "- apiVersion: projectcalico.org/v3\n  kind: BGPPeer\n  metadata:\n"
                 "    name: to-rr\n  spec:\n    nodeSelector: all()\n"
                 "    peerSelector: has(rr)\n"
                 "- apiVersion: projectcalico.org/v3\n  kind: BGPPeer\n  metadata:\n"
                 "    name: tor\n  spec:\n    peerIP: 10.0.0.254\n    asNumber: 65001\n")});
  ok({"patch", "node", "n3", "-p",
      R"({"metadata":{"labels":{"rr":""}},"spec":{"bgp":{"routeReflectorClusterID":"1.0.0.1"}}})"});
  RunResult r = run({"plan", "--from-datastore"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ROLE   DEVICES   SESSIONS EACH   ROUTES EACH\n"
            "node   2         2               2\n"
            "rr     1         3               2\n"
            "peer   1         3               0\n"
            "\n"
            "Topology rr: 5 BGP sessions, 3 blocks.\n"
            "Assumed: node routes assume every node learns every other node's blocks (a mesh, "
            "reflectors); borrowed /32s and service ranges are not counted.\n"
            "Assumed: the routes of peers outside the cluster are not predicted (shown as 0).\n");
}

}  // namespace
}  // namespace brindle::cli
