// Bridges, veths and addresses of the lab, made with ip(8) inside the lab's namespaces.
#include "lab/fabric.h"

#include "os/sysctl.h"

namespace brindle::lab {

std::string upSubnetAddress(int subnet, int host) {
  return "10.99." + std::to_string(subnet) + "." + std::to_string(host);
}

Status makeFabric(Lab& lab, const std::vector<Subnet>& subnets) {
  if (Status s = lab.addNetns(kFabric); !s) return s;
  for (size_t i = 0; i < subnets.size(); ++i) {
    const std::string br = "br" + std::to_string(i + 1);
    if (Status s = addBridge(lab, br); !s) return s;
    if (!subnets[i].router.empty()) {
      if (auto r = lab.check(kFabric, {"ip", "addr", "add", subnets[i].router, "dev", br}); !r) {
        return r.error();
      }
    }
  }
  if (subnets.size() > 1) {
    return os::ProcSysctlWriter(lab.netns(kFabric)).write({{"net/ipv4/ip_forward", "1"}});
  }
  return Status::ok();
}

Status addBridge(const Lab& lab, const std::string& bridge) {
  return lab.checkAll(kFabric, {{"ip", "link", "add", bridge, "type", "bridge"},
                                {"ip", "link", "set", bridge, "up"}});
}

Status plugInto(const Lab& lab, const std::string& member, const std::string& bridge,
                const std::string& iface, const std::string& address) {
  // Interface names hold at most 15 characters.
  const std::string port = (iface == "eth0" ? member : member + "-" + iface).substr(0, 15);
  Status plugged = lab.checkAll(kFabric, {{"ip", "link", "add", port, "type", "veth", "peer",
                                           "name", iface, "netns", lab.netns(member)},
                                          {"ip", "link", "set", port, "master", bridge},
                                          {"ip", "link", "set", port, "up"}});
  if (!plugged) return plugged;
  return lab.checkAll(
      member, {{"ip", "addr", "add", address, "dev", iface}, {"ip", "link", "set", iface, "up"}});
}

Status plugIn(Lab& lab, const std::string& member, int subnet, const std::string& address,
              const std::string& gateway) {
  if (Status s = plugInto(lab, member, "br" + std::to_string(subnet), "eth0", address); !s) {
    return s;
  }
  if (!gateway.empty()) {
    if (auto r = lab.check(member, {"ip", "route", "add", "default", "via", gateway}); !r) {
      return r.error();
    }
  }
  return os::ProcSysctlWriter(lab.netns(member)).write({{"net/ipv4/ip_forward", "1"}});
}

}  // namespace brindle::lab
