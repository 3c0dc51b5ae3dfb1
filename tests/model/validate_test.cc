// Tests of applyDefaults, validateResource and checkPoolOverlap on v3 JSON built in place (no
// codec involved), one table row per rule.
#include "model/validate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace brindle::model {
namespace {

// Raw strings below end at `)"`, so selectors inside them are written with a blank before their
// closing quote ("has(x) ") - selectors ignore blanks.

Resource make(Kind kind, const std::string& metadata, const std::string& spec) {
  Resource r;
  r.kind = kind;
  r.metadata = Json::parse(metadata);
  r.spec = Json::parse(spec);
  return r;
}

// Defaults then validation, as the codec does.
Status check(Resource r) {
  applyDefaults(r);
  return validateResource(r);
}

struct Case {
  std::string name;
  Kind kind;
  std::string metadata;
  std::string spec;
  std::string expected;  // "" = valid; else the full message, or a substring if it starts with ~
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

const std::string kPolicyMeta = R"({"name": "p"})";

std::string ruleSpec(const std::string& rule) {
  return R"({"selector": "all() ", "ingress": [)" + rule + "]}";
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      // --- valid resources of every kind
      {"node ok", Kind::kNode, R"({"name": "node-hostname"})",
       R"({"bgp": {"asNumber": 64512, "ipv4Address": "10.244.0.1/24",
                   "ipv6Address": "2001:db8:85a3::8a2e:370:7334/120"}})",
       ""},
      {"node empty spec ok", Kind::kNode, R"({"name": "slave1"})", "{}", ""},
      {"bgppeer ok", Kind::kBGPPeer, R"({"name": "rack1-tor"})",
       R"({"node": "rack1-host1", "peerIP": "192.168.1.1", "asNumber": 63400})", ""},
      {"bgppeer ip:port ok", Kind::kBGPPeer, R"({"name": "p"})",
       R"({"peerIP": "[fd00::1]:179", "asNumber": "1.10"})", ""},
      {"bgppeer selector ok", Kind::kBGPPeer, R"({"name": "rr"})",
       R"({"nodeSelector": "!has(rr) ", "peerSelector": "has(rr) "})", ""},
      {"bgpconfig ok", Kind::kBGPConfiguration, R"({"name": "default"})",
       R"({"logSeverityScreen": "Info", "nodeToNodeMeshEnabled": false, "asNumber": 64512,
           "serviceClusterIPs": [{"cidr": "10.96.0.0/12"}], "listenPort": 179})",
       ""},
      {"ippool ok", Kind::kIPPool, R"({"name": "pool1"})",
       R"({"cidr": "10.1.0.0/16", "ipipMode": "CrossSubnet", "natOutgoing": true})", ""},
      {"ippool v6 ok", Kind::kIPPool, R"({"name": "pool6"})",
       R"({"cidr": "fd80:24e2:f998:72d6::/64", "natOutgoing": true})", ""},
      {"gnp ok", Kind::kGlobalNetworkPolicy, R"({"name": "allow-tcp-6379"})",
       R"({"selector": "role == 'database'", "ingress": [{"action": "Allow", "protocol": "TCP",
           "source": {"selector": "role == 'frontend'"}, "destination": {"ports": [6379]}}],
           "egress": [{"action": "Allow"}]})",
       ""},
      {"gnp tier prefix ok", Kind::kGlobalNetworkPolicy, R"({"name": "default.allow-dns"})",
       R"({"order": 10.5})", ""},
      {"np ok", Kind::kNetworkPolicy, R"({"name": "np", "namespace": "prod"})",
       R"({"selector": "app == 'x'", "egress": [{"action": "Deny", "protocol": "UDP",
           "destination": {"ports": ["53", "1000:2000", "dns"]}}]})",
       ""},
      {"profile ok", Kind::kProfile, R"({"name": "profile1", "labels": {"profile": "profile1"}})",
       R"({"ingress": [{"action": "Deny", "source": {"nets": ["10.0.20.0/24"]}},
                       {"action": "Allow", "source": {"selector": "profile == 'profile1'"}}],
           "egress": [{"action": "Allow"}], "labelsToApply": {"profile": "profile1"}})",
       ""},
      {"wep ok", Kind::kWorkloadEndpoint,
       R"({"name": "slave1-k8s-frontend-eth0", "labels": {"app": "frontend",
           "projectcalico.org/namespace": "default"}})",
       R"({"node": "slave1", "orchestrator": "k8s", "workload": "frontend", "endpoint": "eth0",
           "interfaceName": "cali0ef24b1", "mac": "ca:fe:1d:52:bb:e1",
           "ipNetworks": ["172.16.1.1", "172.16.1.2/32", "fd00::1/128"],
           "profiles": ["profile-database"]})",
       ""},
      {"hep ok", Kind::kHostEndpoint, R"({"name": "eth0", "labels": {"type": "production"}})",
       R"({"node": "myhost", "interfaceName": "eth0", "expectedIPs": ["192.168.0.1"],
           "profiles": ["profile1"], "ports": [{"name": "ssh", "port": 22, "protocol": "TCP"}]})",
       ""},
      {"hep ips only ok", Kind::kHostEndpoint, R"({"name": "h"})",
       R"({"node": "myhost", "expectedIPs": ["fd00::2"]})", ""},
      {"gns ok", Kind::kGlobalNetworkSet, R"({"name": "gns", "labels": {"a": "b"}})",
       R"({"nets": ["10.0.0.0/8", "1.2.3.4"]})", ""},
      {"ns ok", Kind::kNetworkSet, R"({"name": "ns1"})", R"({"nets": ["fd00::/8"]})", ""},
      {"ipreservation ok", Kind::kIPReservation, R"({"name": "r"})",
       R"({"reservedCIDRs": ["10.1.2.0/24"]})", ""},
      {"felix ok", Kind::kFelixConfiguration, R"({"name": "default"})",
       R"({"logSeverityScreen": "Info", "ipipEnabled": true, "reportingInterval": "30s",
           "defaultEndpointToHostAction": "Drop"})",
       ""},
      {"clusterinfo ok", Kind::kClusterInformation, R"({"name": "default"})",
       R"({"clusterGUID": "abc", "datastoreReady": true})", ""},

      // --- metadata
      {"name missing", Kind::kNode, "{}", "{}", "metadata.name: required"},
      {"name upper case", Kind::kIPPool, R"({"name": "Pool1"})", R"({"cidr": "10.0.0.0/16"})",
       "~metadata.name: \"Pool1\" is not a valid name"},
      {"name underscore", Kind::kProfile, R"({"name": "my_profile"})", "{}",
       "~metadata.name: \"my_profile\" is not a valid name"},
      {"gnp name two dots", Kind::kGlobalNetworkPolicy, R"({"name": "a.b.c"})", "{}",
       "~metadata.name: \"a.b.c\" is not a valid policy name"},
      {"namespace on cluster kind", Kind::kGlobalNetworkPolicy,
       R"({"name": "p", "namespace": "x"})", "{}",
       "metadata.namespace: \"x\" given, but GlobalNetworkPolicy is not namespaced"},
      {"bad namespace", Kind::kNetworkPolicy, R"({"name": "p", "namespace": "Prod"})", "{}",
       "~metadata.namespace: \"Prod\" is not a valid namespace"},
      {"bad label key", Kind::kNode, R"({"name": "n", "labels": {"bad key": "x"}})", "{}",
       "metadata.labels.bad key: \"bad key\" is not a valid label key"},
      {"bad label value", Kind::kNode, R"({"name": "n", "labels": {"k": "-x"}})", "{}",
       "metadata.labels.k: \"-x\" is not a valid label value"},
      {"label value not string", Kind::kNode, R"({"name": "n", "labels": {"k": [5]}})", "{}",
       "metadata.labels.k: \"[5]\" is not a valid label value"},
      {"unknown metadata", Kind::kNode, R"({"name": "n", "node": "x"})", "{}",
       "metadata.node: unknown field"},
      {"clusterinfo name", Kind::kClusterInformation, R"({"name": "other"})", "{}",
       "~must be named \"default\""},

      // --- Node
      {"node bad ipv4Address", Kind::kNode, R"({"name": "n"})",
       R"({"bgp": {"ipv4Address": "10.244.0.300/24"}})",
       "spec.bgp.ipv4Address: \"10.244.0.300/24\" is not an IPv4 CIDR"},
      {"node v6 in ipv4Address", Kind::kNode, R"({"name": "n"})",
       R"({"bgp": {"ipv4Address": "fd00::1/64"}})",
       "spec.bgp.ipv4Address: \"fd00::1/64\" is not an IPv4 CIDR"},
      {"node bad as", Kind::kNode, R"({"name": "n"})", R"({"bgp": {"asNumber": "70000.1"}})",
       "spec.bgp.asNumber: \"70000.1\" is not an AS number"},
      {"node empty bgp", Kind::kNode, R"({"name": "n"})", R"({"bgp": {}})",
       "~spec.bgp: must not be empty"},
      {"node unknown", Kind::kNode, R"({"name": "n"})", R"({"bgp": {"asnumber": 1}})",
       "spec.bgp.asnumber: unknown field"},
      {"node bad vxlan mac", Kind::kNode, R"({"name": "n"})",
       R"({"vxlanTunnelMACAddr": "zz:00:00:00:00:00"})",
       "spec.vxlanTunnelMACAddr: \"zz:00:00:00:00:00\" is not a MAC address"},

      // --- BGPPeer and AS numbers
      {"as max ok", Kind::kBGPPeer, R"({"name": "p"})",
       R"({"peerIP": "10.0.0.1", "asNumber": 4294967295})", ""},
      {"as too big", Kind::kBGPPeer, R"({"name": "p"})",
       R"({"peerIP": "10.0.0.1", "asNumber": 4294967296})",
       "spec.asNumber: \"4294967296\" is not an AS number"},
      {"as string too big", Kind::kBGPPeer, R"({"name": "p"})",
       R"({"peerIP": "10.0.0.1", "asNumber": "4294967296"})",
       "spec.asNumber: \"4294967296\" is not an AS number"},
      {"as dotted ok", Kind::kBGPPeer, R"({"name": "p"})",
       R"({"peerIP": "10.0.0.1", "asNumber": "65535.65535"})", ""},
      {"as dotted bad", Kind::kBGPPeer, R"({"name": "p"})",
       R"({"peerIP": "10.0.0.1", "asNumber": "70000.1"})",
       "spec.asNumber: \"70000.1\" is not an AS number"},
      {"as three parts", Kind::kBGPPeer, R"({"name": "p"})",
       R"({"peerIP": "10.0.0.1", "asNumber": "1.2.3"})",
       "spec.asNumber: \"1.2.3\" is not an AS number"},
      {"as negative", Kind::kBGPPeer, R"({"name": "p"})",
       R"({"peerIP": "10.0.0.1", "asNumber": -1})", "spec.asNumber: \"-1\" is not an AS number"},
      {"peer bad ip", Kind::kBGPPeer, R"({"name": "p"})", R"({"peerIP": "192.168.1.256"})",
       "spec.peerIP: \"192.168.1.256\" is not an IP address or IP:port"},
      {"peer bad port", Kind::kBGPPeer, R"({"name": "p"})", R"({"peerIP": "10.0.0.1:0"})",
       "spec.peerIP: \"10.0.0.1:0\" is not an IP address or IP:port"},
      // Calico stores a peer with no peerIP, peerSelector or localWorkloadSelector (it peers
      // with nobody).
      {"peer with no peer", Kind::kBGPPeer, R"({"name": "p"})",
       R"({"asNumber": 64512, "sourceAddress": "None"})", ""},
      {"peer ip and selector", Kind::kBGPPeer, R"({"name": "p"})",
       R"({"peerIP": "10.0.0.1", "peerSelector": "has(x) "})",
       "spec.peerIP: must be empty when peerSelector is set"},
      {"peer node and nodeSelector", Kind::kBGPPeer, R"({"name": "p"})",
       R"({"node": "a", "nodeSelector": "all() ", "peerIP": "10.0.0.1"})",
       "spec.node: must be empty when nodeSelector is set"},
      {"peer as with selector", Kind::kBGPPeer, R"({"name": "p"})",
       R"({"peerSelector": "has(x) ", "asNumber": 64512})",
       "~spec.asNumber: must be empty when peerSelector is set"},
      {"peer bad selector", Kind::kBGPPeer, R"({"name": "p"})", R"({"peerSelector": "has(x"})",
       "~spec.peerSelector: col "},
      {"peer v1 scope", Kind::kBGPPeer, R"({"name": "p"})",
       R"({"scope": "global", "peerIP": "10.0.0.1"})", "spec.scope: unknown field"},

      // --- BGPConfiguration
      {"bgpconfig bad severity", Kind::kBGPConfiguration, R"({"name": "default"})",
       R"({"logSeverityScreen": "verbose"})",
       "~spec.logSeverityScreen: \"verbose\" is not one of Trace, Debug, Info"},
      {"bgpconfig mesh not bool", Kind::kBGPConfiguration, R"({"name": "default"})",
       R"({"nodeToNodeMeshEnabled": "on"})",
       "spec.nodeToNodeMeshEnabled: expected true or false, got \"on\""},
      {"bgpconfig port 0", Kind::kBGPConfiguration, R"({"name": "default"})",
       R"({"listenPort": 0})", "spec.listenPort: \"0\" is not an integer in 1-65535"},
      {"bgpconfig bad cluster ip", Kind::kBGPConfiguration, R"({"name": "default"})",
       R"({"serviceClusterIPs": [{"cidr": "10.96.0.0/33"}]})",
       "spec.serviceClusterIPs[0].cidr: \"10.96.0.0/33\" is not a CIDR"},

      // --- IPPool
      {"pool missing cidr", Kind::kIPPool, R"({"name": "p"})", R"({"natOutgoing": true})",
       "spec.cidr: required"},
      {"pool bad cidr", Kind::kIPPool, R"({"name": "p"})", R"({"cidr": "10.1.0.0/40"})",
       "spec.cidr: \"10.1.0.0/40\" is not a CIDR"},
      {"pool host bits", Kind::kIPPool, R"({"name": "p"})", R"({"cidr": "10.1.2.3/16"})",
       "spec.cidr: \"10.1.2.3/16\" has host bits set (did you mean \"10.1.0.0/16\"?)"},
      {"pool block 19", Kind::kIPPool, R"({"name": "p"})",
       R"({"cidr": "10.0.0.0/8", "blockSize": 19})",
       "spec.blockSize: \"19\" is not a valid IPv4 block size (20-32)"},
      {"pool block 32 ok", Kind::kIPPool, R"({"name": "p"})",
       R"({"cidr": "10.0.0.0/8", "blockSize": 32})", ""},
      {"pool block v6 115", Kind::kIPPool, R"({"name": "p"})",
       R"({"cidr": "fd00::/64", "blockSize": 115})",
       "spec.blockSize: \"115\" is not a valid IPv6 block size (116-128)"},
      {"pool block v6 on v4 size", Kind::kIPPool, R"({"name": "p"})",
       R"({"cidr": "fd00::/64", "blockSize": 26})",
       "spec.blockSize: \"26\" is not a valid IPv6 block size (116-128)"},
      {"pool too small", Kind::kIPPool, R"({"name": "p"})", R"({"cidr": "10.0.0.0/28"})",
       "~spec.cidr: \"10.0.0.0/28\" is smaller than one block (/26)"},
      {"pool too small but disabled", Kind::kIPPool, R"({"name": "p"})",
       R"({"cidr": "10.0.0.0/28", "disabled": true})", ""},
      {"pool bad ipip mode", Kind::kIPPool, R"({"name": "p"})",
       R"({"cidr": "10.0.0.0/16", "ipipMode": "cross-subnet"})",
       "spec.ipipMode: \"cross-subnet\" is not one of Always, CrossSubnet, Never; did you mean "
       "\"CrossSubnet\"?"},
      {"pool unknown ipip mode", Kind::kIPPool, R"({"name": "p"})",
       R"({"cidr": "10.0.0.0/16", "ipipMode": "Sometimes"})",
       "spec.ipipMode: \"Sometimes\" is not one of Always, CrossSubnet, Never"},
      {"pool ipip and vxlan", Kind::kIPPool, R"({"name": "p"})",
       R"({"cidr": "10.0.0.0/16", "ipipMode": "Always", "vxlanMode": "CrossSubnet"})",
       "spec.vxlanMode: ipipMode and vxlanMode cannot both be enabled"},
      {"pool v6 ipip", Kind::kIPPool, R"({"name": "p"})",
       R"({"cidr": "fd00::/64", "ipipMode": "Always"})",
       "~spec.ipipMode: IPIP is not supported on an IPv6 pool"},
      {"pool v6 vxlan ok", Kind::kIPPool, R"({"name": "p"})",
       R"({"cidr": "fd00::/64", "vxlanMode": "Always"})", ""},
      {"pool link local", Kind::kIPPool, R"({"name": "p"})", R"({"cidr": "169.254.0.0/16"})",
       "~overlaps the IPv4 link-local range"},
      {"pool v1 ipip", Kind::kIPPool, R"({"name": "p"})",
       R"({"cidr": "10.0.0.0/16", "ipip": {"enabled": true}})",
       "spec.ipip: is not a v3 field; use ipipMode"},
      {"pool nat not bool", Kind::kIPPool, R"({"name": "p"})",
       R"({"cidr": "10.0.0.0/16", "natOutgoing": "yes"})",
       "spec.natOutgoing: expected true or false, got \"yes\""},
      {"pool bad node selector", Kind::kIPPool, R"({"name": "p"})",
       R"({"cidr": "10.0.0.0/16", "nodeSelector": "a =="})",
       "spec.nodeSelector: col 5: expected a quoted string but found end of selector"},

      // --- policies
      {"policy bad selector", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       R"({"selector": "role == 'database"})", "~spec.selector: col "},
      {"policy bad type", Kind::kGlobalNetworkPolicy, kPolicyMeta, R"({"types": ["ingress"]})",
       "spec.types[0]: \"ingress\" is not one of Ingress, Egress; did you mean \"Ingress\"?"},
      {"policy duplicate type", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       R"({"types": ["Ingress", "Ingress"]})",
       "spec.types[1]: \"Ingress\" is listed more than once"},
      {"policy order not number", Kind::kGlobalNetworkPolicy, kPolicyMeta, R"({"order": "first"})",
       "spec.order: expected a number, got \"first\""},
      {"prednat egress", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       R"({"preDNAT": true, "applyOnForward": true, "egress": [{"action": "Allow"}]})",
       "spec.egress: a preDNAT policy cannot have egress rules"},
      {"donottrack needs applyOnForward", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       R"({"doNotTrack": true})",
       "spec.applyOnForward: must be true when preDNAT or doNotTrack is set"},
      {"np has no doNotTrack", Kind::kNetworkPolicy, kPolicyMeta, R"({"doNotTrack": true})",
       "spec.doNotTrack: unknown field"},
      {"rules not a list", Kind::kProfile, R"({"name": "p"})", R"({"ingress": {}})",
       "~spec.ingress: expected a list of rules"},

      // --- rules
      {"rule port 70000", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(
           R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": [80, "70000"]}})"),
       "spec.ingress[0].destination.ports[1]: \"70000\" is not a port or port range"},
      {"rule port 0", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": [0]}})"),
       "spec.ingress[0].destination.ports[0]: \"0\" is not a port or port range"},
      {"rule port range reversed", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "protocol": "UDP", "source": {"ports": ["2000:1000"]}})"),
       "spec.ingress[0].source.ports[0]: \"2000:1000\" is not a port or port range: 2000 is "
       "greater than 1000"},
      {"rule port range open", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "protocol": "UDP", "source": {"ports": ["1000:"]}})"),
       "spec.ingress[0].source.ports[0]: \"1000:\" is not a port or port range"},
      {"rule bad named port", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(
           R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": ["Web_Port"]}})"),
       "spec.ingress[0].destination.ports[0]: \"Web_Port\" is not a port or port range"},
      {"rule ports without protocol", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "destination": {"ports": [80]}})"),
       "spec.ingress[0].destination.ports: ports need protocol TCP, UDP or SCTP (no protocol is "
       "set)"},
      {"rule ports with icmp", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "protocol": "ICMP", "source": {"notPorts": [80]}})"),
       "spec.ingress[0].source.notPorts: ports need protocol TCP, UDP or SCTP (protocol is "
       "\"ICMP\")"},
      {"rule ports with proto number 6 ok", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "protocol": 6, "destination": {"ports": [80]}})"), ""},
      {"rule ports with sctp ok", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "protocol": "SCTP", "destination": {"ports": [80]}})"), ""},
      {"rule ports with udplite", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "protocol": "UDPLite", "destination": {"ports": [80]}})"),
       "~ports need protocol TCP, UDP or SCTP (protocol is \"UDPLite\")"},
      {"rule protocol 0", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "protocol": 0})"),
       "spec.ingress[0].protocol: \"0\" is not a protocol (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite "
       "or 1-255)"},
      {"rule protocol 256", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "notProtocol": "256"})"),
       "~spec.ingress[0].notProtocol: \"256\" is not a protocol"},
      {"rule protocol name", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "protocol": "HTTP"})"),
       "~spec.ingress[0].protocol: \"HTTP\" is not a protocol"},
      {"rule icmp with tcp", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "protocol": "TCP", "icmp": {"type": 8}})"),
       "spec.ingress[0].icmp: needs protocol ICMP or ICMPv6 (protocol is \"TCP\")"},
      {"rule icmp code without type", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "protocol": "ICMP", "icmp": {"code": 0}})"),
       "spec.ingress[0].icmp.code: an ICMP code needs an ICMP type"},
      {"rule icmp type 255", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "protocol": "ICMP", "icmp": {"type": 255}})"),
       "spec.ingress[0].icmp.type: \"255\" is not an ICMP type (0-254)"},
      {"rule icmp ok", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "protocol": "ICMPv6", "ipVersion": 6,
                    "notICMP": {"type": 128, "code": 0}})"),
       ""},
      {"rule icmp with ipv6", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "protocol": "ICMP", "ipVersion": 6})"),
       "spec.ingress[0].ipVersion: must be 4 with protocol ICMP"},
      {"rule bad ip version", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "ipVersion": 5})"),
       "spec.ingress[0].ipVersion: \"5\" is not 4 or 6"},
      {"rule mixed families", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "source": {"nets": ["10.0.0.0/8"]},
                    "destination": {"notNets": ["fd00::/8"]}})"),
       "spec.ingress[0].destination.notNets[0]: \"fd00::/8\": a rule cannot mix IPv4 and IPv6 "
       "CIDRs"},
      {"rule nets vs ipVersion", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "ipVersion": 4, "source": {"nets": ["fd00::/8"]}})"),
       "spec.ingress[0].source.nets[0]: \"fd00::/8\" is IPv6 but ipVersion is 4"},
      {"rule bad net", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "source": {"nets": ["10.0.0.0/33"]}})"),
       "spec.ingress[0].source.nets[0]: \"10.0.0.0/33\" is not a CIDR"},
      {"rule net host bits", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "source": {"nets": ["10.0.20.1/24"]}})"),
       "~\"10.0.20.1/24\" has host bits set (did you mean \"10.0.20.0/24\"?)"},
      {"rule bad action", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Reject"})"),
       "spec.ingress[0].action: \"Reject\" is not an action (Allow, Deny, Log or Pass)"},
      {"rule no action", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"protocol": "TCP"})"), "spec.ingress[0].action: required"},
      {"rule lower-case action ok", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "allow", "protocol": "TCP", "destination": {"ports": [80]}})"), ""},
      // Calico's protocol names are case-sensitive in v3 (the v1 conversion reads "tcp").
      {"rule lower-case protocol", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "protocol": "tcp"})"),
       "spec.ingress[0].protocol: \"tcp\" is not a protocol; did you mean \"TCP\"?"},
      {"rule unknown protocol", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "notProtocol": "GRE"})"),
       "spec.ingress[0].notProtocol: \"GRE\" is not a protocol (TCP, UDP, ICMP, ICMPv6, SCTP, "
       "UDPLite or 1-255)"},
      {"rule unknown field", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "source": {"net": "10.0.0.0/8"}})"),
       "spec.ingress[0].source.net: unknown field"},
      {"rule bad selector", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "source": {"selector": "a == 'x' &&"}})"),
       "~spec.ingress[0].source.selector: col "},
      {"rule http on deny", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Deny", "http": {"methods": ["GET"]}})"),
       "spec.ingress[0].http: only valid for Allow rules"},
      {"rule service in ingress destination", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "destination": {"services": {"name": "kube-dns"}}})"),
       "spec.ingress[0].destination.services: not allowed in an ingress rule's destination"},

      {"rule global namespaceSelector ok", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "source": {"namespaceSelector": "global() "}})"), ""},
      {"rule global in selector", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "source": {"selector": "global() "}})"),
       "spec.ingress[0].source.selector: global() can only be used in a namespaceSelector"},
      {"rule global combined", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       ruleSpec(R"({"action": "Allow", "source": {"namespaceSelector": "global() && has(a) "}})"),
       "spec.ingress[0].source.namespaceSelector: global() cannot be combined with other "
       "selectors"},
      {"policy global selector", Kind::kGlobalNetworkPolicy, kPolicyMeta,
       R"({"selector": "global() "})",
       "spec.selector: global() can only be used in a rule's namespaceSelector"},

      // --- WorkloadEndpoint
      {"wep bad ip", Kind::kWorkloadEndpoint, R"({"name": "w"})",
       R"({"node": "n", "interfaceName": "cali1", "ipNetworks": ["172.16.1.300"]})",
       "spec.ipNetworks[0]: \"172.16.1.300\" is not an IP address"},
      {"wep bad mac", Kind::kWorkloadEndpoint, R"({"name": "w"})",
       R"({"node": "n", "interfaceName": "cali1", "mac": "ca:fe:1d:52:bb"})",
       "spec.mac: \"ca:fe:1d:52:bb\" is not a MAC address"},
      {"wep no node", Kind::kWorkloadEndpoint, R"({"name": "w"})", R"({"interfaceName": "cali1"})",
       "spec.node: required"},
      {"wep no interface", Kind::kWorkloadEndpoint, R"({"name": "w"})", R"({"node": "n"})",
       "spec.interfaceName: required"},
      {"wep long interface", Kind::kWorkloadEndpoint, R"({"name": "w"})",
       R"({"node": "n", "interfaceName": "cali0123456789abc"})",
       "~spec.interfaceName: \"cali0123456789abc\" is not an interface name"},
      {"wep bad profile name", Kind::kWorkloadEndpoint, R"({"name": "w"})",
       R"({"node": "n", "interfaceName": "cali1", "profiles": ["Profile One"]})",
       "~spec.profiles[0]: \"Profile One\" is not a valid name"},
      {"wep nat outside", Kind::kWorkloadEndpoint, R"({"name": "w"})",
       R"({"node": "n", "interfaceName": "cali1", "ipNetworks": ["10.0.0.1"],
           "ipNATs": [{"internalIP": "10.0.0.2", "externalIP": "1.2.3.4"}]})",
       "spec.ipNATs[0].internalIP: \"10.0.0.2\" is not one of the endpoint's ipNetworks"},
      {"wep v1 field", Kind::kWorkloadEndpoint, R"({"name": "w"})",
       R"({"node": "n", "interfaceName": "cali1", "ipNetwork": ["10.0.0.1"]})",
       "spec.ipNetwork: unknown field"},

      // --- HostEndpoint
      {"hep no interface or ips", Kind::kHostEndpoint, R"({"name": "h"})", R"({"node": "n"})",
       "spec.interfaceName: required unless expectedIPs is set"},
      {"hep no node", Kind::kHostEndpoint, R"({"name": "h"})", R"({"interfaceName": "eth0"})",
       "spec.node: required"},
      {"hep bad ip", Kind::kHostEndpoint, R"({"name": "h"})",
       R"({"node": "n", "expectedIPs": ["192.168.0.1", "192.168.0"]})",
       "spec.expectedIPs[1]: \"192.168.0\" is not an IP address"},
      {"hep port number", Kind::kHostEndpoint, R"({"name": "h"})",
       R"({"node": "n", "interfaceName": "eth0", "ports": [{"name": "x", "port": 70000}]})",
       "spec.ports[0].port: \"70000\" is not an integer in 1-65535"},

      // --- sets, reservations, config
      {"gns bad net", Kind::kGlobalNetworkSet, R"({"name": "g"})",
       R"({"nets": ["10.0.0.0/8", "x"]})", "spec.nets[1]: \"x\" is not a CIDR"},
      {"ns bad net", Kind::kNetworkSet, R"({"name": "n"})", R"({"nets": "10.0.0.0/8"})",
       "spec.nets: expected a list, got \"10.0.0.0/8\""},
      {"ipreservation bad", Kind::kIPReservation, R"({"name": "r"})",
       R"({"reservedCIDRs": ["300.0.0.0/8"]})",
       "spec.reservedCIDRs[0]: \"300.0.0.0/8\" is not a CIDR"},
      {"felix unknown", Kind::kFelixConfiguration, R"({"name": "default"})",
       R"({"logLevel": "info"})", "spec.logLevel: unknown field"},
      {"felix bad duration", Kind::kFelixConfiguration, R"({"name": "default"})",
       R"({"reportingInterval": "30 seconds"})",
       "~spec.reportingInterval: \"30 seconds\" is not a duration"},
      {"felix bad action", Kind::kFelixConfiguration, R"({"name": "default"})",
       R"({"defaultEndpointToHostAction": "Discard"})",
       "spec.defaultEndpointToHostAction: \"Discard\" is not one of Drop, Accept, Return (in any "
       "case)"},
      {"clusterinfo bad ready", Kind::kClusterInformation, R"({"name": "default"})",
       R"({"datastoreReady": "yes"})", "spec.datastoreReady: expected true or false, got \"yes\""},
  };
  return all;
}

