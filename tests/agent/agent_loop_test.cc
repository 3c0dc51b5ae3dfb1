// The agent's run loop against a real local datastore and the dataplane simulators: start-up,
// incremental updates, drift repair, retry after a failed restore, a restart that writes nothing,
// and a FelixConfiguration change. The loop runs on its own thread; the simulators sit behind
// one mutex the test also takes to look at them.
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <thread>

#include "agent/agent.h"
#include "dataplane/testing/fake_ipset.h"
#include "dataplane/testing/fake_iptables.h"
#include "dataplane/testing/fake_route_netlink.h"
#include "datastore/etcd/etcd_client.h"
#include "datastore/local/local_store.h"
#include "model/codec.h"
#include "resources/resource_store.h"
#include "testutil/etcd_server.h"
#include "testutil/temp_dir.h"

namespace brindle::agent {
namespace {

using dataplane::IpVersion;
using dataplane::TableName;
using namespace std::chrono_literals;

// Serialises the agent thread's program runs with the test's inspection.
class LockedRunner : public os::CommandRunner {
 public:
  LockedRunner(os::CommandRunner& inner, std::mutex& mu) : inner_(inner), mu_(mu) {}
  Result<os::CommandOutput> run(const os::Command& c) override {
    if (c.gate) {
      // The gate waits for another run (the ipset fill): open it before taking the lock.
      if (!c.gate()) return os::CommandOutput{137, "", "stopped"};
      os::Command ungated(c.argv, c.input);
      std::lock_guard lock(mu_);
      return inner_.run(ungated);
    }
    std::lock_guard lock(mu_);
    return inner_.run(c);
  }

 private:
  os::CommandRunner& inner_;
  std::mutex& mu_;
};

class LockedNetlink : public dataplane::RouteNetlink {
 public:
  LockedNetlink(dataplane::RouteNetlink& inner, std::mutex& mu) : inner_(inner), mu_(mu) {}
  Result<std::vector<dataplane::LinkInfo>> listLinks() override {
    std::lock_guard lock(mu_);
    return inner_.listLinks();
  }
  Status setLinkGroup(int ifindex, uint32_t group) override {
    std::lock_guard lock(mu_);
    return inner_.setLinkGroup(ifindex, group);
  }
  Result<std::vector<dataplane::RouteEntry>> listRoutes(int table) override {
    std::lock_guard lock(mu_);
    return inner_.listRoutes(table);
  }
  Status replaceRoute(const dataplane::RouteEntry& r) override {
    std::lock_guard lock(mu_);
    return inner_.replaceRoute(r);
  }
  Status deleteRoute(const dataplane::RouteEntry& r) override {
    std::lock_guard lock(mu_);
    return inner_.deleteRoute(r);
  }

 private:
  dataplane::RouteNetlink& inner_;
  std::mutex& mu_;
};

constexpr const char* kLab = R"(
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: n1-k8s-frontend-eth0, namespace: default, labels: {service: frontend}}
  spec: {node: n1, orchestrator: k8s, workload: frontend, endpoint: eth0,
         interfaceName: cali0ef24b1, ipNetworks: [172.16.1.1/32]}
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: n1-k8s-database-eth0, namespace: default, labels: {service: database}}
  spec: {node: n1, orchestrator: k8s, workload: database, endpoint: eth0,
         interfaceName: cali0ef24b3, ipNetworks: [172.16.1.3/32], profiles: [profile-database]}
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: n2-k8s-other-eth0, namespace: default, labels: {service: frontend}}
  spec: {node: n2, orchestrator: k8s, workload: other, endpoint: eth0,
         interfaceName: cali0ef24b9, ipNetworks: [172.16.2.9/32]}
- apiVersion: projectcalico.org/v3
  kind: Profile
  metadata: {name: profile-database}
  spec:
    ingress:
    - action: Allow
      protocol: TCP
      source: {selector: "service == 'frontend'"}
      destination: {ports: [3306]}
    egress: [{action: Allow}]
)";

class AgentLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto client = datastore::openLocalStore(dir_.file("store.db"));
    ASSERT_TRUE(client.isOk()) << client.message();
    client_ = std::move(*client);
    store_ = std::make_unique<resources::ResourceStore>(*client_);
    write(kLab);
    iptables_.setIpsetExists([this](const std::string& s) { return ipset_.has(s); });
    ipset_.setInUse([this](const std::string& s) { return iptables_.setReferenced(s); });
    netlink_.addLink("cali0ef24b1");
    netlink_.addLink("cali0ef24b3");
    config_.nodename = "n1";
    config_.ipv6Support = false;
    config_.iptablesRefreshInterval = config_.ipsetsRefreshInterval = config_.routeRefreshInterval =
        300ms;
    config_.applyRetryInitial = 10ms;
  }

  void TearDown() override { stopAgent(); }

  void write(const std::string& yaml, resources::WriteMode mode = resources::WriteMode::kApply) {
    auto decoded = model::decodeResources(yaml, "test");
    ASSERT_TRUE(decoded.isOk()) << decoded.message();
    auto w = store_->write(mode, decoded->resources);
    ASSERT_TRUE(w.isOk()) << w.message();
  }

  // Builds a fresh agent (new writers, as after a process restart) over the same "kernel".
  void startAgent(std::map<std::string, std::string> felixConfigs = {}) {
    metrics_ = std::make_unique<Metrics>();
    defineAgentMetrics(*metrics_);
    health_ = std::make_unique<HealthState>();
    tables_.clear();
    DataplaneDeps deps;
    for (auto t : {TableName::kFilter, TableName::kRaw, TableName::kMangle, TableName::kNat}) {
      tables_.push_back(std::make_unique<dataplane::IptablesTable>(t, IpVersion::kV4, iptRunner_));
      deps.tables.push_back({IpVersion::kV4, t, tables_.back().get()});
    }
    ipsets_ = std::make_unique<dataplane::IpSetsImpl>(ipsetRunner_);
    deps.ipsets = ipsets_.get();
    routes_ = std::make_unique<dataplane::RouteTable>(lockedNetlink_, sysctl_);
    deps.routes = routes_.get();
    deps.metrics = metrics_.get();
    driver_ = std::make_unique<DataplaneDriver>(deps, config_.rendererConfig());
    agent_ = std::make_unique<Agent>(config_, AgentDeps{*client_, *driver_, *metrics_, *health_},
                                     std::move(felixConfigs));
    stop_ = false;
    done_ = false;
    thread_ = std::thread([this] {
      reason_ = agent_->run(stop_);
      done_ = true;
    });
  }

  void stopAgent() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  template <typename F>
  bool waitFor(F pred, std::chrono::milliseconds timeout = 5s) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      {
        std::lock_guard lock(mu_);
        if (pred()) return true;
      }
      std::this_thread::sleep_for(5ms);
    }
    std::lock_guard lock(mu_);
    return pred();
  }

  bool hasChain(const std::string& chain) {
    return iptables_.hasChain(IpVersion::kV4, "filter", chain);
  }
  std::vector<std::string> filterRules(const std::string& chain) {
    return iptables_.rules(IpVersion::kV4, "filter", chain);
  }
  std::vector<std::string> chainsStartingWith(const std::string& prefix) {
    std::vector<std::string> out;
    for (const auto& c : iptables_.chainNames(IpVersion::kV4, "filter")) {
      if (c.rfind(prefix, 0) == 0) out.push_back(c);
    }
    return out;
  }

  testutil::TempDir dir_;
  datastore::ClientPtr client_;
  std::unique_ptr<resources::ResourceStore> store_;
  std::mutex mu_;
  dataplane::testing::FakeIptables iptables_;
  dataplane::testing::FakeIpset ipset_;
  dataplane::testing::FakeRouteNetlink netlink_;
  dataplane::testing::FakeSysctl sysctl_;
  LockedRunner iptRunner_{iptables_, mu_};
  LockedRunner ipsetRunner_{ipset_, mu_};
  LockedNetlink lockedNetlink_{netlink_, mu_};
  AgentConfig config_;

  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<HealthState> health_;
  std::vector<std::unique_ptr<dataplane::IptablesTable>> tables_;
  std::unique_ptr<dataplane::IpSetsImpl> ipsets_;
  std::unique_ptr<dataplane::RouteTable> routes_;
  std::unique_ptr<DataplaneDriver> driver_;
  std::unique_ptr<Agent> agent_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  StopReason reason_ = StopReason::kStopped;
  std::thread thread_;
};

