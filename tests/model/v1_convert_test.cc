// Tests of the v1 -> v3 conversion: each seed example to its exact v3 form (before defaults),
// Calico's upgrade rules field by field, and errors that name the user's v1 field path.
#include "model/v1_convert.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "model/yaml_json.h"

namespace brindle::model {
namespace {

Json yaml(const std::string& text) {
  auto docs = parseDocuments(text, "test");
  EXPECT_TRUE(docs.isOk()) << docs.error().message;
  EXPECT_EQ(docs->size(), 1u);
  return docs->at(0);
}

std::string readExample(const std::string& relative) {
  std::ifstream in(std::string(BRINDLE_EXAMPLES_DIR) + "/" + relative);
  EXPECT_TRUE(in.good()) << relative;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The v3 JSON of a converted v1 document; fails the test on a conversion error.
Json convert(const Json& v1) {
  auto r = convertV1(v1);
  EXPECT_TRUE(r.isOk()) << r.error().message;
  if (!r) return Json();
  return r->resource.toJson();
}

std::string convertError(const std::string& text) {
  auto r = convertV1(yaml(text));
  EXPECT_FALSE(r.isOk());
  return r ? "" : r.message();
}

struct ExampleCase {
  const char* file;
  const char* v3;
};

// Expected v3 form of every seed example (calico-upgrade's output, before applyDefaults()).
const ExampleCase kExamples[] = {
    {"seed-examples/hostendpoint.yaml", R"({
      "apiVersion": "projectcalico.org/v3", "kind": "HostEndpoint",
      "metadata": {"name": "myhost.eth0", "labels": {"type": "production"}},
      "spec": {"node": "myhost", "interfaceName": "eth0",
               "expectedIPs": ["192.168.0.1", "192.168.0.2"],
               "profiles": ["profile1", "profile2"]}})"},
    {"seed-examples/workloadendpoint.yaml", R"({
      "apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
      "metadata": {"name": "rack1--host1-k8s-frontend--5gs43-eth0", "namespace": "default",
                   "labels": {"app": "frontend", "projectcalico.org/namespace": "default"}},
      "spec": {"orchestrator": "k8s", "node": "rack1-host1", "pod": "frontend-5gs43",
               "endpoint": "eth0", "ipNetworks": ["192.168.0.0/16"], "profiles": ["profile1"],
               "interfaceName": "cali0ef24ba", "mac": "ca:fe:1d:52:bb:e9"}})"},
    {"seed-examples/bgppeer.yaml", R"({
      "apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
      "metadata": {"name": "rack1-host1.192-168-1-1"},
      "spec": {"node": "rack1-host1", "peerIP": "192.168.1.1", "asNumber": 63400}})"},
    {"seed-examples/ippool.yaml", R"({
      "apiVersion": "projectcalico.org/v3", "kind": "IPPool",
      "metadata": {"name": "10-1-0-0-16"},
      "spec": {"cidr": "10.1.0.0/16", "ipipMode": "CrossSubnet", "natOutgoing": true,
               "disabled": false}})"},
    {"seed-examples/profile.yaml", R"({
      "apiVersion": "projectcalico.org/v3", "kind": "Profile",
      "metadata": {"name": "profile1"},
      "spec": {"ingress": [{"action": "Deny", "source": {"nets": ["10.0.20.0/24"]}},
                           {"action": "Allow", "source": {"selector": "profile == 'profile1'"}}],
               "egress": [{"action": "Allow"}],
               "labelsToApply": {"profile": "profile1"}}})"},
    {"seed-examples/policy.yaml", R"({
      "apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
      "metadata": {"name": "default.allow-tcp-6379"},
      "spec": {"ingress": [{"action": "Allow", "protocol": "TCP",
                            "source": {"selector": "role == 'frontend'"},
                            "destination": {"ports": [6379]}}],
               "egress": [{"action": "Allow"}],
               "selector": "role == 'database'", "types": ["Ingress", "Egress"]}})"},
    {"seed-examples/node.yaml", R"({
      "apiVersion": "projectcalico.org/v3", "kind": "Node",
      "metadata": {"name": "node-hostname"},
      "spec": {"bgp": {"asNumber": 64512, "ipv4Address": "10.244.0.1/24",
                       "ipv6Address": "2001:db8:85a3::8a2e:370:7334/120"}}})"},
    {"seed-lab/profile.yaml", R"({
      "apiVersion": "projectcalico.org/v3", "kind": "Profile",
      "metadata": {"name": "profile-database"},
      "spec": {"ingress": [{"action": "Deny"},
                           {"action": "Allow", "protocol": "TCP",
                            "source": {"selector": "namespace == 'default' && service == 'frontend'"},
                            "destination": {"ports": [3306]}}],
               "egress": [{"action": "Allow"}],
               "labelsToApply": {"profile": "profile-database"}}})"},
    {"seed-lab/policy.yaml", R"({
      "apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
      "metadata": {"name": "default.namespace-default"},
      "spec": {"ingress": [{"action": "Allow", "source": {"selector": "namespace == 'default'"}}],
               "egress": [{"action": "Allow"}],
               "selector": "namespace == 'default'", "types": ["Ingress", "Egress"]}})"},
};