class ValidateTableTest : public testing::TestWithParam<Case> {};

TEST_P(ValidateTableTest, Checks) {
  const Case& c = GetParam();
  Status st = check(make(c.kind, c.metadata, c.spec));
  if (c.expected.empty()) {
    EXPECT_TRUE(st.isOk()) << st.message();
    return;
  }
  ASSERT_FALSE(st.isOk());
  EXPECT_EQ(st.code(), ErrorCode::kInvalid);
  if (c.expected[0] == '~') {
    EXPECT_NE(st.message().find(c.expected.substr(1)), std::string::npos) << st.message();
  } else {
    EXPECT_EQ(st.message(), c.expected);
  }
}

INSTANTIATE_TEST_SUITE_P(Table, ValidateTableTest, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case>& info) {
                           std::string n;
                           for (char ch : info.param.name) n += std::isalnum(ch) ? ch : '_';
                           return n;
                         });

TEST(DefaultsTest, IpPoolV4) {
  Resource r = make(Kind::kIPPool, R"({"name": "p"})", R"({"cidr": "10.1.0.0/16"})");
  applyDefaults(r);
  EXPECT_EQ(r.spec["blockSize"], 26);
  EXPECT_EQ(r.spec["ipipMode"], "Never");
  EXPECT_EQ(r.spec["vxlanMode"], "Never");
  EXPECT_EQ(r.spec["natOutgoing"], false);
  EXPECT_EQ(r.spec["nodeSelector"], "all()");
  EXPECT_FALSE(r.metadata.contains("namespace"));
}

