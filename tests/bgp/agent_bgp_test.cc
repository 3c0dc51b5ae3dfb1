// brindle-agent with NetworkingBackend bird (the default), as a real process in a node namespace:
// it starts BIRD for its node under BgpRunDir; a stop leaves BIRD (and its routes) running;
// `brindle-agent --bgp-teardown` stops it. With CALICO_NETWORKING_BACKEND=none no BIRD starts.
// On either dataplane backend (BRINDLE_TEST_DATAPLANE): the agent programs it and BGP still works.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "datastore/local/local_store.h"
#include "model/codec.h"
#include "resources/resource_store.h"
#include "testutil/dataplane_view.h"
#include "testutil/shell.h"
#include "testutil/temp_dir.h"

namespace brindle::bgp {
namespace {

using namespace std::chrono_literals;
using testutil::sh;

class AgentBgp : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    testutil::must("ip netns add " + ns_);
    testutil::must("ip -n " + ns_ + " link set lo up");
    testutil::must("ip -n " + ns_ + " link add v0 type veth peer name v1");
    testutil::must("ip -n " + ns_ + " addr add 10.78.0.1/24 dev v0");
    testutil::must("ip -n " + ns_ + " link set v1 up");
    testutil::must("ip -n " + ns_ + " link set v0 up");
    auto client = datastore::openLocalStore(dir_.file("store.db"));
    ASSERT_TRUE(client.isOk()) << client.message();
    auto decoded = model::decodeResources(
        "kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: n1}\n"
        "spec: {bgp: {ipv4Address: 10.78.0.1/24}}\n---\n"
        "kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: n2}\n"
        "spec: {bgp: {ipv4Address: 10.78.0.2/24}}\n",
        "nodes");
    ASSERT_TRUE(decoded.isOk()) << decoded.message();
    resources::ResourceStore store(**client);
    ASSERT_TRUE(store.write(resources::WriteMode::kCreate, decoded->resources).isOk());
  }
  void TearDown() override {
    testutil::killAndReap(agent_);
    if (pid_t pid = birdPid(); pid > 0) ::kill(pid, SIGKILL);
    sh("ip netns delete " + ns_);
  }

  std::vector<std::string> env(const std::string& backend = "") const {
    std::vector<std::string> e = {"DATASTORE_TYPE=local",
                                  "BRINDLE_STORE_PATH=" + dir_.file("store.db"),
                                  "FELIX_BGPRUNDIR=" + dir_.file("run"),
                                  "FELIX_HEALTHENABLED=false",
                                  "FELIX_PROMETHEUSMETRICSENABLED=false",
                                  testutil::nftablesModeEnv(dataplane_.dataplane())};
    if (!backend.empty()) e.push_back("CALICO_NETWORKING_BACKEND=" + backend);
    return e;
  }
  pid_t startAgent(const std::vector<std::string>& extraArgs, const std::vector<std::string>& e) {
    std::vector<std::string> argv = {"ip",         "netns", "exec", ns_, BRINDLE_AGENT_BINARY,
                                     "--nodename", "n1"};
    argv.insert(argv.end(), extraArgs.begin(), extraArgs.end());
    return testutil::spawnDaemon(argv, dir_.file("agent.log"), e);
  }
  pid_t birdPid() const {
    std::ifstream in(dir_.file("run") + "/n1/bird.pid");
    pid_t pid = 0;
    in >> pid;
    return pid;
  }
  bool meshUp() {
    return sh("birdc -s " + dir_.file("run") + "/n1/bird.ctl show protocols")
               .out.find("Mesh_10_78_0_2") != std::string::npos;
  }
  std::string log() { return sh("cat " + dir_.file("agent.log")).out; }
  // The agent programmed the backend under test, and nothing of ours is in the other (bounded).
  void expectDataplaneProgrammed() {
    bool programmed = false;
    for (int i = 0; i < 100 && !(programmed = dataplane_.programmed()); ++i) {
      std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(programmed) << testutil::dataplaneName(dataplane_.dataplane()) << "\n" << log();
    EXPECT_EQ(dataplane_.otherBackendLeftovers(), "");
  }

  std::string ns_ = "bgpag" + std::to_string(::getpid());
  testutil::DataplaneView dataplane_{ns_, testutil::testDataplane()};
  testutil::TempDir dir_;
  pid_t agent_ = -1;
};

TEST_F(AgentBgp, AgentRunsBirdLeavesItOnStopAndTearsItDown) {
  agent_ = startAgent({}, env());
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    std::this_thread::sleep_for(200ms);
    up = birdPid() > 0 && meshUp();
  }
  ASSERT_TRUE(up) << log();
  expectDataplaneProgrammed();
  const pid_t bird = birdPid();

  testutil::killAndReap(agent_, SIGTERM);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(::kill(bird, 0), 0) << "BIRD must outlive the agent";
  EXPECT_TRUE(meshUp());

  // A new agent adopts it.
  agent_ = startAgent({}, env());
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(birdPid(), bird);
  testutil::killAndReap(agent_, SIGTERM);

  pid_t teardown = startAgent({"--bgp-teardown"}, env());
  int status = 0;
  ::waitpid(teardown, &status, 0);
  EXPECT_TRUE(WIFEXITED(status)) << log();
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    std::this_thread::sleep_for(100ms);
    gone = ::kill(bird, 0) != 0;
  }
  EXPECT_TRUE(gone) << log();
}

TEST_F(AgentBgp, BackendNoneRunsNoBird) {
  agent_ = startAgent({}, env("none"));
  expectDataplaneProgrammed();
  std::this_thread::sleep_for(3s);
  EXPECT_FALSE(std::filesystem::exists(dir_.file("run") + "/n1")) << log();
  EXPECT_NE(::kill(agent_, 0), -1) << log();  // still running
}

}  // namespace
}  // namespace brindle::bgp
