// A shared table of bad resource files, v1 and v3, across every kind: each must be rejected with
// the given message. Used by bad_inputs_test.cc (model) and by the CLI's apply tests.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace brindle::testdata {

struct BadInput {
  std::string name;      // case name, e.g. "wep bad ip"
  std::string file;      // the file name the text is read from, used in messages
  std::string text;      // YAML (or JSON) file contents
  std::string expected;  // a substring of the error message (most rows give the full message)
};

// Test names in ctest output instead of a byte dump.
inline void PrintTo(const BadInput& b, std::ostream* os) { *os << b.name; }

// The seed lab's three workload endpoints (examples/seed-lab/endpoints.yaml) as a YAML list,
// with `item2Spec` as the spec of the second item.
inline std::string seedEndpoints(const std::string& item2Spec) {
  auto wep = [](const std::string& name, const std::string& node, const std::string& spec) {
    return "- apiVersion: v1\n"
           "  kind: workloadEndpoint\n"
           "  metadata:\n"
           "    name: " +
           name +
           "\n"
           "    workload: frontend\n"
           "    orchestrator: k8s\n"
           "    node: " +
           node +
           "\n"
           "    labels:\n"
           "      service: frontend\n"
           "      namespace: default\n"
           "  spec:\n" +
           spec;
  };
  return wep("slave1-frontend1", "slave1",
             "    interfaceName: cali0ef24b1\n"
             "    mac: ca:fe:1d:52:bb:e1\n"
             "    ipNetworks:\n"
             "    - 172.16.1.1\n") +
         wep("slave1-frontend2", "slave1", item2Spec) +
         wep("slave2-database", "slave2",
             "    interfaceName: cali0ef24b3\n"
             "    mac: ca:fe:1d:52:bb:e3\n"
             "    ipNetworks:\n"
             "    - 172.16.1.3\n");
}

// A v3 resource document.
inline std::string v3(const std::string& kind, const std::string& metadata,
                      const std::string& spec) {
  return "apiVersion: projectcalico.org/v3\nkind: " + kind + "\nmetadata:\n" + metadata +
         "spec:\n" + spec;
}

// A v3 GlobalNetworkPolicy "p" with one ingress rule given as a YAML flow mapping.
inline std::string v3Rule(const std::string& rule) {
  return v3("GlobalNetworkPolicy", "  name: p\n",
            "  selector: all()\n  ingress:\n  - " + rule + "\n");
}

