// Workloads: a namespace behind a cali veth on a node. `workload add` wires one through
// brindle-cni as a container runtime would; the seed's are wired by hand, as the seed made them.
#pragma once

#include <map>
#include <string>

#include "lab/lab.h"

namespace brindle::lab {

struct WorkloadSpec {
  std::string name;
  std::string node;
  std::map<std::string, std::string> labels;
  std::string profile;  // the CNI network name, which brindle-cni gives as the profile
  std::string ip;       // a fixed address (the static IPAM plugin); "" = Brindle's IPAM
};

// The profile of workloads added without --profile; `up` creates it allowing everything.
inline constexpr const char* kDefaultProfile = "lab";

// The pool `up` gives workloads (10.244.0.0/16).
inline constexpr const char* kUpPool = "10.244.0.0/16";

// The pool (ipipMode from `ipip`: always | cross-subnet | never) and the profile kDefaultProfile;
// created before any node, so node run makes no default pools.
Status createPoolAndProfile(const Lab& lab, const std::string& ipip);
// The dataplane every node's agent programs: "nftables" sets FelixConfiguration default's
// nftablesMode to Enabled (as a Calico user would), "iptables" leaves the default.
Status chooseDataplane(const Lab& lab, const std::string& dataplane);

// CNI ADD inside the node's namespace; records the workload with the address it got.
Status addWorkload(Lab& lab, const WorkloadSpec& spec);
// CNI DEL, then the namespace is deleted.
Status deleteWorkload(Lab& lab, const std::string& name);

// Hand-wiring (S2): the cali veth `iface` on the node, the workload's eth0 with `mac` and
// `ip`/32, the 169.254.1.1 gateway with a permanent neighbour entry.
Status wireWorkload(Lab& lab, const WorkloadState& w, const std::string& mac);

}  // namespace brindle::lab
