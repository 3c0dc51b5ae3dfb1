// Tests of lintResource: rules shadowed by an earlier terminal rule, and (as important) the many
// near misses where the later rule can still match and no warning may be given.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/rule.h"
#include "model/validate.h"

namespace brindle::model {
namespace {

Resource policy(Kind kind, const std::string& ingress, const std::string& egress = "[]") {
  Resource r;
  r.kind = kind;
  r.metadata = Json::parse(kind == Kind::kNetworkPolicy ? R"({"name": "p", "namespace": "prod"})"
                                                        : R"({"name": "p"})");
  r.spec = Json::parse(R"({"ingress": )" + ingress + R"(, "egress": )" + egress + "}");
  return r;
}

std::vector<std::string> lintIngress(const std::string& rules) {
  return lintResource(policy(Kind::kGlobalNetworkPolicy, rules));
}

TEST(LintTest, SeedProfileDatabase) {
  // S12: the seed's profile-database denies everything before allowing MySQL from frontends.
  Resource r;
  r.kind = Kind::kProfile;
  r.metadata = Json::parse(R"({"name": "profile-database"})");
  r.spec = Json::parse(R"({
    "ingress": [
      {"action": "Deny"},
      {"action": "Allow", "protocol": "TCP",
       "source": {"selector": "namespace == 'default' && service == 'frontend'"},
       "destination": {"ports": [3306]}}],
    "egress": [{"action": "Allow"}]})");
  auto warnings = lintResource(r);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "Profile \"profile-database\": spec.ingress[1] (Allow TCP to ports 3306 from selector "
            "(namespace == \"default\" && service == \"frontend\")) can never match: "
            "spec.ingress[0] (Deny, no conditions) ends every packet first");
}

TEST(LintTest, NamespacedNameAndEgress) {
  auto w = lintResource(policy(Kind::kNetworkPolicy, "[]",
                               R"([{"action": "Pass"}, {"action": "Deny", "protocol": "UDP"}])"));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0],
            "NetworkPolicy \"prod/p\": spec.egress[1] (Deny UDP) can never match: spec.egress[0] "
            "(Pass, no conditions) ends every packet first");
}

TEST(LintTest, SubsetWarningNamesBothRules) {
  auto w = lintIngress(R"([
      {"action": "Allow", "protocol": "TCP", "destination": {"ports": ["80:90"]}},
      {"action": "Deny", "protocol": 6, "source": {"selector": "a == 'b'"},
       "destination": {"ports": [85, "88:90"]}}])");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0],
            "GlobalNetworkPolicy \"p\": spec.ingress[1] (Deny 6 to ports 85,88:90 from selector "
            "a == \"b\") can never match: spec.ingress[0] (Allow TCP to ports 80:90) ends every "
            "packet it would see first");
}

TEST(LintTest, IdenticalRules) {
  const std::string rule =
      R"({"action": "Allow", "protocol": "TCP", "source": {"nets": ["10.0.0.0/8"],
          "selector": "x == 'y'"}, "destination": {"ports": [22]}})";
  EXPECT_EQ(lintIngress("[" + rule + "," + rule + "]").size(), 1u);
}

TEST(LintTest, OneWarningPerDeadRule) {
  auto w = lintIngress(
      R"([{"action": "Deny"}, {"action": "Allow"}, {"action": "Allow", "protocol": "TCP"}])");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].find("spec.ingress[1]"), std::string::npos);
  EXPECT_NE(w[1].find("spec.ingress[2] (Allow TCP) can never match: spec.ingress[0]"),
            std::string::npos);
}

