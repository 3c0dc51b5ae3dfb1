// The lab's topologies without namespaces: layouts (names, addresses, AS numbers), the routers'
// BIRD configurations, and every device's sessions against the planner's prediction.
#include <gtest/gtest.h>

#include "lab/fabric_bird.h"
#include "lab/state.h"
#include "lab/topology.h"
#include "plan/plan.h"
#include "testutil/temp_dir.h"

namespace brindle::lab {
namespace {

TopologyOptions shape(const std::string& name, bool core = false, int rrs = 1, int racks = 2,
                      int nodesPerRack = 4) {
  return {name, racks, nodesPerRack, rrs, core};
}

TEST(Layout, AsPerRackWithCore) {
  auto l = makeLayout(shape("as-per-rack", true));
  ASSERT_TRUE(l) << l.message();
  ASSERT_EQ(l->devices.size(), 11u);  // 8 nodes, 2 ToRs, the core
  const Device* n = l->find("r2n3");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->address(), "10.99.2.13");
  EXPECT_EQ(n->as, 64514u);
  EXPECT_EQ(l->find("tor2")->links[1].address, "10.98.0.2");
  EXPECT_EQ(l->owner("10.98.0.254")->name, "core");
  EXPECT_EQ(l->bridges, (std::vector<std::string>{"br1", "br2", "brcore"}));
}

TEST(Layout, AsPerServerGivesEveryNodeItsOwnFourByteAs) {
  auto l = makeLayout(shape("as-per-server"));
  ASSERT_TRUE(l);
  EXPECT_EQ(l->find("r1n1")->as, 4200000001u);
  EXPECT_EQ(l->find("r2n4")->as, 4200000008u);
  EXPECT_EQ(l->find("tor1")->as, 64512u);
}

TEST(Layout, EcmpNodesHaveAnAddressOnEveryPlane) {
  auto l = makeLayout(shape("ecmp-fabric"));
  ASSERT_TRUE(l);
  const Device* n = l->find("r2n1");
  ASSERT_EQ(n->links.size(), 4u);
  EXPECT_EQ(n->links[3].iface, "eth3");
  EXPECT_EQ(n->links[3].address, "10.99.4.15");
  EXPECT_EQ(l->find("rr3")->address(), "10.99.3.1");
}

TEST(Layout, RefusesWhatIsNoLab) {
  EXPECT_FALSE(makeLayout(shape("ring")));
  EXPECT_FALSE(makeLayout(shape("mesh", true)));  // --core is for as-per-rack
  EXPECT_FALSE(makeLayout(shape("rr", false, 9)));
  EXPECT_FALSE(makeLayout({"mesh", 10, 20, 1, false}));  // 200 nodes
}

TEST(RouterBird, TorReflectsForItsRackAndGivesItselfAsNextHop) {
  auto l = makeLayout(shape("as-per-rack"));
  const std::string conf = routerBird(*l, *l->find("tor1"));
  EXPECT_NE(conf.find("neighbor 10.99.1.14 as 64513;"), std::string::npos) << conf;
  EXPECT_NE(conf.find("rr client;"), std::string::npos);
  EXPECT_NE(conf.find("next hop self ebgp"), std::string::npos);
  EXPECT_NE(conf.find("neighbor 10.98.0.2 as 64514;"), std::string::npos);  // the other ToR
  EXPECT_EQ(conf.find("10.99.2.11"), std::string::npos);                    // not rack 2's nodes
}

TEST(RouterBird, DownwardDefaultSendsOnlyTheDefaultDown) {
  auto l = makeLayout(shape("downward-default"));
  const std::string core = routerBird(*l, *l->find("core"));
  EXPECT_NE(core.find("route 0.0.0.0/0 unreachable;"), std::string::npos) << core;
  EXPECT_NE(core.find("export where net = 0.0.0.0/0;"), std::string::npos);
  const std::string tor = routerBird(*l, *l->find("tor2"));
  EXPECT_NE(tor.find("export where net != 0.0.0.0/0;"), std::string::npos) << tor;  // up
  EXPECT_NE(tor.find("export where net = 0.0.0.0/0; next hop self ebgp;"), std::string::npos);
}

TEST(FabricResources, MeshOffAndPeersSelectTheirRack) {
  auto l = makeLayout(shape("as-per-rack"));
  const std::string yaml = fabricResources(*l);
  EXPECT_NE(yaml.find("nodeToNodeMeshEnabled: false"), std::string::npos);
  EXPECT_NE(yaml.find("peerIP: 10.99.2.1\n  asNumber: 64514\n  nodeSelector: rack == '2'"),
            std::string::npos)
      << yaml;
  auto ecmp = makeLayout(shape("ecmp-fabric"));
  EXPECT_NE(fabricResources(*ecmp).find("sourceAddress: None"), std::string::npos);
}

// What `up` waits for is what the planner predicts, for every device of every topology.
TEST(SessionsOf, EqualThePlan) {
  for (const auto& o :
       {shape("mesh"), shape("rr", false, 2), shape("as-per-rack"), shape("as-per-rack", true),
        shape("as-per-server"), shape("downward-default"), shape("ecmp-fabric"),
        shape("rr", false, 3, 3, 2), shape("as-per-rack", false, 1, 3, 2),
        shape("as-per-server", false, 1, 4, 1), shape("downward-default", false, 1, 3, 3)}) {
    auto l = makeLayout(o);
    ASSERT_TRUE(l);
    plan::Topology t;
    t.name = o.name;
    t.racks = o.racks;
    t.nodesPerRack = o.nodesPerRack;
    t.rrs = o.name == "rr" ? o.rrs : 0;
    t.core = o.core;
    auto p = plan::plan(t);
    ASSERT_TRUE(p) << p.message();
    ASSERT_EQ(p->devices.size(), l->devices.size()) << o.name;
    for (const auto& d : p->devices) {
      const Device* ours = l->find(d.name);
      ASSERT_NE(ours, nullptr) << o.name << " " << d.name;
      EXPECT_EQ(sessionsOf(*l, *ours), d.sessions) << o.name << " " << d.name;
      EXPECT_EQ(roleName(ours->role), d.role) << o.name << " " << d.name;
    }
  }
}

TEST(LabState, KeepsTheTopologyAndNodeAs) {
  testutil::TempDir dir;
  LabState s;
  s.nodes = {{"r1n1", "10.99.1.11/24", "", 1, 4200000001u}};
  s.topology = shape("rr", false, 3);
  ASSERT_TRUE(saveState(dir.file("state.json"), s));
  auto back = loadState(dir.file("state.json"));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->nodes[0].asNumber, 4200000001u);
  EXPECT_EQ(back->topology.name, "rr");
  EXPECT_EQ(back->topology.rrs, 3);
}

}  // namespace
}  // namespace brindle::lab
