// Session decisions and exports, with the cases of Calico's confd template tests
// (confd/tests/compiled_templates: mesh, explicit_peering/{global,selectors,specific_node,
// route_reflector}, reverse_peering) restated as resources and the peers confd renders.
#include "bgp/config.h"

#include <gtest/gtest.h>

#include "bgp/test_inputs.h"
#include "ipam/block.h"

namespace brindle::bgp {
namespace {

NodeConfig compute(const Inputs& in, const std::string& name, int family = 4) {
  auto c = computeNodeConfig(in, name, family);
  EXPECT_TRUE(c.isOk()) << (c ? std::string() : c.message());
  return c ? *c : NodeConfig{};
}

// "name as N [port P] [passive] [rr] [src]" per peer, to compare whole peer lists at once.
std::vector<std::string> summary(const NodeConfig& c) {
  std::vector<std::string> out;
  for (const auto& p : c.peers) {
    std::string s = p.name + " " + p.ip.toString() + " as " + std::to_string(p.asNumber);
    if (p.port) s += " port " + std::to_string(*p.port);
    if (p.passive) s += " passive";
    if (!p.rrClusterId.empty()) s += " rr " + p.rrClusterId;
    if (p.sourceAddress) s += " src " + p.sourceAddress->toString();
    out.push_back(s);
  }
  return out;
}

using Peers = std::vector<std::string>;

const std::string kThreeNodes = node("kube-master", "10.192.0.2/16") +
                                node("kube-node-1", "10.192.0.3/16") +
                                node("kube-node-2", "10.192.0.4/16");

TEST(BgpConfig, FullMeshMakesTheLowerAddressPassive) {
  const Inputs in =
      inputsFrom(bgpConfig("default", "  logSeverityScreen: Info") + kThreeNodes + kPool);
  const NodeConfig master = compute(in, "kube-master");
  EXPECT_EQ(master.routerId.toString(), "10.192.0.2");
  EXPECT_EQ(master.asNumber, 64512u);
  EXPECT_EQ(summary(master), (Peers{"Mesh_10_192_0_3 10.192.0.3 as 64512 passive src 10.192.0.2",
                                    "Mesh_10_192_0_4 10.192.0.4 as 64512 passive src 10.192.0.2"}));
  EXPECT_EQ(summary(compute(in, "kube-node-2")),
            (Peers{"Mesh_10_192_0_2 10.192.0.2 as 64512 src 10.192.0.4",
                   "Mesh_10_192_0_3 10.192.0.3 as 64512 src 10.192.0.4"}));
  for (const auto& p : master.peers) EXPECT_EQ(p.type, PeerType::kMesh);
}

TEST(BgpConfig, PassiveSideIsDecidedByStringComparison) {
  // Numerically .10 > .9, but "10.0.0.10" < "10.0.0.9" as text: .10 waits for .9.
  const Inputs in = inputsFrom(node("a", "10.0.0.10/24") + node("b", "10.0.0.9/24"));
  EXPECT_EQ(summary(compute(in, "a")),
            (Peers{"Mesh_10_0_0_9 10.0.0.9 as 64512 passive src 10.0.0.10"}));
  EXPECT_EQ(summary(compute(in, "b")), (Peers{"Mesh_10_0_0_10 10.0.0.10 as 64512 src 10.0.0.9"}));
}

TEST(BgpConfig, NodeWithoutAddressInTheFamilyGetsNoSessions) {
  const Inputs in = inputsFrom(kThreeNodes);
  const NodeConfig v6 = compute(in, "kube-master", 6);
  EXPECT_FALSE(v6.address);
  EXPECT_TRUE(v6.peers.empty());
  EXPECT_EQ(computeNodeConfig(in, "nobody", 4).code(), ErrorCode::kNotFound);
}

TEST(BgpConfig, PerNodeAsNumberAndGlobalAs) {
  const Inputs in =
      inputsFrom(bgpConfig("default", "  asNumber: 64567") + node("a", "10.0.0.1/24") +
                 node("b", "10.0.0.2/24", "    asNumber: 65001\n"));
  const NodeConfig a = compute(in, "a");
  EXPECT_EQ(a.asNumber, 64567u);
  EXPECT_EQ(summary(a), (Peers{"Mesh_10_0_0_2 10.0.0.2 as 65001 passive src 10.0.0.1"}));
  const NodeConfig b = compute(in, "b");
  EXPECT_EQ(b.asNumber, 65001u);
  EXPECT_EQ(summary(b), (Peers{"Mesh_10_0_0_1 10.0.0.1 as 64567 src 10.0.0.2"}));
}

// explicit_peering/global: mesh off, listenPort 150; peers to Calico nodes take the node's port
// unless the peer names one; sourceAddress None drops the source address.
TEST(BgpConfig, GlobalPeersTakeTheNodesListenPort) {
  const Inputs in = inputsFrom(
      bgpConfig("default", "  nodeToNodeMeshEnabled: false\n  asNumber: 64567\n  listenPort: 150") +
      peer("bgppeer-1", "  peerIP: 10.192.0.3\n  asNumber: 64567\n  sourceAddress: None") +
      peer("bgppeer-2", "  peerIP: 10.192.0.1:166\n  asNumber: 64567") +
      peer("bgppeer-3", "  peerIP: 10.192.0.1\n  asNumber: 64567") +
      node("kube-master", "10.192.0.2/16") + node("kube-node-1", "10.192.0.3/16") +
      node("kube-node-2", "10.192.0.1/16") + kPool);
  const NodeConfig master = compute(in, "kube-master");
  EXPECT_EQ(master.listenPort, 150);
  EXPECT_EQ(summary(master),
            (Peers{"Global_10_192_0_1_port_150 10.192.0.1 as 64567 port 150 src 10.192.0.2",
                   "Global_10_192_0_1_port_166 10.192.0.1 as 64567 port 166 src 10.192.0.2",
                   "Global_10_192_0_3_port_150 10.192.0.3 as 64567 port 150 passive"}));
  // The same peers on kube-node-1: the one to its own address is dropped.
  EXPECT_EQ(summary(compute(in, "kube-node-1")),
            (Peers{"Global_10_192_0_1_port_150 10.192.0.1 as 64567 port 150 src 10.192.0.3",
                   "Global_10_192_0_1_port_166 10.192.0.1 as 64567 port 166 src 10.192.0.3"}));
}

// explicit_peering/selectors: peers picked by peerSelector are node-specific, never passive, and
// use the peer node's own BGPConfiguration port; the reverse peering is added automatically.
TEST(BgpConfig, SelectorPeersUsePerNodePortAndGetReversePeering) {
  const Inputs in =
      inputsFrom(bgpConfig("default", "  nodeToNodeMeshEnabled: false") +
                 bgpConfig("node.kube-node-1", "  listenPort: 500") +
                 peer("bgppeer-1", "  nodeSelector: group=='one'\n  peerSelector: group=='two'") +
                 node("kube-master", "10.192.0.2/16", "", "group: one") +
                 node("kube-node-1", "10.192.0.3/16", "", "group: two") +
                 node("kube-node-2", "10.192.0.4/16", "", "group: two"));
  EXPECT_EQ(summary(compute(in, "kube-master")),
            (Peers{"Node_10_192_0_3_port_500 10.192.0.3 as 64512 port 500 src 10.192.0.2",
                   "Node_10_192_0_4 10.192.0.4 as 64512 src 10.192.0.2"}));
  EXPECT_EQ(summary(compute(in, "kube-node-2")),
            (Peers{"Node_10_192_0_2 10.192.0.2 as 64512 src 10.192.0.4"}));
  EXPECT_EQ(compute(in, "kube-node-1").listenPort, 500);
}

TEST(BgpConfig, ManualReversePeeringLeavesTheOtherSideAlone) {
  const Inputs in = inputsFrom(bgpConfig("default", "  nodeToNodeMeshEnabled: false") +
                               peer("p",
                                    "  nodeSelector: group=='one'\n  peerSelector: group=='two'\n"
                                    "  reversePeering: Manual") +
                               node("a", "10.0.0.1/24", "", "group: one") +
                               node("b", "10.0.0.2/24", "", "group: two"));
  EXPECT_EQ(summary(compute(in, "a")), (Peers{"Node_10_0_0_2 10.0.0.2 as 64512 src 10.0.0.1"}));
  EXPECT_TRUE(compute(in, "b").peers.empty());
}

// Calico stores a BGPPeer naming no peer (only sourceAddress), and one that selects local
// workloads; neither gives a BIRD session, and the mesh is as before.
TEST(BgpConfig, PeerNamingNoPeerGivesNoSession) {
  const std::string mesh =
      kThreeNodes + peer("none", "  sourceAddress: None") +
      peer("use-node-ip", "  sourceAddress: UseNodeIP\n  node: kube-master") +
      peer("workloads", "  localWorkloadSelector: app == 'bgp'\n  asNumber: 65001");
  const NodeConfig master = compute(inputsFrom(mesh), "kube-master");
  EXPECT_EQ(summary(master), (Peers{"Mesh_10_192_0_3 10.192.0.3 as 64512 passive src 10.192.0.2",
                                    "Mesh_10_192_0_4 10.192.0.4 as 64512 passive src 10.192.0.2"}));
  const Inputs noMesh = inputsFrom(bgpConfig("default", "  nodeToNodeMeshEnabled: false") + mesh);
  for (const char* n : {"kube-master", "kube-node-1"}) {
    EXPECT_TRUE(compute(noMesh, n).peers.empty()) << n;
  }
}

// explicit_peering/specific_node: a peer with `node:` only on that node.
TEST(BgpConfig, NodeScopedPeerOnlyOnItsNode) {
  const Inputs in =
      inputsFrom(bgpConfig("default", "  nodeToNodeMeshEnabled: false") +
                 peer("bgppeer-1", "  peerIP: 10.192.0.3\n  asNumber: 64512\n  node: kube-master") +
                 peer("bgppeer-2", "  peerIP: 10.192.0.4\n  asNumber: 64566\n  node: kube-node-1") +
                 kThreeNodes);
  EXPECT_EQ(summary(compute(in, "kube-master")),
            (Peers{"Node_10_192_0_3 10.192.0.3 as 64512 src 10.192.0.2"}));
  EXPECT_EQ(summary(compute(in, "kube-node-1")),
            (Peers{"Node_10_192_0_4 10.192.0.4 as 64566 src 10.192.0.3"}));
  EXPECT_TRUE(compute(in, "kube-node-2").peers.empty());
}

// explicit_peering/route_reflector: the reflector leaves the mesh, its same-AS peers become
// `rr client`, the eBGP one does not; clients peer with it by reverse peering.
TEST(BgpConfig, RouteReflectorPickedByPeerSelector) {
  const Inputs in = inputsFrom(
      bgpConfig("default", "  asNumber: 64532\n  nodeToNodeMeshEnabled: false") +
      peer("bgppeer-1",
           "  peerIP: 172.19.4.87\n  asNumber: 64533\n  nodeSelector: has(routeReflector)") +
      peer("bgppeer-other-nodes",
           "  nodeSelector: has(routeReflector)\n  peerSelector: \"!has(routeReflector)\"") +
      node("kube-master", "10.192.0.2/16", "    routeReflectorClusterID: 10.0.0.1\n",
           "routeReflector: 'true'") +
      node("kube-node-1", "10.192.0.3/16") + node("kube-node-2", "10.192.0.4/16") + kPool);
  const NodeConfig rr = compute(in, "kube-master");
  EXPECT_EQ(rr.rrClusterId, "10.0.0.1");
  EXPECT_EQ(summary(rr), (Peers{"Node_10_192_0_3 10.192.0.3 as 64532 rr 10.0.0.1 src 10.192.0.2",
                                "Node_10_192_0_4 10.192.0.4 as 64532 rr 10.0.0.1 src 10.192.0.2",
                                "Node_172_19_4_87 172.19.4.87 as 64533 src 10.192.0.2"}));
  EXPECT_EQ(summary(compute(in, "kube-node-1")),
            (Peers{"Node_10_192_0_2 10.192.0.2 as 64532 src 10.192.0.3"}));
}

// Mesh on with a reflector among the nodes (mesh/route-reflector-mesh-enabled): the reflector is
// left out of the others' mesh, and reflectors of one cluster are not each other's clients.
TEST(BgpConfig, ReflectorsLeaveTheMeshAndDoNotServeEachOther) {
  const Inputs in =
      inputsFrom(peer("to-rr", "  nodeSelector: \"!has(rr)\"\n  peerSelector: has(rr)") +
                 peer("rr-rr", "  nodeSelector: has(rr)\n  peerSelector: has(rr)") +
                 node("rr1", "10.0.0.1/24", "    routeReflectorClusterID: 1.0.0.1\n", "rr: 'y'") +
                 node("rr2", "10.0.0.2/24", "    routeReflectorClusterID: 1.0.0.1\n", "rr: 'y'") +
                 node("c1", "10.0.0.3/24") + node("c2", "10.0.0.4/24"));
  EXPECT_EQ(summary(compute(in, "c1")),
            (Peers{"Mesh_10_0_0_4 10.0.0.4 as 64512 passive src 10.0.0.3",
                   "Node_10_0_0_1 10.0.0.1 as 64512 src 10.0.0.3",
                   "Node_10_0_0_2 10.0.0.2 as 64512 src 10.0.0.3"}));
  EXPECT_EQ(summary(compute(in, "rr1")),
            (Peers{"Node_10_0_0_2 10.0.0.2 as 64512 src 10.0.0.1",
                   "Node_10_0_0_3 10.0.0.3 as 64512 rr 1.0.0.1 src 10.0.0.1",
                   "Node_10_0_0_4 10.0.0.4 as 64512 rr 1.0.0.1 src 10.0.0.1"}));
}

TEST(BgpConfig, GlobalPeeringHidesNodeSpecificOneToTheSameAddress) {
  const Inputs in = inputsFrom(bgpConfig("default", "  nodeToNodeMeshEnabled: false") +
                               peer("a-node", "  peerIP: 10.9.0.1\n  asNumber: 65000\n  node: a") +
                               peer("b-global", "  peerIP: 10.9.0.1\n  asNumber: 65000") +
                               node("a", "10.0.0.1/24"));
  EXPECT_EQ(summary(compute(in, "a")), (Peers{"Global_10_9_0_1 10.9.0.1 as 65000 src 10.0.0.1"}));
}

TEST(BgpConfig, PeerOptionsAndPasswordsFromSecrets) {
  Inputs in =
      inputsFrom(bgpConfig("default", "  nodeToNodeMeshEnabled: false") +
                 peer("tor",
                      "  peerIP: 10.9.0.1\n  asNumber: 65000\n  keepaliveTime: 3s\n"
                      "  maxRestartTime: 120s\n  ttlSecurity: 2\n  keepOriginalNextHop: true\n"
                      "  password:\n    secretKeyRef: {name: bgp, key: tor}") +
                 node("a", "10.0.0.1/24"));
  EXPECT_EQ(computeNodeConfig(in, "a", 4).code(), ErrorCode::kInvalid);  // no secret yet
  in.secrets[{"bgp", "tor"}] = "s3cret";
  const NodeConfig a = compute(in, "a");
  ASSERT_EQ(a.peers.size(), 1u);
  const Peer& p = a.peers[0];
  EXPECT_EQ(p.password, "s3cret");
  EXPECT_EQ(p.keepaliveSeconds, 3);
  EXPECT_EQ(p.restartSeconds, 120);
  EXPECT_EQ(p.ttlSecurity, 2);
  EXPECT_TRUE(p.nextHopKeep);  // eBGP only
}

TEST(BgpConfig, UnknownFilterIsAnErrorNamingTheField) {
  const Inputs in = inputsFrom(peer("p",
                                    "  peerIP: 10.9.0.1\n  asNumber: 65000\n"
                                    "  filters: [nope]") +
                               node("a", "10.0.0.1/24"));
  auto c = computeNodeConfig(in, "a", 4);
  ASSERT_FALSE(c.isOk());
  EXPECT_EQ(c.code(), ErrorCode::kInvalid);
  EXPECT_NE(c.message().find("BGPPeer(p).spec.filters"), std::string::npos) << c.message();
}

TEST(BgpConfig, BgpFiltersAreReadWithTheirRulesInOrder) {
  const Inputs in = inputsFrom(
      bgpFilter("f2",
                "  importV4:\n"
                "    - {action: Accept, matchOperator: NotIn, cidr: 44.1.0.0/16,\n"
                "       prefixLength: {min: 18, max: 24}, source: RemotePeers, interface: eth*}\n"
                "    - {action: Reject}\n"
                "  exportV6:\n    - {action: Accept, matchOperator: Equal, cidr: 9000::0/64}") +
      bgpFilter("f1", "  exportV4:\n    - {action: Reject, interface: cali*}") +
      peer("p", "  peerIP: 10.0.0.9\n  asNumber: 65000\n  filters: [f2, f1]") +
      node("a", "10.0.0.1/24"));
  const NodeConfig a = compute(in, "a");
  ASSERT_EQ(a.peers.size(), 1u);
  EXPECT_EQ(a.peers[0].filters, (std::vector<std::string>{"f2", "f1"}));  // the peer's order
  ASSERT_EQ(a.filters.size(), 2u);
  EXPECT_EQ(a.filters[0].name, "f1");  // by name
  const auto& f2 = a.filters[1];
  ASSERT_EQ(f2.importV4.size(), 2u);
  const auto& r = f2.importV4[0];
  EXPECT_TRUE(r.accept);
  EXPECT_EQ(r.cidr, "44.1.0.0/16");
  EXPECT_EQ(r.matchOperator, "NotIn");
  EXPECT_EQ(r.prefixMin, 18);
  EXPECT_EQ(r.prefixMax, 24);
  EXPECT_TRUE(r.remotePeers);
  EXPECT_EQ(r.interface, "eth*");
  EXPECT_FALSE(f2.importV4[1].accept);
  EXPECT_TRUE(f2.exportV4.empty());
  EXPECT_EQ(f2.exportV6[0].cidr, "9000::0/64");  // as written: confd renders it so
}

// Writes are validated (validate.cc); this is what the decision says of a stored filter another
// writer left malformed.
TEST(BgpConfig, BadStoredBgpFilterRuleIsAnErrorNamingTheField) {
  for (const auto& [spec, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"importV4": [{"action": "Allow"}]})",
            "BGPFilter(f).spec.importV4[0].action: Allow"},
           {R"({"exportV4": [{"action": "Accept"}, {"action": "Accept", "cidr": "10.0.0.0/8"}]})",
            "BGPFilter(f).spec.exportV4[1].matchOperator"},
           {R"({"exportV6": [{"action": "Accept", "matchOperator": "In", "cidr": "10.0.0.0/8"}]})",
            "BGPFilter(f).spec.exportV6[0].cidr: 10.0.0.0/8"},
           {R"({"importV6": [{"action": "Accept", "source": "Local"}]})",
            "BGPFilter(f).spec.importV6[0].source: Local"}}) {
    Inputs in = inputsFrom(bgpFilter("f", "  importV4: []") + node("a", "10.0.0.1/24"));
    ASSERT_EQ(in.filters.size(), 1u);
    in.filters[0].spec = model::Json::parse(spec);
    auto c = computeNodeConfig(in, "a", 4);
    ASSERT_FALSE(c.isOk()) << spec;
    EXPECT_EQ(c.code(), ErrorCode::kInvalid);
    EXPECT_NE(c.message().find(field), std::string::npos) << c.message();
  }
}

