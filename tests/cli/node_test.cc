// brindlectl node bgp-config: the BIRD configuration a node would run, from the store alone.
#include <gtest/gtest.h>

#include "cli_fixture.h"
#include "testutil/shell.h"

namespace brindle::cli {
namespace {

const char* kCluster = R"(
kind: BGPConfiguration
apiVersion: projectcalico.org/v3
metadata: {name: default}
spec: {asNumber: 64600}
---
kind: Node
apiVersion: projectcalico.org/v3
metadata: {name: n1}
spec: {bgp: {ipv4Address: 10.99.0.1/24, ipv6Address: "fd99::1/64"}}
---
kind: Node
apiVersion: projectcalico.org/v3
metadata: {name: n2}
spec: {bgp: {ipv4Address: 10.99.0.2/24}}
---
kind: BGPPeer
apiVersion: projectcalico.org/v3
metadata: {name: tor}
spec: {peerIP: 10.98.0.1, asNumber: 65001, node: n2}
)";

class NodeCommand : public CliFixture {};

TEST_F(NodeCommand, BgpConfigPrintsTheRenderedPeers) {
  ok({"apply", "-f", "-"}, kCluster);
  const std::string n1 = ok({"node", "bgp-config", "--node", "n1"});
  EXPECT_NE(n1.find("router id 10.99.0.1;"), std::string::npos) << n1;
  EXPECT_NE(n1.find("local as 64600;"), std::string::npos) << n1;
  EXPECT_NE(n1.find("protocol bgp Mesh_10_99_0_2 from brindle_bgp"), std::string::npos) << n1;
  EXPECT_NE(n1.find("passive on;"), std::string::npos) << n1;
  EXPECT_EQ(n1.find("Node_10_98_0_1"), std::string::npos) << n1;

  const std::string n2 = ok({"node", "bgp-config", "--node", "n2", "--family", "4"});
  EXPECT_NE(n2.find("protocol bgp Node_10_98_0_1 from brindle_bgp"), std::string::npos) << n2;
  EXPECT_NE(n2.find("neighbor 10.98.0.1 as 65001;"), std::string::npos) << n2;
  EXPECT_EQ(n2.find("passive on;"), std::string::npos) << n2;

  // IPv6: n1 has an address, n2 none, so no sessions.
  const std::string v6 = ok({"node", "bgp-config", "--node", "n1", "--family", "6"});
  EXPECT_NE(v6.find("protocol kernel brindle_kernel {\n  ipv6"), std::string::npos) << v6;
  EXPECT_NE(v6.find("# No BGP peers."), std::string::npos) << v6;

  // What it prints is a configuration BIRD accepts.
  testutil::TempDir dir;
  const auto parsed = testutil::sh("bird -p -c " + dir.write("n2.conf", n2));
  EXPECT_EQ(parsed.code, 0) << parsed.out;
}

TEST_F(NodeCommand, BgpConfigErrors) {
  ok({"apply", "-f", "-"}, kCluster);
  RunResult r = run({"node", "bgp-config", "--node", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("node does not exist: nope"), std::string::npos) << r.err;
  r = run({"node", "bgp-config", "--node", "n1", "--family", "5"});
  EXPECT_EQ(r.code, 1);
  ok({"apply", "-f", "-"},
     "kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: {name: secret}\n"
     "spec: {peerIP: 10.98.0.9, asNumber: 65001, password: {secretKeyRef: {name: s, key: k}}}\n");
  r = run({"node", "bgp-config", "--node", "n1", "--secrets-dir", "/nonexistent"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("BGPPeer(secret).spec.password"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(NodeCommand, StatusWithoutBirdSaysNotRunning) {
  testutil::TempDir dir;
  RunResult r = run({"node", "status", "--node", "n1", "--run-dir", dir.file("run")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "Brindle process is not running.\n");
}

}  // namespace
}  // namespace brindle::cli
