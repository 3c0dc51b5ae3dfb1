// The BIRD text: golden files for a mesh node, a route reflector and an IPv6 node with every
// peer option, each also accepted by Debian's BIRD (`bird -p`). BRINDLE_UPDATE_GOLDEN=1 rewrites
// the golden files (review the diff).
#include "bgp/render.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "bgp/test_inputs.h"
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
  ASSERT_TRUE(in.blocks[0].assign(1, "h1", {{"node", "kube-master"}}).isOk());
  ASSERT_TRUE(in.blocks[1].assign(8, "h2", {{"node", "kube-master"}}).isOk());
  EXPECT_EQ(in.blocks[1].releaseByHandle("h").size(), 1u);
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

}  // namespace
}  // namespace brindle::bgp
