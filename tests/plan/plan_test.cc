// The planner's formulas on small shapes counted by hand (2 racks x 2 nodes, one block each:
// docs/plan.md), and the checks of its options.
#include "plan/plan.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "plan/xml_check.h"

namespace brindle::plan {
namespace {

Topology shape(const std::string& name, int racks = 2, int nodesPerRack = 2) {
  Topology t;
  t.name = name;
  t.racks = racks;
  t.nodesPerRack = nodesPerRack;
  return t;
}

Plan planOf(const Topology& t, std::optional<int64_t> capacity = std::nullopt) {
  auto p = plan(t, capacity);
  EXPECT_TRUE(p.isOk()) << p.message();
  return p.isOk() ? *p : Plan{};
}

const Device& device(const Plan& p, const std::string& name) {
  for (const auto& d : p.devices) {
    if (d.name == name) return d;
  }
  ADD_FAILURE() << "no device " << name;
  static const Device kNone;
  return kNone;
}

// Role -> {devices, sessions each, routes each}, for plans whose roles are uniform.
struct Row {
  int64_t devices, sessions, routes;
  bool operator==(const Row&) const = default;
};
std::map<std::string, Row> byRole(const Plan& p) {
  std::map<std::string, Row> out;
  for (const auto& s : summarize(p)) {
    EXPECT_EQ(s.minSessions, s.maxSessions) << s.role;
    EXPECT_EQ(s.minRoutes, s.maxRoutes) << s.role;
    out[s.role] = {s.devices, s.maxSessions, s.maxRoutes};
  }
  return out;
}

TEST(Plan, Mesh) {
  const Plan p = planOf(shape("mesh"));
  EXPECT_EQ(byRole(p), (std::map<std::string, Row>{{"node", {4, 3, 3}}}));
  EXPECT_EQ(p.totalSessions, 6);
  EXPECT_EQ(p.blocks, 4);
  EXPECT_EQ(p.devices.front().name, "r1n1");
  EXPECT_EQ(p.devices.back().name, "r2n2");
  EXPECT_EQ(p.devices.front().as, 64512u);
}

TEST(Plan, ReflectorsDefaultToOne) {
  const Plan p = planOf(shape("rr"));
  EXPECT_EQ(byRole(p), (std::map<std::string, Row>{{"node", {4, 1, 3}}, {"rr", {1, 4, 4}}}));
  EXPECT_EQ(p.totalSessions, 4);
}

TEST(Plan, TwoReflectorsPeerWithEachOther) {
  Topology t = shape("rr");
  t.rrs = 2;
  const Plan p = planOf(t);
  EXPECT_EQ(byRole(p), (std::map<std::string, Row>{{"node", {4, 2, 3}}, {"rr", {2, 5, 4}}}));
  EXPECT_EQ(p.totalSessions, 9);  // 4 x 2 client sessions + rr1-rr2
  EXPECT_EQ(device(p, "rr2").role, "rr");
}

TEST(Plan, AsPerRackToRsMeshed) {
  const Plan p = planOf(shape("as-per-rack"));
  EXPECT_EQ(byRole(p), (std::map<std::string, Row>{{"node", {4, 1, 3}}, {"tor", {2, 3, 4}}}));
  EXPECT_EQ(p.totalSessions, 5);
  EXPECT_EQ(device(p, "r2n1").as, 64514u);
  EXPECT_EQ(device(p, "tor2").as, 64514u);
  EXPECT_EQ(device(p, "tor2").rack, 2);
}

TEST(Plan, AsPerRackThroughCore) {
  Topology small = shape("as-per-rack");
  small.core = true;
  const Plan s = planOf(small);
  EXPECT_EQ(byRole(s), (std::map<std::string, Row>{
                           {"node", {4, 1, 3}}, {"tor", {2, 3, 4}}, {"core", {1, 2, 4}}}));
  EXPECT_EQ(s.totalSessions, 6);

  Topology t = shape("as-per-rack", 3, 2);
  t.core = true;
  const Plan p = planOf(t);
  EXPECT_EQ(byRole(p), (std::map<std::string, Row>{
                           {"node", {6, 1, 5}}, {"tor", {3, 3, 6}}, {"core", {1, 3, 6}}}));
  EXPECT_EQ(p.totalSessions, 9);
  EXPECT_EQ(device(p, "core").as, 64512u);
}

TEST(Plan, AsPerServer) {
  const Plan p = planOf(shape("as-per-server"));
  EXPECT_EQ(byRole(p), (std::map<std::string, Row>{{"node", {4, 1, 3}}, {"tor", {2, 3, 4}}}));
  EXPECT_EQ(p.totalSessions, 5);
  EXPECT_EQ(device(p, "r1n1").as, 4200000001u);
  EXPECT_EQ(device(p, "r2n2").as, 4200000004u);
  EXPECT_EQ(device(p, "tor1").as, device(p, "tor2").as);
}

TEST(Plan, DownwardDefaultAlwaysHasACore) {
  const Plan p = planOf(shape("downward-default"));
  EXPECT_EQ(byRole(p), (std::map<std::string, Row>{
                           {"node", {4, 1, 1}}, {"tor", {2, 3, 3}}, {"core", {1, 2, 4}}}));
  EXPECT_EQ(p.totalSessions, 6);
}

TEST(Plan, EcmpFabric) {
  const Plan p = planOf(shape("ecmp-fabric"));
  EXPECT_EQ(byRole(p), (std::map<std::string, Row>{{"node", {4, 4, 3}}, {"rr", {4, 4, 4}}}));
  EXPECT_EQ(p.totalSessions, 16);
  EXPECT_EQ(device(p, "r1n2").nextHops, 4);
  EXPECT_EQ(device(p, "rr4").nextHops, 1);
}

TEST(Plan, EcmpFabricTwoPlanes) {
  Topology t = shape("ecmp-fabric", 1, 3);
  t.planes = 2;
  const Plan p = planOf(t);
  EXPECT_EQ(byRole(p), (std::map<std::string, Row>{{"node", {3, 2, 2}}, {"rr", {2, 3, 3}}}));
}

TEST(Plan, BlocksFollowWorkloads) {
  EXPECT_EQ(*blocksPerNode(1, "10.244.0.0/16", 26), 1);
  EXPECT_EQ(*blocksPerNode(64, "10.244.0.0/16", 26), 1);
  EXPECT_EQ(*blocksPerNode(65, "10.244.0.0/16", 26), 2);
  EXPECT_EQ(*blocksPerNode(0, "10.244.0.0/16", 26), 0);
  EXPECT_EQ(*blocksPerNode(300, "10.0.0.0/8", 24), 2);
  EXPECT_EQ(*blocksPerNode(3, "10.0.0.0/8", 32), 3);

  Topology t = shape("mesh");
  t.workloadsPerNode = 100;  // two /26 per node
  const Plan p = planOf(t);
  EXPECT_EQ(p.blocks, 8);
  EXPECT_EQ(byRole(p), (std::map<std::string, Row>{{"node", {4, 3, 6}}}));

  t.name = "downward-default";
  EXPECT_EQ(byRole(planOf(t)), (std::map<std::string, Row>{
                                   {"node", {4, 1, 1}}, {"tor", {2, 3, 5}}, {"core", {1, 2, 8}}}));
}

TEST(Plan, NoWorkloadsNoBlocks) {
  Topology t = shape("as-per-rack");
  t.workloadsPerNode = 0;
  const Plan p = planOf(t);
  EXPECT_EQ(p.blocks, 0);
  EXPECT_EQ(byRole(p), (std::map<std::string, Row>{{"node", {4, 1, 0}}, {"tor", {2, 3, 0}}}));
}

TEST(Plan, CapacityWarnsPerRole) {
  const Plan p = planOf(shape("downward-default"), 3);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0], "1 of 1 core devices hold more than 3 routes (up to 4)");
  EXPECT_TRUE(planOf(shape("downward-default"), 4).warnings.empty());
  EXPECT_EQ(planOf(shape("as-per-rack"), 2).warnings.size(), 2u);  // nodes (3) and ToRs (4)
  EXPECT_EQ(p.routesByRole.at("core"), 4);
  EXPECT_EQ(p.routesByRole.at("node"), 1);
}

