// End-to-end: brindle-agent as a real process inside a node namespace, workloads in their own
// namespaces behind `cali` veths (Calico's wiring), resources written to a local store, and each
// case a row "from, to, proto, port -> expected" checked with real TCP/UDP/ICMP. Root only.
// The agent runs on the dataplane backend BRINDLE_TEST_DATAPLANE names (ctest runs both); what it
// programmed is read through testutil::DataplaneView.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "agent/http_server.h"
#include "dataplane/chain.h"
#include "datastore/local/local_store.h"
#include "ipam/ipam.h"
#include "model/codec.h"
#include "os/netns.h"
#include "resources/resource_store.h"
#include "testutil/dataplane_view.h"
#include "testutil/metric_value.h"
#include "testutil/shell.h"
#include "testutil/temp_dir.h"

namespace brindle::agent {
namespace {

using namespace std::chrono_literals;
using testutil::killAndReap;
using testutil::sh;
using testutil::ShellResult;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Workload {
  std::string ns;     // namespace
  std::string iface;  // host side (node namespace)
  std::string ip;
};

struct Row {
  std::string from, to, proto;  // proto: tcp, udp, icmp
  int port;
  bool allowed;
};

class AgentE2eTest : public ::testing::Test {
 protected:
  static inline std::string prefix_;
  static inline std::string node_;
  static inline std::unique_ptr<testutil::TempDir> dir_;
  static inline std::map<std::string, Workload> hosts_;  // name -> namespace/address
  static inline std::vector<pid_t> servers_;
  static inline pid_t agent_ = -1;
  static inline int port_ = 0;  // status port of the agent (loopback of the node namespace)
  static inline bool setupOk_ = false;
  static inline std::unique_ptr<testutil::DataplaneView> view_;

  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    prefix_ = "bag" + std::to_string(::getpid() % 100000) + "-";
    node_ = prefix_ + "node";
    dir_ = std::make_unique<testutil::TempDir>();
    port_ = 19000 + ::getpid() % 1000;
    auto must = [](const std::string& cmd) {
      auto r = sh(cmd);
      if (r.code != 0) throw std::runtime_error(cmd + ": " + r.out);
    };
    try {
      view_ = std::make_unique<testutil::DataplaneView>(node_, testutil::testDataplane());
      must("ip netns add " + node_);
      must("ip -n " + node_ + " link set lo up");
      // Seed lab workloads (S17) and the policy-feature workloads, all local to this node.
      addWorkload("fe1", "cali0ef24b1", "172.16.1.1");
      addWorkload("fe2", "cali0ef24b2", "172.16.1.2");
      addWorkload("db", "cali0ef24b3", "172.16.1.3");
      addWorkload("a", "calia0000001", "10.65.0.1");
      addWorkload("b", "calib0000002", "10.65.0.2");
      addWorkload("c", "calic0000003", "10.65.0.3");
      addWorkload("d", "calid0000004", "10.65.0.4");
      addWorkload("e", "calie0000005", "10.65.0.5");
      addWorkload("f", "calif0000006", "10.65.0.6");
      addWorkload("g", "calig0000007", "10.65.0.7");
      addWorkload("ta", "calit0000008", "10.65.0.8");  // the tier tests' client and server
      addWorkload("tb", "calit0000009", "10.65.0.9");
      must("ip -n " + hosts_["a"].ns + " addr add 10.65.0.77/32 dev eth0");  // for spoofing
      // Dual-stack workloads (IPv6 through the same cali wiring, via the host's link-local).
      addWorkload("v6a", "caliv6a000001", "10.65.0.11", "fd00:65::11");
      addWorkload("v6b", "caliv6b000002", "10.65.0.12", "fd00:65::12");
      addWorkload("v6d", "caliv6d000004", "10.65.0.14", "fd00:65::14");
      // An outside network (nat-outgoing, floating IP) and a client of a host endpoint.
      addOutside("ext", "ext0", "10.99.0.1", "10.99.0.2");
      must("ip -n " + hosts_["ext"].ns + " route add 10.99.0.100/32 via 10.99.0.1");
      addOutside("cl", "hep0", "10.98.0.1", "10.98.0.2");
      hosts_["node"] = {node_, "", "10.98.0.1"};
      for (const auto& [name, w] : hosts_) {
        std::vector<std::string> ports = {"tcp:80",   "tcp:81",   "tcp:3306",
                                          "tcp:8080", "tcp:5000", "tcp:5001",
                                          "tcp:6005", "tcp:6011", "udp:5353"};
        if (name == "node") ports = {"tcp:22", "tcp:8080"};
        std::vector<std::string> argv = {"ip",
                                         "netns",
                                         "exec",
                                         w.ns,
                                         AGENT_PROBE_BINARY,
                                         "serve",
                                         dir_->file("seen-" + name + ".log")};
        argv.insert(argv.end(), ports.begin(), ports.end());
        servers_.push_back(testutil::spawnDaemon(argv, dir_->file("probe-" + name + ".out")));
      }
      startAgent();
      setupOk_ = true;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "set-up failed: %s\n", e.what());
    }
  }

