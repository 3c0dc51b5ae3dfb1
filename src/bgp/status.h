// BGP session state as BIRD reports it (`birdc show protocols [all]`), in calicoctl node status's
// terms, and the route counts of each session for metrics.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace brindle::bgp {

struct PeerStatus {
  std::string address;  // from the protocol name: Mesh_10_0_0_2 -> 10.0.0.2
  std::string type;     // node-to-node mesh | global | node specific
  std::string state;    // BIRD's: up, start, ...
  std::string since;    // hh:mm:ss (BIRD's fraction of a second dropped)
  std::string info;     // Established, Active, Connect, ... and any error text
  // From `show protocols all` ("Routes: N imported, M exported"; summed over channels).
  long imported = 0;
  long exported = 0;
  // The BGP state alone (the first word of info; BIRD's state when info is empty).
  std::string bgpState() const;
};

// The sessions Brindle configured (protocols named Mesh_, Global_, Node_) in BIRD's listing.
std::vector<PeerStatus> parsePeers(const std::string& showProtocols);

// `birdc -s <ctl> show protocols all`, parsed; an error when BIRD does not answer.
Result<std::vector<PeerStatus>> readPeers(const std::string& ctl);

}  // namespace brindle::bgp