TEST(V1ConvertTest, SeedExamplesConvertToExpectedV3) {
  for (const auto& c : kExamples) {
    SCOPED_TRACE(c.file);
    EXPECT_EQ(convert(yaml(readExample(c.file))), Json::parse(c.v3));
  }
}

TEST(V1ConvertTest, SeedLabEndpointsList) {
  auto docs = parseDocuments(readExample("seed-lab/endpoints.yaml"), "endpoints.yaml");
  ASSERT_TRUE(docs.isOk());
  ASSERT_TRUE(docs->at(0).is_array());
  const Json& items = docs->at(0);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(convert(items[0]), Json::parse(R"({
      "apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
      "metadata": {"name": "slave1-k8s-frontend-slave1--frontend1", "namespace": "default",
                   "labels": {"service": "frontend", "namespace": "default"}},
      "spec": {"orchestrator": "k8s", "node": "slave1", "pod": "frontend",
               "endpoint": "slave1-frontend1", "ipNetworks": ["172.16.1.1/32"],
               "interfaceName": "cali0ef24b1", "mac": "ca:fe:1d:52:bb:e1"}})"));
  EXPECT_EQ(convert(items[1])["metadata"]["name"], "slave1-k8s-frontend-slave1--frontend2");
  EXPECT_EQ(convert(items[1])["spec"]["ipNetworks"], Json::parse(R"(["172.16.1.2/32"])"));
  EXPECT_EQ(convert(items[2]), Json::parse(R"({
      "apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
      "metadata": {"name": "slave2-k8s-database-slave2--database", "namespace": "default",
                   "labels": {"service": "database", "namespace": "default"}},
      "spec": {"orchestrator": "k8s", "node": "slave2", "pod": "database",
               "endpoint": "slave2-database", "ipNetworks": ["172.16.1.3/32"],
               "profiles": ["profile-database"],
               "interfaceName": "cali0ef24b3", "mac": "ca:fe:1d:52:bb:e3"}})"));
}

TEST(V1ConvertTest, SeedProfileDatabaseWarnsAboutBarePorts) {
  auto r = convertV1(yaml(readExample("seed-lab/profile.yaml")));
  ASSERT_TRUE(r.isOk()) << r.message();
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0],
            "spec.ingress[1]: ports directly under a rule are read as destination ports with "
            "protocol TCP");
}

TEST(V1ConvertTest, BarePortsKeepAGivenProtocolAndRejectAmbiguity) {
  auto r = convertV1(yaml(R"(
apiVersion: v1
kind: profile
metadata: {name: p}
spec:
  ingress:
  - action: allow
    protocol: udp
    ports: [53]
)"));
  ASSERT_TRUE(r.isOk()) << r.message();
  EXPECT_EQ(r->resource.spec["ingress"][0]["protocol"], "UDP");
  EXPECT_EQ(r->resource.spec["ingress"][0]["destination"]["ports"], Json::parse("[53]"));
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0],
            "spec.ingress[0]: ports directly under a rule are read as destination ports");

  EXPECT_EQ(
      convertError(R"(
apiVersion: v1
kind: profile
metadata: {name: p}
spec:
  ingress:
  - action: allow
    ports: [53]
    destination: {ports: [54]}
)"),
      "spec.ingress[0].ports: ports directly under a rule and destination.ports are both given");
}

