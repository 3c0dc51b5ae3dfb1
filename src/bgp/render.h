// BIRD 2 configuration text for one node and family (Debian's bird2 2.0.12), from the decided
// NodeConfig. Pure: the same NodeConfig always gives the same text, so a changed text is exactly
// the signal to reconfigure BIRD.
#pragma once

#include <string>

#include "bgp/config.h"

namespace brindle::bgp {

std::string renderBird(const NodeConfig& config);

}  // namespace brindle::bgp
