// The fabric as a BGP router (`up --subnets K`, K > 1): BIRD in the fabric namespace peers with
// every node (a BGPPeer per subnet selects that subnet's nodes by label) and installs the
// workload routes they export, so traffic between subnets needs no IPIP.
#pragma once

#include "lab/lab.h"

namespace brindle::lab {

// Labels each node with its subnet, creates the BGPPeers and starts the router's BIRD; call once
// the nodes exist.
Status startRouter(const Lab& lab, int subnets);

}  // namespace brindle::lab
