// Switching the dataplane backend (issue 17): the agent restarted with the other
// FELIX_NFTABLESMODE takes over without a traffic gap for established flows (the old backend's
// rules stay until the new one's are in place), leaves nothing of the old backend behind and
// enforces the same policy. iptables -> nftables -> iptables, with a TCP stream and a fast ping
// running through each switch, and new connections admitted and refused as the policy says
// throughout (no moment without rules). Root only: namespaces, real traffic.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "agent/http_server.h"
#include "dataplane/chain.h"
#include "datastore/local/local_store.h"
#include "model/codec.h"
#include "os/netns.h"
#include "resources/resource_store.h"
#include "rules/endpoints.h"
#include "testutil/dataplane_view.h"
#include "testutil/metric_value.h"
#include "testutil/shell.h"
#include "testutil/temp_dir.h"

namespace brindle::agent {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testutil::Dataplane;
using testutil::DataplaneView;
using testutil::must;
using testutil::sh;
using testutil::ShellResult;

bool waitFor(std::chrono::milliseconds timeout, const std::function<bool()>& done) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

// The server admits the client (a selector set) on tcp/80, tcp/81 and ICMP; the other workload
// is refused.
constexpr const char* kResources = R"(
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node1-k8s-cli-eth0, namespace: default, labels: {role: client}}
  spec: {node: node1, orchestrator: k8s, workload: cli, endpoint: eth0, interfaceName: calic0000001,
         ipNetworks: [10.68.0.1/32]}
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node1-k8s-srv-eth0, namespace: default, labels: {role: server}}
  spec: {node: node1, orchestrator: k8s, workload: srv, endpoint: eth0, interfaceName: calis0000002,
         ipNetworks: [10.68.0.2/32]}
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node1-k8s-oth-eth0, namespace: default, labels: {role: other}}
  spec: {node: node1, orchestrator: k8s, workload: oth, endpoint: eth0, interfaceName: calio0000003,
         ipNetworks: [10.68.0.3/32]}
- apiVersion: projectcalico.org/v3
  kind: GlobalNetworkPolicy
  metadata: {name: egress-all}
  spec: {selector: all(), types: [Egress], egress: [{action: Allow}]}
- apiVersion: projectcalico.org/v3
  kind: GlobalNetworkPolicy
  metadata: {name: server-admits-clients}
  spec:
    selector: role == 'server'
    types: [Ingress]
    ingress:
    - {action: Allow, protocol: TCP, source: {selector: role == 'client'}, destination: {ports: [80, 81]}}
    - {action: Allow, protocol: ICMP, source: {selector: role == 'client'}}
)";

// A node with three workloads, the resources above in a local store and the agent, torn down
// (processes killed, namespaces deleted) by the destructor, also after a failed set-up.
class SwitchLab {
 public:
  SwitchLab() {
    prefix_ = "bms" + std::to_string(::getpid() % 100000) + "-";
    node_ = prefix_ + "node";
    port_ = 21000 + ::getpid() % 1000;
    try {
      must("ip netns add " + node_);
      must("ip -n " + node_ + " link set lo up");
      testutil::addCaliWorkload(node_, prefix_ + "cli", "calic0000001", "10.68.0.1");
      testutil::addCaliWorkload(node_, prefix_ + "srv", "calis0000002", "10.68.0.2");
      testutil::addCaliWorkload(node_, prefix_ + "oth", "calio0000003", "10.68.0.3");
      auto client = datastore::openLocalStore(dir_.file("store.db"));
      if (!client) throw std::runtime_error("store: " + client.message());
      resources::ResourceStore store(**client);
      auto decoded = model::decodeResources(kResources, "mode_switch_test");
      if (!decoded) throw std::runtime_error(decoded.message());
      auto written = store.write(resources::WriteMode::kApply, decoded->resources);
      if (!written) throw std::runtime_error(written.message());
      server_ = testutil::spawnDaemon({"ip", "netns", "exec", prefix_ + "srv", AGENT_PROBE_BINARY,
                                       "serve", dir_.file("seen.log"), "tcp:80", "tcp:81"},
                                      dir_.file("server.out"));
    } catch (...) {
      tearDown();
      throw;
    }
  }
  ~SwitchLab() { tearDown(); }

  const std::string& node() const { return node_; }
  std::string logTail() const { return sh("tail -30 " + dir_.file("agent.log")).out; }

  // Starts the agent on `dataplane`; false if it is not ready within 20 s.
  bool startAgent(Dataplane dataplane) {
    agent_ = testutil::spawnDaemon(
        {"ip", "netns", "exec", node_, BRINDLE_AGENT_BINARY, "--nodename", "node1"},
        dir_.file("agent.log"),
        {"DATASTORE_TYPE=local", "BRINDLE_STORE_PATH=" + dir_.file("store.db"),
         "FELIX_HEALTHPORT=" + std::to_string(port_),
         "FELIX_PROMETHEUSMETRICSPORT=" + std::to_string(port_), "FELIX_LOGSEVERITYSCREEN=Info",
         testutil::nftablesModeEnv(dataplane)});
    return waitFor(20s, [&] { return get("/readiness") == 200; });
  }
  // SIGTERM, as a rollout stops it: the kernel keeps the rules.
  void stopAgent() { testutil::killAndReap(agent_, SIGTERM); }

