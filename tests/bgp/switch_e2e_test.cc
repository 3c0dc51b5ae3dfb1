// Issue #13, Done-means 3 and 7 (agent restart) under live traffic: 4 nodes in namespaces with
// real BIRDs, a TCP connect every 50 ms and one long TCP stream between workloads on different
// nodes while (3) the cluster switches from the full mesh to two route reflectors (at once, and
// step by step) and back (Calico issue #3819 is traffic lost in that switch), and (7) a node's
// agent stops and a new one starts while its BIRD keeps running. No connect may fail, the
// streams must live, and the receivers' longest wait for data is printed. The agent runs the
// dataplane backend BRINDLE_TEST_DATAPLANE names (ctest registers AgentRestart on both).
#include <gtest/gtest.h>

#include <atomic>

#include "bgp/e2e_nodes.h"
#include "bgp/traffic.h"
#include "testutil/dataplane_view.h"

namespace brindle::bgp {
namespace {

class BgpSwitchE2e : public BgpMeshE2e {
 protected:
  BgpSwitchE2e() { nodes_ = 4; }
  void TearDown() override {
    stopStepping();
    testutil::killAndReap(agent_);
    BgpMeshE2e::TearDown();
  }

  // The supervisors run as in the agents: one step per node every 300 ms, on their own thread.
  void startStepping() {
    stepping_ = true;
    stepper_ = std::thread([this] {
      while (stepping_) {
        {
          std::lock_guard lock(stepMu_);
          for (auto& s : supervisors_) s->step();
        }
        std::this_thread::sleep_for(300ms);
      }
    });
  }
  void stopStepping() {
    stepping_ = false;
    if (stepper_.joinable()) stepper_.join();
  }
  bool waitFor(const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (done()) return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }

  void write(resources::WriteMode mode, const std::string& yaml) {
    auto decoded = model::decodeResources(yaml, "switch");
    ASSERT_TRUE(decoded.isOk()) << decoded.message();
    resources::ResourceStore store(*client_);
    auto written = store.write(mode, decoded->resources);
    ASSERT_TRUE(written.isOk()) << written.message();
  }
  std::string nodeYaml(int i, bool reflector) const {
    return "kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: " + node(i) +
           (reflector ? ", labels: {rr: 'yes'}" : "") +
           "}\nspec: {bgp: {ipv4Address: " + nodeIp(i) + "/24" +
           (reflector ? ", routeReflectorClusterID: 1.0.0.1" : "") + "}}\n---\n";
  }
  static std::string meshYaml(bool on) {
    return std::string(
               "kind: BGPConfiguration\napiVersion: projectcalico.org/v3\n"
               "metadata: {name: default}\nspec: {nodeToNodeMeshEnabled: ") +
           (on ? "true" : "false") + "}\n---\n";
  }
  static constexpr const char* kToReflectors =
      "kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: {name: to-rr}\n"
      "spec: {peerSelector: has(rr)}\n";

  // Node i's sessions of a PEER TYPE that are up and Established.
  int established(int i, const std::string& type) {
    std::istringstream status(nodeStatus(i));
    int n = 0;
    for (std::string line; std::getline(status, line);) {
      if (line.find("| " + type + " ") != std::string::npos &&
          line.find("| Established |") != std::string::npos) {
        ++n;
      }
    }
    return n;
  }
  // Every node runs the configuration of the datastore (no transition under way).
  bool settled() {
    for (auto& s : supervisors_) {
      if (sh("cat " + s->path(4, ".conf")).out.find("brindle_hold {") != std::string::npos) {
        return false;
      }
    }
    return true;
  }
  bool reflectorsUp() {
    return settled() && everyNodeHasTheOthersBlocks() && established(1, "node specific") == 3 &&
           established(2, "node specific") == 3 && established(3, "node specific") == 2 &&
           established(4, "node specific") == 2 && established(3, "node-to-node mesh") == 0;
  }
  bool meshUp() {
    if (!settled() || !everyNodeHasTheOthersBlocks()) return false;
    for (int i = 1; i <= nodes_; ++i) {
      if (established(i, "node-to-node mesh") != 3 || established(i, "node specific") != 0) {
        return false;
      }
    }
    return true;
  }

  static void expectHitless(const testutil::TrafficReport& r, const std::string& what) {
    std::cout << what << ": " << r.connects << " connects, " << r.failed << " failed, slowest "
              << r.maxConnectMs << " ms; stream " << r.streamReceived << " of " << r.streamSent
              << " bytes, longest wait for data " << r.maxStreamGapMs << " ms"
              << (r.streamError.empty() ? "" : ", " + r.streamError) << "\n";
    EXPECT_GT(r.connects, 100) << what;
    EXPECT_EQ(r.failed, 0) << what << ": " << testing::PrintToString(r.failures);
    EXPECT_EQ(r.streamError, "") << what;
    EXPECT_GT(r.streamSent, 0) << what;
    EXPECT_EQ(r.streamReceived, r.streamSent) << what;
    EXPECT_LT(r.maxStreamGapMs, 1000) << what;
  }

