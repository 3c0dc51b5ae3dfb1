// up: the fabric, optionally etcd, the pool and the default profile, N nodes started with
// `brindlectl node run`, and the wait for the full BGP mesh.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "lab/commands.h"
#include "lab/etcd.h"
#include "lab/fabric.h"
#include "lab/nodes.h"
#include "lab/router.h"

namespace brindle::lab {

int runUp(Lab& lab, const UpOptions& o) {
  if (!lab.state().namespaces.empty()) {
    std::cerr << "brindle-lab: lab " << lab.name() << " is already up (run '" << lab.downCommand()
              << "')\n";
    return 1;
  }
  if (o.nodes < 1 || o.nodes > 200 || o.subnets < 1 || o.subnets > o.nodes || o.subnets > 200) {
    std::cerr << "brindle-lab: --nodes must be 1-200, --subnets 1..nodes\n";
    return 1;
  }
  // A lab that failed half way is removed whole: nothing of it outlives the failed command.
  auto fail = [&](const Status& s) { return failAndRemove(lab, s); };
  if (o.ipip != "never" && !std::filesystem::exists("/sys/module/ipip")) {
    std::cerr << "brindle-lab: warning: the ipip kernel module is not loaded (and this kernel "
                 "may lack CONFIG_NET_IPIP): IPIP routes will not work\n";
  }
  const auto start = std::chrono::steady_clock::now();
  const bool routed = o.subnets > 1;
  std::vector<Subnet> subnets;
  for (int k = 1; k <= o.subnets; ++k) {
    subnets.push_back({routed ? upSubnetAddress(k, 1) + "/24" : ""});
  }
  if (Status s = makeFabric(lab, subnets); !s) return fail(s);
  if (o.etcd) {
    if (Status s =
            startEtcd(lab, upSubnetAddress(1, 10) + "/24", routed ? upSubnetAddress(1, 1) : "");
        !s) {
      return fail(s);
    }
  }
  if (Status s = createPoolAndProfile(lab, o.ipip); !s) return fail(s);
  if (Status s = chooseDataplane(lab, o.dataplane); !s) return fail(s);
  for (int i = 1; i <= o.nodes; ++i) {
    const int k = (i - 1) % o.subnets + 1;
    NodeState n{"node" + std::to_string(i), upSubnetAddress(k, 10 + i) + "/24",
                routed ? upSubnetAddress(k, 1) : "", k};
    lab.state().nodes.push_back(n);
    if (Status s = lab.addNetns(n.name); !s) return fail(s);
    if (Status s = plugIn(lab, n.name, k, n.address, n.gateway); !s) return fail(s);
  }
  auto started = startNodes(lab);
  if (!started) return fail(started.error());
  for (size_t i = 0; i < started->size(); ++i) {
    const auto& n = lab.state().nodes[i];
    std::printf("%s %s: %s\n", n.name.c_str(), n.address.c_str(), (*started)[i].c_str());
  }
  // With a router every node also peers with it.
  const int sessions = o.nodes - 1 + (routed ? 1 : 0);
  if (routed) {
    if (Status s = startRouter(lab, o.subnets); !s) return fail(s);
  }
  if (Status s = waitForMesh(lab, sessions, 60); !s) return fail(s);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "lab %s up in %.1f s: %d nodes on %d subnet%s, %d BGP sessions Established each%s, "
      "datastore %s\n",
      lab.name().c_str(), took, o.nodes, o.subnets, o.subnets > 1 ? "s" : "", sessions,
      routed ? " (the mesh and the router)" : "",
      lab.state().etcdEndpoint.empty() ? lab.storePath().c_str()
                                       : lab.state().etcdEndpoint.c_str());
  return 0;
}

}  // namespace brindle::lab