TEST(DefaultsTest, IpPoolV6KeepsGivenValues) {
  Resource r = make(Kind::kIPPool, R"({"name": "p"})",
                    R"({"cidr": "FD80:24E2:F998:72D6::/64", "natOutgoing": true,
                        "vxlanMode": "Always", "blockSize": 120})");
  applyDefaults(r);
  EXPECT_EQ(r.spec["cidr"], "fd80:24e2:f998:72d6::/64");
  EXPECT_EQ(r.spec["blockSize"], 120);
  EXPECT_EQ(r.spec["vxlanMode"], "Always");
  EXPECT_EQ(r.spec["natOutgoing"], true);
  EXPECT_TRUE(validateResource(r).isOk());
}

TEST(DefaultsTest, IpPoolV6BlockSize) {
  Resource r = make(Kind::kIPPool, R"({"name": "p"})", R"({"cidr": "fd00::/64"})");
  applyDefaults(r);
  EXPECT_EQ(r.spec["blockSize"], 122);
}

TEST(DefaultsTest, PolicyTypesFromRules) {
  struct Row {
    std::string spec;
    Json types;
  };
  const Row rows[] = {
      {"{}", Json{"Ingress"}},
      {R"({"ingress": [{"action": "Allow"}]})", Json{"Ingress"}},
      {R"({"egress": [{"action": "Allow"}]})", Json{"Egress"}},
      {R"({"ingress": [{"action": "Allow"}], "egress": [{"action": "Allow"}]})",
       Json{"Ingress", "Egress"}},
      {R"({"types": ["Egress"], "ingress": [{"action": "Allow"}]})", Json{"Egress"}},
  };
  for (const auto& row : rows) {
    Resource r = make(Kind::kGlobalNetworkPolicy, R"({"name": "p"})", row.spec);
    applyDefaults(r);
    EXPECT_EQ(r.spec["types"], row.types) << row.spec;
  }
}