  static void TearDownTestSuite() {
    killAndReap(agent_);
    for (auto& pid : servers_) killAndReap(pid);
    servers_.clear();
    // Always delete our namespaces (and only ours), also after a failure.
    auto list = sh("ip netns list");
    std::istringstream in(list.out);
    std::string line;
    while (std::getline(in, line)) {
      std::string name = line.substr(0, line.find(' '));
      if (!prefix_.empty() && name.rfind(prefix_, 0) == 0) sh("ip netns delete " + name);
    }
    if (dir_ && ::testing::UnitTest::GetInstance()->failed_test_count() > 0) {
      std::fprintf(stderr, "--- agent log (tail) ---\n%s\n",
                   sh("tail -40 " + dir_->file("agent.log")).out.c_str());
    }
    dir_.reset();
  }

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    ASSERT_TRUE(setupOk_) << "lab set-up failed";
  }

  static void addWorkload(const std::string& name, const std::string& iface, const std::string& ip,
                          const std::string& ip6 = "") {
    std::string ns = prefix_ + name;
    std::string n = " -n " + node_ + " ";
    if (!ip6.empty()) {
      // No duplicate-address detection: addresses usable at once, on both ends of the veth.
      sh("ip netns add " + ns);
      for (const auto& where : {ns, node_}) {
        sh("ip netns exec " + where + " sysctl -qw net.ipv6.conf.default.accept_dad=0");
        sh("ip netns exec " + where + " sysctl -qw net.ipv6.conf.all.accept_dad=0");
      }
    }
    for (const std::string& cmd :
         {ip6.empty() ? "ip netns add " + ns : std::string("true"),
          "ip" + n + "link add " + iface + " type veth peer name eth0 netns " + ns,
          "ip" + n + "link set " + iface + " up", "ip -n " + ns + " link set lo up",
          "ip -n " + ns + " link set eth0 up", "ip -n " + ns + " addr add " + ip + "/32 dev eth0",
          "ip -n " + ns + " route add 169.254.1.1 dev eth0 scope link",
          "ip -n " + ns + " route add default via 169.254.1.1 dev eth0"}) {
      auto r = sh(cmd);
      if (r.code != 0) throw std::runtime_error(cmd + ": " + r.out);
    }
    // A permanent neighbour for the gateway: no dependency on proxy-ARP (FIELD-NOTES).
    auto r = sh("ip -n " + node_ + " -o link show " + iface);
    std::smatch m;
    std::regex re("link/ether ([0-9a-f:]+)");
    if (!std::regex_search(r.out, m, re)) throw std::runtime_error("no MAC for " + iface);
    sh("ip -n " + ns + " neigh add 169.254.1.1 lladdr " + m[1].str() + " dev eth0 nud permanent");
    if (!ip6.empty()) {
      // IPv6: the workload's default route goes via the host side's link-local address.
      std::string ll;
      for (int i = 0; i < 50 && ll.empty(); ++i) {
        auto a = sh("ip -n " + node_ + " -6 -o addr show dev " + iface + " scope link");
        std::smatch l;
        if (std::regex_search(a.out, l, std::regex("inet6 (fe80::[0-9a-f:]+)/64"))) ll = l[1].str();
        if (ll.empty()) std::this_thread::sleep_for(20ms);
      }
      if (ll.empty()) throw std::runtime_error("no link-local address on " + iface);
      for (const std::string& cmd :
           {"ip -n " + ns + " -6 addr add " + ip6 + "/128 dev eth0 nodad",
            "ip -n " + ns + " -6 route add default via " + ll + " dev eth0"}) {
        auto r6 = sh(cmd);
        if (r6.code != 0) throw std::runtime_error(cmd + ": " + r6.out);
      }
      hosts_[name + "/6"] = {ns, iface, ip6};
    }
    hosts_[name] = {ns, iface, ip};
  }

  static void addOutside(const std::string& name, const std::string& iface,
                         const std::string& nodeIp, const std::string& ip) {
    std::string ns = prefix_ + name;
    for (const std::string& cmd :
         {"ip netns add " + ns,
          "ip -n " + node_ + " link add " + iface + " type veth peer name eth0 netns " + ns,
          "ip -n " + node_ + " addr add " + nodeIp + "/24 dev " + iface,
          "ip -n " + node_ + " link set " + iface + " up", "ip -n " + ns + " link set lo up",
          "ip -n " + ns + " addr add " + ip + "/24 dev eth0",
          "ip -n " + ns + " link set eth0 up"}) {
      auto r = sh(cmd);
      if (r.code != 0) throw std::runtime_error(cmd + ": " + r.out);
    }
    hosts_[name] = {ns, iface, ip};
  }

  static void startAgent() {
    agent_ = testutil::spawnDaemon(
        {"ip", "netns", "exec", node_, BRINDLE_AGENT_BINARY, "--nodename", "node1"},
        dir_->file("agent.log"),
        {"DATASTORE_TYPE=local", "BRINDLE_STORE_PATH=" + dir_->file("store.db"),
         "FELIX_IPTABLESREFRESHINTERVAL=1", "FELIX_IPSETSREFRESHINTERVAL=1",
         "FELIX_HEALTHPORT=" + std::to_string(port_),
         "FELIX_PROMETHEUSMETRICSPORT=" + std::to_string(port_), "FELIX_LOGSEVERITYSCREEN=Info",
         testutil::nftablesModeEnv(view_->dataplane())});
    if (!waitReady(20s))
      throw std::runtime_error("agent not ready: " + readFile(dir_->file("agent.log")));
  }

  // GET on the agent's loopback inside the node namespace.
  static Result<HttpResult> agentGet(const std::string& path) {
    Result<HttpResult> out = makeError(ErrorCode::kUnavailable, "not run");
    Status s = os::runInNetns(node_, [&]() -> Status {
      out = httpGet("127.0.0.1", port_, path);
      return Status::ok();
    });
    if (!s) return s.error();
    return out;
  }

  static double metricValue(const std::string& name) {
    auto r = agentGet("/metrics");
    if (!r) return -1;
    return testutil::metricValue(r->body, name);
  }

  static bool waitReady(std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto r = agentGet("/readiness");
      if (r && r->status == 200) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // Writes resources (YAML) to the store and waits until the agent has applied them.
  static void write(const std::string& yaml,
                    resources::WriteMode mode = resources::WriteMode::kApply) {
    double before = metricValue("brindle_datastore_updates_total");
    auto client = datastore::openLocalStore(dir_->file("store.db"));
    ASSERT_TRUE(client.isOk()) << client.message();
    resources::ResourceStore store(**client);
    auto decoded = model::decodeResources(yaml, "test");
    ASSERT_TRUE(decoded.isOk()) << decoded.message();
    auto w = store.write(mode, decoded->resources);
    ASSERT_TRUE(w.isOk()) << w.message();
    waitApplied(before);
  }

  static void waitApplied(double updatesBefore) {
    auto until = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < until) {
      double seen = metricValue("brindle_datastore_updates_total");
      double applied = metricValue("brindle_applied_datastore_updates");
      if (seen > updatesBefore && applied >= seen) return;
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "agent did not apply the update in 10 s";
  }

  static bool probe(const Row& row, const std::string& src = "") {
    const Workload& from = hosts_.at(row.from);
    const Workload& to = hosts_.at(row.to);
    return probeIp(from, to.ip, row.proto, row.port, src);
  }

  static bool probeIp(const Workload& from, const std::string& ip, const std::string& proto,
                      int port, const std::string& src = "") {
    std::string exec = "ip netns exec " + from.ns + " ";
    if (proto == "icmp") return sh(exec + "ping -c1 -W1 -q " + ip).code == 0;
    if (proto == "icmp6") return sh(exec + "ping -6 -c1 -W1 -q " + ip).code == 0;
    return sh(exec + AGENT_PROBE_BINARY + " connect " + proto + " " + ip + " " +
              std::to_string(port) + (src.empty() ? "" : " " + src))
               .code == 0;
  }

  static void check(const std::vector<Row>& rows) {
    for (const auto& row : rows) {
      bool got = probe(row);
      EXPECT_EQ(got, row.allowed) << row.from << " -> " << row.to << " " << row.proto << "/"
                                  << row.port << ": expected "
                                  << (row.allowed ? "allowed" : "denied") << ", got "
                                  << (got ? "allowed" : "denied");
    }
  }

  // The packets from `src` to udp/5353 counted by a table of the test's own just before
  // (priority raw - 1) or just after (raw + 1) the raw PREROUTING hook, where either backend
  // drops spoofed sources. Counted before and not after: dropped by raw PREROUTING, i.e. by the
  // anti-spoofing rule (its only drop). Works the same on both backends, also where the rules
  // carry no counters; the agent must leave the table alone.
  static constexpr const char* kBracket = "brindle-e2e-bracket";
  static long long bracketCount(const std::string& chain, const std::string& src) {
    auto r = sh("ip netns exec " + node_ + " nft list chain inet " + kBracket + " " + chain);
    std::smatch m;
    const std::regex counted("ip saddr " + std::regex_replace(src, std::regex("\\."), "\\.") +
                             " udp dport 5353 counter packets ([0-9]+)");
    if (!std::regex_search(r.out, m, counted)) {
      ADD_FAILURE() << "no bracket counter for " << src << " in " << chain << ":\n" << r.out;
      return -1;
    }
    return std::stoll(m[1].str());
  }

  // Waits until the metric reaches `atLeast` (false after `timeout`).
  static bool waitMetric(const std::string& name, double atLeast,
                         std::chrono::milliseconds timeout = 10s) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (metricValue(name) >= atLeast) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  // Lines of a probe server's log containing `text`.
  static size_t seenCount(const std::string& host, const std::string& text) {
    std::string seen = readFile(dir_->file("seen-" + host + ".log"));
    size_t n = 0;
    for (size_t at = seen.find(text); at != std::string::npos; at = seen.find(text, at + 1)) ++n;
    return n;
  }

  static std::string seedFile(const std::string& name) {
    std::string text = readFile(std::string(BRINDLE_EXAMPLES_DIR) + "/seed-lab/" + name);
    // One node holds every workload: the seed's slave1/slave2 both become node1.
    text = std::regex_replace(text, std::regex("node: slave[12]"), "node: node1");
    return text;
  }

  // Everything in the node's kernel of either backend, without counters.
  static std::string kernelState() { return view_->kernelState(); }
};

