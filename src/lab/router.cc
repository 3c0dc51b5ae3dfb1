// The router's BIRD: one iBGP session per node, routes in, nothing out.
#include "lab/router.h"

#include "lab/devices.h"
#include "lab/fabric.h"

namespace brindle::lab {
namespace {

constexpr const char* kAs = "64512";  // the global default AS the nodes use
constexpr const char* kSubnetLabel = "brindle-lab/subnet";

std::string birdConfig(const Lab& lab) {
  std::string conf = "router id " + upSubnetAddress(1, 1) +
                     ";\nprotocol device {}\n"
                     "protocol kernel { ipv4 { import none; export all; }; }\n";
  for (const auto& n : lab.state().nodes) {
    conf += "protocol bgp " + n.name + " {\n  local " + n.gateway + " as " + kAs +
            ";\n  neighbor " + n.address.substr(0, n.address.find('/')) + " as " + kAs +
            ";\n  direct;\n  ipv4 { import all; export none; };\n}\n";
  }
  return conf;
}

}  // namespace

Status startRouter(const Lab& lab, int subnets) {
  std::string peers;
  for (int k = 1; k <= subnets; ++k) {
    const std::string name = "lab-router-" + std::to_string(k);
    peers += "---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: " + name +
             "\nspec:\n  peerIP: " + upSubnetAddress(k, 1) + "\n  asNumber: " + kAs +
             "\n  nodeSelector: " + kSubnetLabel + " == '" + std::to_string(k) + "'\n";
  }
  for (const auto& n : lab.state().nodes) {
    auto r = lab.ctl({"label", "node", n.name,
                      std::string(kSubnetLabel) + "=" + std::to_string(n.subnet), "--overwrite"});
    if (!r) return r.error();
  }
  if (auto r = lab.ctl({"apply", "-f", "-"}, peers); !r) return r.error();
  return startBird(lab, kFabric, lab.dir() + "/router", birdConfig(lab));
}

}  // namespace brindle::lab