TEST(DefaultsTest, NamespaceForNamespacedKinds) {
  for (Kind k : {Kind::kNetworkPolicy, Kind::kWorkloadEndpoint, Kind::kNetworkSet}) {
    Resource r = make(k, R"({"name": "x"})", "{}");
    applyDefaults(r);
    EXPECT_EQ(r.metadata["namespace"], "default") << kindInfo(k).name;
  }
  Resource given = make(Kind::kNetworkPolicy, R"({"name": "x", "namespace": "prod"})", "{}");
  applyDefaults(given);
  EXPECT_EQ(given.metadata["namespace"], "prod");
  Resource global = make(Kind::kGlobalNetworkPolicy, R"({"name": "x"})", "{}");
  applyDefaults(global);
  EXPECT_FALSE(global.metadata.contains("namespace"));
}

TEST(DefaultsTest, RuleSpellingCanonicalised) {
  Resource r = make(Kind::kProfile, R"({"name": "p"})",
                    R"({"ingress": [{"action": "deny", "protocol": "icmpv6"},
                                    {"action": "ALLOW", "protocol": 17}]})");
  applyDefaults(r);
  EXPECT_EQ(r.spec["ingress"][0]["action"], "Deny");
  // Protocol names are not respelled: Calico refuses "icmpv6" and so does validation.
  EXPECT_EQ(r.spec["ingress"][0]["protocol"], "icmpv6");
  EXPECT_FALSE(validateResource(r).isOk());
  EXPECT_EQ(r.spec["ingress"][1]["action"], "Allow");
  EXPECT_EQ(r.spec["ingress"][1]["protocol"], 17);
  EXPECT_FALSE(r.spec.contains("types"));  // profiles have no types
}

