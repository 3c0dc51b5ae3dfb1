// The node's BGP address, autodetected as calico/node does it (IP_AUTODETECTION_METHOD):
// first-found, interface=, skip-interface=, can-reach= and cidr=. Each pick says which
// interface it came from and why (Calico issue #7832: a wrong NIC is hard to see otherwise).
// The choice is a pure function of an interface list, so tests feed made-up hosts.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/result.h"

namespace brindle::node {

struct InterfaceAddress {
  IpAddr ip;
  int prefixLength = 0;
  std::string text() const { return ip.toString() + "/" + std::to_string(prefixLength); }
};

struct HostInterface {
  std::string name;
  std::vector<InterfaceAddress> addresses;
};

struct AutodetectMethod {
  enum class Kind { kFirstFound, kInterface, kSkipInterface, kCanReach, kCidr } kind;
  std::vector<std::string> values;  // regexes, CIDRs, or the one destination
  std::string text;                 // as given, for messages
};

// The CIDR of the default IPv4 pool: 192.168.0.0/16, unless an address of the host lies in it;
// then the first of 172.16.0.0/16 ... 172.31.0.0/16 that holds none (calico/node's pool
// selector: the seed's nodes at 192.168.40.x would otherwise route their own subnet into the
// pool); 192.168.0.0/16 again when every one is taken, as calico/node.
std::string defaultIpv4PoolCidr(const std::vector<HostInterface>& host);

// "" and "first-found", "interface=R[,R]", "skip-interface=R[,R]", "can-reach=DEST",
// "cidr=C[,C]". kInvalid names `flag` and the bad part.
Result<AutodetectMethod> parseAutodetectMethod(const std::string& text, const std::string& flag);

struct DetectedAddress {
  std::string interface;
  InterfaceAddress address;
  std::string reason;  // "first-found: ...", for the user
};

// The source address the kernel would use towards `dest` (a name or an address), per family.
using SourceLookup = std::function<Result<IpAddr>(const std::string& dest, int family)>;

// Picks an address of `family` (4 or 6) from `interfaces`, listed in the kernel's (index) order.
// Only global unicast addresses count (no loopback, link-local or multicast). Like Calico, the
// list is walked from its last interface to its first, and first-found and skip-interface= skip
// Calico's default exclusions (docker*, veth*, cali*, lo, ...). kNotFound says what was tried.
Result<DetectedAddress> pickAddress(const AutodetectMethod& method, int family,
                                    const std::vector<HostInterface>& interfaces,
                                    const SourceLookup& sourceFor);

// Calico's interface names first-found leaves out (regexes).
const std::vector<std::string>& defaultExcludedInterfaces();

// This network namespace's interfaces and addresses (netlink), in index order.
Result<std::vector<HostInterface>> listHostInterfaces();
// The kernel's source address towards dest: a connected UDP socket that sends nothing.
Result<IpAddr> kernelSourceAddress(const std::string& dest, int family);

}  // namespace brindle::node
