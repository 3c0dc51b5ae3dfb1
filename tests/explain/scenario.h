// Resources shared by the explain tests: two nodes, workloads in two namespaces, tiers (one
// passing), ordered policies with types, Pass, notNets/notPorts, ICMP, a namespace selector,
// profiles with labelsToApply and a network set.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "calc/calc_graph.h"
#include "explain/cluster.h"
#include "explain/live_path.h"
#include "model/codec.h"
#include "rules/ruleset.h"

namespace brindle::explain::testing {

inline std::vector<model::Resource> decode(const std::string& yaml) {
  auto r = model::decodeResources(yaml, "scenario");
  EXPECT_TRUE(r) << r.message();
  return r ? r->resources : std::vector<model::Resource>{};
}

inline std::vector<model::Resource> loadExamples(const std::vector<std::string>& files) {
  std::vector<model::Resource> out;
  for (const auto& f : files) {
    std::ifstream in(std::string(BRINDLE_EXAMPLES_DIR) + "/" + f);
    std::stringstream ss;
    ss << in.rdbuf();
    auto r = model::decodeResources(ss.str(), f);
    EXPECT_TRUE(r) << r.message();
    if (r) out.insert(out.end(), r->resources.begin(), r->resources.end());
  }
  return out;
}

inline std::string workload(const std::string& node, const std::string& ns, const std::string& name,
                            const std::string& iface, const std::string& ip,
                            const std::string& labels, const std::string& profiles = "") {
  return "apiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\nmetadata:\n  name: " + name +
         "\n  namespace: " + ns + "\n  labels: {" + labels + "}\nspec:\n  node: " + node +
         "\n  orchestrator: k8s\n  endpoint: eth0\n  interfaceName: " + iface +
         "\n  ipNetworks: [" + ip + "/32]\n" +
         (profiles.empty() ? "" : "  profiles: [" + profiles + "]\n") + "---\n";
}

// web (prod, node-a) -> db (prod, node-b): tier security (order 10) denies 10.9.0.0/16 and
// passes everything else; default tier: db allows web on 5432 (not 5433 via notPorts), ICMP echo
// only; monitoring namespace reaches db through a namespace selector; profile kns.prod admits
// the rest of prod only on 8080.
inline std::vector<model::Resource> scenario() {
  std::string y;
  y += workload("node-a", "prod", "web", "caliweb0", "10.0.0.1", "app: web", "kns.prod");
  y += workload("node-a", "prod", "cache", "calicache0", "10.0.0.2", "app: cache", "kns.prod");
  y += workload("node-b", "prod", "db", "calidb0", "10.0.1.1", "app: db", "kns.prod");
  y += workload("node-b", "monitoring", "prom", "caliprom0", "10.0.1.2", "app: prom",
                "kns.monitoring");
  y += workload("node-b", "staging", "web", "caliweb1", "10.0.1.3", "app: web");
  y += R"(apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.prod}
spec:
  labelsToApply: {pcns.team: prod}
  ingress:
  - action: Allow
    protocol: TCP
    source: {selector: has(app)}
    destination: {ports: [8080]}
  egress:
  - action: Allow
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.monitoring}
spec:
  egress:
  - action: Allow
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 10}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.blocklist}
spec:
  tier: security
  order: 1
  selector: all()
  types: [Ingress]
  ingress:
  - action: Deny
    source: {nets: [10.9.0.0/16]}
  - action: Pass
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: partners, labels: {partner: "true"}}
spec:
  nets: [192.0.2.0/24]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: db-access, namespace: prod}
spec:
  order: 100
  selector: app == 'db'
  types: [Ingress]
  ingress:
  - action: Allow
    protocol: TCP
    source: {selector: app == 'web'}
    destination: {ports: ["5000:5500"], notPorts: [5433]}
  - action: Allow
    protocol: ICMP
    icmp: {type: 8, code: 0}
    source: {selector: app == 'web'}
  - action: Allow
    protocol: TCP
    source:
      namespaceSelector: projectcalico.org/name == 'monitoring'
    destination: {ports: [9100]}
  - action: Allow
    protocol: TCP
    source: {selector: partner == 'true', namespaceSelector: global(), notNets: [192.0.2.128/25]}
    destination: {ports: [443]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: web-egress, namespace: prod}
spec:
  order: 50
  selector: app == 'web'
  types: [Egress]
  egress:
  - action: Deny
    protocol: UDP
  - action: Allow
)";
  return decode(y);
}

// What the agent of `node` would write (IPv4): the calculation graph over the resources, rendered
// by the real renderer as iptables-restore and ipset restore text.
struct NodeText {
  std::string iptables, ipsets;
};
inline NodeText render(const std::string& node, const std::vector<model::Resource>& resources) {
  calc::DataplaneState state;
  calc::CalcGraph graph(node, state);
  for (const auto& r : resources) {
    graph.onUpdate(calc::Update{calc::UpdateType::kAdded, r.key(), r, {}});
  }
  graph.onInSync();
  rules::RendererConfig config;
  return {rules::renderRulesetRestore(
              rules::renderRuleset(state, dataplane::IpVersion::kV4, config), config),
          rules::renderIpSetsRestore(state, dataplane::IpVersion::kV4)};
}

// A StateSource over rendered nodes (kept by reference: tests corrupt them in place).
inline StateSource renderedSource(const std::map<std::string, NodeText>& nodes) {
  return [&nodes](const std::string& node, bool) -> Result<KernelState> {
    auto it = nodes.find(node);
    if (it == nodes.end()) return makeError(ErrorCode::kNotFound, "no node " + node);
    return KernelState::parse(it->second.iptables, it->second.ipsets);
  };
}

}  // namespace brindle::explain::testing
