// Reading BIRD's protocol listing (as birdc 2.0.12 prints it) into calicoctl's peer rows.
#include "bgp/status.h"

#include <gtest/gtest.h>

namespace brindle::bgp {
namespace {

TEST(BgpStatus, ParsesBrindlesSessionsOnly) {
  const std::string listing =
      "BIRD 2.0.12 ready.\n"
      "Name       Proto      Table      State  Since         Info\n"
      "device1    Device     ---        up     01:38:05.067  \n"
      "brindle_kernel Kernel     master4    up     01:38:05.067  \n"
      "Mesh_10_0_0_2 BGP        ---        up     01:38:06.120  Established   \n"
      "Global_10_9_0_1_port_1790 BGP        ---        start  01:38:05.067  Active        "
      "Socket: Connection refused\n"
      "Node_fd00__2 BGP        ---        start  01:38:05.067  Connect       \n"
      "tor        BGP        ---        up     01:38:05.067  Established   \n";
  const auto peers = parsePeers(listing);
  ASSERT_EQ(peers.size(), 3u);
  EXPECT_EQ(peers[0].address, "10.0.0.2");
  EXPECT_EQ(peers[0].type, "node-to-node mesh");
  EXPECT_EQ(peers[0].state, "up");
  EXPECT_EQ(peers[0].since, "01:38:06");
  EXPECT_EQ(peers[0].info, "Established");
  EXPECT_EQ(peers[1].address, "10.9.0.1");
  EXPECT_EQ(peers[1].type, "global");
  EXPECT_EQ(peers[1].info, "Active        Socket: Connection refused");
  EXPECT_EQ(peers[2].address, "fd00::2");
  EXPECT_EQ(peers[2].type, "node specific");
}

TEST(BgpStatus, ReadsRouteCountsFromShowProtocolsAll) {
  const std::string listing =
      "BIRD 2.0.12 ready.\n"
      "Name       Proto      Table      State  Since         Info\n"
      "brindle_kernel Kernel     master4    up     01:38:05.067  \n"
      "  Channel ipv4\n"
      "    Routes:         7 imported, 2 exported, 7 preferred\n"
      "\n"
      "Mesh_10_0_0_2 BGP        ---        up     01:38:06.120  Established   \n"
      "  Description:    node-to-node mesh\n"
      "  BGP state:          Established\n"
      "    Neighbor address: 10.0.0.2\n"
      "  Channel ipv4\n"
      "    State:          UP\n"
      "    Routes:         3 imported, 1 filtered, 2 exported, 3 preferred\n"
      "\n"
      "Mesh_10_0_0_3 BGP        ---        start  01:38:05.067  Active        Socket: Connection "
      "refused\n"
      "  BGP state:          Active\n"
      "  Channel ipv4\n"
      "    State:          DOWN\n";
  const auto peers = parsePeers(listing);
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[0].imported, 3);
  EXPECT_EQ(peers[0].exported, 2);
  EXPECT_EQ(peers[0].bgpState(), "Established");
  EXPECT_EQ(peers[1].imported, 0);
  EXPECT_EQ(peers[1].exported, 0);
  EXPECT_EQ(peers[1].bgpState(), "Active");
}

}  // namespace
}  // namespace brindle::bgp