// Test order matters: each scenario builds on the resources of the previous one.

TEST_F(AgentE2eTest, SeedLabAsWritten) {
  write(seedFile("endpoints.yaml") + "\n---\n" + seedFile("policy.yaml") + "\n---\n" +
        seedFile("profile.yaml"));
  // Policy namespace-default admits all traffic inside the namespace: the profile is never
  // consulted.
  check({{"fe1", "db", "tcp", 3306, true},
         {"fe1", "db", "tcp", 80, true},
         {"fe2", "db", "udp", 5353, true},
         {"db", "fe1", "tcp", 80, true},
         {"fe1", "fe2", "icmp", 0, true},
         {"fe2", "db", "icmp", 0, true}});
}

TEST_F(AgentE2eTest, SeedVariantProfileDecidesAndDeniesFirst) {
  // Only the policy's own selector (the first); its ingress source selector stays as written.
  std::string policy =
      std::regex_replace(seedFile("policy.yaml"), std::regex("selector: namespace == 'default'\n"),
                         "selector: namespace == 'default' && service != 'database'\n",
                         std::regex_constants::format_first_only);
  ASSERT_NE(policy.find("service != 'database'"), std::string::npos);
  write(policy);
  // profile-database as written starts with deny: nothing reaches the database.
  check({{"fe1", "db", "tcp", 3306, false},
         {"fe2", "db", "tcp", 3306, false},
         {"fe1", "db", "tcp", 80, false},
         {"fe1", "db", "icmp", 0, false},
         {"fe1", "fe2", "tcp", 80, true},
         {"db", "fe1", "tcp", 80, true}});  // profile-database's egress allows, fe1's policy admits
}