// confd's mesh/communities: names resolved, repeats dropped, sorted as text, per family; a
// node's own BGPConfiguration (step2) replaces the global prefixAdvertisements for that node.
TEST(BgpConfig, PrefixAdvertisementCommunitiesAsConfdResolvesThem) {
  const std::string global =
      bgpConfig("default",
                "  communities:\n    - {name: bgp-comm-standard, value: \"100:6532\"}\n"
                "    - {name: bgp-comm-large, value: \"100:555:107\"}\n"
                "  prefixAdvertisements:\n"
                "    - cidr: 192.168.0.0/16\n"
                "      communities: [bgp-comm-standard, \"5663:12\", bgp-comm-large]\n"
                "    - cidr: fd00:96::/112\n      communities: [bgp-comm-large, bgp-comm-large]\n"
                "  listenPort: 177");
  const std::string nodes = kThreeNodes + kPool;
  auto adverts = [](const NodeConfig& c) {
    std::vector<std::string> out;
    for (const auto& a : c.communities) {
      std::string line = a.cidr;
      for (const auto& v : a.communities) line += " " + v;
      out.push_back(line);
    }
    return out;
  };
  Inputs in = inputsFrom(global + nodes);
  using Lines = std::vector<std::string>;
  EXPECT_EQ(adverts(compute(in, "kube-master")),
            (Lines{"192.168.0.0/16 100:555:107 100:6532 5663:12"}));
  EXPECT_EQ(adverts(compute(in, "kube-master", 6)), (Lines{"fd00:96::/112 100:555:107"}));

  in = inputsFrom(global + nodes +
                  bgpConfig("node.kube-master",
                            "  communities:\n    - {name: bgp-comm-large, value: \"50:50:5364\"}\n"
                            "  prefixAdvertisements:\n"
                            "    - cidr: 192.168.0.0/16\n"
                            "      communities: [\"5663:12\", bgp-comm-large, \"5663:12\"]\n"
                            "    - cidr: fd00:96::/112\n      communities: [bgp-comm-large]\n"
                            "  listenPort: 180"));
  EXPECT_EQ(adverts(compute(in, "kube-master")), (Lines{"192.168.0.0/16 50:50:5364 5663:12"}));
  EXPECT_EQ(adverts(compute(in, "kube-node-1")),
            (Lines{"192.168.0.0/16 100:555:107 100:6532 5663:12"}));
}

