// explain against real traffic (root, label `integration`): brindle-agent in a node namespace,
// four workloads behind cali veths, a tier that passes, a namespaced policy, the seed's
// deny-first profile and namespace profiles; for every probe (each ordered pair of workloads,
// TCP 3306 and 80, UDP 5353, ICMP echo) the model's verdict, the kernel walk's (iptables-save
// and ipset save read in the node namespace) and what the packet really did are the same.
// On the nftables backend (BRINDLE_TEST_DATAPLANE=nftables) the model must still equal the real
// traffic; the kernel walk reads iptables only, so there it must refuse, naming nftables, and
// never claim a mismatch.
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>

#include "datastore/local/local_store.h"
#include "explain/generator.h"  // tests/explain
#include "explain/live_path.h"
#include "explain/model_path.h"
#include "resources/resource_store.h"
#include "testutil/dataplane_view.h"
#include "testutil/shell.h"
#include "testutil/temp_dir.h"

namespace brindle::explain {
namespace {

using namespace std::chrono_literals;
using testutil::sh;

struct Wl {
  std::string name, ns, iface, ip, labels, profiles;
};
const std::vector<Wl> kWorkloads = {
    {"fe1", "default", "cali0ef24b1", "172.16.1.1", "app: frontend", "kns.default"},
    {"fe2", "default", "cali0ef24b2", "172.16.1.2", "app: frontend", "kns.default"},
    {"db", "default", "cali0ef24b3", "172.16.1.3", "app: database",
     "kns.default, profile-database"},
    {"web", "prod", "caliweb00001", "172.16.2.1", "app: web", "kns.prod"},
};

std::string resourcesYaml() {
  std::string y;
  for (const auto& w : kWorkloads) {
    y += testing::workload("node1", w.ns, w.name, w.iface, w.ip, w.labels, w.profiles);
  }
  y += R"(apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: profile-database}
spec:
  ingress:
  - action: Deny
  - action: Allow
    protocol: TCP
    source: {selector: app == 'frontend'}
    destination: {ports: [3306]}
  egress:
  - action: Allow
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.default}
spec:
  ingress:
  - action: Allow
    source: {namespaceSelector: projectcalico.org/name == 'default'}
  egress:
  - action: Allow
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.prod}
spec:
  ingress:
  - action: Allow
    protocol: TCP
    destination: {ports: [80]}
  egress:
  - action: Allow
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 10, defaultAction: Pass}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.no-udp}
spec:
  tier: security
  selector: all()
  types: [Ingress]
  ingress:
  - action: Deny
    protocol: UDP
    source: {notNets: [172.16.1.0/24]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: db, namespace: default}
spec:
  order: 10
  selector: app == 'database'
  types: [Ingress]
  ingress:
  - action: Allow
    protocol: TCP
    source: {selector: app == 'frontend'}
    destination: {ports: [3306]}
  - action: Allow
    protocol: ICMP
    icmp: {type: 8}
)";
  return y;
}

