// Names derived from a workload: Calico's host veth name (cali + 11 hex chars of a SHA-1), the
// WorkloadEndpoint name (node-orchestrator-workload-endpoint with '-' doubled), the IPAM handle.
#pragma once

#include <string>

#include "cni/protocol.h"

namespace brindle::cni {

// Who a CNI call is for. K8S_POD_NAMESPACE + K8S_POD_NAME in CNI_ARGS make it a Kubernetes pod;
// anything else is a plain "cni" workload named by its container ID.
struct WorkloadIds {
  std::string node;
  std::string orchestrator;  // "k8s" or "cni"
  std::string ns;            // the endpoint's namespace ("default" for cni)
  std::string workload;      // pod name (k8s) or container ID (cni)
  std::string pod;           // k8s only
  std::string endpoint;      // CNI_IFNAME
  std::string containerId;
};

WorkloadIds workloadIds(const CniEnv& env, const std::string& node);

// The hashed part: "namespace.pod" for k8s (as Calico), the container ID otherwise.
std::string workloadKey(const WorkloadIds& ids);

// "cali" + first 11 hex chars of SHA-1(workloadKey): 15 characters, the kernel's limit.
std::string hostVethName(const WorkloadIds& ids);

// Calico's WorkloadEndpoint name: each part with '-' doubled, joined by '-'.
std::string endpointName(const WorkloadIds& ids);

// One handle per container and network, as Calico: "<network>.<containerID>".
std::string ipamHandle(const std::string& network, const std::string& containerId);

// SHA-1 of `data` in lower-case hex (40 chars).
std::string sha1Hex(const std::string& data);

}  // namespace brindle::cni
