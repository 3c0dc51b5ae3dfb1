// The plugin's seam to the kernel: the few link, address, route, neighbour and sysctl operations
// of Calico-style wiring, so the ADD/DEL/CHECK logic runs against a fake with injected failures
// in unit tests and against netlink (netlink_dataplane.cc) in the binary.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/result.h"

namespace brindle::cni {

constexpr const char* kHostMac = "ee:ee:ee:ee:ee:ee";
constexpr const char* kGatewayV4 = "169.254.1.1";
// The EUI-64 link-local address of a link with MAC ee:ee:ee:ee:ee:ee: Calico's IPv6 gateway.
constexpr const char* kGatewayV6 = "fe80::ecee:eeff:feee:eeee";

struct VethSpec {
  std::string hostName;       // cali..., stays in the plugin's (the node's) namespace
  std::string containerName;  // CNI_IFNAME, created directly inside `netns`
  std::string netns;          // path of the container's network namespace
  int mtu = 1500;
};

// What CHECK compares against: the kernel's view of one side.
struct LinkView {
  std::string mac;
  int mtu = 0;
  bool up = false;
  std::vector<Cidr> addresses;          // as host/prefix ("10.0.0.5/32")
  std::vector<std::string> routes;      // "dst[ via gw] dev name[ scope link]", main table
  std::vector<std::string> neighbours;  // "ip lladdr mac PERMANENT"
  std::vector<std::string> sysctls;     // "proxy_arp=1", ... (host side only)
};

class Dataplane {
 public:
  virtual ~Dataplane() = default;

  // Creates the pair with the host end in the current namespace (MAC ee:ee:ee:ee:ee:ee) and the
  // other end created inside spec.netns. kNotFound if the namespace does not exist,
  // kAlreadyExists if either name is taken.
  virtual Status createVeth(const VethSpec& spec) = 0;

  // Host end: proxy_arp=1, neigh proxy_delay=0, forwarding=1 (IPv6: proxy_ndp, forwarding,
  // accept_ra=0), link up. No address.
  virtual Status configureHostSide(const std::string& hostName, bool ipv6) = 0;

  // Container end: addresses as /32 (/128), scope-link route to the gateway, the default route
  // via it and a permanent neighbour entry gateway -> ee:ee:ee:ee:ee:ee. Returns its MAC.
  virtual Result<std::string> configureContainerSide(const std::string& netns,
                                                     const std::string& ifName,
                                                     const std::vector<IpAddr>& addresses) = 0;

  // ADDR/32 (/128) dev hostName scope link in the current namespace.
  virtual Status addHostRoute(const IpAddr& address, const std::string& hostName) = 0;

  // Deletes the host end (and with it the pair and its routes). kNotFound if absent.
  virtual Status deleteHostLink(const std::string& hostName) = 0;

  // Deletes `ifName` inside `netns` (for a pair whose host end is gone). kNotFound if absent.
  virtual Status deleteContainerLink(const std::string& netns, const std::string& ifName) = 0;

  // The kernel's view (kNotFound if the link is absent).
  virtual Result<LinkView> inspectHost(const std::string& hostName) = 0;
  virtual Result<LinkView> inspectContainer(const std::string& netns,
                                            const std::string& ifName) = 0;
};
using DataplanePtr = std::unique_ptr<Dataplane>;

DataplanePtr makeNetlinkDataplane();

}  // namespace brindle::cni