inline const std::vector<BadInput>& badInputs() {
  static const std::vector<BadInput> rows = {
      // ---------------------------------------------------------------- v1 (the seed's form)
      {"wep bad ip", "endpoints.yaml",
       seedEndpoints("    interfaceName: cali0ef24b2\n"
                     "    mac: ca:fe:1d:52:bb:e2\n"
                     "    ipNetworks:\n"
                     "    - 172.16.1.300\n"),
       "endpoints.yaml, document 2: spec.ipNetworks[0]: \"172.16.1.300\" is not an IP address"},
      {"wep bad mac", "endpoints.yaml",
       seedEndpoints("    interfaceName: cali0ef24b2\n"
                     "    mac: ca:fe:1d:52:bb\n"
                     "    ipNetworks:\n"
                     "    - 172.16.1.2\n"),
       "endpoints.yaml, document 2: spec.mac: \"ca:fe:1d:52:bb\" is not a MAC address"},
      {"wep long interface", "endpoints.yaml",
       seedEndpoints("    interfaceName: cali0ef24b2cafe123\n"
                     "    ipNetworks:\n"
                     "    - 172.16.1.2\n"),
       "endpoints.yaml, document 2: spec.interfaceName: \"cali0ef24b2cafe123\" is not an "
       "interface name"},
      {"wep network with host bits", "endpoints.yaml",
       seedEndpoints("    interfaceName: cali0ef24b2\n"
                     "    ipNetworks:\n"
                     "    - 172.16.1.0/33\n"),
       "endpoints.yaml, document 2: spec.ipNetworks[0]: \"172.16.1.0/33\""},
      {"wep unknown spec field", "endpoints.yaml",
       seedEndpoints("    interfaceName: cali0ef24b2\n"
                     "    ipNetwork:\n"
                     "    - 172.16.1.2\n"),
       "endpoints.yaml, document 2: spec.ipNetwork: unknown field"},
      {"v1 ippool bad cidr", "ippool.yaml",
       "apiVersion: v1\nkind: ipPool\nmetadata:\n  cidr: 10.1.0.0/33\nspec:\n  nat-outgoing: "
       "true\n",
       "ippool.yaml, document 1: metadata.cidr: \"10.1.0.0/33\""},
      {"v1 ippool too small", "ippool.yaml",
       "apiVersion: v1\nkind: ipPool\nmetadata:\n  cidr: 10.1.0.0/28\nspec:\n  nat-outgoing: "
       "true\n",
       "is smaller than one block (/26)"},
      {"v1 ippool bad ipip mode", "ippool.yaml",
       "apiVersion: v1\nkind: ipPool\nmetadata:\n  cidr: 10.1.0.0/16\nspec:\n  ipip:\n"
       "    enabled: true\n    mode: sometimes\n",
       "ippool.yaml, document 1: spec.ipip.mode: \"sometimes\" is not an IPIP mode"},
      {"v1 ippool v6 ipip", "ippool.yaml",
       "apiVersion: v1\nkind: ipPool\nmetadata:\n  cidr: fd80:24e2:f998:72d6::/64\nspec:\n"
       "  ipip:\n    enabled: true\n",
       "spec.ipipMode: IPIP is not supported on an IPv6 pool"},
      {"v1 ippool nat not bool", "ippool.yaml",
       "apiVersion: v1\nkind: ipPool\nmetadata:\n  cidr: 10.1.0.0/16\nspec:\n  nat-outgoing: yes "
       "please\n",
       "ippool.yaml, document 1: spec.nat-outgoing: expected true or false"},
      {"v1 node bad as", "node.yaml",
       "apiVersion: v1\nkind: node\nmetadata:\n  name: node-hostname\nspec:\n  bgp:\n"
       "    asNumber: 70000.1\n    ipv4Address: 10.244.0.1/24\n",
       "node.yaml, document 1: spec.bgp.asNumber: \"70000.1\" is not an AS number"},
      {"v1 node bad address", "node.yaml",
       "apiVersion: v1\nkind: node\nmetadata:\n  name: node-hostname\nspec:\n  bgp:\n"
       "    asNumber: 64512\n    ipv4Address: 10.244.0.300/24\n",
       "node.yaml, document 1: spec.bgp.ipv4Address: \"10.244.0.300/24\""},
      {"v1 node upper-case name", "node.yaml",
       "apiVersion: v1\nkind: node\nmetadata:\n  name: Node_1\nspec: {}\n",
       "node.yaml, document 1: metadata.name: \"Node_1\" is not a valid name"},
      {"v1 bgppeer bad ip", "bgppeer.yaml",
       "apiVersion: v1\nkind: bgpPeer\nmetadata:\n  scope: global\n  peerIP: 192.168.1.256\n"
       "spec:\n  asNumber: 63400\n",
       "bgppeer.yaml, document 1: metadata.peerIP: \"192.168.1.256\" is not an IP address"},
      {"v1 bgppeer bad as", "bgppeer.yaml",
       "apiVersion: v1\nkind: bgpPeer\nmetadata:\n  scope: node\n  node: rack1-host1\n"
       "  peerIP: 192.168.1.1\nspec:\n  asNumber: 4294967296\n",
       "bgppeer.yaml, document 1: spec.asNumber: \"4294967296\" is not an AS number"},
      {"v1 bgppeer bad scope", "bgppeer.yaml",
       "apiVersion: v1\nkind: bgpPeer\nmetadata:\n  scope: rack\n  peerIP: 192.168.1.1\n"
       "spec:\n  asNumber: 63400\n",
       "bgppeer.yaml, document 1: metadata.scope: \"rack\" is not a scope (global or node)"},
      {"v1 policy bad selector", "policy.yaml",
       "apiVersion: v1\nkind: policy\nmetadata:\n  name: namespace-default\nspec:\n"
       "  selector: namespace == 'default\n  egress:\n  - action: allow\n",
       "policy.yaml, document 1: spec.selector: col "},
      {"v1 policy port out of range", "policy.yaml",
       "apiVersion: v1\nkind: policy\nmetadata:\n  name: allow-tcp-6379\nspec:\n"
       "  selector: role == 'database'\n  ingress:\n  - action: allow\n    protocol: tcp\n"
       "    destination:\n      ports:\n      - 70000\n",
       "\"70000\" is not a port or port range"},
      {"v1 policy ports without protocol", "policy.yaml",
       "apiVersion: v1\nkind: policy\nmetadata:\n  name: allow-6379\nspec:\n  ingress:\n"
       "  - action: allow\n    destination:\n      ports:\n      - 6379\n",
       "ports need protocol TCP, UDP or SCTP (no protocol is set)"},
      {"v1 policy bad action", "policy.yaml",
       "apiVersion: v1\nkind: policy\nmetadata:\n  name: p\nspec:\n  ingress:\n"
       "  - action: reject\n",
       "policy.yaml, document 1: spec.ingress[0].action: \"reject\" is not an action"},
      {"v1 policy bad protocol", "policy.yaml",
       "apiVersion: v1\nkind: policy\nmetadata:\n  name: p\nspec:\n  ingress:\n"
       "  - action: allow\n    protocol: tcpp\n",
       "spec.ingress[0].protocol: \"tcpp\""},
      {"v1 policy bad net", "policy.yaml",
       "apiVersion: v1\nkind: policy\nmetadata:\n  name: p\nspec:\n  ingress:\n"
       "  - action: deny\n    source:\n      net: 10.0.20.0/40\n",
       "spec.ingress[0].source.net"},
      {"v1 policy icmp with tcp", "policy.yaml",
       "apiVersion: v1\nkind: policy\nmetadata:\n  name: p\nspec:\n  ingress:\n"
       "  - action: allow\n    protocol: tcp\n    icmp:\n      type: 8\n",
       "needs protocol ICMP or ICMPv6 (protocol is \"TCP\")"},
      {"v1 profile reversed range", "profile.yaml",
       "apiVersion: v1\nkind: profile\nmetadata:\n  name: profile-database\nspec:\n  ingress:\n"
       "  - action: allow\n    protocol: tcp\n    destination:\n      ports:\n      - "
       "\"3307:3306\"\n",
       "\"3307:3306\" is not a port or port range"},
      {"v1 profile bad label", "profile.yaml",
       "apiVersion: v1\nkind: profile\nmetadata:\n  name: profile1\n  labels:\n"
       "    \"bad key!\": x\nspec: {}\n",
       "\"bad key!\""},
      {"v1 hep bad expected ip", "hostendpoint.yaml",
       "apiVersion: v1\nkind: hostEndpoint\nmetadata:\n  name: eth0\n  node: myhost\nspec:\n"
       "  interfaceName: eth0\n  expectedIPs:\n  - 192.168.0.1\n  - 192.168.0\n",
       "hostendpoint.yaml, document 1: spec.expectedIPs[1]: \"192.168.0\" is not an IP address"},
      {"v1 hep no node", "hostendpoint.yaml",
       "apiVersion: v1\nkind: hostEndpoint\nmetadata:\n  name: eth0\nspec:\n  interfaceName: "
       "eth0\n",
       "hostendpoint.yaml, document 1: metadata.node"},
      {"v1 unknown kind", "thing.yaml", "apiVersion: v1\nkind: ipPools\nmetadata: {}\nspec: {}\n",
       "thing.yaml, document 1: kind: \"ipPools\""},

      // ---------------------------------------------------------------- v3
      {"v3 wep bad ip", "wep.yaml",
       v3("WorkloadEndpoint", "  name: slave1-k8s-frontend-eth0\n  namespace: default\n",
          "  node: slave1\n  interfaceName: cali0ef24b1\n  ipNetworks:\n  - 172.16.1.300/32\n"),
       "wep.yaml, document 1: spec.ipNetworks[0]: \"172.16.1.300/32\" is not an IP address or "
       "/32 (/128) network"},
      {"v3 wep no node", "wep.yaml",
       v3("WorkloadEndpoint", "  name: w\n", "  interfaceName: cali0ef24b1\n"),
       "wep.yaml, document 1: spec.node: required"},
      {"v3 hep no interface", "hep.yaml", v3("HostEndpoint", "  name: h\n", "  node: myhost\n"),
       "hep.yaml, document 1: spec.interfaceName: required unless expectedIPs is set"},
      {"v3 ippool block size", "pool.yaml",
       v3("IPPool", "  name: pool1\n", "  cidr: 10.1.0.0/16\n  blockSize: 19\n"),
       "pool.yaml, document 1: spec.blockSize: \"19\" is not a valid IPv4 block size (20-32)"},
      {"v3 ippool v6 block size", "pool.yaml",
       v3("IPPool", "  name: pool6\n", "  cidr: fd00::/64\n  blockSize: 129\n"),
       "pool.yaml, document 1: spec.blockSize: \"129\" is not a valid IPv6 block size (116-128)"},
      {"v3 ippool ipip and vxlan", "pool.yaml",
       v3("IPPool", "  name: pool1\n",
          "  cidr: 10.1.0.0/16\n  ipipMode: Always\n  vxlanMode: Always\n"),
       "pool.yaml, document 1: spec.vxlanMode: ipipMode and vxlanMode cannot both be enabled"},
      {"v3 ippool host bits", "pool.yaml", v3("IPPool", "  name: pool1\n", "  cidr: 10.1.2.0/16\n"),
       "pool.yaml, document 1: spec.cidr: \"10.1.2.0/16\" has host bits set (did you mean "
       "\"10.1.0.0/16\"?)"},
      {"v3 ippool no cidr", "pool.yaml", v3("IPPool", "  name: pool1\n", "  natOutgoing: true\n"),
       "pool.yaml, document 1: spec.cidr: required"},
      {"v3 ippool bad mode", "pool.yaml",
       v3("IPPool", "  name: pool1\n", "  cidr: 10.1.0.0/16\n  vxlanMode: always\n"),
       "pool.yaml, document 1: spec.vxlanMode: \"always\" is not one of Always, CrossSubnet, "
       "Never; did you mean \"Always\"?"},
      {"v3 bgppeer dotted as", "peer.yaml",
       v3("BGPPeer", "  name: tor\n", "  peerIP: 10.0.0.1\n  asNumber: \"70000.1\"\n"),
       "peer.yaml, document 1: spec.asNumber: \"70000.1\" is not an AS number"},
      {"v3 bgppeer workload and peer ip", "peer.yaml",
       v3("BGPPeer", "  name: tor\n",
          "  peerIP: 10.0.0.1\n  asNumber: 64512\n  localWorkloadSelector: app == 'x'\n"),
       "peer.yaml, document 1: spec.localWorkloadSelector: cannot be combined with peerIP or "
       "peerSelector"},
      {"v3 bgpconfig bad mesh", "bgp.yaml",
       v3("BGPConfiguration", "  name: default\n", "  nodeToNodeMeshEnabled: sometimes\n"),
       "bgp.yaml, document 1: spec.nodeToNodeMeshEnabled: expected true or false, got "
       "\"sometimes\""},
      {"v3 node bad mac", "node.yaml",
       v3("Node", "  name: n1\n", "  vxlanTunnelMACAddr: 00:11:22:33:44:zz\n"),
       "node.yaml, document 1: spec.vxlanTunnelMACAddr: \"00:11:22:33:44:zz\" is not a MAC "
       "address"},
      {"v3 gnp three part name", "gnp.yaml",
       v3("GlobalNetworkPolicy", "  name: a.b.c\n", "  selector: all()\n"),
       "gnp.yaml, document 1: metadata.name: \"a.b.c\" is not a valid policy name"},
      {"v3 rule port 70000", "gnp.yaml",
       v3Rule("{action: Allow, protocol: TCP, destination: {ports: [80, \"70000\"]}}"),
       "gnp.yaml, document 1: spec.ingress[0].destination.ports[1]: \"70000\" is not a port or "
       "port range"},
      {"v3 rule icmp code without type", "gnp.yaml",
       v3Rule("{action: Allow, protocol: ICMP, icmp: {code: 1}}"),
       "gnp.yaml, document 1: spec.ingress[0].icmp.code: an ICMP code needs an ICMP type"},
      {"v3 rule mixed families", "gnp.yaml",
       v3Rule("{action: Deny, source: {nets: [10.0.0.0/8, \"fd00::/8\"]}}"),
       "gnp.yaml, document 1: spec.ingress[0].source.nets[1]: \"fd00::/8\": a rule cannot mix "
       "IPv4 and IPv6 CIDRs"},
      {"v3 rule protocol 0", "gnp.yaml", v3Rule("{action: Allow, protocol: 0}"),
       "gnp.yaml, document 1: spec.ingress[0].protocol: \"0\" is not a protocol"},
      {"v3 prednat egress", "gnp.yaml",
       v3("GlobalNetworkPolicy", "  name: p\n",
          "  preDNAT: true\n  applyOnForward: true\n  egress:\n  - action: Allow\n"),
       "gnp.yaml, document 1: spec.egress: a preDNAT policy cannot have egress rules"},
      {"v3 np bad namespace", "np.yaml",
       v3("NetworkPolicy", "  name: p\n  namespace: Prod\n", "  selector: all()\n"),
       "np.yaml, document 1: metadata.namespace: \"Prod\" is not a valid namespace"},
      {"v3 profile unknown rule field", "profile.yaml",
       v3("Profile", "  name: profile1\n",
          "  ingress:\n  - action: Allow\n    sourceNet: 10.0.0.0/8\n"),
       "profile.yaml, document 1: spec.ingress[0].sourceNet: unknown field"},
      {"v3 globalnetworkset bad net", "gns.yaml",
       v3("GlobalNetworkSet", "  name: gns\n", "  nets:\n  - 10.0.0.0/8\n  - 10.0.0.0/33\n"),
       "gns.yaml, document 1: spec.nets[1]: \"10.0.0.0/33\" is not a CIDR"},
      {"v3 networkset bad label", "ns.yaml",
       v3("NetworkSet", "  name: ns1\n  labels:\n    role: -db\n", "  nets: [10.0.0.0/8]\n"),
       "ns.yaml, document 1: metadata.labels.role: \"-db\" is not a valid label value"},
      {"v3 ipreservation bad cidr", "res.yaml",
       v3("IPReservation", "  name: r\n", "  reservedCIDRs:\n  - 10.0.0.300/32\n"),
       "res.yaml, document 1: spec.reservedCIDRs[0]: \"10.0.0.300/32\" is not a CIDR"},
      {"v3 felix bad action", "felix.yaml",
       v3("FelixConfiguration", "  name: default\n", "  defaultEndpointToHostAction: Discard\n"),
       "felix.yaml, document 1: spec.defaultEndpointToHostAction: \"Discard\" is not one of "
       "Drop, Accept, Return (in any case)"},
      {"v3 felix unknown field", "felix.yaml",
       v3("FelixConfiguration", "  name: default\n", "  ipipEnable: true\n"),
       "felix.yaml, document 1: spec.ipipEnable: unknown field"},
      {"v3 clusterinfo name", "ci.yaml",
       v3("ClusterInformation", "  name: cluster\n", "  datastoreReady: true\n"),
       "ci.yaml, document 1: metadata.name: \"cluster\": ClusterInformation must be named "
       "\"default\""},
      {"v3 second document bad", "multi.yaml",
       v3("IPPool", "  name: ok\n", "  cidr: 10.1.0.0/16\n") + "---\n" +
           v3("IPPool", "  name: bad\n", "  cidr: 10.2.0.0/16\n  natOutgoing: maybe\n"),
       "multi.yaml, document 2: spec.natOutgoing: expected true or false, got \"maybe\""},
  };
  return rows;
}

}  // namespace brindle::testdata