// confd's explicit_peering/local-as-global: localASNumber is our AS on that session (and
// decides iBGP/eBGP for it); sourceAddress: None leaves the source to the kernel.
TEST(BgpConfig, LocalAsNumberPerPeer) {
  const Inputs in = inputsFrom(
      bgpConfig("default", "  nodeToNodeMeshEnabled: false\n  asNumber: 64567\n  listenPort: 150") +
      peer("bgppeer-1",
           "  peerIP: 10.192.0.3\n  asNumber: 64567\n  localASNumber: 64515\n"
           "  sourceAddress: None") +
      peer("bgppeer-2", "  peerIP: \"10.192.0.1:166\"\n  asNumber: 64567\n  localASNumber: 64567") +
      peer("bgppeer-3",
           "  peerIP: 10.192.0.1\n  asNumber: 64567\n  localASNumber: 64567\n"
           "  numAllowedLocalASNumbers: 1") +
      node("kube-master", "10.192.0.2/16") + node("kube-node-1", "10.192.0.3/16") +
      node("kube-node-2", "10.192.0.1/16") + kPool);
  const NodeConfig c = compute(in, "kube-master");
  EXPECT_EQ(summary(c),
            (Peers{"Global_10_192_0_1_port_150 10.192.0.1 as 64567 port 150 src 10.192.0.2",
                   "Global_10_192_0_1_port_166 10.192.0.1 as 64567 port 166 src 10.192.0.2",
                   "Global_10_192_0_3_port_150 10.192.0.3 as 64567 port 150 passive"}));
  EXPECT_EQ(c.peers[0].localAs, 64567u);
  EXPECT_EQ(c.peers[0].allowLocalAs, 1);
  EXPECT_EQ(c.peers[2].localAs, 64515u);
}

