// brindlectl commands beyond the seed walk-through: config, patch, label, convert, stdin and
// directories, all-or-nothing batches, and error exit codes.
#include <nlohmann/json.hpp>

#include "cli_fixture.h"

namespace brindle::cli {
namespace {

using Json = nlohmann::ordered_json;

class CommandsTest : public CliFixture {};

const char* kTwoPools = R"(apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a
spec:
  cidr: 10.10.0.0/16
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-b
spec:
  cidr: 10.20.0.0/16
  natOutgoing: true
  ipipMode: CrossSubnet
)";

TEST_F(CommandsTest, ConfigDefaultsAreTheSeeds) {
  EXPECT_EQ(ok({"config", "get", "asNumber"}), "64512\n");
  EXPECT_EQ(ok({"config", "get", "nodeTonodeMesh"}), "on\n");  // the seed's spelling
  EXPECT_EQ(ok({"config", "get", "logLevel"}), "info\n");
  EXPECT_EQ(ok({"config", "get", "ipip"}), "off\n");
}

TEST_F(CommandsTest, ConfigSetIsStoredInCalicosResources) {
  ok({"config", "set", "asNumber", "64513"});
  ok({"config", "set", "nodeToNodeMesh", "off"});
  ok({"config", "set", "logLevel", "debug"});
  ok({"config", "set", "ipip", "on"});
  EXPECT_EQ(ok({"config", "get", "asNumber"}), "64513\n");
  EXPECT_EQ(ok({"config", "get", "nodeToNodeMesh"}), "off\n");
  EXPECT_EQ(ok({"config", "get", "logLevel"}), "debug\n");
  EXPECT_EQ(ok({"config", "get", "ipip"}), "on\n");
  Json bgp = Json::parse(ok({"get", "bgpConfiguration", "default", "-o", "json"}));
  EXPECT_EQ(bgp["spec"]["asNumber"], 64513);
  EXPECT_EQ(bgp["spec"]["nodeToNodeMeshEnabled"], false);
  Json felix = Json::parse(ok({"get", "felixConfiguration", "default", "-o", "json"}));
  EXPECT_EQ(felix["spec"]["logSeverityScreen"], "Debug");
  EXPECT_EQ(felix["spec"]["ipipEnabled"], true);
  ok({"config", "set", "asNumber", "1.10"});  // dotted form
  EXPECT_EQ(ok({"config", "get", "asNumber"}), "65546\n");

  RunResult bad = run({"config", "set", "asNumber", "99999999999"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("\"99999999999\" is not an AS number"), std::string::npos) << bad.err;
  EXPECT_EQ(run({"config", "set", "nodeToNodeMesh", "maybe"}).code, 1);
  EXPECT_EQ(run({"config", "get", "colour"}).code, 1);
  EXPECT_EQ(ok({"config", "get", "asNumber"}), "65546\n");
}

TEST_F(CommandsTest, MultiDocumentFileIsAllOrNothing) {
  const std::string good = dir_.write("pools.yaml", kTwoPools);
  EXPECT_EQ(ok({"create", "-f", good}), "Successfully created 2 'IPPool' resource(s)\n");
  EXPECT_EQ(ok({"get", "ippools", "-o", "wide"}),
            "CIDR           NAT     IPIP\n"
            "10.10.0.0/16   false   false\n"
            "10.20.0.0/16   true    cross-subnet\n");
  // A batch where the second resource already exists creates nothing.
  const std::string mixed = dir_.write(
      "mixed.yaml",
      std::string("apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pool-c\n"
                  "spec:\n  cidr: 10.30.0.0/16\n---\n") +
          kTwoPools);
  RunResult r = run({"create", "-f", mixed});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "Failed to create any 'IPPool' resources: resource already exists: IPPool(pool-a)\n");
  EXPECT_EQ(run({"get", "ippool", "pool-c"}).code, 1);
  // Overlap with a stored pool is refused.
  const std::string overlap = dir_.write(
      "overlap.yaml",
      "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pool-d\nspec:\n"
      "  cidr: 10.10.128.0/17\n");
  RunResult o = run({"apply", "-f", overlap});
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("10.10.0.0/16"), std::string::npos) << o.err;
}

TEST_F(CommandsTest, StdinAndDirectories) {
  EXPECT_EQ(ok({"apply", "-f", "-"}, kTwoPools), "Successfully applied 2 'IPPool' resource(s)\n");
  dir_.write("dir/a.yaml",
             "apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata:\n  name: p-a\n");
  dir_.write("dir/b.json",
             R"({"apiVersion":"projectcalico.org/v3","kind":"Profile","metadata":{"name":"p-b"}})");
  dir_.write("dir/notes.txt", "not a resource");
  EXPECT_EQ(ok({"create", "-f", dir_.file("dir")}),
            "Successfully created 2 'Profile' resource(s)\n");
  EXPECT_EQ(ok({"get", "profiles"}), "NAME\np-a\np-b\n");
}

