// The BIRD text: golden files for a mesh node, a route reflector and an IPv6 node with every
// peer option, each also accepted by Debian's BIRD (`bird -p`). BRINDLE_UPDATE_GOLDEN=1 rewrites
// the golden files (review the diff).
#include "bgp/render.h"
#include "bgp/supervisor.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "bgp/test_inputs.h"
#include "ipam/block.h"
#include "testutil/shell.h"
#include "testutil/temp_dir.h"

namespace brindle::bgp {
namespace {

NodeConfig computeOk(const Inputs& in, const std::string& name, int family) {
  auto c = computeNodeConfig(in, name, family);
  EXPECT_TRUE(c.isOk()) << (c ? std::string() : c.message());
  return c ? *c : NodeConfig{};
}

// Compares with the golden file and has BIRD parse the text.
void checkRendered(const std::string& text, const std::string& golden) {
  const std::string path = std::string(BRINDLE_BGP_GOLDEN_DIR) + "/" + golden;
  if (std::getenv("BRINDLE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << text;
  }
  std::ifstream in(path);
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(text, want.str()) << "golden file " << path;

  testutil::TempDir dir;
  const std::string file = dir.write("bird.conf", text);
  const auto parsed = testutil::sh("bird -p -c " + file);
  EXPECT_EQ(parsed.code, 0) << "bird rejects " << golden << ":\n" << parsed.out;
}

Inputs meshInputs() {
  Inputs in =
      inputsFrom(bgpConfig("default", "  serviceClusterIPs: [{cidr: 10.96.0.0/12}]") +
                 node("kube-master", "10.192.0.2/16") + node("kube-node-1", "10.192.0.3/16") +
                 node("kube-node-2", "10.192.0.4/16") + kPool);
  auto own = ipam::Block::create(*Cidr::parse("192.168.10.0/26"), "host:kube-master", 0);
  auto borrowedFrom = ipam::Block::create(*Cidr::parse("192.168.20.0/26"), "host:kube-node-1", 0);
  EXPECT_TRUE(borrowedFrom.assign(7, "h", {{"node", "kube-master"}}).isOk());
  in.blocks = {own, borrowedFrom};
  return in;
}

TEST(BgpRender, MeshNode) {
  checkRendered(renderBird(computeOk(meshInputs(), "kube-master", 4)), "mesh_v4.conf");
}

TEST(BgpRender, RouteReflector) {
  const Inputs in = inputsFrom(
      bgpConfig("default",
                "  asNumber: 64532\n  nodeToNodeMeshEnabled: false\n  listenPort: 1790") +
      peer("tor", "  peerIP: 172.19.4.87\n  asNumber: 64533\n  nodeSelector: has(rr)") +
      peer("clients", "  nodeSelector: has(rr)\n  peerSelector: \"!has(rr)\"") +
      node("rr", "10.192.0.2/16", "    routeReflectorClusterID: 10.0.0.1\n", "rr: 'true'") +
      node("c1", "10.192.0.3/16") + node("c2", "10.192.0.4/16") + kPool);
  checkRendered(renderBird(computeOk(in, "rr", 4)), "reflector_v4.conf");
  checkRendered(renderBird(computeOk(in, "c1", 4)), "reflector_client_v4.conf");
}

TEST(BgpRender, Ipv6WithEveryPeerOption) {
  Inputs in = inputsFrom(
      bgpConfig("default",
                "  logSeverityScreen: Debug\n  nodeMeshMaxRestartTime: 90s\n"
                "  nodeMeshPassword:\n    secretKeyRef: {name: mesh, key: pw}") +
      peer("tor",
           "  peerIP: \"[fd00::1]:1790\"\n  asNumber: 65000\n  keepaliveTime: 3s\n"
           "  maxRestartTime: 2m\n  restartMode: LongLivedGracefulRestart\n"
           "  ttlSecurity: 1\n  keepOriginalNextHop: true\n  numAllowedLocalASNumbers: 2\n"
           "  failureDetectionMode: BFDIfDirectlyConnected\n"
           "  password:\n    secretKeyRef: {name: tor, key: pw}") +
      node("a", "", "    ipv6Address: fd5f::2/96\n") +
      node("b", "", "    ipv6Address: fd5f::3/96\n") +
      "kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata:\n  name: v6\nspec:\n"
      "  cidr: fd10::/112\n---\n");
  in.secrets[{"mesh", "pw"}] = "mesh \"quoted\" pass";
  EXPECT_EQ(computeNodeConfig(in, "a", 6).code(), ErrorCode::kInvalid);  // BIRD has no escapes
  in.secrets[{"mesh", "pw"}] = "mesh pass\\with backslash";
  in.secrets[{"tor", "pw"}] = "tor-pass";
  in.blocks = {ipam::Block::create(*Cidr::parse("fd10::40/122"), "host:a", 0)};
  checkRendered(renderBird(computeOk(in, "a", 6)), "options_v6.conf");
  // Its IPv4 side has no address and no peers, but is still a configuration BIRD accepts.
  checkRendered(renderBird(computeOk(in, "a", 4)), "no_address_v4.conf");
}

// Calico's confd test bgpfilter/single_filter/explicit_peer: two filters, each named by a
// node-specific peer of kube-master. The functions are confd's compiled text line for line.
const std::string kSingleFilterInputs =
    bgpConfig("default", "  nodeToNodeMeshEnabled: false") +
    node("kube-master", "10.192.0.2/16", "    ipv6Address: \"2001::102/64\"\n") +
    node("kube-node-1", "10.192.0.3/16", "    ipv6Address: \"2001::103/64\"\n") +
    node("kube-node-2", "10.192.0.4/16", "    ipv6Address: \"2001::104/64\"\n") +
    bgpFilter("test-filter-1",
              "  exportV4:\n"
              "    - {action: Accept, matchOperator: In, cidr: 77.0.0.0/16}\n"
              "    - {action: Reject, interface: eth0, source: RemotePeers, matchOperator: In,"
              " cidr: 77.1.0.0/16}\n"
              "    - {action: Accept, source: RemotePeers}\n"
              "    - {action: Reject}\n"
              "  importV4:\n"
              "    - {action: Accept, interface: \"eth*\", matchOperator: In, cidr: 44.0.0.0/16}\n"
              "    - {action: Reject, source: RemotePeers, matchOperator: In, cidr: 44.1.0.0/16}\n"
              "    - {action: Accept, source: RemotePeers}\n"
              "    - {action: Reject}\n"
              "  exportV6:\n"
              "    - {action: Accept, matchOperator: In, cidr: \"9000::0/64\"}\n"
              "    - {action: Reject, source: RemotePeers, matchOperator: In,"
              " cidr: \"9000:1::0/64\"}\n"
              "    - {action: Accept, source: RemotePeers}\n"
              "    - {action: Reject, interface: \"*.calico\"}\n"
              "  importV6:\n"
              "    - {action: Accept, matchOperator: In, cidr: \"5000::0/64\"}\n"
              "    - {action: Reject, interface: \"*\", source: RemotePeers, matchOperator: In,"
              " cidr: \"5000:1::0/64\"}\n"
              "    - {action: Accept, source: RemotePeers}\n"
              "    - {action: Reject}") +
    bgpFilter("test-filter-2",
              "  exportV4:\n"
              "    - {action: Accept, matchOperator: In, cidr: 77.2.0.0/16}\n"
              "    - {action: Reject, source: RemotePeers, matchOperator: In, cidr: 77.3.0.0/16}\n"
              "    - {action: Accept, interface: eth0, source: RemotePeers}\n"
              "    - {action: Reject}\n"
              "  importV4:\n"
              "    - {action: Accept, matchOperator: In, cidr: 44.2.0.0/16}\n"
              "    - {action: Reject, source: RemotePeers, matchOperator: In, cidr: 44.3.0.0/16}\n"
              "    - {action: Accept, source: RemotePeers}\n"
              "    - {action: Reject, interface: \"*.calico\"}") +
    peer("with-filter-1-v4",
         "  node: kube-master\n  peerIP: 10.192.0.3\n  asNumber: 64517\n"
         "  filters: [test-filter-1]") +
    peer("with-filter-1-v6",
         "  node: kube-master\n  peerIP: \"2001::103\"\n  asNumber: 64517\n"
         "  filters: [test-filter-1]") +
    peer("with-both-v4",
         "  node: kube-master\n  peerIP: 10.192.0.4\n  asNumber: 64517\n"
         "  filters: [test-filter-2, test-filter-1]") +
    peer("with-filter-2-v6",
         "  node: kube-master\n  peerIP: \"2001::104\"\n  asNumber: 64517\n"
         "  filters: [test-filter-2]");

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// BIRD applies a peer's new or removed BGPFilter on `configure` with the session kept, so the
// supervisor applies it at once; a changed neighbor still goes through make-before-break.
TEST(BgpRender, FilterChangesResetNoSession) {
  std::string bare = kSingleFilterInputs;
  for (const char* f :
       {"\n  filters: [test-filter-1]", "\n  filters: [test-filter-2, test-filter-1]",
        "\n  filters: [test-filter-2]"}) {
    for (size_t at; (at = bare.find(f)) != std::string::npos;)
      bare.erase(at, std::string(f).size());
  }
  std::string moved = bare;
  moved.replace(moved.find("peerIP: 10.192.0.4"), 18, "peerIP: 10.192.0.9");
  for (int family : {4, 6}) {
    const std::string with =
        renderBird(computeOk(inputsFrom(kSingleFilterInputs), "kube-master", family));
    const std::string without = renderBird(computeOk(inputsFrom(bare), "kube-master", family));
    ASSERT_NE(with, without);
    EXPECT_FALSE(resetsSessions(without, with)) << family;
    EXPECT_FALSE(resetsSessions(with, without)) << family;
    EXPECT_FALSE(resetsSessions(with, with));
  }
  const std::string with = renderBird(computeOk(inputsFrom(kSingleFilterInputs), "kube-master", 4));
  EXPECT_TRUE(resetsSessions(with, renderBird(computeOk(inputsFrom(moved), "kube-master", 4))));
  std::string otherAs = bare;
  otherAs.replace(otherAs.find("asNumber: 64517"), 15, "asNumber: 64519");
  EXPECT_TRUE(resetsSessions(with, renderBird(computeOk(inputsFrom(otherAs), "kube-master", 4))));
}

TEST(BgpRender, BgpFiltersAsConfdWritesThem) {
  const Inputs in = inputsFrom(kSingleFilterInputs);
  const std::string v4 = renderBird(computeOk(in, "kube-master", 4));
  EXPECT_TRUE(has(v4,
                  "# v4 BGPFilter test-filter-1\n"
                  "function 'bgp_test-filter-1_importFilterV4'() {\n"
                  "  if ((net ~ 44.0.0.0/16)&&((defined(ifname))&&(ifname ~ \"eth*\"))) then "
                  "{ accept; }\n"
                  "  if ((net ~ 44.1.0.0/16)&&((defined(source))&&(source ~ [ RTS_BGP ]))) then "
                  "{ reject; }\n"
                  "  if (((defined(source))&&(source ~ [ RTS_BGP ]))) then { accept; }\n"
                  "  reject;\n"
                  "}\n"
                  "function 'bgp_test-filter-1_exportFilterV4'() {\n"
                  "  if ((net ~ 77.0.0.0/16)) then { accept; }\n"
                  "  if ((net ~ 77.1.0.0/16)&&((defined(source))&&(source ~ [ RTS_BGP ]))&&"
                  "((defined(ifname))&&(ifname ~ \"eth0\"))) then { reject; }\n"
                  "  if (((defined(source))&&(source ~ [ RTS_BGP ]))) then { accept; }\n"
                  "  reject;\n"
                  "}\n"
                  "# v4 BGPFilter test-filter-2\n"
                  "function 'bgp_test-filter-2_importFilterV4'() {\n"
                  "  if ((net ~ 44.2.0.0/16)) then { accept; }\n"
                  "  if ((net ~ 44.3.0.0/16)&&((defined(source))&&(source ~ [ RTS_BGP ]))) then "
                  "{ reject; }\n"
                  "  if (((defined(source))&&(source ~ [ RTS_BGP ]))) then { accept; }\n"
                  "  if (((defined(ifname))&&(ifname ~ \"*.calico\"))) then { reject; }\n"
                  "}\n"))
      << v4;
  // Applied in the peer's channel before our own export rules, in the peer's order; a filter
  // ending without a verdict falls through to what the peer gets without filters.
  EXPECT_TRUE(has(v4,
                  "protocol bgp Node_10_192_0_3 from brindle_bgp {\n"
                  "  description \"node specific\";\n"
                  "  neighbor 10.192.0.3 as 64517;\n"
                  "  source address 10.192.0.2;\n"
                  "  ipv4 {\n"
                  "    import filter { 'bgp_test-filter-1_importFilterV4'(); accept; };\n"
                  "    export filter { 'bgp_test-filter-1_exportFilterV4'(); brindle_own(); "
                  "reject; };\n"
                  "  };\n"))
      << v4;
  EXPECT_TRUE(has(v4,
                  "    import filter { 'bgp_test-filter-2_importFilterV4'(); "
                  "'bgp_test-filter-1_importFilterV4'(); accept; };\n"
                  "    export filter { 'bgp_test-filter-2_exportFilterV4'(); "
                  "'bgp_test-filter-1_exportFilterV4'(); brindle_own(); reject; };\n"))
      << v4;
  checkRendered(v4, "filters_v4.conf");

  const std::string v6 = renderBird(computeOk(in, "kube-master", 6));
  EXPECT_TRUE(has(v6,
                  "# v6 BGPFilter test-filter-1\n"
                  "function 'bgp_test-filter-1_importFilterV6'() {\n"
                  "  if ((net ~ 5000::0/64)) then { accept; }\n"
                  "  if ((net ~ 5000:1::0/64)&&((defined(source))&&(source ~ [ RTS_BGP ]))&&"
                  "((defined(ifname))&&(ifname ~ \"*\"))) then { reject; }\n"
                  "  if (((defined(source))&&(source ~ [ RTS_BGP ]))) then { accept; }\n"
                  "  reject;\n"
                  "}\n"
                  "function 'bgp_test-filter-1_exportFilterV6'() {\n"
                  "  if ((net ~ 9000::0/64)) then { accept; }\n"
                  "  if ((net ~ 9000:1::0/64)&&((defined(source))&&(source ~ [ RTS_BGP ]))) then "
                  "{ reject; }\n"
                  "  if (((defined(source))&&(source ~ [ RTS_BGP ]))) then { accept; }\n"
                  "  if (((defined(ifname))&&(ifname ~ \"*.calico\"))) then { reject; }\n"
                  "}\n"))
      << v6;
  // test-filter-2 has no IPv6 rules: no function, and its v6 peer keeps the plain channel.
  EXPECT_FALSE(has(v6, "BGPFilter test-filter-2")) << v6;
  EXPECT_TRUE(has(v6,
                  "protocol bgp Node_2001__104 from brindle_bgp {\n"
                  "  description \"node specific\";\n"
                  "  neighbor 2001::104 as 64517;\n"
                  "  source address 2001::102;\n"
                  "  ttl security off;\n"))
      << v6;
  checkRendered(v6, "filters_v6.conf");
}

// confd's bgpfilter/filter_names (BIRD symbols have at most 64 characters) and the prefix
// length rules of its template_funcs_test.
TEST(BgpRender, BgpFilterNamesAndPrefixLengthsAsConfdWritesThem) {
  const std::string rules4 =
      "  importV4:\n    - {action: Accept, matchOperator: In, cidr: 44.0.0.0/16}";
  Inputs in = inputsFrom(
      bgpFilter("45characters.exactly.so.should.not.truncate-1", rules4) +
      bgpFilter("46characters.exactly.so.should.truncate-123456", rules4) +
      bgpFilter("greater-than-64-characters.so.this.should.definitely.truncate-1234567890",
                rules4) +
      bgpFilter("lengths",
                "  exportV4:\n"
                "    - {action: Reject, source: RemotePeers, matchOperator: NotIn,"
                " cidr: 55.4.0.0/16, prefixLength: {min: 16, max: 24}}\n"
                "    - {action: Reject, source: RemotePeers, matchOperator: NotIn,"
                " cidr: 88.7.0.0/16, prefixLength: {max: 24}}\n"
                "  importV6:\n"
                "    - {action: Accept, interface: eth0, matchOperator: NotIn,"
                " cidr: \"6000:1::0/64\", prefixLength: {min: 96}}\n"
                "    - {action: Accept, matchOperator: NotEqual, cidr: \"7000:1::0/64\","
                " prefixLength: {max: 96}}\n"
                "    - {action: Reject, matchOperator: NotEqual, cidr: \"8000:1::0/64\"}") +
      peer("p",
           "  peerIP: 10.192.0.9\n  asNumber: 65000\n  filters:\n"
           "    - greater-than-64-characters.so.this.should.definitely.truncate-1234567890") +
      node("a", "10.192.0.2/16", "    ipv6Address: \"2001::102/64\"\n"));
  const std::string v4 = renderBird(computeOk(in, "a", 4));
  EXPECT_TRUE(
      has(v4, "function 'bgp_45characters.exactly.so.should.not.truncate-1_importFilterV4'"))
      << v4;
  EXPECT_TRUE(
      has(v4, "function 'bgp_46characters.exactly.so.shou_9615CBDC00BAC628_importFilterV4'"))
      << v4;
  EXPECT_TRUE(has(v4,
                  "import filter { 'bgp_greater-than-64-characters.s_4C5DB3273E544641_"
                  "importFilterV4'(); accept; };"))
      << v4;
  EXPECT_TRUE(has(v4,
                  "function 'bgp_lengths_exportFilterV4'() {\n"
                  "  if ((net !~ [ 55.4.0.0/16{16,24} ])&&((defined(source))&&"
                  "(source ~ [ RTS_BGP ]))) then { reject; }\n"
                  "  if ((net !~ [ 88.7.0.0/16{16,24} ])&&((defined(source))&&"
                  "(source ~ [ RTS_BGP ]))) then { reject; }\n"
                  "}\n"))
      << v4;
  const std::string v6 = renderBird(computeOk(in, "a", 6));
  EXPECT_TRUE(has(v6,
                  "function 'bgp_lengths_importFilterV6'() {\n"
                  "  if ((net !~ [ 6000:1::0/64{96,128} ])&&((defined(ifname))&&"
                  "(ifname ~ \"eth0\"))) then { accept; }\n"
                  "  if ((net != [ 7000:1::0/64{64,96} ])) then { accept; }\n"
                  "  if ((net != 8000:1::0/64)) then { reject; }\n"
                  "}\n"))
      << v6;
  for (const auto* text : {&v4, &v6}) {
    testutil::TempDir dir;
    const auto parsed = testutil::sh("bird -p -c " + dir.write("bird.conf", *text));
    EXPECT_EQ(parsed.code, 0) << parsed.out << *text;
  }
}

// confd's mesh/communities (its apply_communities statements, here brindle_communities, called
// where we pick what to announce), mesh/bgp-export (disableBGPExport), localASNumber, bindMode:
// NodeIP, ignoredInterfaces and reachableBy in one configuration.
TEST(BgpRender, CommunitiesLocalAsBindModeIgnoredInterfacesReachableBy) {
  Inputs in = inputsFrom(
      bgpConfig("default",
                "  communities:\n    - {name: bgp-comm-standard, value: \"100:6532\"}\n"
                "    - {name: bgp-comm-large, value: \"100:555:107\"}\n"
                "  prefixAdvertisements:\n"
                "    - cidr: 192.168.0.0/16\n"
                "      communities: [bgp-comm-standard, \"5663:12\", bgp-comm-large]\n"
                "  listenPort: 177\n  bindMode: NodeIP\n  ignoredInterfaces: [iface-1, iface-2]") +
      peer("tor",
           "  peerIP: 10.225.0.4\n  asNumber: 65515\n  localASNumber: 64515\n"
           "  reachableBy: 10.224.0.1\n  keepOriginalNextHop: true") +
      node("kube-master", "10.192.0.2/16") + node("kube-node-1", "10.192.0.3/16") + kPool +
      "kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata:\n  name: ippool-2\nspec:\n"
      "  cidr: 192.168.2.0/24\n  disableBGPExport: true\n---\n");
  in.blocks = {ipam::Block::create(*Cidr::parse("192.168.10.0/26"), "host:kube-master", 0)};
  const std::string text = renderBird(computeOk(in, "kube-master", 4));
  EXPECT_TRUE(has(text,
                  "function brindle_communities() {\n"
                  "  if net ~ 192.168.0.0/16 then {\n"
                  "    bgp_large_community.add((100, 555, 107));\n"
                  "    bgp_community.add((100, 6532));\n"
                  "    bgp_community.add((5663, 12));\n"
                  "  }\n"
                  "}\n"))
      << text;
  EXPECT_TRUE(has(text,
                  "function brindle_own() {\n"
                  "  if net ~ 192.168.2.0/24 then reject;  # IPPool disableBGPExport\n"
                  "  brindle_communities();\n"))
      << text;
  EXPECT_TRUE(has(text, "  interface -\"iface-1\", -\"iface-2\", -\"cali*\"")) << text;
  EXPECT_TRUE(has(text,
                  "template bgp brindle_bgp {\n  local 10.192.0.2 port 177 as 64512;\n"
                  "  ipv4 { import all; export filter brindle_export; gateway recursive; };\n"
                  "  strict bind on;\n"))
      << text;
  EXPECT_TRUE(has(text,
                  "protocol bgp Global_10_225_0_4 from brindle_bgp {\n"
                  "  description \"global\";\n"
                  "  local as 64515;\n"
                  "  neighbor 10.225.0.4 as 65515;\n"
                  "  source address 10.192.0.2;\n"
                  "  ipv4 { next hop keep; };\n"))
      << text;
  EXPECT_TRUE(has(text,
                  "protocol static brindle_peer_routes {\n  ipv4;\n"
                  "  route 10.225.0.4/32 via 10.224.0.1;\n}\n"))
      << text;
  EXPECT_TRUE(has(text, "  if proto = \"brindle_peer_routes\" then accept;")) << text;
  checkRendered(text, "communities_v4.conf");
}

// A workload's address, borrowed from another node's block or in the node's own block, is
// exported from the kernel's route to its interface (brindle_own), so workloads coming and going
// leave the text, and BIRD's running configuration, as it is. A new block changes it.
TEST(BgpRender, WorkloadsChangeNoTextBlocksDo) {
  Inputs in = meshInputs();
  const std::string before = renderBird(computeOk(in, "kube-master", 4));
  EXPECT_NE(before.find("  if source = RTS_INHERIT && ifname ~ \"cali*\" && net.len = 32 && "
                        "net !~ [ 192.168.10.0/26+ ] then accept;\n"),
            std::string::npos)
      << before;
  EXPECT_EQ(before.find("192.168.20."), std::string::npos) << before;  // borrowed: not listed
  // IPAM changes the blocks (ipam::Block); BGP reads them as views.
  auto own = *ipam::Block::decode(in.blocks[0].encode());
  auto borrowed = *ipam::Block::decode(in.blocks[1].encode());
  ASSERT_TRUE(own.assign(1, "h1", {{"node", "kube-master"}}).isOk());
  ASSERT_TRUE(borrowed.assign(8, "h2", {{"node", "kube-master"}}).isOk());
  EXPECT_EQ(borrowed.releaseByHandle("h").size(), 1u);
  in.blocks[0] = own;
  in.blocks[1] = borrowed;
  EXPECT_EQ(renderBird(computeOk(in, "kube-master", 4)), before);
  in.blocks.push_back(ipam::Block::create(*Cidr::parse("192.168.10.64/26"), "host:kube-master", 0));
  EXPECT_NE(renderBird(computeOk(in, "kube-master", 4))
                .find("net !~ [ 192.168.10.0/26+, 192.168.10.64/26+ ]"),
            std::string::npos);
}

// What the supervisor appends while sessions are replaced: kernel routes (plain, on-link, ECMP)
// as static routes below BGP's preference, in a configuration BIRD accepts, in both families.
TEST(BgpRender, HoldAppendedToAConfiguration) {
  const std::string hold =
      renderHold(4, {"10.65.1.0/26 via 10.192.0.3%eth0", "10.65.2.0/26 via 10.192.0.4%tunl0 onlink",
                     "10.65.3.0/26 via 10.192.0.3%eth0 via 10.192.0.4%eth0"});
  EXPECT_NE(hold.find("protocol static brindle_hold {\n  ipv4 { preference 50; };\n"
                      "  route 10.65.1.0/26 via 10.192.0.3%eth0;\n"),
            std::string::npos)
      << hold;
  testutil::TempDir dir;
  const std::string text = renderBird(computeOk(meshInputs(), "kube-master", 4)) + hold;
  const auto parsed = testutil::sh("bird -p -c " + dir.write("bird.conf", text));
  EXPECT_EQ(parsed.code, 0) << parsed.out << text;
  const std::string hold6 = renderHold(6, {"fd10::40/122 via fe80::1%eth0"});
  EXPECT_NE(hold6.find("  ipv6 { preference 50; };\n"), std::string::npos) << hold6;
}

// IPIP pools: BGP routes inside an Always pool, or a CrossSubnet pool with a next hop outside the
// node's subnet, never reach the kernel (the agent routes them through tunl0).
TEST(BgpRender, IpipPools) {
  Inputs in = inputsFrom(
      node("a", "10.0.1.2/24") + node("b", "10.0.2.2/24") +
      "kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata:\n  name: always\nspec:\n"
      "  cidr: 192.168.0.0/18\n  ipipMode: Always\n---\n"
      "kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata:\n  name: cross\nspec:\n"
      "  cidr: 192.168.64.0/18\n  ipipMode: CrossSubnet\n---\n" +
      kPool.substr(0, kPool.find("192.168.0.0/16")) + "10.244.0.0/16\n---\n");
  checkRendered(renderBird(computeOk(in, "a", 4)), "ipip_v4.conf");
}

}  // namespace
}  // namespace brindle::bgp