// A valid policy written after something went wrong (a refused rule, a bad value): it must
// still reach the kernel.
constexpr const char* kLaterPolicy = R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: later}
spec:
  selector: "service == 'frontend'"
  types: [Egress]
  egress: [{action: Allow, protocol: UDP, destination: {ports: [53]}}]
)";

TEST_F(AgentLoopTest, StartUpProgramsLocalEndpointsAndBecomesReady) {
  startAgent();
  ASSERT_TRUE(waitFor([&] { return hasChain("cali-tw-cali0ef24b3"); }));
  ASSERT_TRUE(waitFor([&] { return health_->ready(); }));
  std::lock_guard lock(mu_);
  EXPECT_TRUE(hasChain("cali-fw-cali0ef24b1"));
  EXPECT_FALSE(hasChain("cali-tw-cali0ef24b9"));  // n2's endpoint is not local
  EXPECT_TRUE(hasChain("cali-pri-profile-database"));
  EXPECT_TRUE(hasChain("cali-FORWARD"));
  // The hook is at the top of the kernel chain.
  auto forward = filterRules("FORWARD");
  ASSERT_FALSE(forward.empty());
  EXPECT_NE(forward[0].find("cali-FORWARD"), std::string::npos);
  // The profile's source selector is an ipset holding both frontends (local and remote).
  bool found = false;
  for (const auto& name : ipset_.names()) {
    if (name.rfind("cali40s:", 0) == 0) {
      found = true;
      EXPECT_EQ(ipset_.set(name).members.size(), 2u) << name;
    }
  }
  EXPECT_TRUE(found);
  auto* route = netlink_.find(*Cidr::parse("172.16.1.1/32"));
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->protocol, 80);
  EXPECT_EQ(metrics_->value(metric::kEndpoints), 2);
  EXPECT_GE(metrics_->value(metric::kRestoreCalls), 1);
  EXPECT_GT(metrics_->value(metric::kRules), 10);
}

TEST_F(AgentLoopTest, IncrementalUpdatesAndRemoval) {
  startAgent();
  ASSERT_TRUE(waitFor([&] { return health_->ready(); }));
  write(R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-dns}
spec:
  selector: "service == 'frontend'"
  types: [Egress]
  egress: [{action: Allow, protocol: UDP, destination: {ports: [53]}}]
)");
  ASSERT_TRUE(waitFor([&] { return !chainsStartingWith("cali-po-").empty(); }));
  {
    std::lock_guard lock(mu_);
    auto fw = filterRules("cali-fw-cali0ef24b1");
    std::string all;
    for (const auto& r : fw) all += r + "\n";
    EXPECT_NE(all.find("cali-po-"), std::string::npos) << all;
  }
  // Deleting the database endpoint removes its chains and its route.
  write(R"(
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: n1-k8s-database-eth0, namespace: default}
spec: {node: n1, orchestrator: k8s, workload: database, endpoint: eth0, interfaceName: cali0ef24b3}
)",
        resources::WriteMode::kDelete);
  ASSERT_TRUE(waitFor([&] { return !hasChain("cali-tw-cali0ef24b3"); }));
  ASSERT_TRUE(waitFor([&] { return netlink_.find(*Cidr::parse("172.16.1.3/32")) == nullptr; }));
  std::lock_guard lock(mu_);
  EXPECT_FALSE(hasChain("cali-pri-profile-database"));  // no local user left
}

