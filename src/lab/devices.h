// The devices of a topology lab as they run: where each one's BIRD is, and what it measures
// (Established BGP sessions, BGP routes in its main kernel table).
#pragma once

#include <string>

#include "lab/lab.h"
#include "lab/topology.h"

namespace brindle::lab {

// The directory of a router's BIRD files (<state dir>/routers/<name>).
std::string routerDir(const Lab& lab, const std::string& router);

// Writes `conf` to <dir>/bird.conf and starts BIRD on it in the member's namespace (socket, pid
// and log beside it); down stops it with everything else in the namespace.
Status startBird(const Lab& lab, const std::string& member, const std::string& dir,
                 const std::string& conf);

// Established sessions in `birdc show protocols` of the device's BIRD; an Error when BIRD does
// not answer.
Result<int> establishedOf(const Lab& lab, const Device& device);

// The unicast routes of `ip -j route show proto bird` in the device's namespace, one per prefix
// (an ECMP route with several next hops is one; blackholes such as a node's own blocks are not
// counted): the planner's definition (src/plan/plan.h).
Result<int> bgpRoutesOf(const Lab& lab, const Device& device);

}  // namespace brindle::lab
