// What the BGP of a lab topology is made of: the plain BIRD 2 configuration of each fabric
// router (ToR, core, dedicated route reflector), which Brindle configures as a router and not as
// a node, and the Calico resources (BGPConfiguration, BGPPeers) that make the nodes peer with
// them.
#pragma once

#include <string>

#include "lab/topology.h"

namespace brindle::lab {

// Label on every node of a racked topology: rack=<r>; the ToR peers select on it.
inline constexpr const char* kRackLabel = "rack";

// bird.conf of a router of the layout.
std::string routerBird(const Layout& layout, const Device& router);

// The BGP sessions the layout gives a device (what `up` waits for).
int sessionsOf(const Layout& layout, const Device& device);

// BGPConfiguration `default` and the BGPPeers of the layout, as one YAML stream.
std::string fabricResources(const Layout& layout);

}  // namespace brindle::lab
