// Every resource the seed quotes goes through brindlectl as written: create, list, show as YAML
// and JSON, replace, delete; and the seed's `get workloadEndpoints -o wide` table.
#include <nlohmann/json.hpp>

#include "cli_fixture.h"

namespace brindle::cli {
namespace {

using Json = nlohmann::ordered_json;

class SeedResourcesTest : public CliFixture {};

// The seed's table (S10/S17). The seed prints an empty PROFILES cell for slave2-database although
// its endpoints.yaml gives that endpoint profile-database; calicoctl's own template prints the
// endpoint's profiles, so we show them: that one cell is the only difference.
const char* kSeedWideTable =
    "NODE     ORCHESTRATOR   WORKLOAD   NAME               NETWORKS        NATS   INTERFACE     "
    "PROFILES\n"
    "slave1   k8s            frontend   slave1-frontend1   172.16.1.1/32          cali0ef24b1\n"
    "slave1   k8s            frontend   slave1-frontend2   172.16.1.2/32          cali0ef24b2\n"
    "slave2   k8s            database   slave2-database    172.16.1.3/32          cali0ef24b3   "
    "profile-database\n";

TEST_F(SeedResourcesTest, LabEndpointsTableMatchesTheSeed) {
  EXPECT_EQ(ok({"create", "-f", example("seed-lab/endpoints.yaml")}),
            "Successfully created 3 'workloadEndpoint' resource(s)\n");
  EXPECT_EQ(ok({"get", "workloadEndpoints", "-o", "wide"}), kSeedWideTable);
  EXPECT_EQ(ok({"get", "workloadEndpoint"}),
            "NODE     ORCHESTRATOR   WORKLOAD   NAME\n"
            "slave1   k8s            frontend   slave1-frontend1\n"
            "slave1   k8s            frontend   slave1-frontend2\n"
            "slave2   k8s            database   slave2-database\n");
  EXPECT_EQ(ok({"get", "workloadEndpoints", "--node", "slave2"}),
            "NODE     ORCHESTRATOR   WORKLOAD   NAME\n"
            "slave2   k8s            database   slave2-database\n");
  EXPECT_EQ(ok({"get", "wep", "--workload", "frontend", "--orchestrator", "k8s"}).size(),
            std::string("NODE     ORCHESTRATOR   WORKLOAD   NAME\n").size() +
                2 * std::string("slave1   k8s            frontend   slave1-frontend1\n").size());
}

TEST_F(SeedResourcesTest, LabPolicyAndProfileLoadAsWritten) {
  RunResult profile = run({"create", "-f", example("seed-lab/profile.yaml")});
  ASSERT_EQ(profile.code, 0) << profile.err;
  EXPECT_EQ(profile.out, "Successfully created 1 'profile' resource(s)\n");
  // The seed's rule form and its dead rule are both pointed out, not rejected.
  EXPECT_NE(profile.err.find("read as destination ports with protocol TCP"), std::string::npos)
      << profile.err;
  EXPECT_NE(profile.err.find("can never match"), std::string::npos) << profile.err;
  EXPECT_EQ(ok({"create", "-f", example("seed-lab/policy.yaml")}),
            "Successfully created 1 'policy' resource(s)\n");
  EXPECT_EQ(ok({"get", "policy", "-o", "wide"}),
            "NAME                        ORDER   SELECTOR\n"
            "default.namespace-default           namespace == 'default'\n");
  Json p = Json::parse(ok({"get", "profile", "profile-database", "-o", "json"}));
  EXPECT_EQ(p["kind"], "Profile");
  EXPECT_EQ(p["spec"]["labelsToApply"]["profile"], "profile-database");
  EXPECT_EQ(p["spec"]["ingress"][0]["action"], "Deny");
  EXPECT_EQ(p["spec"]["ingress"][1]["action"], "Allow");
  EXPECT_EQ(p["spec"]["ingress"][1]["protocol"], "TCP");
  EXPECT_EQ(p["spec"]["ingress"][1]["destination"]["ports"][0], 3306);
}

struct SeedExample {
  const char* file;
  const char* kind;     // as typed on the command line
  const char* v1Name;   // the v1 identity the seed uses (name, CIDR, peer IP, endpoint name)
  const char* v3Kind;   // kind in the v3 output
  const char* printed;  // the message's kind name
  // The field Calico's v3 validator refuses in the v3 form of a resource v1 allowed (the seed's
  // endpoint has a /16 network); nullptr when the v3 form reads back.
  const char* v3Refuses = nullptr;
};

void PrintTo(const SeedExample& e, std::ostream* os) { *os << e.file; }

class SeedExampleTest : public CliFixture, public ::testing::WithParamInterface<SeedExample> {};

TEST_P(SeedExampleTest, CreateGetReplaceDelete) {
  const SeedExample& ex = GetParam();
  const std::string file = example(std::string("seed-examples/") + ex.file);
  const std::string printed = std::string("'") + ex.printed + "' resource(s)\n";

  EXPECT_EQ(ok({"create", "-f", file}), "Successfully created 1 " + printed);
  // Created twice is an error, exit 1, and with --skip-exists it is fine.
  RunResult again = run({"create", "-f", file});
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("resource already exists"), std::string::npos) << again.err;
  EXPECT_EQ(ok({"create", "-f", file, "--skip-exists"}), "Successfully created 1 " + printed);