// calicoctl reads a number or true/false in a text field as its text; validation rewrites it in
// place. Numbers stay numbers where Calico wants one, and a scalar whose text is no better is
// refused.
TEST(ValidateTest, ScalarsInTextFieldsReadAsText) {
  Resource hep = make(Kind::kHostEndpoint, R"({"name": "h"})",
                      R"({"node": 42, "interfaceName": "eth0", "profiles": [7, true],
                          "ports": [{"name": "web", "port": 80, "protocol": "TCP"}]})");
  EXPECT_TRUE(check(hep).isOk()) << check(hep).message();
  applyDefaults(hep);
  ASSERT_TRUE(validateResource(hep).isOk());
  EXPECT_EQ(hep.spec["node"], "42");
  EXPECT_EQ(hep.spec["profiles"], Json::parse(R"(["7", "true"])"));
  EXPECT_EQ(hep.spec["ports"][0]["port"], 80);

  Resource staged = make(Kind::kStagedGlobalNetworkPolicy, R"({"name": "7.s"})",
                         R"({"stagedAction": "Set", "selector": "app == 'x'",
                             "order": 10, "ingress": [{"action": "Allow"}], "tier": 7})");
  applyDefaults(staged);
  EXPECT_TRUE(validateResource(staged).isOk()) << validateResource(staged).message();
  EXPECT_EQ(staged.spec["tier"], "7");
  EXPECT_EQ(staged.spec["order"], 10);
  EXPECT_EQ(staged.spec.begin().key(), "stagedAction");  // the order written is kept

  Resource pool = make(Kind::kIPPool, R"({"name": "p"})", R"({"cidr": 10, "ipipMode": 1})");
  applyDefaults(pool);
  EXPECT_EQ(validateResource(pool).message(), "spec.cidr: \"10\" is not a CIDR");
  EXPECT_EQ(pool.spec["cidr"], 10);
}