// bindMode, ignoredInterfaces (global only, as confd reads them) and reachableBy (confd's
// reachable_by/global_peers: a /32 or /128 to the peer via the gateway, in its family).
TEST(BgpConfig, BindModeIgnoredInterfacesAndReachableBy) {
  const Inputs in = inputsFrom(
      bgpConfig("default", "  bindMode: NodeIP\n  ignoredInterfaces: [iface-1, \"eth9*\"]") +
      peer("rr-a-v4", "  peerIP: 10.225.0.4\n  asNumber: 65515\n  reachableBy: 10.224.0.1") +
      peer("rr-a-v6", "  peerIP: ffee::10\n  asNumber: 65515\n  reachableBy: \"ffee::1:1\"") +
      node("a", "10.192.0.2/16", "    ipv6Address: \"2001::102/64\"\n") +
      node("b", "10.192.0.3/16"));
  const NodeConfig v4 = compute(in, "a");
  EXPECT_EQ(v4.listenAddress->toString(), "10.192.0.2");
  EXPECT_EQ(v4.ignoredInterfaces, (std::vector<std::string>{"iface-1", "eth9*"}));
  ASSERT_EQ(v4.peers.size(), 2u);
  EXPECT_EQ(v4.peers[0].name, "Global_10_225_0_4");
  EXPECT_EQ(v4.peers[0].reachableBy->toString(), "10.224.0.1");
  EXPECT_FALSE(v4.peers[1].reachableBy);  // the mesh peer
  const NodeConfig v6 = compute(in, "a", 6);
  EXPECT_EQ(v6.listenAddress->toString(), "2001::102");
  ASSERT_EQ(v6.peers.size(), 1u);
  EXPECT_EQ(v6.peers[0].reachableBy->toString(), "ffee::1:1");
  EXPECT_FALSE(compute(in, "b", 6).listenAddress);  // no IPv6 address, nothing to bind
}