TEST_F(AgentE2eTest, SeedVariantWithoutDenyAdmitsOnlyMysqlFromFrontends) {
  std::string profile = seedFile("profile.yaml");
  auto pos = profile.find("  - action: deny\n");
  ASSERT_NE(pos, std::string::npos);
  profile.erase(pos, std::string("  - action: deny\n").size());
  write(profile);
  check({{"fe1", "db", "tcp", 3306, true},
         {"fe2", "db", "tcp", 3306, true},
         {"fe1", "db", "tcp", 80, false},
         {"fe1", "db", "udp", 5353, false},
         {"fe1", "db", "icmp", 0, false},
         {"db", "fe1", "tcp", 80, true}});
}

constexpr const char* kFeatures = R"(
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: pool1}
  spec: {cidr: 10.65.0.0/16, natOutgoing: true}
- apiVersion: projectcalico.org/v3
  kind: Profile
  metadata: {name: open}
  spec: {ingress: [{action: Allow}], egress: [{action: Allow}]}
- apiVersion: projectcalico.org/v3
  kind: Profile
  metadata: {name: pb}
  spec:
    ingress:
    - {action: Allow, protocol: TCP, destination: {ports: [8080]}}
    - {action: Allow, protocol: UDP, destination: {ports: [5353]}}
    egress: [{action: Allow}]
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node1-k8s-a-eth0, namespace: default, labels: {app: a}}
  spec: {node: node1, orchestrator: k8s, workload: a, endpoint: eth0, interfaceName: calia0000001,
         ipNetworks: [10.65.0.1/32], profiles: [open]}
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node1-k8s-b-eth0, namespace: default, labels: {app: b}}
  spec: {node: node1, orchestrator: k8s, workload: b, endpoint: eth0, interfaceName: calib0000002,
         ipNetworks: [10.65.0.2/32], profiles: [pb]}
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node1-k8s-c-eth0, namespace: default, labels: {app: c}}
  spec: {node: node1, orchestrator: k8s, workload: c, endpoint: eth0, interfaceName: calic0000003,
         ipNetworks: [10.65.0.3/32], profiles: [open]}
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node1-k8s-d-eth0, namespace: default, labels: {app: d}}
  spec: {node: node1, orchestrator: k8s, workload: d, endpoint: eth0, interfaceName: calid0000004,
         ipNetworks: [10.65.0.4/32]}
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node1-k8s-e-eth0, namespace: default, labels: {app: e}}
  spec: {node: node1, orchestrator: k8s, workload: e, endpoint: eth0, interfaceName: calie0000005,
         ipNetworks: [10.65.0.5/32], profiles: [open],
         ipNATs: [{internalIP: 10.65.0.5, externalIP: 10.99.0.100}]}
- apiVersion: projectcalico.org/v3
  kind: GlobalNetworkPolicy
  metadata: {name: a-deny-c}
  spec:
    order: 10
    selector: app == 'a'
    types: [Ingress]
    ingress: [{action: Deny, protocol: TCP, source: {selector: app == 'c'}, destination: {ports: [80]}}]
- apiVersion: projectcalico.org/v3
  kind: GlobalNetworkPolicy
  metadata: {name: a-allow}
  spec:
    order: 20
    selector: app == 'a'
    types: [Ingress]
    ingress: [{action: Allow}]
- apiVersion: projectcalico.org/v3
  kind: GlobalNetworkPolicy
  metadata: {name: b-pass}
  spec:
    selector: app == 'b'
    types: [Ingress]
    ingress: [{action: Pass}]
- apiVersion: projectcalico.org/v3
  kind: GlobalNetworkPolicy
  metadata: {name: c-egress}
  spec:
    selector: app == 'c'
    types: [Egress]
    egress: [{action: Allow, protocol: TCP, destination: {ports: [80, 81]}}]
- apiVersion: projectcalico.org/v3
  kind: GlobalNetworkPolicy
  metadata: {name: e-nets}
  spec:
    selector: app == 'e'
    types: [Ingress]
    ingress:
    - {action: Allow, protocol: TCP, source: {nets: [10.65.0.2/32]}, destination: {ports: [5000]}}
    - {action: Allow, protocol: TCP, source: {notNets: [10.65.0.2/32]}, destination: {ports: [5001]}}
    - {action: Allow, protocol: TCP, destination: {ports: ["6000:6010"]}}
)";

TEST_F(AgentE2eTest, PolicyFeatures) {
  write(kFeatures);
  check({
      // Ordered policies: a-deny-c (order 10) before a-allow (order 20).
      {"c", "a", "tcp", 80, false},
      {"c", "a", "tcp", 81, true},
      {"b", "a", "tcp", 80, true},
      // Pass hands b's ingress to its profile pb (tcp/8080, udp/5353 only).
      {"a", "b", "tcp", 8080, true},
      {"a", "b", "tcp", 80, false},
      {"a", "b", "udp", 5353, true},
      // Egress policy: c may only send tcp/80 and tcp/81.
      {"c", "e", "tcp", 6005, false},
      {"c", "a", "icmp", 0, false},
      // Deny by default: d has neither policy nor profile.
      {"a", "d", "tcp", 80, false},
      {"a", "d", "icmp", 0, false},
      {"d", "a", "tcp", 81, false},
      // nets / notNets.
      {"b", "e", "tcp", 5000, true},
      {"a", "e", "tcp", 5000, false},
      {"a", "e", "tcp", 5001, true},
      {"b", "e", "tcp", 5001, false},
      // Port range 6000:6010.
      {"a", "e", "tcp", 6005, true},
      {"a", "e", "tcp", 6011, false},
  });
}

