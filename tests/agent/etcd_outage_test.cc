// The agent on etcd through outages of every kind (issue 10): etcd killed, stopped (the socket
// stays open, nothing answers), cut off by dropped packets, quorum lost one member at a time, the
// whole cluster restarted, and one member restarted ten times in a row. For each: traffic between
// two workloads never stops, the kernel's rules and sets do not change, readiness turns false
// and back while liveness stays true, and a change written after recovery reaches the kernel
// within 2 s, exactly once. brindle-cni during an outage answers "try again later" (11) within
// 5 s and leaves nothing behind. Root only: namespaces, real etcd, real traffic.
//
// etcd runs in a namespace of its own, joined to the node's by a veth, so the test can drop its
// packets without touching the node's (or the host's) tables. The agent runs on the dataplane
// backend BRINDLE_TEST_DATAPLANE names (ctest runs both).
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

#include "agent/http_server.h"
#include "os/netns.h"
#include "testutil/dataplane_view.h"
#include "testutil/etcd_server.h"
#include "testutil/metric_value.h"
#include "testutil/shell.h"
#include "testutil/temp_dir.h"

namespace brindle::agent {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testutil::must;
using testutil::sh;
using testutil::ShellResult;

bool waitFor(std::chrono::milliseconds timeout, const std::function<bool()>& done) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

double millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// A node with two workloads and the agent on an etcd cluster of `members`, torn down (processes
// killed, namespaces deleted) by the destructor, also after a failed set-up.
class OutageLab {
 public:
  explicit OutageLab(int members) {
    prefix_ = "beo" + std::to_string(::getpid() % 100000) + "m" + std::to_string(members) + "-";
    node_ = prefix_ + "node";
    etcdNs_ = prefix_ + "etcd";
    port_ = 20000 + (::getpid() + members) % 1000;
    view_ = std::make_unique<testutil::DataplaneView>(node_, testutil::testDataplane());
    try {
      for (const auto& ns : {node_, etcdNs_}) {
        must("ip netns add " + ns);
        must("ip -n " + ns + " link set lo up");
      }
      must("ip -n " + node_ + " link add etcd0 type veth peer name eth0 netns " + etcdNs_);
      must("ip -n " + node_ + " addr add 10.254.0.2/24 dev etcd0");
      must("ip -n " + node_ + " link set etcd0 up");
      must("ip -n " + etcdNs_ + " addr add 10.254.0.1/24 dev eth0");
      must("ip -n " + etcdNs_ + " link set eth0 up");
      testutil::addCaliWorkload(node_, prefix_ + "cli", "calic0000001", "10.66.0.1");
      testutil::addCaliWorkload(node_, prefix_ + "srv", "calis0000002", "10.66.0.2");
      testutil::EtcdServerOptions options;
      options.netns = etcdNs_;
      options.host = "10.254.0.1";
      etcd_ = std::make_unique<testutil::EtcdCluster>(members, options);
      endpoints_ = etcd_->endpointList();

      ctlApply("base.yaml", R"(- apiVersion: v1
  kind: workloadEndpoint
  metadata: {name: cli, workload: cli, orchestrator: k8s, node: node1,
             labels: {role: client, namespace: default}}
  spec: {interfaceName: calic0000001, ipNetworks: [10.66.0.1]}
- apiVersion: v1
  kind: workloadEndpoint
  metadata: {name: srv, workload: srv, orchestrator: k8s, node: node1,
             labels: {role: server, namespace: default}}
  spec: {interfaceName: calis0000002, ipNetworks: [10.66.0.2]}
- apiVersion: projectcalico.org/v3
  kind: GlobalNetworkPolicy
  metadata: {name: egress-all}
  spec: {selector: all(), types: [Egress], egress: [{action: Allow}]}
- apiVersion: projectcalico.org/v3
  kind: GlobalNetworkPolicy
  metadata: {name: server-80}
  spec:
    selector: role == 'server'
    types: [Ingress]
    ingress: [{action: Allow, protocol: TCP, destination: {ports: [80]}}]
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: pool1}
  spec: {cidr: 10.67.0.0/24, ipipMode: Never, natOutgoing: false}
)");
      server_ = testutil::spawnDaemon({"ip", "netns", "exec", prefix_ + "srv", AGENT_PROBE_BINARY,
                                       "serve", dir_.file("seen.log"), "tcp:80", "tcp:81"},
                                      dir_.file("server.out"));
      agent_ = testutil::spawnDaemon(
          {"ip", "netns", "exec", node_, BRINDLE_AGENT_BINARY, "--nodename", "node1"},
          dir_.file("agent.log"),
          {"DATASTORE_TYPE=etcdv3", "ETCD_ENDPOINTS=" + endpoints_,
           "FELIX_HEALTHPORT=" + std::to_string(port_),
           "FELIX_PROMETHEUSMETRICSPORT=" + std::to_string(port_),
           // Short, so that the tests see readiness drop; the default is 20 s.
           "FELIX_DATASTOREREADINESSTIMEOUT=2",
           // No periodic resyncs: every apply the test counts is one it caused.
           "FELIX_IPTABLESREFRESHINTERVAL=3600", "FELIX_IPSETSREFRESHINTERVAL=3600",
           "FELIX_ROUTEREFRESHINTERVAL=3600", "FELIX_LOGSEVERITYSCREEN=Info",
           testutil::nftablesModeEnv(view_->dataplane())});
      if (!waitFor(20s, [&] { return readiness() == 200; })) {
        throw std::runtime_error("agent not ready:\n" +
                                 sh("tail -20 " + dir_.file("agent.log")).out);
      }
      if (!probe(80) || probe(81)) throw std::runtime_error("the base policy is not enforced");
      if (!view_->programmed()) throw std::runtime_error("no rules of ours:\n" + view_->ours());
      if (!waitFor(5s, [&] { return view_->otherBackendLeftovers().empty(); })) {
        throw std::runtime_error("the other backend holds rules of ours:\n" +
                                 view_->otherBackendLeftovers());
      }
    } catch (...) {
      tearDown();
      throw;
    }
  }
  ~OutageLab() { tearDown(); }

