// Tier, StagedGlobalNetworkPolicy, StagedNetworkPolicy, BGPFilter and CalicoNodeStatus through
// the codec (text in, defaults, validation), against the rules of Calico's API types and
// validator: what each accepts, what it refuses and the field the message names.
#include <gtest/gtest.h>

#include <string>

#include "model/codec.h"

namespace brindle::model {
namespace {

Result<DecodedResources> decode(const std::string& kind, const std::string& metadata,
                                const std::string& spec) {
  return decodeResources("apiVersion: projectcalico.org/v3\nkind: " + kind +
                             "\nmetadata: " + metadata + "\nspec: " + spec + "\n",
                         "in.yaml");
}

Resource accepted(const std::string& kind, const std::string& metadata, const std::string& spec) {
  auto d = decode(kind, metadata, spec);
  EXPECT_TRUE(d.isOk()) << kind << " " << spec << ": " << d.message();
  return d.isOk() ? d->resources.at(0) : Resource{};
}

std::string refused(const std::string& kind, const std::string& metadata, const std::string& spec) {
  auto d = decode(kind, metadata, spec);
  EXPECT_FALSE(d.isOk()) << kind << " " << spec << " was accepted";
  return d.isOk() ? "" : d.message();
}

TEST(TierTest, DefaultsOrderAndActionAsCalicoDoes) {
  Resource t = accepted("Tier", "{name: security}", "{}");
  EXPECT_EQ(t.kind, Kind::kTier);
  EXPECT_EQ(t.spec["order"], 1000000);
  EXPECT_EQ(t.spec["defaultAction"], "Deny");
  t = accepted("Tier", "{name: security}", "{order: 100.5, defaultAction: Pass}");
  EXPECT_EQ(t.spec["order"], 100.5);
  EXPECT_EQ(t.spec["defaultAction"], "Pass");
}

TEST(TierTest, RefusesWhatCalicoRefuses) {
  EXPECT_EQ(refused("Tier", "{name: t}", "{defaultAction: Allow}"),
            "in.yaml, document 1: spec.defaultAction: \"Allow\" is not one of Deny, Pass");
  EXPECT_NE(refused("Tier", "{name: a.b}", "{}").find("metadata.name: \"a.b\" is not a valid tier"),
            std::string::npos);
  EXPECT_NE(refused("Tier", "{name: " + std::string(64, 'a') + "}", "{}").find("metadata.name"),
            std::string::npos);
  // The tiers Calico creates itself keep their order and default action.
  accepted("Tier", "{name: default}", "{}");
  EXPECT_EQ(refused("Tier", "{name: default}", "{order: 5}"),
            "in.yaml, document 1: spec.order: the 'default' tier's order must be 1000000, got 5");
  EXPECT_NE(refused("Tier", "{name: default}", "{defaultAction: Pass}").find("spec.defaultAction"),
            std::string::npos);
  accepted("Tier", "{name: kube-admin}", "{order: 1000, defaultAction: Pass}");
  EXPECT_NE(refused("Tier", "{name: kube-admin}", "{order: 1000}").find("default action Pass"),
            std::string::npos);
  accepted("Tier", "{name: kube-baseline}", "{order: 10000000, defaultAction: Pass}");
}

TEST(StagedPolicyTest, SetIsValidatedAsTheEnforcedKind) {
  Resource p = accepted("StagedGlobalNetworkPolicy", "{name: security.block}",
                        "{tier: security, selector: app == 'x', ingress: [{action: deny}]}");
  EXPECT_EQ(p.spec["ingress"][0]["action"], "Deny");  // canonical, as for the enforced kind
  EXPECT_EQ(p.spec["types"], Json::array({"Ingress"}));
  EXPECT_NE(refused("StagedGlobalNetworkPolicy", "{name: p}", "{preDNAT: true, doNotTrack: true}")
                .find("spec.preDNAT: cannot be combined with doNotTrack"),
            std::string::npos);
  EXPECT_NE(refused("StagedNetworkPolicy", "{name: p, namespace: prod}",
                    "{egress: [{action: Allow, source: {services: {name: s}}}]}")
                .find("spec.egress[0].source.services"),
            std::string::npos);
  // NetworkPolicy-only fields stay refused on the namespaced kind.
  EXPECT_NE(refused("StagedNetworkPolicy", "{name: p, namespace: prod}", "{preDNAT: true}")
                .find("spec.preDNAT: unknown field"),
            std::string::npos);
}

TEST(StagedPolicyTest, DeleteCarriesOnlyTheTier) {
  Resource p = accepted("StagedNetworkPolicy", "{name: gone, namespace: prod}",
                        "{stagedAction: Delete, tier: security}");
  EXPECT_FALSE(p.spec.contains("types"));
  EXPECT_EQ(refused("StagedNetworkPolicy", "{name: gone, namespace: prod}",
                    "{stagedAction: Delete, selector: all()}"),
            "in.yaml, document 1: spec.selector: must be empty when stagedAction is Delete (only "
            "tier may be given)");
  EXPECT_NE(refused("StagedNetworkPolicy", "{name: x, namespace: prod}", "{stagedAction: Maybe}")
                .find("spec.stagedAction: \"Maybe\" is not one of Set, Delete"),
            std::string::npos);
}

TEST(BgpFilterTest, RulesFollowCalicosCrd) {
  accepted("BGPFilter", "{name: f}",
           "{exportV4: [{action: Accept, matchOperator: In, cidr: 10.0.0.0/8, prefixLength: "
           "{min: 16, max: 24}, operations: [{addCommunity: {value: '65000:100'}}, "
           "{prependASPath: {prefix: [65000]}}, {setPriority: {value: 10}}]}], "
           "importV6: [{action: Reject, interface: 'eth*', peerType: eBGP, source: RemotePeers}]}");
  EXPECT_NE(refused("BGPFilter", "{name: f}", "{exportV4: [{action: Accept, cidr: 10.0.0.0/8}]}")
                .find("spec.exportV4[0].matchOperator: cidr and matchOperator must both be set"),
            std::string::npos);
  EXPECT_NE(
      refused("BGPFilter", "{name: f}", "{exportV4: [{action: Accept, prefixLength: {min: 8}}]}")
          .find("spec.exportV4[0].cidr: required when prefixLength is set"),
      std::string::npos);
  EXPECT_NE(refused("BGPFilter", "{name: f}",
                    "{importV4: [{action: Reject, operations: [{setPriority: {value: 3}}]}]}")
                .find("spec.importV4[0].operations: may only be used with action Accept"),
            std::string::npos);
  EXPECT_NE(refused("BGPFilter", "{name: f}",
                    "{exportV6: [{action: Accept, cidr: 10.0.0.0/8, matchOperator: In}]}")
                .find("spec.exportV6[0].cidr"),
            std::string::npos);
  EXPECT_NE(refused("BGPFilter", "{name: f}",
                    "{exportV4: [{action: Accept, cidr: 10.0.0.0/8, matchOperator: In, "
                    "prefixLength: {max: 33}}]}")
                .find("spec.exportV4[0].prefixLength.max"),
            std::string::npos);
  EXPECT_NE(refused("BGPFilter", "{name: f}", "{exportV4: [{matchOperator: In, cidr: 10.0.0.0/8}]}")
                .find("spec.exportV4[0].action: required"),
            std::string::npos);
  EXPECT_NE(refused("BGPFilter", "{name: f}", "{exportV4: [{action: Accept, interface: 'a b'}]}")
                .find("spec.exportV4[0].interface"),
            std::string::npos);
}

TEST(CalicoNodeStatusTest, SpecAndStatus) {
  auto d = decodeResources(
      "apiVersion: projectcalico.org/v3\nkind: CalicoNodeStatus\nmetadata: {name: s}\n"
      "spec: {node: node1, classes: [Agent, BGP], updatePeriodSeconds: 10}\n"
      "status: {agent: {birdV4: {state: Ready}}}\n",
      "in.yaml");
  ASSERT_TRUE(d.isOk()) << d.message();
  EXPECT_EQ(d->resources[0].toJson()["status"]["agent"]["birdV4"]["state"], "Ready");
  EXPECT_NE(refused("CalicoNodeStatus", "{name: s}",
                    "{node: n, classes: [Agent, Agent], updatePeriodSeconds: 10}")
                .find("spec.classes: \"Agent\" is listed more than once"),
            std::string::npos);
  EXPECT_NE(refused("CalicoNodeStatus", "{name: s}",
                    "{node: n, classes: [Agent], updatePeriodSeconds: 86401}")
                .find("spec.updatePeriodSeconds"),
            std::string::npos);
  EXPECT_NE(
      refused("CalicoNodeStatus", "{name: s}", "{node: n, classes: [Disk], updatePeriodSeconds: 1}")
          .find("spec.classes[0]"),
      std::string::npos);
  // Other kinds have no status.
  EXPECT_NE(decodeResources("apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\n"
                            "spec: {cidr: 10.0.0.0/16}\nstatus: {}\n",
                            "in.yaml")
                .message()
                .find("status: unknown field"),
            std::string::npos);
}

}  // namespace
}  // namespace brindle::model