// The probes above passed through the backend under test and no other: its rules are in the
// kernel, the other backend holds nothing of ours and counted no write.
TEST_F(AgentE2eTest, OnlyTheSelectedBackendIsProgrammed) {
  EXPECT_TRUE(view_->programmed()) << view_->ours();
  EXPECT_TRUE(view_->hasChain("filter", "cali-tw-calia0000001")) << view_->ours();
  EXPECT_TRUE(view_->hasChain("filter", "cali-FORWARD")) << view_->ours();
  EXPECT_EQ(view_->otherBackendLeftovers(), "");
  EXPECT_EQ(view_->rulesWithoutId(), "") << "rules that map back to no policy rule";
  EXPECT_GT(metricValue(view_->writesMetric()), 0) << view_->writesMetric();
  if (view_->nftables()) {
    // Dispatch to the workload chains is one lookup by device group, not a walk: the interface
    // carries its group, the pair set admits (interface, group), the map goes to the group's
    // chains.
    const std::string dispatch = view_->chainRules("filter", "cali-from-wl-dispatch");
    EXPECT_NE(dispatch.find("iifname . iifgroup @filter-cali-from-wl-dispatch-gmap-if iifgroup "
                            "vmap @filter-cali-from-wl-dispatch-gmap"),
              std::string::npos)
        << dispatch;
    const uint32_t group = view_->linkGroup("calia0000001");
    EXPECT_GE(group, dataplane::kWorkloadGroupFirst);
    EXPECT_LE(group, dataplane::kWorkloadGroupLast);
    EXPECT_EQ(view_->dispatchGroup("calia0000001"), group);
    char chain[32];
    std::snprintf(chain, sizeof chain, "filter-cali-fw-g%08x", group);
    const std::string map =
        sh("ip netns exec " + node_ + " nft list map inet calico filter-cali-from-wl-dispatch-gmap")
            .out;
    EXPECT_NE(map.find(std::to_string(group) + " : goto " + chain), std::string::npos) << map;
    for (const char* idle :
         {"brindle_iptables_restore_calls_total", "brindle_ipset_restore_calls_total"}) {
      EXPECT_LE(metricValue(idle), 0) << idle;
    }
  } else {
    EXPECT_LE(metricValue("brindle_nftables_transactions_total"), 0);
  }
}

TEST_F(AgentE2eTest, HostEndpointKeepsFailsafeSshOpen) {
  check({{"cl", "node", "tcp", 8080, true}, {"cl", "node", "tcp", 22, true}});
  write(R"(
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1-hep0, labels: {role: host}}
spec: {node: node1, interfaceName: hep0, expectedIPs: [10.98.0.1]}
)");
  // No policy selects it: everything to the host through hep0 is denied but the failsafes.
  check({{"cl", "node", "tcp", 8080, false}, {"cl", "node", "tcp", 22, true}});
}