struct Case {
  std::string name;
  std::string earlier;
  std::string later;
  bool dead;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

class CoverTest : public testing::TestWithParam<Case> {};

TEST_P(CoverTest, WarnsOnlyWhenDead) {
  const Case& c = GetParam();
  auto w = lintIngress("[" + c.earlier + "," + c.later + "]");
  EXPECT_EQ(w.size(), c.dead ? 1u : 0u) << (w.empty() ? "" : w[0]);
}

const std::vector<Case>& coverCases() {
  static const std::vector<Case> all = {
      // Log is not terminal.
      {"log first", R"({"action": "Log"})", R"({"action": "Allow"})", false},
      {"deny all", R"({"action": "Deny"})", R"({"action": "Allow", "protocol": "UDP"})", true},
      {"metadata only is unconditional",
       R"({"action": "Deny", "metadata": {"annotations": {"why": "x"}}})", R"({"action": "Allow"})",
       true},
      // Protocols.
      {"same protocol", R"({"action": "Deny", "protocol": "TCP"})",
       R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": [80]}})", true},
      {"protocol by number", R"({"action": "Deny", "protocol": 17})",
       R"({"action": "Allow", "protocol": "UDP"})", true},
      {"other protocol", R"({"action": "Deny", "protocol": "TCP"})",
       R"({"action": "Allow", "protocol": "UDP"})", false},
      {"later has no protocol", R"({"action": "Deny", "protocol": "TCP"})",
       R"({"action": "Allow"})", false},
      {"notProtocol excludes later", R"({"action": "Deny", "notProtocol": "UDP"})",
       R"({"action": "Allow", "protocol": "TCP"})", true},
      {"notProtocol same as later", R"({"action": "Deny", "notProtocol": "TCP"})",
       R"({"action": "Allow", "protocol": "TCP"})", false},
      {"notProtocol and later none", R"({"action": "Deny", "notProtocol": "TCP"})",
       R"({"action": "Allow"})", false},
      // Ports.
      {"ports superset",
       R"({"action": "Deny", "protocol": "TCP", "destination": {"ports": [80, 443]}})",
       R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": [443]}})", true},
      {"ports adjacent ranges cover", R"({"action": "Deny", "protocol": "TCP",
          "destination": {"ports": ["1:100", "101:200"]}})",
       R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": ["50:150"]}})", true},
      {"ports gap", R"({"action": "Deny", "protocol": "TCP",
          "destination": {"ports": ["1:100", "102:200"]}})",
       R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": ["50:150"]}})", false},
      {"ports not superset",
       R"({"action": "Deny", "protocol": "TCP", "destination": {"ports": [80]}})",
       R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": [80, 81]}})", false},
      {"ports on other side", R"({"action": "Deny", "protocol": "TCP", "source": {"ports": [80]}})",
       R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": [80]}})", false},
      {"later no ports", R"({"action": "Deny", "protocol": "TCP", "destination": {"ports": [80]}})",
       R"({"action": "Allow", "protocol": "TCP"})", false},
      {"named port same",
       R"({"action": "Deny", "protocol": "TCP", "destination": {"ports": ["http"]}})",
       R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": ["http"]}})", true},
      {"named port vs number",
       R"({"action": "Deny", "protocol": "TCP", "destination": {"ports": [80]}})",
       R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": ["http"]}})", false},
      {"notPorts same",
       R"({"action": "Deny", "protocol": "TCP", "destination": {"notPorts": [22]}})",
       R"({"action": "Allow", "protocol": "TCP", "destination": {"notPorts": [22, 23]}})", true},
      {"notPorts later ports outside",
       R"({"action": "Deny", "protocol": "TCP", "destination": {"notPorts": [22]}})",
       R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": [80]}})", true},
      {"notPorts later ports inside",
       R"({"action": "Deny", "protocol": "TCP", "destination": {"notPorts": [22]}})",
       R"({"action": "Allow", "protocol": "TCP", "destination": {"ports": ["20:30"]}})", false},
      // Selectors.
      {"selector same spelled differently",
       R"({"action": "Deny", "source": {"selector": "a=='x'&&b=='y'"}})",
       R"({"action": "Allow", "source": {"selector": "a == \"x\" && b == \"y\""}})", true},
      {"selector differs", R"({"action": "Deny", "source": {"selector": "a == 'x'"}})",
       R"({"action": "Allow", "source": {"selector": "a == 'y'"}})", false},
      {"earlier selector later none", R"({"action": "Deny", "source": {"selector": "a == 'x'"}})",
       R"({"action": "Allow"})", false},
      {"earlier selector on other side",
       R"({"action": "Deny", "source": {"selector": "a == 'x'"}})",
       R"({"action": "Allow", "destination": {"selector": "a == 'x'"}})", false},
      {"notSelector same", R"({"action": "Deny", "source": {"notSelector": "a == 'x'"}})",
       R"({"action": "Allow", "source": {"notSelector": "a == 'x'", "nets": ["10.0.0.0/8"]}})",
       true},
      {"namespaceSelector differs",
       R"({"action": "Deny", "source": {"namespaceSelector": "a == 'x'"}})",
       R"({"action": "Allow", "source": {"namespaceSelector": "has(a) "}})", false},
      {"serviceAccounts same",
       R"({"action": "Deny", "source": {"serviceAccounts": {"names": ["sa"]}}})",
       R"({"action": "Allow", "source": {"serviceAccounts": {"names": ["sa"]}}})", true},
      {"serviceAccounts differ",
       R"({"action": "Deny", "source": {"serviceAccounts": {"names": ["sa"]}}})",
       R"({"action": "Allow", "source": {"serviceAccounts": {"names": ["sb"]}}})", false},
      // Nets.
      {"nets contain", R"({"action": "Deny", "source": {"nets": ["10.0.0.0/8"]}})",
       R"({"action": "Allow", "source": {"nets": ["10.1.0.0/16", "10.2.3.4/32"]}})", true},
      {"nets partly outside", R"({"action": "Deny", "source": {"nets": ["10.0.0.0/8"]}})",
       R"({"action": "Allow", "source": {"nets": ["10.1.0.0/16", "11.0.0.0/8"]}})", false},
      {"nets wider later", R"({"action": "Deny", "source": {"nets": ["10.1.0.0/16"]}})",
       R"({"action": "Allow", "source": {"nets": ["10.0.0.0/8"]}})", false},
      {"notNets excluded by later too",
       R"({"action": "Deny", "source": {"notNets": ["10.1.0.0/16"]}})",
       R"({"action": "Allow", "source": {"notNets": ["10.0.0.0/8"]}})", true},
      {"notNets disjoint from later nets",
       R"({"action": "Deny", "source": {"notNets": ["10.1.0.0/16"]}})",
       R"({"action": "Allow", "source": {"nets": ["192.168.0.0/16"]}})", true},
      {"notNets overlapping later nets",
       R"({"action": "Deny", "source": {"notNets": ["10.1.0.0/16"]}})",
       R"({"action": "Allow", "source": {"nets": ["10.0.0.0/8"]}})", false},
      // IP version and ICMP.
      {"ipVersion same", R"({"action": "Deny", "ipVersion": 4})",
       R"({"action": "Allow", "ipVersion": 4, "protocol": "TCP"})", true},
      {"ipVersion implied by nets", R"({"action": "Deny", "ipVersion": 6})",
       R"({"action": "Allow", "destination": {"nets": ["fd00::/8"]}})", true},
      {"ipVersion differs", R"({"action": "Deny", "ipVersion": 6})",
       R"({"action": "Allow", "ipVersion": 4})", false},
      {"ipVersion later none", R"({"action": "Deny", "ipVersion": 6})", R"({"action": "Allow"})",
       false},
      {"icmp type covers codes", R"({"action": "Deny", "protocol": "ICMP", "icmp": {"type": 3}})",
       R"({"action": "Allow", "protocol": "ICMP", "icmp": {"type": 3, "code": 1}})", true},
      {"icmp code narrower",
       R"({"action": "Deny", "protocol": "ICMP", "icmp": {"type": 3, "code": 1}})",
       R"({"action": "Allow", "protocol": "ICMP", "icmp": {"type": 3}})", false},
      {"icmp other type", R"({"action": "Deny", "protocol": "ICMP", "icmp": {"type": 8}})",
       R"({"action": "Allow", "protocol": "ICMP", "icmp": {"type": 0}})", false},
      {"notICMP differs", R"({"action": "Deny", "protocol": "ICMP", "notICMP": {"type": 8}})",
       R"({"action": "Allow", "protocol": "ICMP"})", false},
      // Invalid earlier rules are never used as evidence.
      {"invalid earlier ignored", R"({"action": "Deny", "protocol": "bogus"})",
       R"({"action": "Allow"})", false},
  };
  return all;
}