  // Listed: a table with a header and one row.
  std::string table = ok({"get", ex.kind});
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 2) << table;
  // Shown by the seed's identity, as YAML and JSON.
  Json list = Json::parse(ok({"get", ex.kind, "-o", "json"}));
  EXPECT_EQ(list["kind"], std::string(ex.v3Kind) + "List");
  ASSERT_EQ(list["items"].size(), 1u);
  const Json stored = list["items"][0];
  EXPECT_EQ(stored["apiVersion"], "projectcalico.org/v3");
  EXPECT_EQ(stored["kind"], ex.v3Kind);
  EXPECT_FALSE(stored["metadata"].value("resourceVersion", "").empty());
  Json one = Json::parse(ok({"get", ex.kind, ex.v1Name, "-o", "json"}));
  EXPECT_EQ(one, stored);
  std::string yaml = ok({"get", ex.kind, ex.v1Name, "-o", "yaml"});
  EXPECT_NE(yaml.find("apiVersion: projectcalico.org/v3"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("kind: " + std::string(ex.v3Kind)), std::string::npos) << yaml;

  // Replace with the same file keeps identity and moves the version on.
  EXPECT_EQ(ok({"replace", "-f", file}), "Successfully replaced 1 " + printed);
  Json replaced = Json::parse(ok({"get", ex.kind, ex.v1Name, "-o", "json"}));
  EXPECT_EQ(replaced["metadata"]["uid"], stored["metadata"]["uid"]);
  EXPECT_NE(replaced["metadata"]["resourceVersion"], stored["metadata"]["resourceVersion"]);
  EXPECT_EQ(replaced["spec"], stored["spec"]);

  if (ex.v3Refuses != nullptr) {
    // As calicoctl would, the v3 form is refused naming the field; the stored one stays.
    const std::string v3 = dir_.write("v3.yaml", ok({"get", ex.kind, ex.v1Name, "-o", "yaml"}));
    RunResult refused = run({"apply", "-f", v3});
    EXPECT_EQ(refused.code, 1);
    EXPECT_NE(refused.err.find(ex.v3Refuses), std::string::npos) << refused.err;
    EXPECT_EQ(Json::parse(ok({"get", ex.kind, ex.v1Name, "-o", "json"})), replaced);
  } else {
    // Our own YAML output reads back; it carries resourceVersion, so the YAML taken before the
    // replace is stale and refused, and a fresh one applies.
    const std::string stale = dir_.write("stale.yaml", yaml);
    RunResult conflict = run({"apply", "-f", stale});
    EXPECT_EQ(conflict.code, 1);
    EXPECT_NE(conflict.err.find("update conflict"), std::string::npos) << conflict.err;
    const std::string fresh =
        dir_.write("fresh.yaml", ok({"get", ex.kind, ex.v1Name, "-o", "yaml"}));
    EXPECT_EQ(ok({"apply", "-f", fresh}),
              "Successfully applied 1 '" + std::string(ex.v3Kind) + "' resource(s)\n");
  }

  EXPECT_EQ(ok({"delete", "-f", file}), "Successfully deleted 1 " + printed);
  RunResult gone = run({"get", ex.kind, ex.v1Name});
  EXPECT_EQ(gone.code, 1);
  EXPECT_NE(gone.err.find("resource does not exist"), std::string::npos) << gone.err;
  RunResult deleteAgain = run({"delete", "-f", file});
  EXPECT_EQ(deleteAgain.code, 1);
  EXPECT_EQ(ok({"delete", "-f", file, "--skip-not-exists"}), "Successfully deleted 1 " + printed);
}

INSTANTIATE_TEST_SUITE_P(
    SeedExamples, SeedExampleTest,
    ::testing::Values(
        SeedExample{"node.yaml", "node", "node-hostname", "Node", "node"},
        SeedExample{"bgppeer.yaml", "bgpPeer", "rack1-host1.192-168-1-1", "BGPPeer", "bgpPeer"},
        SeedExample{"ippool.yaml", "ipPool", "10.1.0.0/16", "IPPool", "ipPool"},
        SeedExample{"policy.yaml", "policy", "allow-tcp-6379", "GlobalNetworkPolicy", "policy"},
        SeedExample{"profile.yaml", "profile", "profile1", "Profile", "profile"},
        SeedExample{"workloadendpoint.yaml", "workloadEndpoint", "eth0", "WorkloadEndpoint",
                    "workloadEndpoint", "spec.ipNetworks[0]"},
        SeedExample{"hostendpoint.yaml", "hostEndpoint", "myhost.eth0", "HostEndpoint",
                    "hostEndpoint"}),
    [](const auto& info) {
      std::string n = info.param.kind;
      return n;
    });

}  // namespace
}  // namespace brindle::cli