// Calico's API has no mesh timers (BGPConfiguration has nodeMeshPassword and
// nodeMeshMaxRestartTime only), so mesh sessions keep BIRD's hold time of 240 s. A cluster
// shortens it by replacing the mesh with a BGPPeer between all nodes that sets keepaliveTime
// (hold time 3x): docs/bgp.md.
TEST(BgpConfig, MeshKeepsBirdsHoldTimeAnAllNodesPeerShortensIt) {
  const std::string nodes = kThreeNodes + kPool;
  const NodeConfig mesh = compute(inputsFrom(nodes), "kube-master");
  ASSERT_EQ(mesh.peers.size(), 2u);
  for (const auto& p : mesh.peers) EXPECT_FALSE(p.keepaliveSeconds) << p.name;

  const Inputs fast = inputsFrom(
      bgpConfig("default", "  nodeToNodeMeshEnabled: false") +
      peer("all-nodes", "  nodeSelector: all()\n  peerSelector: all()\n  keepaliveTime: 1s") +
      nodes);
  const NodeConfig c = compute(fast, "kube-master");
  EXPECT_EQ(summary(c), (Peers{"Node_10_192_0_3 10.192.0.3 as 64512 src 10.192.0.2",
                               "Node_10_192_0_4 10.192.0.4 as 64512 src 10.192.0.2"}));
  for (const auto& p : c.peers) EXPECT_EQ(p.keepaliveSeconds, 1) << p.name;
}