INSTANTIATE_TEST_SUITE_P(Table, CoverTest, testing::ValuesIn(coverCases()),
                         [](const testing::TestParamInfo<Case>& info) {
                           std::string n;
                           for (char ch : info.param.name) n += std::isalnum(ch) ? ch : '_';
                           return n;
                         });

TEST(LintTest, DirectionsAreIndependent) {
  auto w = lintResource(
      policy(Kind::kGlobalNetworkPolicy, R"([{"action": "Deny"}])", R"([{"action": "Allow"}])"));
  EXPECT_TRUE(w.empty());
}

TEST(LintTest, OtherKindsHaveNoLint) {
  Resource r;
  r.kind = Kind::kIPPool;
  r.metadata = Json::parse(R"({"name": "p"})");
  r.spec = Json::parse(
      R"({"cidr": "10.0.0.0/16", "ingress": [{"action": "Deny"}, {"action": "Allow"}]})");
  EXPECT_TRUE(lintResource(r).empty());
}

TEST(LintTest, EndpointNetworkWiderThanOneAddress) {
  Resource r;
  r.kind = Kind::kWorkloadEndpoint;
  r.metadata = Json::parse(R"({"name": "w", "namespace": "default"})");
  r.spec = Json::parse(
      R"({"node": "n", "interfaceName": "cali1", "ipNetworks": ["10.0.0.1/32", "192.168.0.0/16"]})");
  // Refused as v3 (Calico's rule); v1 took any network, so v1 input gets the warning instead.
  EXPECT_EQ(validateResource(r).message(),
            "spec.ipNetworks[1]: \"192.168.0.0/16\" holds more than one address (a workload's "
            "ipNetworks are its addresses: /32 or /128)");
  EXPECT_FALSE(checkResource(r).isOk());
  auto checked = checkResource(r, InputApi::kV1);
  ASSERT_TRUE(checked.isOk()) << checked.message();
  EXPECT_EQ(*checked, lintResource(r));
  auto w = lintResource(r);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(
      w[0],
      "WorkloadEndpoint \"default/w\": spec.ipNetworks[1]: \"192.168.0.0/16\" holds more than "
      "one address; the whole network is routed to this endpoint (Calico v3 expects a /32 "
      "or /128 per workload address)");
}