TEST(DefaultsTest, GarbageDoesNotCrash) {
  Resource r = make(Kind::kGlobalNetworkPolicy, R"({"name": "p"})",
                    R"({"ingress": "x", "egress": [1, "a", null]})");
  applyDefaults(r);
  EXPECT_FALSE(validateResource(r).isOk());
  Resource pool = make(Kind::kIPPool, R"({"name": "p"})", R"({"cidr": 5, "blockSize": "x"})");
  applyDefaults(pool);
  EXPECT_FALSE(validateResource(pool).isOk());
}

TEST(PoolOverlapTest, Overlaps) {
  Resource a = make(Kind::kIPPool, R"({"name": "a"})", R"({"cidr": "10.1.0.0/16"})");
  Resource b = make(Kind::kIPPool, R"({"name": "b"})", R"({"cidr": "10.0.0.0/8"})");
  Resource c = make(Kind::kIPPool, R"({"name": "c"})", R"({"cidr": "10.2.0.0/16"})");
  Resource v6 = make(Kind::kIPPool, R"({"name": "v6"})", R"({"cidr": "fd00::/8"})");
  Status st = checkPoolOverlap(a, {c, v6, b});
  ASSERT_FALSE(st.isOk());
  EXPECT_EQ(st.message(), "spec.cidr: \"10.1.0.0/16\" overlaps IPPool \"b\" (10.0.0.0/8)");
  EXPECT_TRUE(checkPoolOverlap(a, {c, v6}).isOk());
}

TEST(PoolOverlapTest, SameNameIsTheSamePool) {
  Resource a = make(Kind::kIPPool, R"({"name": "a"})", R"({"cidr": "10.1.0.0/16"})");
  Resource a2 = make(Kind::kIPPool, R"({"name": "a"})", R"({"cidr": "10.0.0.0/8"})");
  EXPECT_TRUE(checkPoolOverlap(a, {a2}).isOk());
  EXPECT_TRUE(checkPoolOverlap(a, {}).isOk());
}

}  // namespace
}  // namespace brindle::model
