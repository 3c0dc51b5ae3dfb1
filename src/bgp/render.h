// BIRD 2 configuration text for one node and family (Debian's bird2 2.0.12), from the decided
// NodeConfig. Pure: the same NodeConfig always gives the same text, so a changed text is exactly
// the signal to reconfigure BIRD.
#pragma once

#include <string>
#include <vector>

#include "bgp/config.h"

namespace brindle::bgp {

std::string renderBird(const NodeConfig& config);

// `protocol static brindle_hold`: copies of the routes the kernel has from BIRD (`route <net> via
// <gw>%<dev> ...`), below BGP's preference, appended to a configuration while BGP sessions are
// replaced (supervisor.h) so that the kernel keeps them until BGP brings them back.
// The hold's text starts with kHoldStart, so a configuration that carries one can be split.
inline constexpr const char* kHoldStart = "\n# Held while BGP sessions are replaced";
std::string renderHold(int family, const std::vector<std::string>& routes);

}  // namespace brindle::bgp