  testutil::EtcdCluster& etcd() { return *etcd_; }
  const std::string& prefix() const { return prefix_; }
  const std::string& node() const { return node_; }
  const std::string& etcdNs() const { return etcdNs_; }
  std::string logTail() const { return sh("tail -30 " + dir_.file("agent.log")).out; }

  // brindlectl as an operator runs it on the node.
  ShellResult ctl(const std::string& args) const {
    return sh("ip netns exec " + node_ + " env DATASTORE_TYPE=etcdv3 ETCD_ENDPOINTS=" + endpoints_ +
              " " + BRINDLECTL_BINARY + " " + args);
  }
  void ctlApply(const std::string& name, const std::string& yaml) const {
    const std::string file = dir_.write(name, yaml);
    auto r = ctl("apply -f " + file);
    if (r.code != 0) throw std::runtime_error("brindlectl apply " + name + ": " + r.out);
  }

  // A TCP connection from the client to the server's port (the agent_probe answers in 700 ms).
  bool probe(int port) const {
    return sh("ip netns exec " + prefix_ + "cli " + AGENT_PROBE_BINARY + " connect tcp 10.66.0.2 " +
              std::to_string(port))
               .code == 0;
  }

  // What the agent programmed: rules of every table and family and the sets, of both backends,
  // without the timestamps and packet counters that change by themselves.
  std::string kernelState() const { return view_->kernelState(); }

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
  int readiness(std::string* body = nullptr) const { return get("/readiness", body); }
  double metric(const std::string& name) const {
    std::string body;
    if (get("/metrics", &body) != 200) return -1;
    return testutil::metricValue(body, name);
  }

 private:
  void tearDown() {
    testutil::killAndReap(agent_);
    testutil::killAndReap(server_);
    etcd_.reset();
    testutil::deleteNamespaces(prefix_);  // only ours, always
  }

  std::string prefix_, node_, etcdNs_, endpoints_;
  int port_ = 0;
  testutil::TempDir dir_;
  std::unique_ptr<testutil::EtcdCluster> etcd_;
  std::unique_ptr<testutil::DataplaneView> view_;
  pid_t agent_ = -1;
  pid_t server_ = -1;
};

