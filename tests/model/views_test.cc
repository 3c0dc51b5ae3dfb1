// Tests of the typed views (views.h) and of the one rule parse validation and lint share
// (parseRules, checkResource).
#include "model/views.h"

#include <gtest/gtest.h>

#include <string>

#include "model/validate.h"

namespace brindle::model {
namespace {

Resource make(Kind kind, const std::string& spec) {
  Resource r;
  r.kind = kind;
  r.metadata = Json::parse(R"({"name": "r", "namespace": "ns"})");
  r.spec = Json::parse(spec);
  return r;
}

TEST(IpPoolView, DefaultsAndFields) {
  auto v4 = ipPoolView(make(Kind::kIPPool, R"({"cidr": "10.1.0.0/16"})"));
  ASSERT_TRUE(v4.isOk()) << v4.message();
  EXPECT_EQ(v4->cidr.toString(), "10.1.0.0/16");
  EXPECT_EQ(v4->blockSize, 26);
  EXPECT_FALSE(v4->natOutgoing || v4->disabled);
  EXPECT_TRUE(v4->automatic && v4->workload);
  EXPECT_EQ(v4->nodeSelector, "all()");

  auto v6 = ipPoolView(make(Kind::kIPPool, R"({"cidr": "fd00::/48", "blockSize": 120,
      "natOutgoing": true, "disabled": true, "assignmentMode": "Manual",
      "allowedUses": ["Tunnel"], "nodeSelector": "zone == 'a' "})"));
  ASSERT_TRUE(v6.isOk()) << v6.message();
  EXPECT_EQ(v6->blockSize, 120);
  EXPECT_TRUE(v6->natOutgoing && v6->disabled);
  EXPECT_FALSE(v6->automatic || v6->workload);
  EXPECT_EQ(v6->nodeSelector, "zone == 'a' ");
}

TEST(IpPoolView, BadOrBareCidrIsAnError) {
  for (const char* spec : {R"({})", R"({"cidr": "10.1.0.300/16"})", R"({"cidr": "10.1.0.1"})"}) {
    auto view = ipPoolView(make(Kind::kIPPool, spec));
    ASSERT_FALSE(view.isOk()) << spec;
    EXPECT_EQ(view.message().rfind("spec.cidr: ", 0), 0u) << view.message();
  }
}

TEST(EndpointAddresses, WorkloadAndHost) {
  auto wep = endpointAddresses(
      make(Kind::kWorkloadEndpoint, R"({"ipNetworks": ["10.0.0.1/32", "fd00::1", 7]})"));
  ASSERT_TRUE(wep.isOk()) << wep.message();
  ASSERT_EQ(wep->size(), 2u);  // a non-string is skipped, a bare address is a host
  EXPECT_EQ((*wep)[1].toString(), "fd00::1/128");

  auto hep = endpointAddresses(
      make(Kind::kHostEndpoint, R"({"expectedIPs": ["192.168.0.1"], "ipNetworks": ["1.1.1.1"]})"));
  ASSERT_TRUE(hep.isOk()) << hep.message();
  ASSERT_EQ(hep->size(), 1u);
  EXPECT_EQ((*hep)[0].toString(), "192.168.0.1/32");

  EXPECT_TRUE(endpointAddresses(make(Kind::kWorkloadEndpoint, "{}"))->empty());
  auto bad = endpointAddresses(make(Kind::kWorkloadEndpoint, R"({"ipNetworks": ["x"]})"));
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.message().rfind("spec.ipNetworks: ", 0), 0u) << bad.message();
}

TEST(ParseRules, EachRuleOrWhyItFails) {
  Json spec = Json::parse(R"({"ingress": [{"action": "Allow"}, {"action": "Bogus"}]})");
  auto rules = parseRules(spec, "ingress");
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_TRUE(rules[0].isOk());
  ASSERT_FALSE(rules[1].isOk());
  EXPECT_EQ(rules[1].message().rfind("spec.ingress[1]", 0), 0u) << rules[1].message();
  EXPECT_TRUE(parseRules(spec, "egress").empty());
}

TEST(ProfileView, LabelsToApplyAndRules) {
  auto view = profileView(make(Kind::kProfile, R"({"labelsToApply": {"team": "a", "tier": "db"},
      "ingress": [{"action": "Allow"}], "egress": [{"action": "Deny"}, {"action": "Log"}]})"));
  ASSERT_TRUE(view.isOk()) << view.message();
  EXPECT_EQ(view->labelsToApply.size(), 2u);
  EXPECT_EQ(view->labelsToApply.at("team"), "a");
  ASSERT_EQ(view->ingress.size(), 1u);
  EXPECT_EQ(view->ingress[0].action, Action::kAllow);
  ASSERT_EQ(view->egress.size(), 2u);
  EXPECT_EQ(view->egress[1].action, Action::kLog);

  auto bad = profileView(make(Kind::kProfile, R"({"egress": [{"action": "Allow"}, {}]})"));
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.message().rfind("spec.egress[1]", 0), 0u) << bad.message();
}

TEST(NetworkSetView, OwnLabelsAndNets) {
  Resource set = make(Kind::kNetworkSet, R"({"nets": ["10.0.0.0/8", "fd00::1"]})");
  set.metadata["labels"] = Json::parse(R"({"role": "db"})");
  auto view = networkSetView(set);
  ASSERT_TRUE(view.isOk()) << view.message();
  EXPECT_EQ(view->labels, (Labels{{"role", "db"}}));  // the namespace labels are calc's
  ASSERT_EQ(view->nets.size(), 2u);
  EXPECT_EQ(view->nets[1].toString(), "fd00::1/128");
  EXPECT_TRUE(networkSetView(make(Kind::kGlobalNetworkSet, "{}"))->nets.empty());
  auto bad = networkSetView(make(Kind::kGlobalNetworkSet, R"({"nets": ["10.0.0.0/33"]})"));
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.message().rfind("spec.nets: ", 0), 0u) << bad.message();
}

// checkResource: validateResource's verdict and, when valid, lintResource's warnings.
TEST(CheckResource, ValidatesThenLints) {
  Resource shadowed =
      make(Kind::kGlobalNetworkPolicy, R"({"ingress": [{"action": "Deny"}, {"action": "Allow"}]})");
  shadowed.metadata.erase("namespace");
  auto warnings = checkResource(shadowed);
  ASSERT_TRUE(warnings.isOk()) << warnings.message();
  EXPECT_EQ(*warnings, lintResource(shadowed));
  EXPECT_EQ(warnings->size(), 1u);

  Resource invalid =
      make(Kind::kGlobalNetworkPolicy, R"({"ingress": [{"action": "Deny"}, {"action": "Bogus"}]})");
  invalid.metadata.erase("namespace");
  auto refused = checkResource(invalid);
  ASSERT_FALSE(refused.isOk());
  EXPECT_EQ(refused.message(), validateResource(invalid).message());
  EXPECT_EQ(refused.message().rfind("spec.ingress[1]", 0), 0u) << refused.message();
}

}  // namespace
}  // namespace brindle::model