TEST_F(AgentE2eTest, SpoofedSourceIsDropped) {
  const Workload& a = hosts_.at("a");
  std::string table = std::string("table inet ") + kBracket + " {\n";
  for (const char* chain : {"pre", "post"}) {
    table += std::string("chain ") + chain + " { type filter hook prerouting priority raw " +
             (chain == std::string("pre") ? "- 1" : "+ 1") + "; policy accept;\n";
    for (const char* src : {"10.65.0.1", "10.65.0.77", "10.65.0.3"}) {
      table += std::string("ip saddr ") + src + " udp dport 5353 counter\n";
    }
    table += "}\n";
  }
  ASSERT_EQ(sh("printf '" + table + "}\\n' | ip netns exec " + node_ + " nft -f -").code, 0);
  // a also sends from c's address (a workload's own, on another interface) for this test.
  ASSERT_EQ(sh("ip -n " + a.ns + " addr add 10.65.0.3/32 dev eth0").code, 0);
  struct Drop {
    std::string ns;
    ~Drop() {
      sh("ip netns exec " + node_ + " nft delete table inet " + kBracket);
      sh("ip -n " + ns + " addr del 10.65.0.3/32 dev eth0");
    }
  } drop{a.ns};
  const bool iptables = !view_->nftables();
  const long long before =
      iptables ? view_->rulePackets("raw", "cali-PREROUTING", "rpfilter.*--invert.* -j DROP$", "")
               : 0;

  EXPECT_TRUE(probeIp(a, "10.65.0.2", "udp", 5353));  // control: a's own address
  EXPECT_GT(bracketCount("pre", "10.65.0.1"), 0);
  EXPECT_EQ(bracketCount("post", "10.65.0.1"), bracketCount("pre", "10.65.0.1"))
      << "a packet from a's own address was dropped as spoofed";
  probeIp(a, "10.65.0.2", "udp", 5353, "10.65.0.77");  // no answer expected either way
  // The spoofed datagram left a and was dropped by our anti-spoofing rule, not lost elsewhere.
  EXPECT_GT(bracketCount("pre", "10.65.0.77"), 0);
  EXPECT_EQ(bracketCount("post", "10.65.0.77"), 0);
  probeIp(a, "10.65.0.2", "udp", 5353, "10.65.0.3");
  EXPECT_GT(bracketCount("pre", "10.65.0.3"), 0);
  EXPECT_EQ(bracketCount("post", "10.65.0.3"), 0) << "another workload's address let through";
  const std::string raw = view_->chainRules("raw", "cali-PREROUTING");
  if (iptables) {
    // The rule's own counter too.
    EXPECT_GE(before, 0) << raw;
    EXPECT_GT(view_->rulePackets("raw", "cali-PREROUTING", "rpfilter.*--invert.* -j DROP$", ""),
              before)
        << raw;
  } else {
    EXPECT_TRUE(std::regex_search(raw, std::regex("fib saddr \\. iif oif missing drop"))) << raw;
  }
  std::string seen = readFile(dir_->file("seen-b.log"));
  EXPECT_NE(seen.find("udp 5353 from 10.65.0.1"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("from 10.65.0.77"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("from 10.65.0.3"), std::string::npos) << seen;
}

TEST_F(AgentE2eTest, NatOutgoingSeenOnTheWire) {
  EXPECT_TRUE(probeIp(hosts_.at("a"), "10.99.0.2", "tcp", 80));
  std::string seen = readFile(dir_->file("seen-ext.log"));
  // The outside saw the node's address, not the workload's pool address.
  EXPECT_NE(seen.find("tcp 80 from 10.99.0.1"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("from 10.65."), std::string::npos) << seen;
  // And it was our rule: iptables counts the MASQUERADE of cali-nat-outgoing; nftables rules
  // carry no counters, but ours is the only table in the node (nothing else could masquerade).
  const std::string chain = view_->chainRules("nat", "cali-nat-outgoing");
  if (!view_->nftables()) {
    EXPECT_GT(view_->rulePackets("nat", "cali-nat-outgoing", "-j MASQUERADE", ""), 0) << chain;
  } else {
    EXPECT_NE(chain.find("masquerade"), std::string::npos) << chain;
    EXPECT_EQ(sh("ip netns exec " + node_ + " nft list tables").out, "table inet calico\n");
  }
}

TEST_F(AgentE2eTest, FloatingIpReachesItsWorkload) {
  EXPECT_TRUE(probeIp(hosts_.at("ext"), "10.99.0.100", "tcp", 5001));
  std::string seen = readFile(dir_->file("seen-e.log"));
  EXPECT_NE(seen.find("tcp 5001 from 10.99.0.2"), std::string::npos) << seen;
}

TEST_F(AgentE2eTest, DualStackEndpointsGetIpv6RulesAndRoutes) {
  write(R"(
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node1-k8s-v6a-eth0, namespace: default, labels: {app: v6a}}
  spec: {node: node1, orchestrator: k8s, workload: v6a, endpoint: eth0, interfaceName: caliv6a000001,
         ipNetworks: [10.65.0.11/32, "fd00:65::11/128"], profiles: [open]}
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node1-k8s-v6b-eth0, namespace: default, labels: {app: v6b}}
  spec: {node: node1, orchestrator: k8s, workload: v6b, endpoint: eth0, interfaceName: caliv6b000002,
         ipNetworks: [10.65.0.12/32, "fd00:65::12/128"], profiles: [open]}
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node1-k8s-v6d-eth0, namespace: default, labels: {app: v6d}}
  spec: {node: node1, orchestrator: k8s, workload: v6d, endpoint: eth0, interfaceName: caliv6d000004,
         ipNetworks: [10.65.0.14/32, "fd00:65::14/128"]}
)");
  check({{"v6a", "v6b/6", "icmp6", 0, true},
         {"v6a", "v6b", "icmp", 0, true},
         {"v6a", "v6d/6", "icmp6", 0, false},  // no profile, no policy: denied, also over IPv6
         {"v6b", "v6a/6", "icmp6", 0, true}});
  EXPECT_TRUE(view_->hasChain("filter", "cali-tw-caliv6b000002", /*v6=*/true));
  EXPECT_NE(
      sh("ip -n " + node_ + " -6 route show proto 80").out.find("fd00:65::12 dev caliv6b000002"),
      std::string::npos);
}