TEST_F(CommandsTest, PatchAndLabel) {
  ok({"apply", "-f", "-"}, kTwoPools);
  EXPECT_EQ(ok({"patch", "ippool", "pool-a", "-p", R"({"spec":{"natOutgoing":true}})"}),
            "Successfully patched 1 'IPPool' resource\n");
  Json p = Json::parse(ok({"get", "ippool", "pool-a", "-o", "json"}));
  EXPECT_EQ(p["spec"]["natOutgoing"], true);
  // A patch that makes the resource invalid is refused and changes nothing.
  RunResult bad = run({"patch", "ippool", "pool-a", "-p", R"({"spec":{"cidr":"10.10.0.0/99"}})"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("spec.cidr"), std::string::npos) << bad.err;
  EXPECT_EQ(Json::parse(ok({"get", "ippool", "pool-a", "-o", "json"}))["spec"]["cidr"],
            "10.10.0.0/16");
  EXPECT_EQ(run({"patch", "ippool", "pool-a", "-p", "not json"}).code, 1);
  EXPECT_EQ(run({"patch", "ippool", "nope", "-p", "{}"}).code, 1);

  EXPECT_EQ(ok({"label", "ippool", "pool-a", "zone=east"}),
            "Successfully set label zone on IPPool(pool-a)\n");
  EXPECT_EQ(run({"label", "ippool", "pool-a", "zone=west"}).code, 1);
  ok({"label", "ippool", "pool-a", "zone=west", "--overwrite"});
  p = Json::parse(ok({"get", "ippool", "pool-a", "-o", "json"}));
  EXPECT_EQ(p["metadata"]["labels"]["zone"], "west");
  EXPECT_EQ(ok({"label", "ippool", "pool-a", "zone", "--remove"}),
            "Successfully removed label zone from IPPool(pool-a)\n");
  EXPECT_FALSE(Json::parse(ok({"get", "ippool", "pool-a", "-o", "json"}))["metadata"].contains(
      "labels"));
}

TEST_F(CommandsTest, ConvertPrintsV3WithoutTouchingTheStore) {
  std::string yaml = ok({"convert", "-f", example("seed-examples/ippool.yaml")});
  EXPECT_NE(yaml.find("kind: IPPool"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("name: 10-1-0-0-16"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("ipipMode: CrossSubnet"), std::string::npos) << yaml;
  Json json = Json::parse(ok({"convert", "-f", example("seed-lab/endpoints.yaml"), "-o", "json"}));
  EXPECT_EQ(json["kind"], "WorkloadEndpointList");
  EXPECT_EQ(json["items"].size(), 3u);
  EXPECT_EQ(ok({"get", "ippools"}), "CIDR\n");
}

TEST_F(CommandsTest, ErrorsExitOne) {
  RunResult kind = run({"get", "widgets"});
  EXPECT_EQ(kind.code, 1);
  EXPECT_NE(kind.err.find("resource type 'widgets' is not supported"), std::string::npos);
  EXPECT_EQ(run({"get", "ippool", "-o", "xml"}).code, 1);
  EXPECT_EQ(run({"create"}).code, 1);  // -f is required
  EXPECT_EQ(run({"frobnicate"}).code, 1);
  EXPECT_EQ(run({"create", "-f", dir_.file("missing.yaml")}).code, 1);
  RunResult missingCfg = runRaw({"--config", dir_.file("none.cfg"), "get", "nodes"});
  EXPECT_EQ(missingCfg.code, 1);
  EXPECT_NE(missingCfg.err.find("none.cfg cannot be read"), std::string::npos) << missingCfg.err;
  EXPECT_EQ(run({"delete", "ippool", "nope"}).code, 1);
  EXPECT_EQ(ok({"delete", "ippool", "nope", "--skip-not-exists"}),
            "Successfully deleted 0 'IPPool' resource(s)\n");
}

TEST_F(CommandsTest, DeleteByKindAndName) {
  ok({"apply", "-f", "-"}, kTwoPools);
  EXPECT_EQ(ok({"delete", "ippool", "10.20.0.0/16"}),
            "Successfully deleted 1 'IPPool' resource(s)\n");
  EXPECT_EQ(ok({"get", "ippools"}), "CIDR\n10.10.0.0/16\n");
}

TEST_F(CommandsTest, NamespacedKinds) {
  const std::string np = dir_.write("np.yaml", R"(apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: allow-web
  namespace: prod
spec:
  selector: app == 'web'
  ingress:
  - action: Allow
    protocol: TCP
    destination:
      ports: [80, "8000:8080"]
)");
  ok({"create", "-f", np});
  EXPECT_EQ(ok({"get", "networkpolicy"}), "NAMESPACE   NAME\n");
  EXPECT_EQ(ok({"get", "networkpolicy", "-n", "prod"}), "NAMESPACE   NAME\nprod        allow-web\n");
  EXPECT_EQ(ok({"get", "networkpolicies", "-A", "-o", "wide"}),
            "NAMESPACE   NAME        ORDER   SELECTOR\nprod        allow-web           app == 'web'\n");
}

TEST_F(CommandsTest, VersionPrintsTheClient) {
  std::string v = ok({"version"});
  EXPECT_NE(v.find("Client Version:    v"), std::string::npos) << v;
}

}  // namespace
}  // namespace brindle::cli