  // A new TCP connection from `from` ("cli", "oth") to the server's `port` (answered in 700 ms).
  bool connect(const std::string& from, int port) const {
    return sh("ip netns exec " + prefix_ + from + " " + AGENT_PROBE_BINARY +
              " connect tcp 10.68.0.2 " + std::to_string(port))
               .code == 0;
  }
  bool ping(const std::string& from) const {
    return sh("ip netns exec " + prefix_ + from + " ping -c1 -W1 -q 10.68.0.2").code == 0;
  }
  ShellResult in(const std::string& from, const std::string& cmd) const {
    return sh("ip netns exec " + prefix_ + from + " " + cmd);
  }
  // Connections the server accepted from the client on `port`.
  size_t accepted(int port) const {
    std::ifstream in(dir_.file("seen.log"));
    const std::string want = "tcp " + std::to_string(port) + " from 10.68.0.1";
    size_t n = 0;
    for (std::string line; std::getline(in, line);) n += line == want;
    return n;
  }

  int get(const std::string& path, std::string* body = nullptr) const {
    Result<HttpResult> out = makeError(ErrorCode::kUnavailable, "not run");
    Status entered = os::runInNetns(node_, [&]() -> Status {
      out = httpGet("127.0.0.1", port_, path);
      return Status::ok();
    });
    if (!entered || !out) return -1;
    if (body) *body = out->body;
    return out->status;
  }
  double metric(const std::string& name) const {
    std::string body;
    if (get("/metrics", &body) != 200) return -1;
    return testutil::metricValue(body, name);
  }

 private:
  void tearDown() {
    testutil::killAndReap(agent_);
    testutil::killAndReap(server_);
    testutil::deleteNamespaces(prefix_);  // only ours, always
  }

  std::string prefix_, node_;
  int port_ = 0;
  testutil::TempDir dir_;
  pid_t agent_ = -1;
  pid_t server_ = -1;
};