class ExplainE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    prefix_ = "bex" + std::to_string(::getpid() % 100000) + "-";
    node_ = prefix_ + "node";
    dataplane_ = testutil::DataplaneView(node_, testutil::testDataplane());
    testutil::must("ip netns add " + node_);
    testutil::must("ip -n " + node_ + " link set lo up");
  }

  // Workloads behind cali veths of the node namespace, each serving `ports`.
  void addWorkloads(const std::vector<Wl>& workloads, const std::vector<std::string>& ports) {
    for (const auto& w : workloads) {
      testutil::addCaliWorkload(node_, prefix_ + w.name, w.iface, w.ip);
      std::vector<std::string> argv = {"ip",
                                       "netns",
                                       "exec",
                                       prefix_ + w.name,
                                       AGENT_PROBE_BINARY,
                                       "serve",
                                       dir_.file("seen-" + w.name + ".log")};
      argv.insert(argv.end(), ports.begin(), ports.end());
      servers_.push_back(testutil::spawnDaemon(argv, dir_.file("probe-" + w.name + ".out")));
    }
  }

  // A fresh store holding `resources` and an agent (node "node1") on it.
  void startAgent(const std::vector<model::Resource>& resources) {
    testutil::killAndReap(agent_);
    const std::string store = dir_.file("store-" + std::to_string(++stores_) + ".db");
    auto client = datastore::openLocalStore(store);
    ASSERT_TRUE(client) << client.message();
    resources::ResourceStore rs(**client);
    auto w = rs.write(resources::WriteMode::kCreate, resources);
    ASSERT_TRUE(w) << w.message();
    storePath_ = store;
    agent_ = testutil::spawnDaemon(
        {"ip", "netns", "exec", node_, BRINDLE_AGENT_BINARY, "--nodename", "node1"},
        dir_.file("agent.log"),
        {"DATASTORE_TYPE=local", "BRINDLE_STORE_PATH=" + store, "FELIX_HEALTHENABLED=true",
         "FELIX_HEALTHPORT=9099", "FELIX_PROMETHEUSMETRICSENABLED=false",
         testutil::nftablesModeEnv(dataplane_.dataplane())});
  }

  // This agent's /readiness: "ready" once in sync and its first apply succeeded (docs/agent.md).
  bool agentReady() const {
    return sh("ip netns exec " + node_ + " curl -s -m 1 http://127.0.0.1:9099/readiness").out ==
           "ready\n";
  }

  struct Probe {
    const Wl* from;
    const Wl* to;
    std::string proto;
    ModelPath model;
    LivePath live;
    std::string text() const { return from->name + " -> " + to->name + " " + proto; }
  };

  // Every ordered pair of `workloads` with each protocol, explained from the model.
  static std::vector<Probe> probesOf(const Cluster& cluster, const std::vector<Wl>& workloads,
                                     const std::vector<std::string>& protos) {
    std::vector<Probe> probes;
    for (const auto& from : workloads) {
      for (const auto& to : workloads) {
        if (&from == &to) continue;
        for (const auto& proto : protos) {
          auto f = resolvePeer(cluster, from.ns + "/" + from.name);
          auto t = resolvePeer(cluster, to.ns + "/" + to.name);
          EXPECT_TRUE(f && t);
          if (!f || !t) continue;
          probes.push_back(
              {&from, &to, proto, explainModel(cluster, *f, *t, *parsePacket(proto)), {}});
        }
      }
    }
    return probes;
  }

  // Waits (bounded) until the workloads' routes are there and the agent is ready, and (iptables)
  // the kernel walk of the node namespace agrees with the model on every probe: that is when the
  // agent has programmed the policy. Then sends the real packets (all at once: a denied one
  // waits out its timeout) and checks that the model and (iptables) the kernel walk say what
  // happened; on nftables the walk refuses, naming the backend. Returns how many were allowed.
  int compareWithTraffic(std::vector<Probe>& probes) {
    const StateSource kernel = [&](const std::string& node, bool v6) -> Result<KernelState> {
      if (node != "node1") return makeError(ErrorCode::kNotFound, "no node " + node);
      return KernelState::fromNetns(node_, v6);
    };
    auto agree = [&] {
      // The routes to the workloads come last in the agent's batch: traffic waits for them too.
      const std::string routes = sh("ip -n " + node_ + " route show").out;
      for (const auto& p : probes) {
        if (routes.find(p.to->ip + " dev " + p.to->iface + " ") == std::string::npos) return false;
      }
      if (!agentReady()) return false;
      if (dataplane_.nftables()) return true;
      for (auto& p : probes) {
        auto l = explainLive(p.model, kernel);
        if (!l) return false;
        p.live = *l;
        if (l->cannotEvaluate || !l->mismatches.empty()) return false;
      }
      return true;
    };
    const auto until = std::chrono::steady_clock::now() + 20s;
    bool agreed = false;
    while (!(agreed = agree()) && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(200ms);
    }
    EXPECT_TRUE(agreed) << "routes, readiness or a kernel walk agreeing with the model still "
                           "missing after 20 s";
    if (dataplane_.nftables()) {
      EXPECT_EQ(dataplane_.otherBackendLeftovers(), "");
      auto l = explainLive(probes.at(0).model, kernel);
      EXPECT_FALSE(l) << "the kernel walk must not walk a node on nftables";
      if (!l) {
        EXPECT_NE(l.message().find("runs the nftables dataplane"), std::string::npos);
      }
    }
    for (size_t i = 0; i < probes.size() && !agreed; ++i) {
      const auto& l = probes[i].live;
      if (l.cannotEvaluate) ADD_FAILURE() << probes[i].text() << ": " << l.walks.back().reason;
      for (const auto& m : l.mismatches) ADD_FAILURE() << probes[i].text() << ": " << m;
    }
    std::vector<std::future<bool>> results;
    for (const auto& p : probes) {
      results.push_back(
          std::async(std::launch::async, [&] { return traffic(*p.from, *p.to, p.proto); }));
    }
    int allowed = 0;
    for (size_t i = 0; i < probes.size(); ++i) {
      const bool real = results[i].get();
      const Probe& p = probes[i];
      EXPECT_EQ(p.model.allowed, real) << p.text() << ": model " << p.model.egress.decision.text()
                                       << " / " << p.model.ingress.decision.text();
      if (!dataplane_.nftables()) {
        EXPECT_EQ(p.live.allowed, real) << p.text();
      }
      allowed += real;
    }
    return allowed;
  }

  void TearDown() override {
    testutil::killAndReap(agent_);
    for (auto& pid : servers_) testutil::killAndReap(pid);
    testutil::deleteNamespaces(prefix_);
    if (HasFailure()) {
      std::fprintf(stderr, "--- agent log (tail) ---\n%s\n",
                   sh("tail -30 " + dir_.file("agent.log")).out.c_str());
    }
  }

  bool traffic(const Wl& from, const Wl& to, const std::string& proto) {
    const std::string exec = "ip netns exec " + prefix_ + from.name + " ";
    if (proto == "icmp") return sh(exec + "ping -c1 -W1 -q " + to.ip).code == 0;
    const size_t slash = proto.find('/');
    return sh(exec + AGENT_PROBE_BINARY + " connect " + proto.substr(0, slash) + " " + to.ip + " " +
              proto.substr(slash + 1))
               .code == 0;
  }

  testutil::TempDir dir_;
  std::string prefix_, node_, storePath_;
  testutil::DataplaneView dataplane_{"", testutil::testDataplane()};
  std::vector<pid_t> servers_;
  pid_t agent_ = -1;
  int stores_ = 0;
};

