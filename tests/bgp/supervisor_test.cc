// The BIRD supervisor against real BIRD in a namespace the test makes: start, reconfigure only
// on change, a configuration BIRD rejects never replaces the running one, restart after a kill,
// adoption by a new supervisor, teardown.
#include "bgp/supervisor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "bgp/inputs.h"
#include "datastore/local/local_store.h"
#include "model/codec.h"
#include "model/ipam_block.h"
#include "model/kinds.h"
#include "resources/resource_store.h"
#include "testutil/shell.h"
#include "testutil/temp_dir.h"

namespace brindle::bgp {
namespace {

using testutil::sh;

class BgpSupervisor : public ::testing::Test {
 protected:
  void SetUp() override {
    testutil::must("ip netns add " + ns_);
    testutil::must("ip -n " + ns_ + " link set lo up");
    testutil::must("ip -n " + ns_ + " link add v0 type veth peer name v1");
    testutil::must("ip -n " + ns_ + " addr add 10.77.0.1/24 dev v0");
    testutil::must("ip -n " + ns_ + " link set v1 up");
    testutil::must("ip -n " + ns_ + " link set v0 up");
    auto client = datastore::openLocalStore(dir_.file("store.db"));
    ASSERT_TRUE(client.isOk()) << client.message();
    client_ = std::move(*client);
    apply(node("n1", "10.77.0.1/24") + node("n2", "10.77.0.2/24"));
    opts_.node = "n1";
    opts_.runDir = dir_.file("run");
    opts_.netns = ns_;
    opts_.restartBackoffInitial = std::chrono::milliseconds(50);
  }
  void TearDown() override {
    // Whatever happened: no BIRD and no namespace left behind.
    for (const char* f : {"/n1/bird.pid", "/n1/bird6.pid"}) {
      std::ifstream in(opts_.runDir + f);
      pid_t pid = 0;
      if (in >> pid && pid > 0) ::kill(pid, SIGKILL);
    }
    sh("ip netns delete " + ns_);
  }

  static std::string node(const std::string& name, const std::string& v4) {
    return "kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: " + name +
           "}\nspec: {bgp: {ipv4Address: " + v4 + "}}\n---\n";
  }
  void apply(const std::string& yaml) {
    auto decoded = model::decodeResources(yaml, "test");
    ASSERT_TRUE(decoded.isOk()) << decoded.message();
    resources::ResourceStore store(*client_);
    auto w = store.write(resources::WriteMode::kApply, decoded->resources);
    ASSERT_TRUE(w.isOk()) << w.message();
  }
  std::string protocols(Supervisor& s) {
    return sh("birdc -s " + s.path(4, ".ctl") + " show protocols").out;
  }
  pid_t birdPid(Supervisor& s) {
    std::ifstream in(s.path(4, ".pid"));
    pid_t pid = 0;
    in >> pid;
    return pid;
  }