// TCP connections from the client to the server every 200 ms on a thread, counting failures.
class Traffic {
 public:
  explicit Traffic(const OutageLab& lab)
      : thread_([this, &lab] {
          while (!stop_) {
            const auto next = Clock::now() + 200ms;
            ++attempts_;
            if (!lab.probe(80)) ++failures_;
            std::this_thread::sleep_until(next);
          }
        }) {}
  ~Traffic() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int attempts() const { return attempts_; }
  int failures() const { return failures_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> attempts_{0};
  std::atomic<int> failures_{0};
  std::thread thread_;
};

constexpr const char* kUpdates = "brindle_datastore_updates_total";
constexpr const char* kApplied = "brindle_applied_datastore_updates";
constexpr const char* kApplies = "brindle_dataplane_apply_seconds_count";

const char* kAllow81 = R"(apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: server-81}
spec:
  selector: role == 'server'
  types: [Ingress]
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [81]}}]
)";

class AgentEtcdOutage : public ::testing::Test {
 protected:
  static void setUpLab(std::unique_ptr<OutageLab>& lab, int members) {
    if (::geteuid() != 0) return;
    try {
      lab = std::make_unique<OutageLab>(members);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "set-up failed: %s\n", e.what());
    }
  }
  static void tearDownLab(std::unique_ptr<OutageLab>& lab) {
    if (lab && ::testing::UnitTest::GetInstance()->failed_test_count() > 0) {
      std::fprintf(stderr, "--- agent log (tail) ---\n%s\n", lab->logTail().c_str());
    }
    lab.reset();
  }
  void useLab(OutageLab* lab) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    ASSERT_NE(lab, nullptr) << "lab set-up failed";
    lab_ = lab;
  }

  // Writes `yaml` (or deletes the resource in it) and waits until the agent has applied it;
  // returns the time from the write's return to the update being in the kernel.
  Clock::duration writeAndWait(const std::string& yaml, bool remove = false) {
    const double updates0 = lab_->metric(kUpdates);
    const std::string file = "change-" + std::to_string(++writes_) + ".yaml";
    auto r = lab_->ctl(std::string(remove ? "delete" : "apply") + " -f " + dir_.write(file, yaml));
    const auto written = Clock::now();
    EXPECT_EQ(r.code, 0) << r.out;
    const bool applied = waitFor(10s, [&] {
      return lab_->metric(kUpdates) > updates0 && lab_->metric(kApplied) >= lab_->metric(kUpdates);
    });
    const auto delay = Clock::now() - written;
    EXPECT_TRUE(applied) << "the agent did not apply the change in 10 s";
    return delay;
  }

  // One outage: `induce` cuts the datastore off, `recover` brings it back. Asserts everything
  // the issue asks of the agent through it.
  void checkOutage(const std::function<void()>& induce, const std::function<void()>& recover) {
    const std::string rulesBefore = lab_->kernelState();
    const double updates0 = lab_->metric(kUpdates);
    const double applies0 = lab_->metric(kApplies);
    Traffic traffic(*lab_);

    induce();
    const auto cut = Clock::now();
    std::string body;
    EXPECT_TRUE(waitFor(30s, [&] { return lab_->readiness(&body) == 503; }))
        << "readiness stayed true through the outage";
    const auto noticed = Clock::now();
    EXPECT_NE(body.find("datastore unreachable since"), std::string::npos) << body;
    EXPECT_EQ(lab_->get("/liveness"), 200);
    EXPECT_EQ(lab_->metric("brindle_datastore_reachable"), 0);
    std::this_thread::sleep_for(1s);  // the agent keeps retrying: still nothing may change
    EXPECT_EQ(lab_->kernelState(), rulesBefore) << "the ruleset changed during the outage";
    EXPECT_EQ(lab_->metric(kApplies), applies0) << "the agent applied during the outage";

    recover();
    const auto back = Clock::now();
    const auto delay = writeAndWait(kAllow81);
    EXPECT_LT(delay, 2s) << "change applied " << millis(delay) << " ms after the write";
    EXPECT_TRUE(lab_->probe(81)) << "the change is not in the kernel";
    EXPECT_EQ(lab_->metric(kUpdates), updates0 + 1) << "the change was not delivered once";
    EXPECT_EQ(lab_->metric(kApplies), applies0 + 1) << "the change was not applied once";
    EXPECT_TRUE(waitFor(5s, [&] { return lab_->readiness() == 200; }))
        << "not ready again after the outage";
    EXPECT_EQ(lab_->metric("brindle_datastore_reachable"), 1);
    traffic.stop();
    EXPECT_GT(traffic.attempts(), 10);
    EXPECT_EQ(traffic.failures(), 0) << "of " << traffic.attempts() << " connections";
    std::printf(
        "outage noticed (readiness false) %.0f ms after the cut; back %.0f ms later; "
        "change applied %.0f ms after its write; %d connections, %d failed\n",
        millis(noticed - cut), millis(back - noticed), millis(delay), traffic.attempts(),
        traffic.failures());

    // Back to the starting state for the next case.
    writeAndWait(kAllow81, /*remove=*/true);
    EXPECT_FALSE(lab_->probe(81));
  }

  OutageLab* lab_ = nullptr;
  testutil::TempDir dir_;
  int writes_ = 0;
};