TEST_F(AgentLoopTest, DriftIsRepairedWithinTheRefreshInterval) {
  startAgent();
  ASSERT_TRUE(waitFor([&] { return health_->ready(); }));
  std::vector<std::string> before;
  {
    std::lock_guard lock(mu_);
    before = filterRules("cali-tw-cali0ef24b3");
    ASSERT_FALSE(before.empty());
    auto out = iptables_.run({{"iptables", "-t", "filter", "-F", "cali-tw-cali0ef24b3"}, ""});
    ASSERT_TRUE(out.isOk());
    ASSERT_EQ(out->exitCode, 0) << out->err;
    ASSERT_TRUE(filterRules("cali-tw-cali0ef24b3").empty());
  }
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(waitFor([&] { return filterRules("cali-tw-cali0ef24b3") == before; }, 3s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  EXPECT_GE(metrics_->value(metric::kResyncs), 1);
}

TEST_F(AgentLoopTest, FailedRestoreIsRetriedWithBackoff) {
  startAgent();
  ASSERT_TRUE(waitFor([&] { return health_->ready(); }));
  {
    std::lock_guard lock(mu_);
    iptables_.failNextRestore(3);
  }
  write(R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: deny-db}
spec:
  selector: "service == 'database'"
  ingress: [{action: Deny}]
)");
  ASSERT_TRUE(waitFor([&] { return !chainsStartingWith("cali-pi-").empty(); }));
  ASSERT_TRUE(waitFor([&] { return health_->ready(); }));
  EXPECT_GE(metrics_->value(metric::kApplyErrors), 3);
  EXPECT_GE(metrics_->value(metric::kRestoreErrors), 3);
}

// One rule the kernel refuses (the fake refuses any rule naming 10.66.6.6, as a kernel lacking
// a module would): it is replaced by a DROP, named in the log, a metric and the readiness body,
// and every later change still reaches the kernel at once.
TEST_F(AgentLoopTest, RefusedRuleIsIsolatedNamedAndLaterChangesStillApply) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(200);
  spdlog::default_logger()->sinks().push_back(sink);
  struct Unhook {
    std::shared_ptr<spdlog::sinks::sink> sink;
    ~Unhook() {
      auto& sinks = spdlog::default_logger()->sinks();
      sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
    }
  } unhook{sink};
  startAgent();
  ASSERT_TRUE(waitFor([&] { return health_->ready(); }));
  {
    std::lock_guard lock(mu_);
    iptables_.refuseRulesContaining("10.66.6.6");
  }
  write(R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: bad-nets}
spec:
  selector: "service == 'database'"
  types: [Ingress]
  ingress:
  - {action: Allow, source: {nets: [10.66.6.6/32]}}
  - {action: Allow, protocol: TCP, destination: {ports: [80]}}
)");
  ASSERT_TRUE(waitFor([&] {
    auto rules = filterRules("cali-pi-gnp/bad-nets");
    return rules.size() == 4 && rules[0].find("-j DROP") != std::string::npos;
  }));
  {
    std::lock_guard lock(mu_);
    auto rules = filterRules("cali-pi-gnp/bad-nets");
    EXPECT_NE(rules[2].find("--dports 80"), std::string::npos) << rules[2];  // the rest is there
    std::string tw;
    for (const auto& r : filterRules("cali-tw-cali0ef24b3")) tw += r + "\n";
    EXPECT_NE(tw.find("cali-pi-gnp/bad-nets"), std::string::npos) << tw;
  }
  // A later change of another endpoint's policy reaches the kernel within the usual time.
  auto start = std::chrono::steady_clock::now();
  write(kLaterPolicy);
  ASSERT_TRUE(waitFor([&] {
    std::string fw;
    for (const auto& r : filterRules("cali-fw-cali0ef24b1")) fw += r;
    return fw.find("cali-po-gnp/later") != std::string::npos;
  }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  ASSERT_TRUE(waitFor([&] { return health_->ready(); }));
  const std::string name = "policy bad-nets ingress rule 0";
  EXPECT_NE(health_->detail().find(name), std::string::npos) << health_->detail();
  auto body = statusEndpoint("/readiness", *health_, *metrics_, true, true).body;
  EXPECT_NE(body.find("refused by the kernel: " + name), std::string::npos) << body;
  EXPECT_NE(metrics_->render().find("brindle_dataplane_refused_rules{kind=\"policy\",name=\"bad-"
                                    "nets\",direction=\"ingress\",rule=\"0\",ip_version=\"4\"} 1"),
            std::string::npos)
      << metrics_->render();
  bool logged = false;
  for (const auto& line : sink->last_formatted()) {
    logged = logged || line.find("the kernel refuses " + name) != std::string::npos;
  }
  EXPECT_TRUE(logged);

  // The policy without the refused rule: the stand-in and its reports go.
  write(R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: bad-nets}
spec:
  selector: "service == 'database'"
  types: [Ingress]
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [80]}}]
)");
  ASSERT_TRUE(waitFor([&] { return filterRules("cali-pi-gnp/bad-nets").size() == 2; }));
  ASSERT_TRUE(waitFor([&] { return health_->detail().empty(); }));
  EXPECT_EQ(metrics_->render().find("brindle_dataplane_refused_rules{"), std::string::npos);
}

