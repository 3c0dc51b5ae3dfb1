// What a lab made, as a JSON file in its state dir (/var/run/brindle-lab/<lab>/state.json). Each
// namespace is recorded BEFORE it is created (write-ahead), so `down` finds everything even after
// the brindle-lab that made it was killed with SIGKILL.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "lab/topology.h"

namespace brindle::lab {

struct NodeState {
  std::string name;
  std::string address;    // with prefix, e.g. 192.168.40.11/24
  std::string gateway;    // the router on its subnet; "" when the lab has one subnet and no router
  int subnet = 1;         // the fabric bridge br<subnet> it is plugged into
  uint32_t asNumber = 0;  // node run --as; 0: the global AS
};

struct WorkloadState {
  std::string name;
  std::string node;
  std::string address;      // without prefix
  std::string iface;        // the cali veth on the node
  std::string containerId;  // "" when hand-wired (the seed), else the CNI ADD's container ID
  std::string network;      // the CNI network name (= its profile); for DEL
  std::string ipam;         // the CNI ipam object (JSON) of the ADD; for DEL
};

struct LabState {
  std::vector<std::string> namespaces;  // full names; every one down deletes
  std::vector<NodeState> nodes;
  std::vector<WorkloadState> workloads;
  std::string etcdEndpoint;  // "" for the embedded store
  std::string ctlMember;     // the member whose namespace runs brindlectl ("" = the host)
  TopologyOptions topology;  // up --topology; name "" for up --nodes and seed

  const NodeState* node(const std::string& name) const;
  const WorkloadState* workload(const std::string& name) const;
};

// The file's JSON; loadState fails with kNotFound when there is no file.
Status saveState(const std::string& file, const LabState& state);
Result<LabState> loadState(const std::string& file);

}  // namespace brindle::lab
