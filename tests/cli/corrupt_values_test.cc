// Values brindlectl cannot read, written behind its back (another tool, a bad migration): a list
// shows every readable resource and names each bad key, `get` of one says what is wrong with it,
// `delete` removes it. On etcd the values are written with etcdctl, as an operator would.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include "cli_fixture.h"

namespace brindle::cli {
namespace {

constexpr const char* kPrefix = "/calico/resources/v3/projectcalico.org/globalnetworkpolicies/";

const char* kThreePolicies = R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: a}
spec: {selector: all(), ingress: [{action: Allow}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: b}
spec: {selector: all(), ingress: [{action: Allow}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: c}
spec: {selector: all(), ingress: [{action: Allow}]}
)";

class CorruptValuesTest : public CliFixture {
 protected:
  void SetUp() override { ok({"create", "-f", "-"}, kThreePolicies); }

  // Overwrites `key` with `value` below brindlectl: etcdctl on etcd, the store's client otherwise.
  void writeRaw(const std::string& key, const std::string& value) {
    const char* type = std::getenv("BRINDLE_TEST_DATASTORE");
    if (type != nullptr && std::string(type) == "etcdv3") {
      const std::string file = dir_.write("value", value);
      const char* endpoints = std::getenv("BRINDLE_TEST_ETCD_ENDPOINTS");
      if (endpoints == nullptr) endpoints = std::getenv("ETCD_ENDPOINTS");
      const std::string cmd = std::string("ETCDCTL_API=3 etcdctl --endpoints=") + endpoints +
                              " put " + key + " < " + file + " > /dev/null";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
      return;
    }
    auto client = openStore();
    ASSERT_NE(client, nullptr);
    auto current = client->get(key);
    ASSERT_TRUE(current.isOk()) << current.message();
    auto written = client->update(key, value, current->modRevision);
    ASSERT_TRUE(written.isOk()) << written.message();
  }
};

TEST_F(CorruptValuesTest, ListShowsTheRestAndNamesEachBadKey) {
  writeRaw(std::string(kPrefix) + "b", "{\"kind\": \"GlobalNetwork");
  writeRaw(std::string(kPrefix) + "c",
           R"({"kind":"GlobalNetworkPolicy","metadata":{"name":"zz"},"spec":{}})");
  RunResult r = run({"get", "globalnetworkpolicies"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "NAME\na\n");
  EXPECT_NE(
      r.err.find(std::string("stored value of ") + kPrefix + "b is not valid JSON: value, line 1"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(std::string(kPrefix) + "c holds GlobalNetworkPolicy(zz), which belongs at "
                                              "another key"),
            std::string::npos)
      << r.err;

  // -o yaml lists the readable one too, and still fails.
  r = run({"get", "globalnetworkpolicies", "-o", "yaml"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("name: a"), std::string::npos) << r.out;
}

TEST_F(CorruptValuesTest, GetOfABadOneSaysWhatIsWrongWithoutEchoingIt) {
  writeRaw(std::string(kPrefix) + "b", std::string("\x01\xff\xfe binary", 10));
  RunResult r = run({"get", "globalnetworkpolicy", "b"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(std::string(kPrefix) + "b is not valid JSON"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("binary"), std::string::npos) << "the raw value is echoed: " << r.err;
  EXPECT_EQ(r.err.find('\xff'), std::string::npos);
}

TEST_F(CorruptValuesTest, DeleteRemovesABadOne) {
  writeRaw(std::string(kPrefix) + "b", "not json");
  EXPECT_EQ(ok({"delete", "globalnetworkpolicy", "b"}),
            "Successfully deleted 1 'GlobalNetworkPolicy' resource(s)\n");
  RunResult r = run({"get", "globalnetworkpolicies"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "NAME\na\nc\n");
}

// Not about corrupt values, but about what a read leaves behind: `get` on an embedded store
// that does not exist shows it empty and does not create it.
TEST(GetWithoutStore, ShowsItEmptyWithoutCreatingIt) {
  testutil::TempDir dir;
  const std::string config =
      dir.write("brindlectl.cfg",
                "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\n"
                "spec:\n  datastoreType: local\n  storePath: " +
                    dir.file("sub/store.db") + "\n");
  std::istringstream in;
  std::ostringstream out, err;
  Io io{in, out, err, {}};
  EXPECT_EQ(runBrindlectl({"--config", config, "get", "ippools"}, io), 0) << err.str();
  EXPECT_EQ(out.str(), "CIDR\n");
  EXPECT_FALSE(std::filesystem::exists(dir.file("sub")));
}

}  // namespace
}  // namespace brindle::cli