// Bad values written into the store (another tool, a bad migration) are logged once each, with
// the key and the reason, counted, and skipped; everything else is still applied.
// The agent's log lines while it lives (a sink on the default logger).
struct LogCapture {
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink =
      std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(200);
  LogCapture() { spdlog::default_logger()->sinks().push_back(sink); }
  ~LogCapture() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  }
  // Lines that contain both `a` and `b`.
  int count(const std::string& a, const std::string& b) const {
    int n = 0;
    for (const auto& line : sink->last_formatted()) {
      n += line.find(a) != std::string::npos && line.find(b) != std::string::npos;
    }
    return n;
  }
};

TEST_F(AgentLoopTest, BadStoredValuesAreLoggedOnceCountedAndSkipped) {
  LogCapture log;
  auto countLines = [&](const std::string& a, const std::string& b) { return log.count(a, b); };
  const std::string notJson = model::resourceKey(model::Kind::kGlobalNetworkPolicy, "", "broken");
  const std::string badSelector =
      model::resourceKey(model::Kind::kGlobalNetworkPolicy, "", "bad-selector");
  ASSERT_TRUE(client_->create(notJson, "{not json"));
  startAgent();
  ASSERT_TRUE(waitFor([&] { return health_->ready(); }));
  ASSERT_TRUE(client_->create(badSelector,
                              R"({"apiVersion":"projectcalico.org/v3",)"
                              R"("kind":"GlobalNetworkPolicy","metadata":)"
                              R"({"name":"bad-selector"},"spec":{"selector":"((("}})"));
  ASSERT_TRUE(waitFor([&] { return metrics_->value(metric::kBadValues) == 2; }));
  // A later valid change is still applied.
  write(kLaterPolicy);
  ASSERT_TRUE(waitFor([&] { return hasChain("cali-po-gnp/later"); }));
  std::this_thread::sleep_for(400ms);  // past a refresh interval: nothing is logged again
  EXPECT_EQ(countLines("skipped bad datastore value at " + notJson, "JSON"), 1);
  EXPECT_EQ(countLines("skipped bad datastore value at " + badSelector, "selector"), 1);
  EXPECT_EQ(metrics_->value(metric::kBadValuesTotal), 2);
  EXPECT_NE(metrics_->render().find("brindle_datastore_bad_values 2"), std::string::npos);

  // Another bad value at the same key is logged again; a fix and a delete are logged as info.
  ASSERT_TRUE(client_->update(notJson, "[]", 0));
  ASSERT_TRUE(waitFor([&] { return metrics_->value(metric::kBadValuesTotal) == 3; }));
  EXPECT_EQ(countLines("skipped bad datastore value at " + notJson, ""), 2);
  ASSERT_TRUE(client_->remove(notJson, 0));
  write(R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: bad-selector}
spec: {selector: "service == 'database'", types: [Ingress], ingress: [{action: Allow}]}
)");
  ASSERT_TRUE(waitFor([&] { return metrics_->value(metric::kBadValues) == 0; }));
  ASSERT_TRUE(waitFor([&] { return hasChain("cali-pi-gnp/bad-selector"); }));
  EXPECT_EQ(countLines(notJson + " is no longer bad", ""), 1);
  EXPECT_EQ(countLines(badSelector + " is no longer bad", ""), 1);
}

// The same on etcd, the bad value written with etcdctl as another tool would (ctest
// agent_loop_etcd: needs etcd).
class AgentLoopEtcd : public AgentLoopTest {};

TEST_F(AgentLoopEtcd, BadValueWrittenWithEtcdctlIsLoggedOnceAndSkipped) {
  LogCapture log;
  testutil::EtcdCluster etcd(1);
  datastore::etcd::EtcdOptions options;
  options.endpoints = etcd.endpoints();
  auto client = datastore::etcd::openEtcdClient(options);
  ASSERT_TRUE(client) << client.message();
  client_ = std::move(*client);
  store_ = std::make_unique<resources::ResourceStore>(*client_);
  write(kLab);
  const std::string key = model::resourceKey(model::Kind::kGlobalNetworkPolicy, "", "broken");
  etcd.runOrThrow(etcd.etcdctlCommand("put " + key + " '{not json'"));
  startAgent();
  ASSERT_TRUE(waitFor([&] { return health_->ready(); }));
  ASSERT_TRUE(waitFor([&] { return metrics_->value(metric::kBadValues) == 1; }));
  write(R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: later}
spec: {selector: "service == 'frontend'", types: [Egress], egress: [{action: Allow}]}
)");
  ASSERT_TRUE(waitFor([&] { return hasChain("cali-po-gnp/later"); }));
  std::this_thread::sleep_for(400ms);  // past a refresh interval: nothing is logged again
  EXPECT_EQ(log.count("skipped bad datastore value at " + key, "not valid JSON"), 1);
  EXPECT_EQ(metrics_->value(metric::kBadValuesTotal), 1);
  etcd.runOrThrow(etcd.etcdctlCommand("del " + key));
  ASSERT_TRUE(waitFor([&] { return metrics_->value(metric::kBadValues) == 0; }));
  EXPECT_EQ(log.count(key + " is no longer bad", ""), 1);
  stopAgent();  // before etcd goes
}

TEST_F(AgentLoopTest, StopLeavesRulesAndRestartWritesNothing) {
  startAgent();
  ASSERT_TRUE(waitFor([&] { return health_->ready(); }));
  stopAgent();
  EXPECT_EQ(reason_, StopReason::kStopped);
  std::string saved;
  int restores = 0, ipsetRestores = 0;
  {
    std::lock_guard lock(mu_);
    saved = iptables_.save(IpVersion::kV4, "filter");
    EXPECT_TRUE(hasChain("cali-tw-cali0ef24b3"));  // nothing flushed on stop
    restores = iptables_.restoreCalls();
    ipsetRestores = ipset_.restoreCalls();
  }
  startAgent();
  ASSERT_TRUE(waitFor([&] { return health_->ready(); }));
  std::lock_guard lock(mu_);
  EXPECT_EQ(iptables_.restoreCalls(), restores);  // the same state: read, compared, nothing written
  EXPECT_EQ(ipset_.restoreCalls(), ipsetRestores);
  EXPECT_EQ(iptables_.save(IpVersion::kV4, "filter"), saved);
}

TEST_F(AgentLoopTest, RouteWaitsForItsInterfaceThenAppears) {
  startAgent();
  ASSERT_TRUE(waitFor([&] { return health_->ready(); }));
  write(R"(
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: n1-k8s-late-eth0, namespace: default, labels: {service: frontend}}
spec: {node: n1, orchestrator: k8s, workload: late, endpoint: eth0, interfaceName: calilate01,
       ipNetworks: [172.16.1.7/32]}
)");
  ASSERT_TRUE(waitFor([&] { return hasChain("cali-tw-calilate01"); }));
  {
    std::lock_guard lock(mu_);
    EXPECT_EQ(netlink_.find(*Cidr::parse("172.16.1.7/32")), nullptr);  // no interface yet
    netlink_.addLink("calilate01");  // the CNI plugin creates the veth later
  }
  EXPECT_TRUE(waitFor([&] { return netlink_.find(*Cidr::parse("172.16.1.7/32")) != nullptr; }, 2s));
}

TEST_F(AgentLoopTest, FelixConfigurationChangeStopsForRestart) {
  startAgent();
  ASSERT_TRUE(waitFor([&] { return health_->ready(); }));
  write(R"(
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: default}
spec: {iptablesRefreshInterval: 10s}
)");
  // The loop ends by itself (the binary then re-executes to load the new settings).
  for (int i = 0; i < 500 && !done_; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(done_);
  stopAgent();
  EXPECT_EQ(reason_, StopReason::kConfigChanged);
}

}  // namespace
}  // namespace brindle::agent
