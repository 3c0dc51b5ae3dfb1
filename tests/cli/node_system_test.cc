// brindlectl node checksystem and node diags as a user runs them (the binary, root): checksystem
// with a PATH that lacks bird names it and fails; diags in a namespace the test made, with BIRD
// answering on the IPv4 socket only and no agent, holds every item, the failures as their errors
// and no secret. A running node's diags hold its rules from the dataplane backend it runs
// (BRINDLE_TEST_DATAPLANE; ctest registers that test on both).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "node/agent_process.h"
#include "testutil/dataplane_view.h"
#include "testutil/shell.h"
#include "testutil/temp_dir.h"

namespace brindle::cli {
namespace {

namespace fs = std::filesystem;
using testutil::sh;

const std::string kBrindlectl = BRINDLECTL_BINARY;
const std::string kAgent = BRINDLE_AGENT_BINARY;

// A directory of symlinks to every program on our PATH except `left`.
std::string pathWithout(const testutil::TempDir& dir, const std::string& left) {
  const std::string bin = dir.file("bin");
  fs::create_directories(bin);
  std::istringstream path(std::getenv("PATH") ? std::getenv("PATH") : "");
  for (std::string d; std::getline(path, d, ':');) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(d, ec)) {
      const std::string name = e.path().filename().string();
      if (name != left) fs::create_symlink(e.path(), bin + "/" + name, ec);  // first one wins
    }
  }
  return bin;
}

TEST(NodeChecksystem, NamesAMissingBird) {
  testutil::TempDir dir;
  const std::string cfg =
      dir.write("brindlectl.cfg",
                "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\nspec:\n"
                "  datastoreType: local\n  storePath: " +
                    dir.file("store.db") + "\n");
  const std::string bin = pathWithout(dir, "bird");
  ASSERT_TRUE(fs::exists(bin + "/birdc"));
  const auto r = sh("PATH=" + bin + " " + kBrindlectl + " --config " + cfg + " node checksystem");
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("FAIL bird: not found on PATH (BGP daemon): apt-get install bird2\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("OK   birdc: " + bin + "/birdc\n"), std::string::npos) << r.out;
}

// A namespace, the node's files and a BIRD on the IPv4 socket; all removed also on failure.
class NodeDiags : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    testutil::must("ip netns add " + ns_);
    testutil::must("ip -n " + ns_ + " link set lo up");
  }
  void TearDown() override {
    testutil::killAndReap(bird_, SIGTERM);
    for (pid_t pid : nodePids_) ::kill(pid, SIGKILL);  // a no-op after a clean node stop
    sh("ip netns delete " + ns_);
  }

  // BIRD with one device protocol on <run>/n1/bird.ctl, until birdc gets an answer.
  void startBird() {
    const std::string conf = dir_.write("bird.conf", "router id 10.9.9.9;\nprotocol device {}\n");
    bird_ = testutil::spawnDaemon(
        {"ip", "netns", "exec", ns_, "bird", "-f", "-c", conf, "-s", dir_.file("run/n1/bird.ctl")},
        dir_.file("run/n1/bird.log"));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (sh("birdc -s " + dir_.file("run/n1/bird.ctl") + " show status").code != 0) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "BIRD did not answer";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // brindlectl in the namespace against a store of the test's own; an agent it starts inherits
  // the dataplane backend under test.
  testutil::ShellResult ctl(const std::string& args) {
    return sh("ip netns exec " + ns_ + " env " + testutil::nftablesModeEnv(dataplane_) +
              " DATASTORE_TYPE=local BRINDLE_STORE_PATH=" + dir_.file("store.db") + " " +
              kBrindlectl + " " + args);
  }

  // The tarball `node diags` printed, or "" (with a test failure).
  std::string diags() {
    const auto r = ctl("node diags --name n1 --run-dir " + dir_.file("run") + " --log-dir " +
                       dir_.file("log") + " --output " + dir_.file("out"));
    EXPECT_EQ(r.code, 0) << r.out;
    std::smatch m;
    if (std::regex_search(r.out, m, std::regex("Diags saved to (\\S+)\n"))) return m[1];
    ADD_FAILURE() << r.out;
    return "";
  }

  std::string member(const std::string& tarball, const std::string& top, const std::string& file) {
    return sh("tar -xzOf " + tarball + " " + top + "/" + file).out;
  }

  // The agent's and BIRD's pids from the pid files `node run` wrote, so that the test ends them
  // whatever happens to `node stop`.
  void rememberNodePids() {
    for (const char* f : {"agent.pid", "bird.pid", "bird6.pid"}) {
      std::ifstream in(dir_.file("run/n1/") + f);
      long pid = 0;
      if (in >> pid && pid > 0) nodePids_.push_back(static_cast<pid_t>(pid));
    }
  }

  testutil::TempDir dir_;
  std::vector<pid_t> nodePids_;
  const std::string ns_ = "bdiag" + std::to_string(::getpid());
  const testutil::Dataplane dataplane_ = testutil::testDataplane();
  pid_t bird_ = -1;
};

