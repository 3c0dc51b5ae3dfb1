// node diags: the datastore file shows settings, never secrets (the etcd password, key
// contents); collectDiags with made-up tools and agent answers keeps what each printed, records
// failures beside them and falls back to iproute2's text form.
#include "node/diags.h"

#include <gtest/gtest.h>

#include "testutil/shell.h"
#include "testutil/temp_dir.h"

namespace brindle::node {
namespace {

TEST(DiagsDatastore, EtcdSecretsRedacted) {
  config::DatastoreConfig c;
  c.type = config::DatastoreType::kEtcdV3;
  c.source = "/etc/brindle/brindlectl.cfg";
  c.etcdEndpoints = {"https://10.0.0.1:2379", "https://10.0.0.2:2379"};
  c.etcdUsername = "root";
  c.etcdPassword = "hunter2";
  c.etcdKeyFile = "/etc/brindle/etcd-key.pem";
  c.etcdCACertFile = "/etc/brindle/ca.pem";
  const std::string text = redactedDatastoreConfig(c);
  EXPECT_EQ(text,
            "source: /etc/brindle/brindlectl.cfg\n"
            "datastoreType: etcdv3\n"
            "etcdEndpoints: https://10.0.0.1:2379 https://10.0.0.2:2379\n"
            "etcdUsername: root\n"
            "etcdPassword: <redacted>\n"
            "etcdKeyFile: /etc/brindle/etcd-key.pem (contents not included)\n"
            "etcdCACertFile: /etc/brindle/ca.pem (contents not included)\n");
}

TEST(DiagsDatastore, LocalStore) {
  config::DatastoreConfig c;
  c.source = "environment";
  c.storePath = "/var/lib/brindle/store.db";
  EXPECT_EQ(redactedDatastoreConfig(c),
            "source: environment\ndatastoreType: local\nstorePath: /var/lib/brindle/store.db\n");
}

// Tools as scripted: `ip -j` refused (an old iproute2), birdc failing, the rest printing their
// name; tar runs for real.
class ScriptedTools : public os::CommandRunner {
 public:
  Result<os::CommandOutput> run(const os::Command& c) override {
    const std::string& tool = c.argv.front();
    if (tool == "tar") return real_.run(c);
    if (tool == "ip" && c.argv[1] == "-j")
      return os::CommandOutput{255, "", "Option \"-j\" is unknown"};
    if (tool == "birdc")
      return os::CommandOutput{1, "Unable to connect to server control socket", ""};
    if (tool == "ipset") return makeError(ErrorCode::kUnavailable, "cannot run ipset: not found");
    return os::CommandOutput{0, os::commandText(c) + "\n", ""};
  }

 private:
  os::ProcessRunner real_;
};

TEST(Diags, EachItemOrItsError) {
  testutil::TempDir dir;
  dir.write("log/n1/agent.log", "agent line\n");
  dir.write("run/n1/bird.log", "bird line\n");
  dir.write("run/n1/bird.conf", "not a log\n");
  DiagsOptions o;
  o.node = "n1";
  o.runDir = dir.file("run");
  o.logDir = dir.file("log");
  o.outputDir = dir.file("out");
  o.extraFiles = {{"checksystem.txt", "OK   bird: /usr/sbin/bird\n"}};
  auto http = [](const std::string& host, int port, const std::string& path) -> Result<HttpReply> {
    if (path == "/metrics") return HttpReply{200, "felix_active_local_endpoints 3\n"};
    if (path == "/readiness") return HttpReply{503, "not ready: BIRD\n"};
    return makeError(ErrorCode::kUnavailable, host + ":" + std::to_string(port) + " refused");
  };
  ScriptedTools tools;
  auto result = collectDiags(o, tools, http);
  ASSERT_TRUE(result.isOk()) << result.message();
  const std::string top = "brindle-diags-n1-";
  ASSERT_EQ(result->tarball.rfind(dir.file("out/") + top, 0), 0u) << result->tarball;

  testutil::must("mkdir -p " + dir.file("x") + " && tar -xzf " + result->tarball + " -C " +
                 dir.file("x") + " --strip-components=1");
  auto read = [&](const std::string& f) { return testutil::sh("cat " + dir.file("x/" + f)).out; };
  EXPECT_EQ(read("iptables-save.txt"), "iptables-save\n");
  // No JSON: the text form instead, and no trace of the refused attempt.
  EXPECT_EQ(read("ip-route.txt"), "ip -d route show table all\n");
  EXPECT_FALSE(std::filesystem::exists(dir.file("x/ip-route.json")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("x/ip-route.json.err")));
  EXPECT_NE(read("bird-protocols.txt.err").find("Unable to connect"), std::string::npos);
  EXPECT_NE(read("ipset-list.txt.err").find("cannot run ipset"), std::string::npos);
  EXPECT_EQ(read("agent-metrics.txt"), "felix_active_local_endpoints 3\n");
  EXPECT_EQ(read("agent-readiness.txt"), "not ready: BIRD\n");
  EXPECT_NE(read("agent-liveness.txt.err").find("refused"), std::string::npos);
  EXPECT_EQ(read("logs/agent/agent.log"), "agent line\n");
  EXPECT_EQ(read("logs/bird/bird.log"), "bird line\n");
  EXPECT_FALSE(std::filesystem::exists(dir.file("x/logs/bird/bird.conf")));
  EXPECT_EQ(read("checksystem.txt"), "OK   bird: /usr/sbin/bird\n");
  const std::string index = read("index.txt");
  for (const char* line :
       {"ip-route.txt: ok\n", "agent-metrics.txt: ok\n", "agent-readiness.txt: HTTP 503\n",
        "bird-protocols.txt: exit code 1: Unable to connect to server control socket\n",
        "ipset-list.txt: cannot run ipset: not found\n", "logs/agent: ok\n",
        "datastore.txt: ok\n"}) {
    EXPECT_NE(index.find(line), std::string::npos) << line << " not in\n" << index;
  }
  // Only the tarball is left in the output directory.
  EXPECT_EQ(testutil::sh("ls -A " + dir.file("out")).out,
            std::filesystem::path(result->tarball).filename().string() + "\n");
}

}  // namespace
}  // namespace brindle::node