TEST(Plan, RefusesShapesTheTopologyDoesNotHave) {
  auto refused = [](Topology t, const std::string& field) {
    auto p = plan(t);
    ASSERT_FALSE(p.isOk()) << t.name;
    EXPECT_EQ(p.code(), ErrorCode::kInvalid);
    EXPECT_NE(p.message().find(field), std::string::npos) << p.message();
  };
  refused(shape("star"), "--topology: unknown topology 'star'");
  refused(shape("mesh", 0, 2), "--racks");
  refused(shape("mesh", 2, 0), "--nodes-per-rack");
  Topology t = shape("mesh");
  t.rrs = 2;
  refused(t, "--rrs");
  t = shape("as-per-server");
  t.core = true;
  refused(t, "--core");
  t = shape("ecmp-fabric");
  t.planes = 0;
  refused(t, "--planes");
  t = shape("mesh");
  t.pool = "fd00::/64";
  refused(t, "--pool: an IPv4 pool");
  t.pool = "10.0.0.0/33";
  refused(t, "--pool");
  t = shape("mesh");
  t.blockSize = 12;
  refused(t, "--block-size");
  t.blockSize = 26;
  t.workloadsPerNode = -1;
  refused(t, "--workloads-per-node");
  refused(shape("mesh", 100000, 100), "--racks x --nodes-per-rack: at most 1000000 nodes");
  t = shape("mesh", 250, 40);  // 10,000 blocks, the /16 holds 1,024 of /26
  refused(t, "--pool: 10.244.0.0/16 holds 1024 blocks of /26, the nodes need 10000");
}