// confd's mesh/bgp-export: a pool with disableBGPExport is not announced (confd rejects it first
// in calico_export_to_bgp_peers), per family; its blocks are still blackholed.
TEST(BgpConfig, PoolWithDisableBgpExportIsNotAnnounced) {
  auto pool = [](const std::string& name, const std::string& cidr, bool disable) {
    return "kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata:\n  name: " + name +
           "\nspec:\n  cidr: " + cidr + "\n  disableBGPExport: " + (disable ? "true" : "false") +
           "\n---\n";
  };
  Inputs in = inputsFrom(node("a", "10.192.0.2/16", "    ipv6Address: \"2001::102/64\"\n") +
                         pool("ippool-2", "192.168.2.0/24", true) +
                         pool("ippool-3", "192.168.3.0/24", false) +
                         pool("ippool-v6-2", "2002:102::/64", true));
  in.blocks = {ipam::Block::create(*Cidr::parse("192.168.2.0/26"), "host:a", 0)};
  const NodeConfig v4 = compute(in, "a");
  ASSERT_EQ(v4.noExport.size(), 1u);
  EXPECT_EQ(v4.noExport[0].toString(), "192.168.2.0/24");
  EXPECT_EQ(v4.blocks.size(), 1u);
  const NodeConfig v6 = compute(in, "a", 6);
  ASSERT_EQ(v6.noExport.size(), 1u);
  EXPECT_EQ(v6.noExport[0].toString(), "2002:102::/64");
}