// One etcd member: it is the whole datastore.
class AgentEtcdOutage1 : public AgentEtcdOutage {
 protected:
  static void SetUpTestSuite() { setUpLab(lab1_, 1); }
  static void TearDownTestSuite() { tearDownLab(lab1_); }
  void SetUp() override { useLab(lab1_.get()); }
  static inline std::unique_ptr<OutageLab> lab1_;
};

TEST_F(AgentEtcdOutage1, Killed) {
  checkOutage([&] { lab_->etcd().kill(0); }, [&] { lab_->etcd().restart(0); });
}

// The socket stays open and the kernel still accepts connections; nothing answers. Only the
// client's keepalive can tell.
TEST_F(AgentEtcdOutage1, Stopped) {
  checkOutage([&] { lab_->etcd().signal(0, SIGSTOP); }, [&] { lab_->etcd().signal(0, SIGCONT); });
}

// Packets to etcd vanish (a partition): no refusal, no reset.
TEST_F(AgentEtcdOutage1, PacketsDropped) {
  const std::string rule =
      "INPUT -p tcp --dport " + std::to_string(lab_->etcd().clientPort(0)) + " -j DROP";
  const std::string inEtcd = "ip netns exec " + lab_->etcdNs() + " iptables ";
  checkOutage([&] { ASSERT_EQ(sh(inEtcd + "-I " + rule).code, 0); },
              [&] { ASSERT_EQ(sh(inEtcd + "-D " + rule).code, 0); });
}

// A long watch: etcd restarted ten times in a row, each time a change written right after, and
// every one of them reaches the kernel.
TEST_F(AgentEtcdOutage1, RestartedTenTimesKeepsDeliveringChanges) {
  Traffic traffic(*lab_);
  for (int i = 0; i < 10; ++i) {
    SCOPED_TRACE("restart " + std::to_string(i + 1));
    lab_->etcd().kill(0);
    std::this_thread::sleep_for(300ms);
    lab_->etcd().restart(0);
    const bool add = i % 2 == 0;
    const auto delay = writeAndWait(kAllow81, !add);
    EXPECT_LT(delay, 2s) << millis(delay) << " ms";
    EXPECT_EQ(lab_->probe(81), add);
  }
  traffic.stop();
  EXPECT_EQ(traffic.failures(), 0) << "of " << traffic.attempts() << " connections";
}