TEST_F(AgentE2eTest, RestartLosesNoPacketAndFlushesNoRule) {
  std::string before = kernelState();
  const double writesBefore = metricValue(view_->writesMetric());
  ASSERT_GE(writesBefore, 1) << view_->writesMetric() << ": the first agent wrote nothing?";
  const Workload& b = hosts_.at("b");
  // b -> a is allowed (a-allow; pb allows b's egress): a TCP stream and a ping for 4 s.
  std::string exec = "ip netns exec " + b.ns + " ";
  const size_t streams = seenCount("a", "tcp 81 from 10.65.0.2");
  ShellResult streamResult, pingResult;
  std::thread stream(
      [&] { streamResult = sh(exec + AGENT_PROBE_BINARY + " stream 10.65.0.1 81 4"); });
  std::thread ping([&] { pingResult = sh(exec + "ping -q -i 0.02 -c 200 -W 1 10.65.0.1"); });
  // The agent dies only once the stream is established through its rules.
  auto until = std::chrono::steady_clock::now() + 3s;
  while (seenCount("a", "tcp 81 from 10.65.0.2") == streams &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GT(seenCount("a", "tcp 81 from 10.65.0.2"), streams) << "the stream never connected";
  killAndReap(agent_, SIGKILL);
  startAgent();
  // Wait past one kernel refresh of the new agent, when an unneeded rewrite would have been
  // made: a refresh is requested and applied in one loop turn, so once the second is requested
  // the first has been applied (this overlaps the stream, so it costs no time).
  EXPECT_TRUE(waitMetric("brindle_resyncs_total", 2));
  stream.join();
  ping.join();
  EXPECT_EQ(streamResult.code, 0) << streamResult.out;
  EXPECT_NE(pingResult.out.find(" 0% packet loss"), std::string::npos) << pingResult.out;
  EXPECT_EQ(kernelState(), before);
  EXPECT_EQ(metricValue(view_->writesMetric()), 0)
      << "the restarted agent rewrote rules although nothing changed";
}

TEST_F(AgentE2eTest, FlushedChainIsRepairedWithinTheRefreshInterval) {
  std::string chain = "cali-tw-calia0000001";
  std::string before = view_->chainRules("filter", chain);
  ASSERT_NE(before.find("cali:"), std::string::npos) << "no rule in " << chain << ":\n" << before;
  ASSERT_TRUE(view_->flushChain("filter", chain));  // (a refresh may repair it at once)
  auto start = std::chrono::steady_clock::now();
  bool repaired = false;
  while (std::chrono::steady_clock::now() - start < 3s) {
    if (view_->chainRules("filter", chain) == before) {
      repaired = true;
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  EXPECT_TRUE(repaired);
  EXPECT_LE(took, 1500ms) << "refresh interval is 1 s";
  check({{"c", "a", "tcp", 80, false}, {"c", "a", "tcp", 81, true}});
}

TEST_F(AgentE2eTest, SetMemberRemovedBehindTheAgentsBackIsRestored) {
  // c is in a-deny-c's source selector set: without it there c -> a tcp/80 would be admitted.
  const std::string before = kernelState();
  const auto sets = view_->setsHolding("10.65.0.3");
  ASSERT_FALSE(sets.empty()) << view_->ours();
  // (A delete of a member not there fails: each of these took c out. The repair may come at
  // once, a refresh can be due any moment.)
  for (const auto& set : sets) ASSERT_TRUE(view_->deleteSetMember(set, "10.65.0.3")) << set;
  auto start = std::chrono::steady_clock::now();
  bool repaired = false;
  while (!repaired && std::chrono::steady_clock::now() - start < 3s) {
    repaired = kernelState() == before;
    if (!repaired) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(repaired) << "not repaired in 3 s (refresh interval 1 s):\n" << view_->ours();
  check({{"c", "a", "tcp", 80, false}, {"c", "a", "tcp", 81, true}});
}

TEST_F(AgentE2eTest, SigtermStopsCleanlyAndLeavesEverything) {
  std::string before = kernelState();
  std::string routesBefore = sh("ip -n " + node_ + " route show proto 80").out;
  auto start = std::chrono::steady_clock::now();
  ::kill(agent_, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(agent_, &status, 0), agent_);
  agent_ = -1;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(kernelState(), before);
  EXPECT_EQ(sh("ip -n " + node_ + " route show proto 80").out, routesBefore);
  check({{"b", "a", "tcp", 81, true}, {"c", "a", "tcp", 80, false}});  // policy still enforced
  startAgent();
}

// Issue 18: three kinds of valid input the agent used to program wrongly or not at all, each
// checked with traffic. f (namespace default) and g (namespace other) are new workloads.
constexpr const char* kIssue18Workloads = R"(
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node1-k8s-f-eth0, namespace: default, labels: {app: f}}
  spec: {node: node1, orchestrator: k8s, workload: f, endpoint: eth0, interfaceName: calif0000006,
         ipNetworks: [10.65.0.6/32]}
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node1-k8s-g-eth0, namespace: other, labels: {app: g}}
  spec: {node: node1, orchestrator: k8s, workload: g, endpoint: eth0, interfaceName: calig0000007,
         ipNetworks: [10.65.0.7/32], profiles: [open]}
)";

TEST_F(AgentE2eTest, NetsAndNotNetsOnOneSideAreProgrammedAndLaterChangesStillApply) {
  write(kIssue18Workloads);
  // iptables refuses "-s A ! -s B"; before the fix this apply failed forever and froze the node.
  write(R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: f-nets-notnets}
spec:
  order: 10
  selector: app == 'f'
  types: [Ingress]
  ingress:
  - {action: Allow, protocol: TCP, source: {nets: [10.65.0.0/24], notNets: [10.65.0.2/32]},
     destination: {ports: [5001]}}
  - {action: Allow, protocol: TCP, destination: {nets: [10.65.0.0/24], notNets: [10.65.0.7/32],
     ports: [6005]}}
)");
  check({{"a", "f", "tcp", 5001, true},
         {"b", "f", "tcp", 5001, false},  // in notNets
         {"a", "f", "tcp", 6005, true},   // f's address is in nets, not in notNets
         {"a", "f", "tcp", 80, false}});
  EXPECT_EQ(agentGet("/readiness")->status, 200);
}

TEST_F(AgentE2eTest, WholeAddressSpaceInANetSetAdmitsEveryone) {
  // Two nets make a hash:net set, which cannot hold 0.0.0.0/0: it must hold both /1 halves, and
  // the apply must not claim success with the /0 missing (a then matched only 10.2.0.0/16).
  write(R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: f-all-nets}
spec:
  order: 20
  selector: app == 'f'
  types: [Ingress]
  ingress:
  - {action: Allow, protocol: TCP, source: {nets: [0.0.0.0/0, 10.2.0.0/16]}, destination: {ports: [5000]}}
)");
  check(
      {{"a", "f", "tcp", 5000, true}, {"b", "f", "tcp", 5000, true}, {"a", "f", "tcp", 81, false}});
  // The set covers the whole space: both /1 halves (hash:net), or the /0 itself (an nftables
  // interval set holds it).
  auto sets = view_->ours();
  EXPECT_TRUE(sets.find("128.0.0.0/1") != std::string::npos ||
              (view_->nftables() && sets.find("0.0.0.0/0") != std::string::npos))
      << sets;
}

TEST_F(AgentE2eTest, NamespacedNotSelectorStaysInThePolicyNamespace) {
  // f may send only to endpoints of its own namespace that are not app == 'nothing': a (default)
  // yes, g (namespace other) no, although g is not app == 'nothing' either.
  write(R"(
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: f-egress, namespace: default}
spec:
  selector: app == 'f'
  types: [Egress]
  egress: [{action: Allow, destination: {notSelector: app == 'nothing'}}]
)");
  check({{"f", "a", "tcp", 80, true},
         {"f", "g", "tcp", 80, false},
         {"a", "g", "tcp", 80, true}});  // g admits everyone (profile open)
}

