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
    std::vector<std::vector<std::string>> steps = {{"ip", "link", "add", br, "type", "bridge"},
                                                   {"ip", "link", "set", br, "up"}};
    if (!subnets[i].router.empty()) {
      steps.push_back({"ip", "addr", "add", subnets[i].router, "dev", br});
    }
    if (Status s = lab.checkAll(kFabric, steps); !s) return s;
  }
  if (subnets.size() > 1) {
    return os::ProcSysctlWriter(lab.netns(kFabric)).write({{"net/ipv4/ip_forward", "1"}});
  }
  return Status::ok();
}

Status plugIn(Lab& lab, const std::string& member, int subnet, const std::string& address,
              const std::string& gateway) {
  // The fabric's end is named after the member (interface names hold at most 15 characters).
  const std::string port = member.substr(0, 15);
  const std::string br = "br" + std::to_string(subnet);
  Status plugged = lab.checkAll(kFabric, {{"ip", "link", "add", port, "type", "veth", "peer",
                                           "name", "eth0", "netns", lab.netns(member)},
                                          {"ip", "link", "set", port, "master", br},
                                          {"ip", "link", "set", port, "up"}});
  if (!plugged) return plugged;
  std::vector<std::vector<std::string>> memberSide = {{"ip", "addr", "add", address, "dev", "eth0"},
                                                      {"ip", "link", "set", "eth0", "up"}};
  if (!gateway.empty()) memberSide.push_back({"ip", "route", "add", "default", "via", gateway});
  if (Status s = lab.checkAll(member, memberSide); !s) return s;
  return os::ProcSysctlWriter(lab.netns(member)).write({{"net/ipv4/ip_forward", "1"}});
}

}  // namespace brindle::lab