TEST_F(NodeDiags, TarballHoldsEachItem) {
  dir_.write("log/n1/agent.log", "agent started\n");
  fs::create_directories(dir_.file("run/n1"));
  startBird();
  const std::string cfg =
      dir_.write("brindlectl.cfg",
                 "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\nspec:\n"
                 "  datastoreType: etcdv3\n  etcdEndpoints: http://127.0.0.1:1\n"
                 "  etcdPassword: hunter2\n  etcdKeyFile: " +
                     dir_.write("key.pem", "PRIVATE KEY TEXT") + "\n");
  const auto r = sh("ip netns exec " + ns_ + " " + kBrindlectl + " --config " + cfg +
                    " node diags --name n1 --run-dir " + dir_.file("run") + " --log-dir " +
                    dir_.file("log") + " --output " + dir_.file("out"));
  ASSERT_EQ(r.code, 0) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("Diags saved to (\\S+)\n"))) << r.out;
  const std::string tarball = m[1];
  ASSERT_EQ(fs::path(tarball).parent_path(), fs::path(dir_.file("out")));
  const std::string top = fs::path(tarball).stem().stem().string();
  EXPECT_EQ(top.rfind("brindle-diags-n1-", 0), 0u) << top;

  const std::string list = sh("tar -tzf " + tarball).out;
  for (const char* item : {"index.txt",
                           "iptables-save.txt",
                           "ip6tables-save.txt",
                           "ipset-list.txt",
                           "ip-route.json",
                           "ip6-route.json",
                           "ip-rule.json",
                           "ip6-rule.json",
                           "ip-link.json",
                           "ip-addr.json",
                           "bird-protocols.txt",
                           "bird-routes.txt",
                           "bird6-protocols.txt",
                           "bird6-routes.txt",
                           "bird6-protocols.txt.err",
                           "agent-readiness.txt.err",
                           "agent-liveness.txt.err",
                           "agent-metrics.txt.err",
                           "logs/agent/agent.log",
                           "logs/bird/bird.log",
                           "datastore.txt",
                           "checksystem.txt"}) {
    EXPECT_NE(list.find(top + "/" + std::string(item) + "\n"), std::string::npos)
        << item << " not in\n"
        << list;
  }
  // The namespace's own state, not the host's.
  EXPECT_NE(member(tarball, top, "ip-link.json").find("\"ifname\":\"lo\""), std::string::npos);
  EXPECT_EQ(member(tarball, top, "ip-link.json").find("\"ifname\":\"eth0\""), std::string::npos);
  // BIRD answered on the IPv4 socket; the IPv6 one does not exist, which is recorded.
  EXPECT_NE(member(tarball, top, "bird-protocols.txt").find("device1"), std::string::npos);
  EXPECT_EQ(list.find(top + "/bird-protocols.txt.err"), std::string::npos) << list;
  EXPECT_NE(member(tarball, top, "bird6-protocols.txt.err").find("Unable to connect"),
            std::string::npos);
  const std::string index = member(tarball, top, "index.txt");
  EXPECT_NE(index.find("bird-protocols.txt: ok\n"), std::string::npos) << index;
  EXPECT_NE(index.find("bird6-protocols.txt: exit code"), std::string::npos) << index;
  EXPECT_NE(index.find("agent-readiness.txt: GET 127.0.0.1:9099/readiness"), std::string::npos)
      << index;
  // The datastore by its settings; no secret.
  const std::string datastore = member(tarball, top, "datastore.txt");
  EXPECT_NE(datastore.find("etcdPassword: <redacted>\n"), std::string::npos) << datastore;
  EXPECT_NE(datastore.find("etcdKeyFile: " + dir_.file("key.pem")), std::string::npos);
  const std::string all = sh("tar -xzOf " + tarball).out;
  EXPECT_EQ(all.find("hunter2"), std::string::npos);
  EXPECT_EQ(all.find("PRIVATE KEY TEXT"), std::string::npos);
  // Nothing left beside the tarball.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_.file("out")), fs::directory_iterator()), 1);
}

