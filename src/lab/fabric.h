// The lab's wires: a fabric namespace holding one bridge per subnet (br1, br2, ...), which also
// routes between the subnets when there are several, and a veth from each member's namespace
// (its eth0) to its subnet's bridge.
#pragma once

#include <string>
#include <vector>

#include "lab/lab.h"

namespace brindle::lab {

struct Subnet {
  std::string router;  // the fabric's address on this bridge, with prefix; "" for none
};

inline constexpr const char* kFabric = "fabric";

// Subnet k (1-based) of `lab up`: 10.99.<k>.0/24, the router at .1; nodes from .11, etcd at .10.
std::string upSubnetAddress(int subnet, int host);

// Makes the fabric namespace and its bridges; forwarding on when it routes.
Status makeFabric(Lab& lab, const std::vector<Subnet>& subnets);

// A bridge in the fabric namespace, up.
Status addBridge(const Lab& lab, const std::string& bridge);

// Wires an existing member namespace to `bridge`: `iface` in the member with `address` (with
// prefix), up; the fabric's end is named after the member (and the interface, if not eth0).
Status plugInto(const Lab& lab, const std::string& member, const std::string& bridge,
                const std::string& iface, const std::string& address);

// Wires an existing member namespace to br<subnet>: eth0 with `address` (with prefix), a default
// route via `gateway` when given, forwarding on (nodes route for their workloads).
Status plugIn(Lab& lab, const std::string& member, int subnet, const std::string& address,
              const std::string& gateway);

}  // namespace brindle::lab