  std::mutex stepMu_;
  std::atomic<bool> stepping_{false};
  std::thread stepper_;
  pid_t agent_ = -1;
};

// Done-means 3: client to client (3 -> 4, the traffic of Calico issue #3819) and reflector to
// client (1 -> 3) while every node goes from the full mesh to two reflectors and back, each
// switch written at once (nodes, peer, mesh setting).
TEST_F(BgpSwitchE2e, MeshToReflectorsAndBackDropsNothing) {
  ASSERT_TRUE(converge([&] { return meshUp(); }, 40s)) << nodeStatus(1) << birdRoutes(1);
  testutil::Traffic clients(workload(3), workload(4), workloadIp(4), 7100);
  testutil::Traffic fromReflector(workload(1), workload(3), workloadIp(3), 7200);
  ASSERT_TRUE(clients.start());
  ASSERT_TRUE(fromReflector.start());
  startStepping();
  std::this_thread::sleep_for(1s);

  auto t0 = std::chrono::steady_clock::now();
  write(resources::WriteMode::kApply,
        nodeYaml(1, true) + nodeYaml(2, true) + meshYaml(false) + kToReflectors);
  ASSERT_TRUE(waitFor([&] { return reflectorsUp(); }, 40s))
      << nodeStatus(1) << nodeStatus(3) << birdRoutes(3);
  std::cout << "mesh -> reflectors settled in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - t0)
                   .count()
            << " ms\n"
            << "node 3: brindlectl node status\n"
            << nodeStatus(3);
  std::this_thread::sleep_for(1s);

  t0 = std::chrono::steady_clock::now();
  write(resources::WriteMode::kApply, nodeYaml(1, false) + nodeYaml(2, false) + meshYaml(true));
  write(resources::WriteMode::kDelete, kToReflectors);
  ASSERT_TRUE(waitFor([&] { return meshUp(); }, 40s))
      << nodeStatus(1) << nodeStatus(3) << birdRoutes(3);
  std::cout << "reflectors -> mesh settled in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - t0)
                   .count()
            << " ms\n";
  std::this_thread::sleep_for(1s);

  expectHitless(clients.stop(), "client 3 -> client 4");
  expectHitless(fromReflector.stop(), "reflector 1 -> client 3");
}

// The same switch in the steps Calico's documentation gives (reflectors first, then the BGPPeer,
// then the mesh off), a second apart, so that each step changes sessions again before the last
// one settled; node 3's supervisor is replaced (an agent restart) in the middle of its hold.
TEST_F(BgpSwitchE2e, StepByStepSwitchWithAnAgentRestartDropsNothing) {
  ASSERT_TRUE(converge([&] { return meshUp(); }, 40s)) << nodeStatus(1) << birdRoutes(1);
  testutil::Traffic clients(workload(3), workload(4), workloadIp(4), 7400);
  testutil::Traffic fromReflector(workload(1), workload(3), workloadIp(3), 7500);
  ASSERT_TRUE(clients.start());
  ASSERT_TRUE(fromReflector.start());
  startStepping();
  std::this_thread::sleep_for(1s);
  // Between the first two steps the reflectors have no session at all: only the holds carry
  // their traffic.
  write(resources::WriteMode::kApply, nodeYaml(1, true) + nodeYaml(2, true));
  std::this_thread::sleep_for(1s);
  {
    std::lock_guard lock(stepMu_);
    SupervisorOptions o;
    o.node = node(3);
    o.runDir = dir_.file("run");
    o.netns = ns(node(3));
    EXPECT_NE(sh("cat " + supervisors_[2]->path(4, ".conf")).out.find("brindle_hold {"),
              std::string::npos);
    supervisors_[2] = std::make_unique<Supervisor>(*client_, o);
  }
  write(resources::WriteMode::kCreate, kToReflectors);
  std::this_thread::sleep_for(1s);
  write(resources::WriteMode::kApply, meshYaml(false));
  ASSERT_TRUE(waitFor([&] { return reflectorsUp(); }, 50s))
      << nodeStatus(1) << nodeStatus(3) << birdRoutes(3);
  std::this_thread::sleep_for(1s);
  expectHitless(clients.stop(), "client 3 -> client 4, step by step");
  expectHitless(fromReflector.stop(), "reflector 1 -> client 3, step by step");
}

// Done-means 7 (agent restart): node 4's BIRD is adopted by a real brindle-agent, which is
// stopped (SIGTERM, a normal stop) and started again under traffic to node 4's workload: BIRD,
// its routes and its sessions stay (the same SINCE times), and nothing drops.
TEST_F(BgpSwitchE2e, AgentRestartKeepsBirdSessionsAndTraffic) {
  ASSERT_TRUE(converge([&] { return meshUp(); }, 40s)) << nodeStatus(1) << birdRoutes(1);
  supervisors_.pop_back();  // node 4 is the agent's from now on
  std::ifstream in(dir_.file("run") + "/" + node(4) + "/bird.pid");
  pid_t bird = 0;
  ASSERT_TRUE(in >> bird);
  const std::vector<std::string> env = {"DATASTORE_TYPE=local",
                                        "BRINDLE_STORE_PATH=" + dir_.file("store.db"),
                                        "FELIX_BGPRUNDIR=" + dir_.file("run"),
                                        "FELIX_HEALTHENABLED=false",
                                        "FELIX_PROMETHEUSMETRICSENABLED=false",
                                        testutil::nftablesModeEnv(testutil::testDataplane())};
  const testutil::DataplaneView dataplane(node(4), testutil::testDataplane());
  auto startAgent = [&] {
    return testutil::spawnDaemon(
        {"ip", "netns", "exec", node(4), BRINDLE_AGENT_BINARY, "--nodename", node(4)},
        dir_.file("agent.log"), env);
  };
  // The agent enforces policy too: the workloads are open to all (Calico drops traffic to an
  // endpoint no policy or profile allows).
  write(resources::WriteMode::kCreate,
        "kind: GlobalNetworkPolicy\napiVersion: projectcalico.org/v3\nmetadata: {name: open}\n"
        "spec: {selector: all(), types: [Ingress, Egress], ingress: [{action: Allow}], "
        "egress: [{action: Allow}]}\n");
  const auto agentLog = [&] { return sh("cat " + dir_.file("agent.log")).out; };
  agent_ = startAgent();
  ASSERT_TRUE(
      waitFor([&] { return agentLog().find("dataplane applied") != std::string::npos; }, 20s))
      << agentLog();
  EXPECT_TRUE(dataplane.programmed());
  EXPECT_EQ(dataplane.otherBackendLeftovers(), "");
  testutil::Traffic traffic(workload(1), workload(4), workloadIp(4), 7300);
  ASSERT_TRUE(traffic.start()) << agentLog();
  startStepping();
  std::this_thread::sleep_for(2s);
  const std::string sessionsBefore = nodeStatus(4);
  const std::string routesBefore = birdRoutes(4);
  const std::string confBefore = sh("cat " + dir_.file("run") + "/" + node(4) + "/bird.conf").out;

  testutil::killAndReap(agent_, SIGTERM);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(::kill(bird, 0), 0) << "BIRD must outlive the agent";
  EXPECT_EQ(birdRoutes(4), routesBefore);
  agent_ = startAgent();
  std::this_thread::sleep_for(3s);  // the new agent's rounds
  EXPECT_EQ(::kill(bird, 0), 0);
  std::ifstream again(dir_.file("run") + "/" + node(4) + "/bird.pid");
  pid_t adopted = 0;
  again >> adopted;
  EXPECT_EQ(adopted, bird);
  EXPECT_EQ(sh("cat " + dir_.file("run") + "/" + node(4) + "/bird.conf").out, confBefore);
  EXPECT_EQ(nodeStatus(4), sessionsBefore) << "a session was restarted";
  EXPECT_EQ(birdRoutes(4), routesBefore);
  // The new agent runs this BIRD: a change reaches it by `configure`, no session restarts.
  write(resources::WriteMode::kApply,
        "kind: BGPConfiguration\napiVersion: projectcalico.org/v3\nmetadata: {name: default}\n"
        "spec: {serviceClusterIPs: [{cidr: 10.96.0.0/12}]}\n");
  const std::string conf = dir_.file("run") + "/" + node(4) + "/bird.conf";
  EXPECT_TRUE(waitFor(
      [&] {
        return sh("cat " + conf).out.find("route 10.96.0.0/12 blackhole") != std::string::npos;
      },
      10s))
      << agentLog();
  EXPECT_EQ(::kill(bird, 0), 0);
  EXPECT_EQ(nodeStatus(4), sessionsBefore) << "a session was restarted";
  expectHitless(traffic.stop(), "workload 1 -> workload 4 across an agent restart");
  EXPECT_TRUE(dataplane.programmed());
  EXPECT_EQ(dataplane.otherBackendLeftovers(), "");
  testutil::killAndReap(agent_, SIGTERM);
  std::cout << agentLog().substr(0, 2000);
}

}  // namespace
}  // namespace brindle::bgp