// A node started by `node run` (agent and BIRD): its health, metrics, log and sessions.
TEST_F(NodeDiags, OfARunningNode) {
  testutil::must("ip -n " + ns_ + " link add uplink type veth peer name far");  // no dummy here
  testutil::must("ip -n " + ns_ + " link set far up");
  testutil::must("ip -n " + ns_ + " addr add 10.84.0.5/24 dev uplink");
  testutil::must("ip -n " + ns_ + " link set uplink up");
  const auto started =
      ctl("node run --name n1 --run-dir " + dir_.file("run") + " --log-dir " + dir_.file("log") +
          " --agent " + kAgent + " --timeout 30 --ip 10.84.0.5/24 --no-default-ippools");
  rememberNodePids();
  ASSERT_EQ(started.code, 0) << started.out;
  ASSERT_EQ(nodePids_.size(), 2u);  // the agent and the IPv4 BIRD

  const std::string tarball = diags();
  ASSERT_FALSE(tarball.empty());
  const std::string top = fs::path(tarball).stem().stem().string();
  const std::string index = member(tarball, top, "index.txt");
  for (const char* line :
       {"agent-readiness.txt: ok\n", "agent-liveness.txt: ok\n", "agent-metrics.txt: ok\n",
        "logs/agent: ok\n", "bird-protocols.txt: ok\n", "iptables-save.txt: ok\n"}) {
    EXPECT_NE(index.find(line), std::string::npos) << line << " not in\n" << index;
  }
  // The rules of the backend the node runs; nothing of ours in the other.
  const std::string iptables = member(tarball, top, "iptables-save.txt");
  const std::string nft = member(tarball, top, "nft-table.txt");
  if (dataplane_ == testutil::Dataplane::kNftables) {
    EXPECT_NE(index.find("nft-table.txt: ok\n"), std::string::npos) << index;
    EXPECT_NE(nft.find("chain filter-cali-FORWARD {"), std::string::npos) << nft;
    EXPECT_EQ(iptables.find("cali"), std::string::npos) << iptables;
    EXPECT_EQ(member(tarball, top, "ipset-list.txt").find("cali"), std::string::npos);
  } else {
    EXPECT_NE(iptables.find(":cali-"), std::string::npos);
    EXPECT_EQ(nft.find("calico"), std::string::npos) << nft;
  }
  EXPECT_NE(member(tarball, top, "agent-metrics.txt").find("brindle_datastore_updates_total"),
            std::string::npos);
  EXPECT_NE(member(tarball, top, "logs/agent/agent.log"), "");
  EXPECT_NE(member(tarball, top, "bird-protocols.txt").find("BIRD"), std::string::npos);

  // Plain stop (BIRD by graceful restart): the namespace goes with the test anyway.
  const auto stopped =
      ctl("node stop --name n1 --run-dir " + dir_.file("run") + " --agent " + kAgent);
  EXPECT_EQ(stopped.code, 0) << stopped.out;
  for (pid_t pid : nodePids_) EXPECT_FALSE(node::processAlive(pid)) << "pid " << pid << " runs";
}

}  // namespace
}  // namespace brindle::cli