TEST(Plan, Json) {
  const auto j = nlohmann::json::parse(toJson(planOf(shape("ecmp-fabric"))));
  EXPECT_EQ(j["topology"], "ecmp-fabric");
  ASSERT_EQ(j["devices"].size(), 8u);
  EXPECT_EQ(j["devices"][0], nlohmann::json::parse(R"({"name": "r1n1", "role": "node", "rack": 1,
      "as": 64512, "sessions": 4, "routes": 3, "nextHops": 4})"));
  EXPECT_EQ(j["totals"],
            nlohmann::json::parse(
                R"({"sessions": 16, "blocks": 4, "routesByRole": {"node": 3, "rr": 4}})"));
  EXPECT_TRUE(j["warnings"].empty());
}

TEST(Plan, TenThousandNodes) {
  Topology t = shape("as-per-rack", 250, 40);
  t.pool = "10.0.0.0/8";
  const Plan p = planOf(t, 5000);
  EXPECT_EQ(p.devices.size(), 10250u);
  EXPECT_EQ(byRole(p), (std::map<std::string, Row>{{"node", {10000, 1, 9999}},
                                                   {"tor", {250, 40 + 249, 10000}}}));
  EXPECT_EQ(p.totalSessions, 10000 + 250 * 249 / 2);
  EXPECT_EQ(p.warnings.size(), 2u);
}

TEST(Plan, XmlCheckFindsWhatIsWrong) {
  EXPECT_EQ(xmlProblem("<?xml version=\"1.0\"?>\n<a x=\"1 &amp; 2\"><b/><c>t&#38;</c></a>\n"), "");
  EXPECT_NE(xmlProblem("<a><b></a></b>"), "");
  EXPECT_NE(xmlProblem("<a>"), "");
  EXPECT_NE(xmlProblem("<a x=1/>"), "");
  EXPECT_NE(xmlProblem("<a>&nbsp;</a>"), "");
  EXPECT_NE(xmlProblem("<a/><b/>"), "");
  EXPECT_NE(xmlProblem("<a x=\"<\"/>"), "");
}

// Every topology's drawing is XML with a box per device; past 50 devices a tier is one box.
TEST(Plan, SvgIsWellFormed) {
  for (const auto& name : topologyNames()) {
    const Plan p = planOf(shape(name, 2, 3), 2);
    const std::string svg = toSvg(p);
    EXPECT_EQ(xmlProblem(svg), "") << name << "\n" << svg;
    size_t boxes = 0;
    for (size_t at = svg.find("<rect"); at != std::string::npos; at = svg.find("<rect", at + 1)) {
      ++boxes;
    }
    EXPECT_EQ(boxes, p.devices.size()) << name;
    EXPECT_NE(svg.find("Warning: "), std::string::npos) << name;
  }
  Topology big = shape("as-per-rack", 250, 40);
  big.pool = "10.0.0.0/8";
  const std::string svg = toSvg(planOf(big));
  EXPECT_EQ(xmlProblem(svg), "");
  EXPECT_NE(svg.find(">node x 10000<"), std::string::npos);
  EXPECT_NE(svg.find(">tor x 250<"), std::string::npos);
  EXPECT_NE(svg.find(">x 10000 sessions<"), std::string::npos);  // nodes to ToRs
  EXPECT_NE(svg.find(">x 31125 sessions<"), std::string::npos);  // the ToRs' mesh
  EXPECT_LT(svg.size(), 4000u);
}

}  // namespace
}  // namespace brindle::plan