TEST(RuleTest, DescribeAndParse) {
  auto r = parseRule(Json::parse(R"({"action": "allow", "protocol": "ICMP", "ipVersion": 4,
      "icmp": {"type": 8}, "source": {"nets": ["10.0.0.0/8"], "notSelector": "has(x) "}})"),
                     "spec.egress[0]");
  ASSERT_TRUE(r.isOk()) << r.message();
  EXPECT_EQ(r->action, Action::kAllow);
  EXPECT_EQ(r->protocol->number, 1);
  EXPECT_EQ(r->describe(), "Allow ICMP IPv4 icmp type 8 from nets 10.0.0.0/8 not selector has(x)");
  auto bad = parseRule(Json::parse(R"({"action": "Allow", "protocol": "TCP",
      "destination": {"ports": [80, "70000"]}})"),
                       "spec.ingress[1]");
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.message(),
            "spec.ingress[1].destination.ports[1]: \"70000\" is not a port or port range");
}

TEST(RuleTest, PortSetCovers) {
  PortSet wide{{{1, 100}, {101, 200}}, {"http"}};
  EXPECT_TRUE(wide.covers(PortSet{{{1, 200}}, {}}));
  EXPECT_TRUE(wide.covers(PortSet{{}, {"http"}}));
  EXPECT_FALSE(wide.covers(PortSet{{{1, 201}}, {}}));
  EXPECT_FALSE(wide.covers(PortSet{{}, {"https"}}));
  EXPECT_TRUE((PortSet{{{1, 65535}}, {}}).covers(PortSet{{{65535, 65535}}, {}}));
  EXPECT_EQ(wide.text(), "1:100,101:200,http");
}

}  // namespace
}  // namespace brindle::model