TEST(BgpConfig, Ipv6MeshAndPeers) {
  const Inputs in = inputsFrom(peer("v6", "  peerIP: \"[fd00::99]:1790\"\n  asNumber: 65000") +
                               node("a", "10.0.0.1/24", "    ipv6Address: fd5f::2/96\n") +
                               node("b", "10.0.0.2/24", "    ipv6Address: fd5f::3/96\n"));
  EXPECT_EQ(summary(compute(in, "a", 6)),
            (Peers{"Global_fd00__99_port_1790 fd00::99 as 65000 port 1790 src fd5f::2",
                   "Mesh_fd5f__3 fd5f::3 as 64512 passive src fd5f::2"}));
  EXPECT_EQ(summary(compute(in, "a", 4)),
            (Peers{"Mesh_10_0_0_2 10.0.0.2 as 64512 passive src 10.0.0.1"}));
}

// Local workloads outside the node's blocks (borrowed or hand-given addresses) are exported by
// BIRD from the kernel by interface (render_test.cc), not decided here: only blocks and services.
TEST(BgpConfig, ExportsOwnBlocksAndServices) {
  Inputs in = inputsFrom(
      bgpConfig("default", "  serviceClusterIPs: [{cidr: 10.96.0.0/12}, {cidr: fd00:96::/108}]") +
      node("a", "10.0.0.1/24") + node("b", "10.0.0.2/24") + kPool);
  auto own = ipam::Block::create(*Cidr::parse("192.168.0.0/26"), "host:a", 0);
  ASSERT_TRUE(own.assign(3, "h1", {{"node", "a"}}).isOk());
  auto others = ipam::Block::create(*Cidr::parse("192.168.0.64/26"), "host:b", 0);
  ASSERT_TRUE(others.assign(1, "h2", {{"node", "a"}}).isOk());  // borrowed by a
  ASSERT_TRUE(others.assign(2, "h3", {{"node", "b"}}).isOk());
  in.blocks = {own, others, ipam::Block::create(*Cidr::parse("fd10::40/122"), "host:a", 0)};
  auto texts = [](const std::vector<Cidr>& cidrs) {
    std::vector<std::string> out;
    for (const auto& c : cidrs) out.push_back(c.toString());
    return out;
  };
  const NodeConfig a = compute(in, "a");
  EXPECT_EQ(texts(a.pools), (std::vector<std::string>{"192.168.0.0/16"}));
  EXPECT_EQ(texts(a.blocks), (std::vector<std::string>{"192.168.0.0/26"}));
  EXPECT_EQ(texts(a.serviceRanges), (std::vector<std::string>{"10.96.0.0/12"}));
  const NodeConfig a6 = compute(in, "a", 6);
  EXPECT_EQ(texts(a6.blocks), (std::vector<std::string>{"fd10::40/122"}));
  EXPECT_EQ(texts(a6.serviceRanges), (std::vector<std::string>{"fd00:96::/108"}));
  EXPECT_EQ(texts(compute(in, "b").blocks), (std::vector<std::string>{"192.168.0.64/26"}));
}

}  // namespace
}  // namespace brindle::bgp