  std::string ns_ = "brsup" + std::to_string(::getpid());
  testutil::TempDir dir_;
  datastore::ClientPtr client_;
  SupervisorOptions opts_;
};

// The BGP loop steps again when what it reads changes, not for every workload or policy (a pod
// churning on the node would otherwise have it re-read all of its inputs each time).
TEST(BgpInputs, KeysThatWakeTheLoop) {
  using model::Kind;
  for (Kind k :
       {Kind::kNode, Kind::kBGPPeer, Kind::kBGPConfiguration, Kind::kIPPool, Kind::kBGPFilter}) {
    EXPECT_TRUE(isInputKey(model::resourceKey(k, "", "x"))) << model::resourceKey(k, "", "x");
  }
  EXPECT_TRUE(isInputKey(std::string(model::kIpamBlockPrefix) + "10.0.0.0-26"));
  for (Kind k :
       {Kind::kWorkloadEndpoint, Kind::kGlobalNetworkPolicy, Kind::kProfile, Kind::kHostEndpoint}) {
    EXPECT_FALSE(isInputKey(model::resourceKey(k, "ns", "x"))) << model::resourceKey(k, "ns", "x");
  }
  EXPECT_FALSE(isInputKey("/calico/ipam/v2/handle/ipip-tunnel-addr-a"));
}

TEST_F(BgpSupervisor, RunsReconfiguresOnChangeKeepsOldOnRejectRestartsAndTearsDown) {
  SupervisorOptions other = opts_;
  other.node = "not-a-node";  // no Node resource: no BIRD, no problem
  Supervisor none(*client_, other);
  none.step();
  EXPECT_EQ(none.problem(), "");
  EXPECT_FALSE(std::filesystem::exists(opts_.runDir + "/not-a-node"));

  Supervisor sup(*client_, opts_);
  sup.step();
  EXPECT_EQ(sup.problem(), "");
  EXPECT_NE(protocols(sup).find("Mesh_10_77_0_2"), std::string::npos) << protocols(sup);
  EXPECT_FALSE(std::filesystem::exists(sup.path(6, ".pid")));  // no IPv6 address: no bird6
  const pid_t first = birdPid(sup);
  ASSERT_GT(first, 0);

  sup.step();  // nothing changed: no reconfiguration
  EXPECT_EQ(sup.counters().reconfigures, 0u);
  apply(node("n3", "10.77.0.3/24"));
  sup.step();
  EXPECT_EQ(sup.problem(), "");
  EXPECT_EQ(sup.counters().reconfigures, 1u);
  EXPECT_NE(protocols(sup).find("Mesh_10_77_0_3"), std::string::npos) << protocols(sup);
  EXPECT_EQ(birdPid(sup), first);  // reconfigured in place

  // listenPort 0 renders `local port 0`, which BIRD refuses: the running config stays.
  apply(
      "kind: BGPConfiguration\napiVersion: projectcalico.org/v3\nmetadata: {name: default}\n"
      "spec: {listenPort: 1790}\n");
  resources::ResourceStore store(*client_);
  auto cfg = store.get(model::Kind::kBGPConfiguration, "", "default");
  ASSERT_TRUE(cfg.isOk());
  cfg->spec["listenPort"] = 0;  // written past validation, as a broken writer would
  cfg->metadata.erase("resourceVersion");
  ASSERT_TRUE(store.write(resources::WriteMode::kReplace, {*cfg}).isOk());
  const std::string before = sh("cat " + sup.path(4, ".conf")).out;
  sup.step();
  EXPECT_NE(sup.problem().find("BIRD rejects the new configuration"), std::string::npos)
      << sup.problem();
  EXPECT_EQ(sup.counters().rejected, 1u);
  EXPECT_EQ(sh("cat " + sup.path(4, ".conf")).out, before);
  EXPECT_NE(protocols(sup).find("Mesh_10_77_0_3"), std::string::npos);
  cfg->spec.erase("listenPort");
  ASSERT_TRUE(store.write(resources::WriteMode::kReplace, {*cfg}).isOk());
  sup.step();
  EXPECT_EQ(sup.problem(), "");

  // BIRD killed: restarted (after the back-off).
  ::kill(first, SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (int i = 0; i < 20 && birdPid(sup) == first; ++i) {
    sup.step();
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  EXPECT_EQ(sup.counters().restarts, 1u);
  EXPECT_NE(birdPid(sup), first);
  sup.step();
  EXPECT_EQ(sup.problem(), "");
  EXPECT_NE(protocols(sup).find("Mesh_10_77_0_3"), std::string::npos);

  // A new supervisor (the agent restarted) adopts the running BIRD and does not reload it.
  const pid_t second = birdPid(sup);
  {
    Supervisor again(*client_, opts_);
    again.step();
    EXPECT_EQ(again.problem(), "");
    EXPECT_EQ(birdPid(again), second);
    EXPECT_EQ(again.counters().reconfigures + again.counters().restarts, 0u);
  }
  sup.teardown();
  EXPECT_NE(::kill(second, 0), 0);  // gone (reaped by teardown)
  EXPECT_EQ(sh("ip -n " + ns_ + " route show proto bird").out, "");
}

}  // namespace
}  // namespace brindle::bgp
