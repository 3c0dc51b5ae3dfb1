// The IPIP fallback device tunl0 (issue #13, S6) through libnl: created when the kernel has not
// made it yet, set up with an MTU and the node's tunnel address, and released again (the fallback
// device itself cannot be deleted, so it loses its addresses and goes down).
#pragma once

#include <optional>
#include <string>

#include "common/ip.h"
#include "common/result.h"

namespace brindle::os {

// tunl0 in `netns` ("" = own) exists, is up with `mtu` and holds exactly `address` (as a /32), or
// no address when it is unset. An error says when the kernel has no IPIP support.
Status ensureIpipDevice(const std::string& netns, int mtu, const std::optional<IpAddr>& address);

// tunl0 (if present) loses its IPv4 addresses and goes down.
Status releaseIpipDevice(const std::string& netns);

// The MTU of the interface holding `address` (the node's uplink); kNotFound when none does.
Result<int> mtuOfInterfaceWith(const std::string& netns, const IpAddr& address);

}  // namespace brindle::os
