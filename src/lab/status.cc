// status: the lab's datastore, its nodes with their BGP sessions, its workloads and addresses.
#include <cstdio>
#include <iostream>

#include "lab/commands.h"
#include "lab/nodes.h"

namespace brindle::lab {

int runStatus(const Lab& lab) {
  const auto& s = lab.state();
  if (s.namespaces.empty()) {
    std::cout << "lab " << lab.name() << " is not up\n";
    return 1;
  }
  std::cout << "lab " << lab.name() << " (state in " << lab.dir() << "), datastore "
            << (s.etcdEndpoint.empty() ? lab.storePath() : "etcd " + s.etcdEndpoint) << "\n";
  std::printf("\n%-10s %-18s %s\n", "NODE", "ADDRESS", "BGP SESSIONS ESTABLISHED");
  std::vector<std::string> details;
  for (const auto& n : s.nodes) {
    auto status = nodeStatus(lab, n.name);
    std::printf(
        "%-10s %-18s %s\n", n.name.c_str(), n.address.c_str(),
        status ? std::to_string(establishedSessions(*status)).c_str() : "BIRD not answering");
    if (status) details.push_back("\n" + n.name + ":\n" + *status);
  }
  std::printf("\n%-18s %-10s %-15s %s\n", "WORKLOAD", "NODE", "ADDRESS", "INTERFACE");
  for (const auto& w : s.workloads) {
    std::printf("%-18s %-10s %-15s %s\n", w.name.c_str(), w.node.c_str(), w.address.c_str(),
                w.iface.c_str());
  }
  for (const auto& d : details) std::cout << d;
  return 0;
}

}  // namespace brindle::lab