// Issue 12: tiers decide in their `order` and a tier's defaultAction Pass hands a packet nothing
// in it decided to the next tier. tb has no profile and a default-tier policy admitting ta: only
// the tiers before the default tier can stop ta -> tb. Only these tests select ta or tb.
constexpr const char* kTierLab = R"(
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: open}
spec: {ingress: [{action: Allow}], egress: [{action: Allow}]}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-ta-eth0, namespace: default, labels: {app: ta}}
spec: {node: node1, orchestrator: k8s, workload: ta, endpoint: eth0, interfaceName: calit0000008,
       ipNetworks: [10.65.0.8/32], profiles: [open]}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-tb-eth0, namespace: default, labels: {app: tb}}
spec: {node: node1, orchestrator: k8s, workload: tb, endpoint: eth0, interfaceName: calit0000009,
       ipNetworks: [10.65.0.9/32]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: tb-admits-ta}
spec:
  selector: app == 'tb'
  types: [Ingress]
  ingress: [{action: Allow, source: {selector: app == 'ta'}}]
---
)";

std::string tierYaml(const std::string& name, const std::string& spec) {
  return "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: " + name +
         "}\nspec: " + spec + "\n";
}

// Each test adds its tier's policy with the lab (so the write always changes something, also on
// a second run) and deletes it at the end, so the other test's ta -> tb starts open again.
TEST_F(AgentE2eTest, LowerTierOrderDecidesBeforeTheDefaultTier) {
  const std::string policy = R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.tb-refuses-ta}
spec:
  tier: security
  selector: app == 'tb'
  types: [Ingress]
  ingress: [{action: Deny, source: {selector: app == 'ta'}}]
)";
  // security after the default tier (2000000 > 1000000): the default tier's policy admits first.
  write(kTierLab + tierYaml("security", "{order: 2000000}") + "---\n" + policy);
  check({{"ta", "tb", "tcp", 80, true}, {"ta", "tb", "icmp", 0, true}});
  // Only the Tier changes: security (100) now denies before the default tier admits.
  write(tierYaml("security", "{order: 100}"));
  check({{"ta", "tb", "tcp", 80, false}, {"ta", "tb", "icmp", 0, false}});
  write(tierYaml("security", "{order: 2000000}"));
  check({{"ta", "tb", "tcp", 80, true}});
  write(tierYaml("security", "{order: 100}"));
  check({{"ta", "tb", "tcp", 80, false}});
  write(policy, resources::WriteMode::kDelete);
  check({{"ta", "tb", "tcp", 80, true}});
}

TEST_F(AgentE2eTest, TierDefaultActionPassHandsOverToTheNextTier) {
  const std::string policy = R"(
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: handover.tb-nobody}
spec:
  tier: handover
  selector: app == 'tb'
  types: [Ingress]
  ingress: [{action: Deny, source: {selector: app == 'nobody'}}]
)";
  write(kTierLab + tierYaml("handover", "{order: 50, defaultAction: Deny}") + "---\n" + policy);
  // Selected by a handover policy whose rule does not match: Deny drops at the tier's end.
  check({{"ta", "tb", "tcp", 80, false}});
  // Pass: the next tier (default) decides, and its policy admits ta.
  write(tierYaml("handover", "{order: 50, defaultAction: Pass}"));
  check({{"ta", "tb", "tcp", 80, true}, {"ta", "tb", "udp", 5353, true}});
  write(tierYaml("handover", "{order: 50, defaultAction: Deny}"));
  check({{"ta", "tb", "tcp", 80, false}});
  write(policy, resources::WriteMode::kDelete);
  check({{"ta", "tb", "tcp", 80, true}});
}

TEST_F(AgentE2eTest, LocalWorkloadRoutesAndAffineBlockBlackholes) {
  auto routes = sh("ip -n " + node_ + " route show proto 80").out;
  EXPECT_NE(routes.find("172.16.1.1 dev cali0ef24b1 scope link"), std::string::npos) << routes;
  EXPECT_NE(routes.find("10.99.0.100 dev calie0000005 scope link"), std::string::npos)
      << "floating IP route\n"
      << routes;
  // An IPAM block becomes affine to node1: a blackhole route for it; released: gone.
  auto client = datastore::openLocalStore(dir_->file("store.db"));
  ASSERT_TRUE(client.isOk());
  auto ipam = ipam::makeIpam(**client);
  ipam::AssignArgs args;
  args.handle = "e2e-handle";
  args.node = "node1";
  auto assigned = ipam->autoAssign(args);
  ASSERT_TRUE(assigned.isOk()) << assigned.message();
  ASSERT_EQ(assigned->ipv4.size(), 1u);
  auto blackholes = [&] {
    return sh("ip -n " + node_ + " route show proto 80 type blackhole").out;
  };
  std::string seen;
  for (int i = 0; i < 100 && seen.find("blackhole 10.65.") == std::string::npos; ++i) {
    std::this_thread::sleep_for(30ms);
    seen = blackholes();
  }
  EXPECT_NE(seen.find("blackhole 10.65."), std::string::npos) << seen;
  ASSERT_TRUE(ipam->releaseByHandle("e2e-handle").isOk());
  ASSERT_TRUE(ipam->releaseHostAffinities("node1").isOk());
  for (int i = 0; i < 100 && !seen.empty(); ++i) {
    std::this_thread::sleep_for(30ms);
    seen = blackholes();
  }
  EXPECT_EQ(seen, "");
}

}  // namespace
}  // namespace brindle::agent
