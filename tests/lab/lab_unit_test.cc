// src/lab without namespaces: the state file round trip, probe specs and lines, and the seed's
// files with the two variants derived from them.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "lab/lab.h"
#include "lab/probe.h"
#include "lab/seed_files.h"
#include "lab/state.h"
#include "testutil/temp_dir.h"

namespace brindle::lab {
namespace {

const std::string kExamples = BRINDLE_SOURCE_DIR "/examples";

TEST(LabState, RoundTripsThroughItsFile) {
  testutil::TempDir dir;
  LabState s;
  s.namespaces = {"bl-x-fabric", "bl-x-node1"};
  s.nodes = {{"node1", "10.99.1.11/24", "10.99.1.1", 1}};
  s.workloads = {{"w1", "node1", "10.244.0.1", "cali123", "x-w1", "lab", R"({"type":"x"})"}};
  s.etcdEndpoint = "http://10.99.1.10:2379";
  s.ctlMember = "etcd";
  ASSERT_TRUE(saveState(dir.file("state.json"), s));
  auto back = loadState(dir.file("state.json"));
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back->namespaces, s.namespaces);
  ASSERT_NE(back->node("node1"), nullptr);
  EXPECT_EQ(back->node("node1")->gateway, "10.99.1.1");
  ASSERT_NE(back->workload("w1"), nullptr);
  EXPECT_EQ(back->workload("w1")->ipam, R"({"type":"x"})");
  EXPECT_EQ(back->etcdEndpoint, s.etcdEndpoint);
  EXPECT_EQ(back->ctlMember, "etcd");
}

TEST(LabState, MissingFileIsNotFoundAndBadFileNamesIt) {
  testutil::TempDir dir;
  EXPECT_EQ(loadState(dir.file("none.json")).code(), ErrorCode::kNotFound);
  auto bad = loadState(dir.write("state.json", "{not json"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find(dir.file("state.json")), std::string::npos);
}

TEST(LabNames, AreShortDnsLabels) {
  for (const char* good : {"lab", "ct-seed-123", "a", "slave1-frontend1"}) {
    EXPECT_TRUE(validateName("lab", good)) << good;
  }
  for (const char* bad : {"", "Lab", "-a", "a-", "a/b", "a b", "abcdefghijklmnopqrstu"}) {
    EXPECT_FALSE(validateName("lab", bad)) << bad;
  }
  EXPECT_NE(validateName("workload", "x/y").message().find("workload name \"x/y\""),
            std::string::npos);
}

TEST(Probe, ParsesAndPrintsTheMatrixLine) {
  auto p = parseProbe("slave1-frontend1", "slave2-database", "tcp/3306");
  ASSERT_TRUE(p);
  p->allowed = true;
  EXPECT_EQ(p->line(), "slave1-frontend1 -> slave2-database tcp/3306 allowed");
  auto icmp = parseProbe("a", "b", "icmp");
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->line(), "a -> b icmp denied");
  EXPECT_EQ(parseProbe("a", "b", "udp/53")->target(), "udp/53");
  for (const char* bad : {"tcp", "tcp/", "tcp/0", "tcp/65536", "tcp/80x", "sctp/1", "ICMP"}) {
    EXPECT_FALSE(parseProbe("a", "b", bad)) << bad;
  }
}

TEST(SeedFiles, ReadsTheSeedsNodesAndEndpoints) {
  auto f = readSeedFiles(kExamples);
  ASSERT_TRUE(f) << f.message();
  ASSERT_EQ(f->nodeList.size(), 2u);
  EXPECT_EQ(f->nodeList[0].name, "slave1");
  EXPECT_EQ(f->nodeList[1].address, "192.168.40.12/24");
  ASSERT_EQ(f->endpointList.size(), 3u);
  EXPECT_EQ(f->endpointList[2].workload.name, "slave2-database");
  EXPECT_EQ(f->endpointList[2].workload.node, "slave2");
  EXPECT_EQ(f->endpointList[2].workload.iface, "cali0ef24b3");
  EXPECT_EQ(f->endpointList[2].workload.address, "172.16.1.3");
  EXPECT_EQ(f->endpointList[2].mac, "ca:fe:1d:52:bb:e3");
}

TEST(SeedFiles, BadEndpointNamesFileDocumentAndFields) {
  testutil::TempDir dir;
  dir.write("lab/nodes.yaml", "- metadata: {name: n1}\n  spec: {bgp: {ipv4Address: 1.2.3.4/24}}\n");
  dir.write("seed-lab/endpoints.yaml",
            "- metadata: {name: e1, node: n1}\n  spec: {interfaceName: cali1, mac: "
            "ca:fe:00:00:00:01, ipNetworks: [10.0.0.1]}\n- metadata: {name: e2}\n");
  auto f = readSeedFiles(dir.path());
  ASSERT_FALSE(f);
  EXPECT_NE(f.message().find(dir.file("seed-lab/endpoints.yaml") + ": document 2"),
            std::string::npos)
      << f.message();
  EXPECT_NE(f.message().find("metadata.node"), std::string::npos);
}

TEST(SeedVariants, ProfileVariantNarrowsOnlyThePolicysSelector) {
  auto text = policyWithoutDatabase(kExamples + "/seed-lab/policy.yaml");
  ASSERT_TRUE(text) << text.message();
  YAML::Node doc = YAML::Load(*text);
  EXPECT_EQ(doc["spec"]["selector"].as<std::string>(),
            "namespace == 'default' && service != 'database'");
  EXPECT_EQ(doc["spec"]["ingress"][0]["source"]["selector"].as<std::string>(),
            "namespace == 'default'");
  EXPECT_EQ(doc["metadata"]["name"].as<std::string>(), "namespace-default");
}

TEST(SeedVariants, FixedVariantDropsTheFirstBareDenyOnly) {
  auto text = profileWithoutFirstDeny(kExamples + "/seed-lab/profile.yaml");
  ASSERT_TRUE(text) << text.message();
  YAML::Node doc = YAML::Load(*text);
  ASSERT_EQ(doc["spec"]["ingress"].size(), 1u);
  EXPECT_EQ(doc["spec"]["ingress"][0]["action"].as<std::string>(), "allow");
  EXPECT_EQ(doc["spec"]["ingress"][0]["ports"][0]["int"].as<int>(), 3306);
  EXPECT_EQ(doc["spec"]["egress"].size(), 1u);
  testutil::TempDir dir;
  EXPECT_FALSE(profileWithoutFirstDeny(dir.write("p.yaml", *text)));  // no deny left
}

}  // namespace
}  // namespace brindle::lab