TEST(V1ConvertTest, RuleFields) {
  Json v3 = convert(yaml(R"(
apiVersion: v1
kind: policy
metadata: {name: rules}
spec:
  order: 10
  ingress:
  - action: Allow
    ipVersion: 4
    protocol: icmp
    icmp: {type: 8, code: 0}
    notProtocol: 17
    notICMP: {type: 3}
    source:
      net: 10.1.2.3/16
      nets: [10.2.0.0/16, 10.3.0.1]
      notNet: 192.168.0.0/24
      tag: web
      selector: a == 'b' || c == 'd'
      ports: [80, "1000:2000", {int: 443}]
      notPorts: [22]
    destination:
      notTag: bad
      notSelector: calico/k8s_ns == 'kube-system'
  - action: next-tier
  - action: DENY
  - action: log
)"));
  EXPECT_EQ(v3["spec"]["order"], 10);
  EXPECT_EQ(v3["spec"]["ingress"], Json::parse(R"([
    {"action": "Allow", "ipVersion": 4, "protocol": "ICMP", "icmp": {"type": 8, "code": 0},
     "notProtocol": 17, "notICMP": {"type": 3},
     "source": {"nets": ["10.1.0.0/16", "10.2.0.0/16", "10.3.0.1/32"],
                "selector": "(a == 'b' || c == 'd') && web == ''",
                "ports": [80, "1000:2000", 443], "notNets": ["192.168.0.0/24"],
                "notPorts": [22]},
     "destination": {"notSelector": "(projectcalico.org/namespace == 'kube-system') && bad == ''"}},
    {"action": "Pass"}, {"action": "Deny"}, {"action": "Log"}])"));
  EXPECT_EQ(v3["spec"]["types"], Json::parse(R"(["Ingress"])"));
}

TEST(V1ConvertTest, PolicyTypesAndForwarding) {
  Json egressOnly = convert(yaml(R"(
apiVersion: v1
kind: policy
metadata: {name: out}
spec:
  egress: [{action: allow}]
)"));
  EXPECT_EQ(egressOnly["spec"]["types"], Json::parse(R"(["Egress"])"));

  Json noRules = convert(yaml("apiVersion: v1\nkind: policy\nmetadata: {name: none}\n"));
  EXPECT_EQ(noRules["spec"]["types"], Json::parse(R"(["Ingress"])"));

  Json explicitTypes = convert(yaml(R"(
apiVersion: v1
kind: policy
metadata: {name: typed, annotations: {owner: ops}}
spec:
  types: [egress, ingress]
  preDNAT: true
  doNotTrack: false
)"));
  EXPECT_EQ(explicitTypes["metadata"]["annotations"]["owner"], "ops");
  EXPECT_EQ(explicitTypes["spec"]["types"], Json::parse(R"(["Egress", "Ingress"])"));
  EXPECT_EQ(explicitTypes["spec"]["preDNAT"], true);
  EXPECT_EQ(explicitTypes["spec"]["doNotTrack"], false);
  EXPECT_EQ(explicitTypes["spec"]["applyOnForward"], true);
}

TEST(V1ConvertTest, IpPoolModes) {
  auto pool = [](const std::string& spec) {
    return convert(
        yaml("apiVersion: v1\nkind: ipPool\nmetadata: {cidr: 10.1.0.0/16}\nspec: " + spec + "\n"));
  };
  EXPECT_EQ(pool("{}")["spec"]["ipipMode"], "Never");
  EXPECT_EQ(pool("{ipip: {enabled: true}}")["spec"]["ipipMode"], "Always");
  EXPECT_EQ(pool("{ipip: {enabled: true, mode: always}}")["spec"]["ipipMode"], "Always");
  EXPECT_EQ(pool("{ipip: {enabled: false, mode: cross-subnet}}")["spec"]["ipipMode"], "Never");
  EXPECT_EQ(pool("{ipip: {enabled: true, mode: cross-subnet}}")["spec"]["ipipMode"], "CrossSubnet");

  Json v6 =
      convert(yaml("apiVersion: v1\nkind: ipPool\nmetadata: {cidr: 'fd80:24e2:f998:72d6::/64'}\n"));
  EXPECT_EQ(v6["metadata"]["name"], "fd80-24e2-f998-72d6---64");
  EXPECT_EQ(v6["spec"]["cidr"], "fd80:24e2:f998:72d6::/64");

  EXPECT_EQ(convertError("apiVersion: v1\nkind: ipPool\nmetadata: {cidr: 10.1.0.0/16}\n"
                         "spec: {ipip: {enabled: true, mode: sometimes}}\n"),
            "spec.ipip.mode: \"sometimes\" is not an IPIP mode (always or cross-subnet)");
  EXPECT_EQ(convertError("apiVersion: v1\nkind: ipPool\nmetadata: {cidr: 10.1.0.0/33}\n"),
            "metadata.cidr: \"10.1.0.0/33\" is not a valid CIDR");
  EXPECT_EQ(convertError("apiVersion: v1\nkind: ipPool\nmetadata: {}\n"),
            "metadata.cidr: required field missing");
  EXPECT_EQ(convertError("apiVersion: v1\nkind: ipPool\nmetadata: {cidr: 10.1.0.0/16}\n"
                         "spec: {natOutgoing: true}\n"),
            "spec.natOutgoing: unknown field; did you mean \"nat-outgoing\"?");
}

TEST(V1ConvertTest, BgpPeerNames) {
  Json global = convert(yaml(R"(
apiVersion: v1
kind: bgpPeer
metadata: {scope: global, peerIP: 10.0.0.1}
spec: {asNumber: "1.10"}
)"));
  EXPECT_EQ(global, Json::parse(R"({"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
      "metadata": {"name": "10-0-0-1"}, "spec": {"peerIP": "10.0.0.1", "asNumber": "1.10"}})"));

  Json v6 = convert(yaml(R"(
apiVersion: v1
kind: bgpPeer
metadata: {scope: node, node: n1, peerIP: "2001:DB8::1"}
spec: {asNumber: 64512}
)"));
  EXPECT_EQ(v6["metadata"]["name"], "n1.2001-0db8-0000-0000-0000-0000-0000-0001");
  EXPECT_EQ(v6["spec"]["peerIP"], "2001:db8::1");
  EXPECT_EQ(v6["spec"]["node"], "n1");

  EXPECT_EQ(convertError("apiVersion: v1\nkind: bgpPeer\nmetadata: {peerIP: 10.0.0.1}\n"),
            "metadata.scope: required field missing");
  EXPECT_EQ(convertError("apiVersion: v1\nkind: bgpPeer\nmetadata: {scope: global, node: n1, "
                         "peerIP: 10.0.0.1}\n"),
            "metadata.node: a peer with scope global has no node");
  EXPECT_EQ(
      convertError("apiVersion: v1\nkind: bgpPeer\nmetadata: {scope: node, peerIP: 10.0.0.1}\n"),
      "metadata.node: required field missing (scope node)");
  EXPECT_EQ(convertError(
                "apiVersion: v1\nkind: bgpPeer\nmetadata: {scope: global, peerIP: 10.0.0.300}\n"),
            "metadata.peerIP: \"10.0.0.300\" is not an IP address");
}

TEST(V1ConvertTest, NodeAddresses) {
  Json bare = convert(yaml(R"(
apiVersion: v1
kind: node
metadata: {name: n1}
spec:
  bgp: {ipv4Address: 10.0.0.5}
  orchRefs: [{nodeName: k8s-n1, orchestrator: k8s}]
)"));
  EXPECT_EQ(bare["spec"]["bgp"], Json::parse(R"({"ipv4Address": "10.0.0.5/32"})"));
  EXPECT_EQ(bare["spec"]["orchRefs"][0]["nodeName"], "k8s-n1");
  EXPECT_EQ(convertError(
                "apiVersion: v1\nkind: node\nmetadata: {name: n1}\nspec: {bgp: {asNumber: 1}}\n"),
            "spec.bgp: needs ipv4Address or ipv6Address");
}

TEST(V1ConvertTest, WorkloadEndpointOrchestrators) {
  Json other = convert(yaml(R"(
apiVersion: v1
kind: workloadEndpoint
metadata:
  name: eth-0
  workload: my-vm
  orchestrator: openstack
  node: host-a
  labels: {calico/k8s_ns: prod}
spec:
  ipNetworks: ["2001:db8::5", 10.0.0.7/24]
  ipNATs: [{internalIP: 10.0.0.7, externalIP: 172.16.0.7}]
  ipv4Gateway: 10.0.0.1
  ipv6Gateway: "2001:db8::1"
  profiles: [k8s_ns.prod, plain]
  ports: [{name: http, protocol: tcp, port: 80}]
)"));
  EXPECT_EQ(other, Json::parse(R"({
      "apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
      "metadata": {"name": "host--a-openstack-my--vm-eth--0", "namespace": "default",
                   "labels": {"projectcalico.org/namespace": "prod"}},
      "spec": {"orchestrator": "openstack", "workload": "my-vm", "node": "host-a",
               "endpoint": "eth-0", "ipNetworks": ["2001:db8::5/128", "10.0.0.0/24"],
               "ipNATs": [{"internalIP": "10.0.0.7", "externalIP": "172.16.0.7"}],
               "ipv4Gateway": "10.0.0.1", "ipv6Gateway": "2001:db8::1",
               "profiles": ["kns.prod", "plain"],
               "ports": [{"name": "http", "protocol": "TCP", "port": 80}]}})"));

  Json cni = convert(yaml(R"(
apiVersion: v1
kind: workloadEndpoint
metadata: {name: eth0, workload: abc123, orchestrator: cni, node: h}
)"));
  EXPECT_EQ(cni["metadata"]["name"], "h-cni-abc123-eth0");
  EXPECT_EQ(cni["spec"]["containerID"], "abc123");

  Json k8s = convert(yaml(R"(
apiVersion: v1
kind: workloadEndpoint
metadata: {name: eth0, workload: kube-system.dns-1, orchestrator: k8s, node: h}
)"));
  EXPECT_EQ(k8s["metadata"]["name"], "h-k8s-dns--1-eth0");
  EXPECT_EQ(k8s["metadata"]["namespace"], "kube-system");
  EXPECT_EQ(k8s["spec"]["pod"], "dns-1");
}

TEST(V1ConvertTest, WorkloadEndpointErrorsNameV1Paths) {
  EXPECT_EQ(convertError(R"(
apiVersion: v1
kind: workloadEndpoint
metadata: {name: eth0, workload: w, orchestrator: k8s, node: h}
spec:
  ipNetworks: [172.16.1.300]
)"),
            "spec.ipNetworks[0]: \"172.16.1.300\" is not an IP address");
  EXPECT_EQ(convertError(R"(
apiVersion: v1
kind: workloadEndpoint
metadata: {name: eth0, workload: w, orchestrator: k8s, node: h}
spec:
  ipNetworks: [10.0.0.0/40]
)"),
            "spec.ipNetworks[0]: \"10.0.0.0/40\" is not a valid CIDR");
  EXPECT_EQ(convertError("apiVersion: v1\nkind: workloadEndpoint\n"
                         "metadata: {name: eth0, orchestrator: k8s, node: h}\n"),
            "metadata.workload: required field missing");
  EXPECT_EQ(convertError("apiVersion: v1\nkind: workloadEndpoint\n"
                         "metadata: {name: eth0, workload: w-, orchestrator: k8s, node: h}\n"),
            "metadata.workload: \"w-\" must not begin or end with '-' (it is part of the endpoint "
            "name)");
  EXPECT_EQ(convertError("apiVersion: v1\nkind: workloadEndpoint\n"
                         "metadata: {name: eth0, workload: w, orchestrator: k8s, node: h, "
                         "labels: {version: 2}}\n"),
            "metadata.labels.version: label values are strings, got the number 2 (quote it)");
  EXPECT_EQ(convertError("apiVersion: v1\nkind: workloadEndpoint\n"
                         "metadata: {name: eth0, workload: w, orchestrator: k8s, node: h}\n"
                         "spec: {ipNATs: [{internalIP: 10.0.0.1}]}\n"),
            "spec.ipNATs[0].externalIP: required field missing");
}

TEST(V1ConvertTest, ProfileTagsBecomeLabelsToApply) {
  Json p = convert(yaml(R"(
apiVersion: v1
kind: profile
metadata: {name: k8s_ns.web, tags: [frontend, public], labels: {tier: web}}
)"));
  EXPECT_EQ(p["metadata"]["name"], "kns.web");
  EXPECT_EQ(p["spec"]["labelsToApply"],
            Json::parse(R"({"tier": "web", "frontend": "", "public": ""})"));
  EXPECT_EQ(
      convertError("apiVersion: v1\nkind: profile\n"
                   "metadata: {name: p, tags: [a, tier], labels: {tier: web}}\n"),
      "metadata.tags[1]: tag \"tier\" is also a label key; v3 makes tags labels, so rename one");
}

TEST(V1ConvertTest, UnknownFieldsAndBadValues) {
  EXPECT_EQ(
      convertError("apiVersion: v1\nkind: hostEndpoint\nmetadata: {name: e, node: n, nodes: x}\n"),
      "metadata.nodes: unknown field");
  EXPECT_EQ(convertError("apiVersion: v1\nkind: hostEndpoint\nmetadata: {name: e, node: n}\n"
                         "spec: {InterfaceName: eth0}\n"),
            "spec.InterfaceName: unknown field; did you mean \"interfaceName\"?");
  EXPECT_EQ(convertError("apiVersion: v1\nkind: hostEndpoint\nmetadata: {name: e, node: n}\n"
                         "spec: {expectedIPs: [10.0.0.1, nope]}\n"),
            "spec.expectedIPs[1]: \"nope\" is not an IP address");
  EXPECT_EQ(convertError("apiVersion: v1\nkind: node\nmetadata: {name: 42}\n"),
            "metadata.name: expected a string, got the number 42");
  EXPECT_EQ(convertError("apiVersion: v1\nkind: policy\nmetadata: {name: p}\n"
                         "spec: {ingress: [{action: accept}]}\n"),
            "spec.ingress[0].action: \"accept\" is not an action (allow, deny, log, next-tier)");
  EXPECT_EQ(convertError("apiVersion: v1\nkind: policy\nmetadata: {name: p}\n"
                         "spec: {ingress: [{action: allow, protocol: tcpp}]}\n"),
            "spec.ingress[0].protocol: \"tcpp\" is not a protocol (tcp, udp, icmp, icmpv6, sctp, "
            "udplite or a number)");
  EXPECT_EQ(
      convertError("apiVersion: v1\nkind: policy\nmetadata: {name: p}\n"
                   "spec: {ingress: [{action: allow, source: {ports: [{port: 1}]}}]}\n"),
      "spec.ingress[0].source.ports[0]: expected a port number, range \"from:to\" or name, got "
      "a mapping");
  EXPECT_EQ(
      convertError("apiVersion: v1\nkind: policy\nmetadata: {name: p}\nspec: {ingress: allow}\n"),
      "spec.ingress: expected a list, got the string \"allow\"");
  EXPECT_EQ(convertError("apiVersion: v1\nkind: policy\nmetadata: {name: p}\nstatus: {}\n"),
            "status: unknown field");
}

TEST(V1ConvertTest, NormalizeRulePortsInV3) {
  Json spec = Json::parse(R"({"ingress": [{"action": "Allow", "protocol": "TCP",
      "destination": {"ports": [{"int": 3306}, {"string": "mysql"}, 80], "notPorts": [{"int": 1}]}}]})");
  ASSERT_TRUE(normalizeRulePorts(spec).isOk());
  EXPECT_EQ(spec["ingress"][0]["destination"],
            Json::parse(R"({"ports": [3306, "mysql", 80], "notPorts": [1]})"));

  Json bad = Json::parse(R"({"egress": [{"action": "Allow", "source": {"ports": [{"x": 1}]}}]})");
  auto st = normalizeRulePorts(bad);
  ASSERT_FALSE(st.isOk());
  EXPECT_EQ(
      st.message(),
      "spec.egress[0].source.ports[0]: expected a port number, range \"from:to\" or name, got "
      "a mapping");
}

TEST(V1ConvertTest, WorkloadEndpointNameEscapesDashes) {
  EXPECT_EQ(workloadEndpointName({"node-1", "k8s", "pod", "eth0"}), "node--1-k8s-pod-eth0");
  EXPECT_EQ(workloadEndpointName({"a", "b--c", "d", "e"}), "a-b----c-d-e");
}

}  // namespace
}  // namespace brindle::model