TEST_F(ExplainE2eTest, ModelAndLiveEqualRealTrafficForEveryProbe) {
  addWorkloads(kWorkloads, {"tcp:80", "tcp:3306", "udp:5353"});
  const auto resources = testing::decode(resourcesYaml());
  ASSERT_NO_FATAL_FAILURE(startAgent(resources));
  const Cluster cluster = Cluster::load(resources);
  ASSERT_TRUE(cluster.warnings.empty());
  auto probes = probesOf(cluster, kWorkloads, {"tcp/3306", "tcp/80", "udp/5353", "icmp"});
  const int allowed = compareWithTraffic(probes);
  std::printf("%d of %zu probes allowed\n", allowed, probes.size());
  // The lab is not trivially open or closed.
  EXPECT_GT(allowed, 5);
  EXPECT_LT(allowed, static_cast<int>(probes.size()) - 5);

  // The command line over the same store and namespace: the seed's question, answered twice.
  const std::string ctl =
      std::string("DATASTORE_TYPE=local BRINDLE_STORE_PATH=") + storePath_ + " " +
      BRINDLECTL_BINARY +
      " explain default/fe1 default/db tcp/3306 --live --node-netns node1=" + node_;
  if (dataplane_.nftables()) {
    // --live refuses (iptables only) and says why, without claiming a mismatch; the model answers.
    auto live = sh(ctl + " 2>&1");
    EXPECT_NE(live.code, 0) << live.out;
    EXPECT_NE(live.out.find("runs the nftables dataplane"), std::string::npos) << live.out;
    EXPECT_EQ(live.out.find("MISMATCH"), std::string::npos) << live.out;
    const std::string model = ctl.substr(0, ctl.find(" --live"));
    auto text = sh(model + " 2>&1");
    EXPECT_EQ(text.code, 0) << text.out;
    EXPECT_NE(text.out.find("decided by: policy default/db (tier default) rule 0: Allow"),
              std::string::npos)
        << text.out;
    auto json = sh(model + " -o json");
    ASSERT_EQ(json.code, 0) << json.out;
    EXPECT_EQ(model::Json::parse(json.out)["verdict"], "allowed");
    return;
  }
  auto text = sh(ctl + " 2>&1");
  EXPECT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find("decided by: policy default/db (tier default) rule 0: Allow"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("live verdict: allowed"), std::string::npos) << text.out;
  auto json = sh(ctl + " -o json");
  ASSERT_EQ(json.code, 0) << json.out;
  auto j = model::Json::parse(json.out);
  EXPECT_EQ(j["verdict"], "allowed");
  EXPECT_EQ(j["live"]["verdict"], "allowed");
  EXPECT_TRUE(j["live"]["mismatches"].empty());
}

// Generated clusters (tests/explain/generator.h) on one node: real traffic for every probe.
TEST_F(ExplainE2eTest, GeneratedClustersEqualRealTraffic) {
  std::vector<Wl> workloads;
  for (int i = 0; i < 6; ++i) {
    workloads.push_back({"w" + std::to_string(i), i % 2 ? "ns1" : "ns2",
                         "caliw" + std::to_string(i),
                         "10.0." + std::to_string(i / 3) + "." + std::to_string(i + 1), "", ""});
  }
  addWorkloads(workloads, {"tcp:80", "tcp:443", "udp:53"});
  // The three of the first 40 seeds whose model lets the most probes through (most drawn
  // clusters on one node deny nearly everything, which says little).
  const std::vector<std::string> protos = {"tcp/80", "tcp/443", "udp/53", "icmp"};
  std::vector<std::pair<int, unsigned>> open;
  for (unsigned seed = 1; seed <= 40; ++seed) {
    const Cluster cluster = Cluster::load(testing::generate(seed, "node1", "node1"));
    int n = 0;
    for (const auto& p : probesOf(cluster, workloads, protos)) n += p.model.allowed;
    open.push_back({n, seed});
  }
  std::sort(open.rbegin(), open.rend());
  int total = 0, allowed = 0;
  for (int k = 0; k < 3; ++k) {
    const unsigned seed = open[static_cast<size_t>(k)].second;
    const auto resources = testing::generate(seed, "node1", "node1");
    ASSERT_NO_FATAL_FAILURE(startAgent(resources));
    const Cluster cluster = Cluster::load(resources);
    auto probes = probesOf(cluster, workloads, protos);
    SCOPED_TRACE("seed " + std::to_string(seed));
    allowed += compareWithTraffic(probes);
    total += static_cast<int>(probes.size());
  }
  std::printf("%d of %d generated probes allowed\n", allowed, total);
  EXPECT_GT(allowed, total / 10);
}

}  // namespace
}  // namespace brindle::explain
