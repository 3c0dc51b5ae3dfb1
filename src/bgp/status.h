// BGP session state as BIRD reports it (`birdc show protocols`), in calicoctl node status's terms.
#pragma once

#include <string>
#include <vector>

namespace brindle::bgp {

struct PeerStatus {
  std::string address;  // from the protocol name: Mesh_10_0_0_2 -> 10.0.0.2
  std::string type;     // node-to-node mesh | global | node specific
  std::string state;    // BIRD's: up, start, ...
  std::string since;    // hh:mm:ss (BIRD's fraction of a second dropped)
  std::string info;     // Established, Active, Connect, ... and any error text
};

// The sessions Brindle configured (protocols named Mesh_, Global_, Node_) in BIRD's listing.
std::vector<PeerStatus> parsePeers(const std::string& showProtocols);

}  // namespace brindle::bgp