class AgentModeSwitch : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    try {
      lab_ = std::make_unique<SwitchLab>();
    } catch (const std::exception& e) {
      FAIL() << "set-up failed: " << e.what();
    }
  }
  void TearDown() override {
    if (lab_ && HasFailure()) {
      std::fprintf(stderr, "--- agent log (tail) ---\n%s\n", lab_->logTail().c_str());
      std::fprintf(stderr, "--- nft list table inet calico ---\n%s\n",
                   sh("ip netns exec " + lab_->node() + " nft list table inet calico").out.c_str());
    }
    lab_.reset();
  }

  // The backend `view` names holds the rules, the other nothing of ours, and the policy holds
  // for new connections.
  void checkEnforcedBy(const DataplaneView& view) {
    SCOPED_TRACE(dataplaneName(view.dataplane()));
    EXPECT_TRUE(view.programmed()) << view.ours();
    EXPECT_TRUE(view.hasChain("filter", "cali-tw-calis0000002")) << view.ours();
    EXPECT_EQ(view.otherBackendLeftovers(), "");
    // The workload interfaces carry device groups in nftables mode only (iptables mode resets
    // them, once the nftables table that dispatched by them is gone).
    for (const char* iface : {"calic0000001", "calis0000002", "calio0000003"}) {
      const uint32_t group = view.linkGroup(iface);
      EXPECT_EQ(dataplane::inWorkloadGroupRange(group), view.nftables()) << iface << ": " << group;
      if (view.nftables()) {
        EXPECT_EQ(view.dispatchGroup(iface), group) << iface;
      }
    }
    EXPECT_GT(lab_->metric(view.writesMetric()), 0) << view.writesMetric();
    EXPECT_TRUE(lab_->connect("cli", 80));
    EXPECT_TRUE(lab_->ping("cli"));
    EXPECT_FALSE(lab_->connect("oth", 80));
    EXPECT_FALSE(lab_->ping("oth"));
  }

  // Restarts the agent on `to` while a TCP stream (established before, through the old backend's
  // rules) and a ping every 20 ms run from the client to the server; both must see no gap.
  void switchTo(Dataplane to) {
    SCOPED_TRACE(std::string("switch to ") + dataplaneName(to));
    const DataplaneView view(lab_->node(), to);
    const size_t streams = lab_->accepted(81);
    std::atomic<bool> streamDone{false};
    ShellResult streamResult, pingResult;
    std::thread stream([&] {
      streamResult = lab_->in("cli", std::string(AGENT_PROBE_BINARY) + " stream 10.68.0.2 81 6");
      streamDone = true;
    });
    std::thread ping(
        [&] { pingResult = lab_->in("cli", "ping -q -i 0.02 -c 300 -W 1 10.68.0.2"); });
    // The refused workload pings every 10 ms: a moment without rules would let one through.
    ShellResult refusedPing;
    std::thread flood(
        [&] { refusedPing = lab_->in("oth", "ping -q -i 0.01 -c 600 -W 1 10.68.0.2"); });
    // New connections throughout: while both backends hold the policy a new connection must
    // pass both, and none may fall into a gap between them.
    std::atomic<bool> stopNew{false};
    std::atomic<int> newTried{0}, newFailed{0};
    std::thread fresh([&] {
      while (!stopNew) {
        ++newTried;
        if (!lab_->connect("cli", 80)) ++newFailed;
        std::this_thread::sleep_for(20ms);
      }
    });
    // ... and the policy never lapses: no moment without either backend's rules.
    std::atomic<int> deniedTried{0}, deniedPassed{0};
    std::thread refused([&] {
      while (!stopNew) {
        ++deniedTried;
        if (lab_->connect("oth", 80)) ++deniedPassed;
      }
    });
    const bool established = waitFor(3s, [&] { return lab_->accepted(81) > streams; });

    const auto t0 = Clock::now();
    lab_->stopAgent();
    const bool ready = lab_->startAgent(to);
    const auto readyAt = Clock::now();
    // The old backend's rules go once the new one's are in place.
    const bool switched =
        waitFor(5s, [&] { return view.programmed() && view.otherBackendLeftovers().empty(); });
    const auto switchedAt = Clock::now();
    const bool duringStream = !streamDone;
    stream.join();
    ping.join();
    flood.join();
    stopNew = true;
    fresh.join();
    refused.join();

    EXPECT_TRUE(established) << "the stream never connected";
    ASSERT_TRUE(ready) << "the agent on " << dataplaneName(to) << " did not become ready";
    EXPECT_TRUE(switched) << "after 5 s: " << view.otherBackendLeftovers();
    EXPECT_TRUE(duringStream) << "the switch ended after the stream: it tested no flow";
    EXPECT_EQ(streamResult.code, 0) << "the established connection broke: " << streamResult.out;
    EXPECT_NE(pingResult.out.find(" 0% packet loss"), std::string::npos) << pingResult.out;
    EXPECT_EQ(newFailed, 0) << "of " << newTried << " new connections during the switch";
    EXPECT_NE(refusedPing.out.find(" 0 received"), std::string::npos) << refusedPing.out;
    EXPECT_GT(deniedTried, 3);
    EXPECT_EQ(deniedPassed, 0) << "of " << deniedTried << " refused connections got through";
    std::printf(
        "switch to %s: ready %.0f ms after the stop, old rules gone %.0f ms later; stream: %s"
        "new connections: %d of %d failed; refused ones: %d of %d got through\n",
        dataplaneName(to), std::chrono::duration<double, std::milli>(readyAt - t0).count(),
        std::chrono::duration<double, std::milli>(switchedAt - readyAt).count(),
        streamResult.out.c_str(), newFailed.load(), newTried.load(), deniedPassed.load(),
        deniedTried.load());
    checkEnforcedBy(view);
  }

  // An nftables agent restarted while a link carries another group of ours than the one its
  // endpoint gets now (a policy changed while no agent ran): the first commit admits the link
  // with that group too (to the new chains) until the routes step has moved it, so its traffic
  // never meets "Unknown interface".
  void restartWithAStaleGroup() {
    const DataplaneView view(lab_->node(), Dataplane::kNftables);
    const std::string iface = "calis0000002";
    const uint32_t group = view.linkGroup(iface);
    ASSERT_TRUE(dataplane::inWorkloadGroupRange(group)) << group;
    const uint32_t stale = group == dataplane::kWorkloadGroupLast ? group - 1 : group + 1;
    lab_->stopAgent();
    must("ip -n " + lab_->node() + " link set " + iface + " group " + std::to_string(stale));
    ASSERT_TRUE(lab_->startAgent(Dataplane::kNftables)) << lab_->logTail();
    EXPECT_EQ(view.linkGroup(iface), group);
    const std::string chain =
        DataplaneView::nftChain("filter", rules::workloadGroupChainName("cali-tw-", group));
    const std::string dispatch = sh("ip netns exec " + lab_->node() +
                                    " nft list chain inet calico filter-cali-to-wl-dispatch")
                                     .out;
    EXPECT_NE(dispatch.find("oifname \"" + iface + "\" oifgroup " + std::to_string(stale) +
                            " goto " + chain + " comment"),
              std::string::npos)
        << dispatch;
    EXPECT_TRUE(lab_->connect("cli", 80));
    EXPECT_FALSE(lab_->connect("oth", 80));
  }

  std::unique_ptr<SwitchLab> lab_;
};

TEST_F(AgentModeSwitch, IptablesToNftablesAndBackKeepsEstablishedFlows) {
  ASSERT_TRUE(lab_->startAgent(Dataplane::kIptables)) << lab_->logTail();
  checkEnforcedBy(DataplaneView(lab_->node(), Dataplane::kIptables));
  switchTo(Dataplane::kNftables);
  restartWithAStaleGroup();
  switchTo(Dataplane::kIptables);
}

}  // namespace
}  // namespace brindle::agent
