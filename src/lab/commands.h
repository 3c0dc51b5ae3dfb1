// brindle-lab's commands, one entry point each; apps/brindle-lab/main.cc parses the flags and
// calls them. Each returns the process exit code and prints its own errors.
#pragma once

#include <string>
#include <vector>

#include "lab/lab.h"
#include "lab/workloads.h"

namespace brindle::lab {

struct UpOptions {
  int nodes = 2;
  int subnets = 1;
  bool etcd = false;
  std::string ipip = "never";  // always | cross-subnet | never
  std::string dataplane = "iptables";  // iptables | nftables (every node's agent)
};

struct SeedOptions {
  std::string variant;  // "" (as written), "profile" or "fixed"
  bool etcd = false;
  bool json = false;
  std::string dataplane = "iptables";
};

int runUp(Lab& lab, const UpOptions& options);
// up --topology: one of the seed's fabrics (docs/lab.md).
int runUpTopology(Lab& lab, const TopologyOptions& options);
// Every device's Established sessions and kernel BGP routes beside the planner's prediction.
int runRoutes(const Lab& lab, bool json);
// probe FROM ADDRESS in a topology lab: the devices a packet to ADDRESS passes, from FROM (a
// workload or device), and where it ends: "w11 -> 10.244.255.254: r1n1 -> tor1 -> core: died at
// core (...)".
int runWalk(const Lab& lab, const std::string& from, const std::string& address);
int runSeed(Lab& lab, const SeedOptions& options);
int runDown(Lab& lab);
// `up` or `seed` failed after making part of the lab: says why, removes it all (runDown), 1.
int failAndRemove(Lab& lab, const Status& why);
int runStatus(const Lab& lab);
int runWorkloadAdd(Lab& lab, const WorkloadSpec& spec);
int runWorkloadDel(Lab& lab, const std::string& name);
// Replaces this process with argv inside the member's namespace (returns only on failure).
int runExec(const Lab& lab, const std::string& member, const std::vector<std::string>& argv);
int runProbe(const Lab& lab, const std::string& from, const std::string& to,
             const std::string& what);

}  // namespace brindle::lab