// brindle-cni during an outage: CNI's "try again later" (11) within 5 s, no interface, address
// or endpoint left behind; after recovery ADD works.
TEST_F(AgentEtcdOutage1, CniAddDuringAnOutageSaysTryAgainLater) {
  const std::string ns = lab_->prefix() + "ctr";
  ASSERT_EQ(sh("ip netns add " + ns).code, 0);
  const std::string conf = dir_.write(
      "cni.json", std::string(R"({"cniVersion":"1.0.0","name":"net1","type":"brindle-cni",)") +
                      R"("nodename":"node1","datastore_type":"etcdv3","etcd_endpoints":")" +
                      lab_->etcd().endpointList() + R"("})");
  auto cni = [&](const std::string& command) {
    return sh("ip netns exec " + lab_->node() + " env CNI_COMMAND=" + command +
              " CNI_CONTAINERID=outage1 CNI_NETNS=/var/run/netns/" + ns +
              " CNI_IFNAME=eth0 CNI_PATH=" + BRINDLE_CNI_DIR + " " + BRINDLE_CNI_DIR +
              "/brindle-cni < " + conf);
  };
  auto links = [&] {
    return sh("ip -n " + ns + " -o link | cut -d' ' -f2; ip -n " + lab_->node() +
              " -o link | cut -d' ' -f2")
        .out;
  };
  const std::string linksBefore = links();

  struct Outage {
    const char* what;
    std::function<void()> induce, recover;
  };
  const std::vector<Outage> outages = {
      {"killed", [&] { lab_->etcd().kill(0); }, [&] { lab_->etcd().restart(0); }},
      {"stopped", [&] { lab_->etcd().signal(0, SIGSTOP); },
       [&] { lab_->etcd().signal(0, SIGCONT); }},
  };
  for (const auto& outage : outages) {
    SCOPED_TRACE(outage.what);
    outage.induce();
    const auto t0 = Clock::now();
    auto add = cni("ADD");
    const auto took = Clock::now() - t0;
    outage.recover();
    EXPECT_NE(add.code, 0) << add.out;
    EXPECT_NE(add.out.find("\"code\":11"), std::string::npos) << add.out;
    EXPECT_LT(took, 5s) << millis(took) << " ms";
    EXPECT_EQ(links(), linksBefore) << "an interface was left behind";
    std::printf("CNI ADD with etcd %s failed in %.0f ms: %s\n", outage.what, millis(took),
                add.out.c_str());
  }

  // Nothing was written: no endpoint, no address held for the container.
  auto weps = lab_->ctl("get workloadEndpoints -o yaml");
  EXPECT_EQ(weps.out.find("outage1"), std::string::npos) << weps.out;
  auto check = lab_->ctl("ipam check");
  EXPECT_NE(check.out.find("Found 0 IPs that are allocated in IPAM but not actually in use"),
            std::string::npos)
      << check.out;
  // After recovery ADD works.
  auto after = cni("ADD");
  EXPECT_EQ(after.code, 0) << after.out;
  EXPECT_NE(after.out.find("10.67.0."), std::string::npos) << after.out;
  EXPECT_EQ(cni("DEL").code, 0);
  EXPECT_EQ(links(), linksBefore);
  sh("ip netns delete " + ns);
}

// Three members: losing one is no outage (the client moves on); losing a second loses quorum.
class AgentEtcdOutage3 : public AgentEtcdOutage {
 protected:
  static void SetUpTestSuite() { setUpLab(lab3_, 3); }
  static void TearDownTestSuite() { tearDownLab(lab3_); }
  void SetUp() override { useLab(lab3_.get()); }
  static inline std::unique_ptr<OutageLab> lab3_;
};

TEST_F(AgentEtcdOutage3, OneMemberKilledThenASecond) {
  lab_->etcd().kill(0);
  // Still a quorum: a change goes through at once, and the agent stays ready.
  const auto delay = writeAndWait(kAllow81);
  EXPECT_LT(delay, 2s) << millis(delay) << " ms";
  EXPECT_TRUE(lab_->probe(81));
  EXPECT_EQ(lab_->readiness(), 200);
  writeAndWait(kAllow81, /*remove=*/true);
  checkOutage([&] { lab_->etcd().kill(1); }, [&] { lab_->etcd().restartAll(); });
}

TEST_F(AgentEtcdOutage3, WholeClusterRestarted) {
  checkOutage(
      [&] {
        for (size_t i = 0; i < lab_->etcd().size(); ++i) lab_->etcd().kill(i);
      },
      [&] { lab_->etcd().restartAll(); });
}

}  // namespace
}  // namespace brindle::agent
