// bench_agent: brindle-agent at the scale (10,000 endpoints over 20 nodes, 500 local,
// 100 apps, 1,000 policies) in a throw-away node namespace, against raw tools measured in the same
// run: cold start vs one iptables-restore of the final ruleset, endpoint-add latency, RSS, and
// iperf3 throughput / connections per second with the rules vs without. Needs root.
//   bench_agent [path/to/brindle-agent]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <malloc.h>

#include "agent/dataplane_driver.h"
#include "agent/http_server.h"
#include "agent_shape.h"
#include "calc/calc_graph.h"
#include "calc/dataplane_state.h"
#include "calc/syncer.h"
#include "datastore/local/local_store.h"
#include "os/netns.h"
#include "resources/resource_store.h"
#include "testutil/shell.h"

using namespace brindle;
using namespace brindle::bench;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kAdds = 40;  // endpoint-add latency samples

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// A failed set-up command (testutil::must) ends the run by exception, so the Lab's destructor
// still removes the namespaces and processes made so far.
using brindle::testutil::must;
using brindle::testutil::sh;

struct Lab {
  std::string prefix = "bagb" + std::to_string(::getpid() % 100000) + "-";
  std::string node = prefix + "node";
  std::string dir;
  pid_t agent = -1;
  std::vector<pid_t> servers;  // iperf3 -s in the workload namespaces
  int port = 19500 + ::getpid() % 400;
  ~Lab() {
    // Every way out (also an early failure) ends the processes and removes the namespaces.
    for (pid_t pid : servers) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (agent > 0) {
      ::kill(agent, SIGKILL);
      ::waitpid(agent, nullptr, 0);
    }
    for (const char* n : {"node", "ref", "w1", "w2", "plain", "p1", "p2"}) {
      sh("ip netns delete " + prefix + n);
    }
    if (!dir.empty()) sh("rm -rf " + dir);
  }
};

double metric(const std::string& body, const std::string& name) {
  std::smatch m;
  std::string text = "\n" + body;
  if (std::regex_search(text, m, std::regex("\n" + name + " ([0-9.e+]+)\n"))) {
    return std::stod(m[1].str());
  }
  return -1;
}

// iperf3 client in `clientNs` against the server at ipOf(90): Mbit/s.
double iperf(const std::string& clientNs) {
  auto r = sh("ip netns exec " + clientNs + " iperf3 -c " + ipOf(90) + " -t 2 -f m");
  std::smatch m;
  std::regex re("([0-9.]+) Mbits/sec.*receiver");
  if (!std::regex_search(r.out, m, re)) {
    std::fprintf(stderr, "iperf3: %s\n", r.out.c_str());
    return 0;
  }
  return std::stod(m[1].str());
}

// TCP connections per second from `clientNs` to ipOf(90):8080 in `serverNs` (connect, close)
// for 1.5 s.
double connsPerSecond(const std::string& clientNs, const std::string& serverNs) {
  std::atomic<bool> stop{false};
  std::atomic<bool> listening{false};
  std::thread server([&] {
    (void)os::runInNetns(serverNs, [&]() -> Status {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(8080);
      ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
      ::listen(fd, 1024);
      timeval tv{0, 100000};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      listening = true;
      while (!stop) {
        int c = ::accept(fd, nullptr, nullptr);
        if (c >= 0) ::close(c);
      }
      ::close(fd);
      return Status::ok();
    });
  });
  while (!listening) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  int count = 0;
  double secs = 0;
  (void)os::runInNetns(clientNs, [&]() -> Status {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(8080);
    inet_pton(AF_INET, ipOf(90).c_str(), &a.sin_addr);
    auto start = Clock::now();
    while (msSince(start) < 1500) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      linger l{1, 0};  // RST on close: no TIME_WAIT pile-up
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) ++count;
      ::close(fd);
    }
    secs = msSince(start) / 1000;
    return Status::ok();
  });
  stop = true;
  server.join();
  return count / secs;
}

// Runs `measure` on the reference path and on the policy path alternately, `pairs` times, and
// returns the median of the per-pair ratios (policy / reference) with the median values: the
// machine is shared, and alternating cancels load that drifts between the two.
struct Comparison {
  double policy = 0, reference = 0, ratio = 0;
};
Comparison compare(const std::function<double(bool policyPath)>& measure, int pairs = 3) {
  std::vector<double> p, r, ratios;
  for (int i = 0; i < pairs; ++i) {
    double ref = measure(false);
    double pol = measure(true);
    r.push_back(ref);
    p.push_back(pol);
    ratios.push_back(ref > 0 ? pol / ref : 0);
  }
  auto med = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  return {med(p), med(r), med(ratios)};
}

// BENCH_AGENT_PAIRS=n: more alternating pairs for a steadier median, at ~8 s a pair.
int pairsFromEnv(int fallback) {
  const char* n = std::getenv("BENCH_AGENT_PAIRS");
  return n ? std::max(1, std::atoi(n)) : fallback;
}

long rssKb(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field)));
  }
  return -1;
}

// --memory: where the agent's memory goes, in-process, step by step (RSS deltas after
// malloc_trim): the syncer's snapshot, the calculation graph, the rendered desired state.
class CountingSyncerCallbacks : public calc::SyncerCallbacks {
 public:
  explicit CountingSyncerCallbacks(calc::CalcGraph* graph) : graph_(graph) {}
  void onUpdates(const std::vector<calc::Update>& updates) override {
    if (graph_) {
      for (const auto& u : updates) graph_->onUpdate(u);
    }
  }
  void onInSync() override {
    if (graph_) graph_->onInSync();
  }

 private:
  calc::CalcGraph* graph_;
};

class NullRunner : public os::CommandRunner {
 public:
  Result<os::CommandOutput> run(const os::Command&) override { return os::CommandOutput{}; }
};

long selfRssKb() {
  ::malloc_trim(0);
  return rssKb(::getpid(), "VmRSS:");
}

int memoryBreakdown(const std::string& storePath) {
  auto client = datastore::openLocalStore(storePath);
  if (!client) return 1;
  long base = selfRssKb();
  calc::DataplaneState state;
  calc::CalcGraph graph("node0", state);
  {
    CountingSyncerCallbacks syncOnly(nullptr);
    calc::Syncer syncer(**client, syncOnly);
    auto t = Clock::now();
    (void)syncer.start();
    double ms = msSince(t);
    std::printf(
        "memory: syncer snapshot (raw values + decoded resources of %zu keys): %.1f MB "
        "(list + decode %.0f ms)\n",
        syncer.knownKeys(), (selfRssKb() - base) / 1024.0, ms);
  }
  base = selfRssKb();
  CountingSyncerCallbacks feed(&graph);
  calc::Syncer syncer(**client, feed);
  auto t = Clock::now();
  (void)syncer.start();
  double graphMs = msSince(t);
  long withGraph = selfRssKb();
  std::printf("memory: syncer + calculation graph + its output state: %.1f MB (%.0f ms)\n",
              (withGraph - base) / 1024.0, graphMs);
  t = Clock::now();
  NullRunner runner;
  std::vector<std::unique_ptr<dataplane::IptablesTable>> tables;
  agent::DataplaneDeps deps;
  for (auto t : {dataplane::TableName::kRaw, dataplane::TableName::kMangle,
                 dataplane::TableName::kNat, dataplane::TableName::kFilter}) {
    tables.push_back(
        std::make_unique<dataplane::IptablesTable>(t, dataplane::IpVersion::kV4, runner));
    deps.tables.push_back({dataplane::IpVersion::kV4, t, tables.back().get()});
  }
  dataplane::IpSetsImpl ipsets(runner);
  deps.ipsets = &ipsets;
  rules::RendererConfig rc;
  rc.ipv6Enabled = false;
  agent::DataplaneDriver driver(deps, rc);
  for (const auto& [id, members] : state.ipSets) {
    driver.onIpSetAdded(id);
    driver.onIpSetMembersAdded(id, members);
  }
  for (const auto& [id, r] : state.policies) driver.onPolicyActive(id, r);
  for (const auto& [id, r] : state.profiles) driver.onProfileActive(id, r);
  for (const auto& [id, e] : state.workloads) driver.onWorkloadEndpointUpdate(e);
  double driverMs = msSince(t);
  std::printf(
      "memory: dataplane driver + writers' desired state (%zu endpoints, %zu policies): "
      "%.1f MB (render + hash + record %.0f ms)\n",
      driver.endpointCount(), driver.policyCount(), (selfRssKb() - withGraph) / 1024.0, driverMs);
  return 0;
}

}  // namespace

int runBench(int argc, char** argv) {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "bench_agent: needs root (network namespaces)\n");
    return 1;
  }
  const bool memoryOnly = argc > 1 && std::string(argv[1]) == "--memory";
  std::string agentBin =
      argc > 1 && !memoryOnly ? argv[1] : "build/apps/brindle-agent/brindle-agent";
  Lab lab;
  char tmpl[] = "/tmp/bench-agent-XXXXXX";
  lab.dir = ::mkdtemp(tmpl);
  const std::string storePath = lab.dir + "/store.db";

  // 1. The datastore at the shape.
  auto start = Clock::now();
  {
    auto client = datastore::openLocalStore(storePath);
    if (!client) {
      std::fprintf(stderr, "store: %s\n", client.message().c_str());
      return 1;
    }
    resources::ResourceStore store(**client);
    writeShape(store);
  }
  std::printf(
      "shape: %d endpoints over %d nodes (%d local), %d apps, %d policies "
      "(store written in %.0f ms)\n",
      kEndpoints, kNodes, kPerNode, kApps, kApps * kPoliciesPerApp, msSince(start));

  if (memoryOnly) return memoryBreakdown(storePath);
  std::fflush(stdout);  // children are forked below

  // 2. The node namespace with two real workloads (w1 = endpoint 0, app0; w2 = endpoint 90,
  //    app90, whose policies admit app0), and a twin "plain" node (p1, p2) wired the same way
  //    that never gets a rule: the reference path, measured alternately with the policy path.
  auto node = [&](const std::string& name, const std::string& c, const std::string& s) {
    must("ip netns add " + name);
    must("ip -n " + name + " link set lo up");
    must("ip netns exec " + name + " sysctl -qw net.ipv4.ip_forward=1");
    brindle::testutil::addCaliWorkload(name, c, ifaceOf(0), ipOf(0));
    brindle::testutil::addCaliWorkload(name, s, ifaceOf(90), ipOf(90));
    must("ip -n " + name + " route add " + ipOf(0) + "/32 dev " + ifaceOf(0));
    must("ip -n " + name + " route add " + ipOf(90) + "/32 dev " + ifaceOf(90));
  };
  const std::string w1 = lab.prefix + "w1", w2 = lab.prefix + "w2";
  const std::string p1 = lab.prefix + "p1", p2 = lab.prefix + "p2";
  const std::string plain = lab.prefix + "plain";
  node(lab.node, w1, w2);
  node(plain, p1, p2);
  for (const auto& ns : {w2, p2}) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::setsid();
      std::freopen("/dev/null", "w", stdout);
      ::execlp("ip", "ip", "netns", "exec", ns.c_str(), "iperf3", "-s", nullptr);
      ::_exit(127);
    }
    lab.servers.push_back(pid);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  // 3. Cold start: agent process start until /readiness (in sync and first apply done).
  std::string portText = std::to_string(lab.port);
  auto agentStart = Clock::now();
  lab.agent = ::fork();
  if (lab.agent == 0) {
    ::setsid();
    std::freopen((lab.dir + "/agent.log").c_str(), "w", stderr);
    std::string envs[] = {
        "DATASTORE_TYPE=local",
        "BRINDLE_STORE_PATH=" + storePath,
        "FELIX_IPV6SUPPORT=false",
        "FELIX_HEALTHPORT=" + portText,
        "FELIX_PROMETHEUSMETRICSPORT=" + portText,
        "FELIX_LOGSEVERITYSCREEN=" +
            std::string(std::getenv("BENCH_AGENT_LOG") ? std::getenv("BENCH_AGENT_LOG") : "Info")};
    for (auto& e : envs) ::putenv(e.data());
    ::execlp("ip", "ip", "netns", "exec", lab.node.c_str(), agentBin.c_str(), "--nodename", "node0",
             nullptr);
    ::_exit(127);
  }
  double coldMs = -1, syncMs = -1;
  long rssInSync = -1;  // after list + calculation, before the first apply
  (void)os::runInNetns(lab.node, [&]() -> Status {
    while (msSince(agentStart) < 120000) {
      if (rssInSync < 0) {
        auto m = agent::httpGet("127.0.0.1", lab.port, "/metrics");
        if (m && metric(m->body, "brindle_in_sync") == 1) {
          rssInSync = rssKb(lab.agent, "VmRSS:");
          syncMs = msSince(agentStart);
        }
      }
      auto r = agent::httpGet("127.0.0.1", lab.port, "/readiness");
      if (r && r->status == 200) {
        coldMs = msSince(agentStart);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return Status::ok();
  });
  if (coldMs < 0) {
    std::fprintf(stderr, "agent not ready: %s\n",
                 sh("tail -5 " + lab.dir + "/agent.log").out.c_str());
    return 1;
  }
  long rssCold = rssKb(lab.agent, "VmRSS:");

  // The identical final ruleset, restored into a fresh namespace (its ipsets first, untimed),
  // with the same tool; the median of 3 (one restore swings by 15% on a shared machine).
  must("ip netns exec " + lab.node + " iptables-save > " + lab.dir + "/final.rules");
  must("ip netns exec " + lab.node + " ipset save > " + lab.dir + "/final.ipsets");
  auto rulesLines = sh("grep -c '^-A' " + lab.dir + "/final.rules").out;
  std::vector<double> refRuns;
  for (int i = 0; i < 3; ++i) {
    const std::string ref = lab.prefix + "ref";
    must("ip netns add " + ref);
    must("ip netns exec " + ref + " ipset restore < " + lab.dir + "/final.ipsets");
    auto refStart = Clock::now();
    must("ip netns exec " + ref + " iptables-restore < " + lab.dir + "/final.rules");
    refRuns.push_back(msSince(refStart));
    must("ip netns del " + ref);
  }
  std::sort(refRuns.begin(), refRuns.end());
  double refMs = refRuns[1];

  // 4. Endpoint added: datastore write -> its rules applied in the kernel (the agent reports
  //    through brindle_applied_datastore_updates once iptables-restore has returned).
  std::vector<double> addMs;
  (void)os::runInNetns(lab.node, [&]() -> Status {
    auto client = datastore::openLocalStore(storePath);
    if (!client) return client.status();
    resources::ResourceStore store(**client);
    for (int n = 0; n < kAdds; ++n) {
      auto body = agent::httpGet("127.0.0.1", lab.port, "/metrics");
      if (!body) return body.status();
      double before = metric(body->body, "brindle_datastore_updates_total");
      // A new local endpoint (apps 0, 20, 40...: selected by 10 policies, a member of the
      // ipsets of the 30 rules naming its app).
      model::Resource ep = endpoint(kEndpoints + n * kNodes);
      ep.metadata["name"] = "node0-k8s-new" + std::to_string(n) + "-eth0";
      ep.spec["node"] = "node0";
      ep.spec["interfaceName"] = "calin" + std::to_string(n);
      auto t0 = Clock::now();
      if (auto w = store.write(resources::WriteMode::kCreate, {ep}); !w) return w.status();
      for (;;) {
        auto r = agent::httpGet("127.0.0.1", lab.port, "/metrics");
        if (r) {
          double seen = metric(r->body, "brindle_datastore_updates_total");
          double applied = metric(r->body, "brindle_applied_datastore_updates");
          if (seen > before && applied >= seen) break;
        }
        if (msSince(t0) > 10000) return makeError(ErrorCode::kInternal, "add not applied");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      addMs.push_back(msSince(t0));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Status::ok();
  });
  bool inKernel =
      sh("ip netns exec " + lab.node + " iptables -S cali-tw-calin" + std::to_string(kAdds - 1))
          .code == 0;
  std::sort(addMs.begin(), addMs.end());
  double addMedian = addMs.empty() ? -1 : addMs[addMs.size() / 2];
  double addP99 = addMs.empty() ? -1 : addMs[std::min(addMs.size() - 1, addMs.size() * 99 / 100)];
  long rss = rssKb(lab.agent, "VmRSS:");
  long hwm = rssKb(lab.agent, "VmHWM:");

  // BENCH_AGENT_AB='<shell>': a layout experiment. The node's ruleset (after the adds) is saved
  // to $IN and its ipsets copied into the plain twin ($NS); the snippet restores a changed copy
  // there (e.g. `sed -E '/rpfilter/d' "$IN" | ip netns exec "$NS" iptables-restore`), and the two
  // paths are compared: the same wiring, our rules as they are vs as changed.
  if (const char* snippet = std::getenv("BENCH_AGENT_AB")) {
    const std::string in = lab.dir + "/ab-before.rules";
    must("ip netns exec " + lab.node + " iptables-save > " + in);
    must("ip netns exec " + lab.node + " ipset save | ip netns exec " + plain + " ipset restore");
    ::setenv("IN", in.c_str(), 1);
    ::setenv("NS", plain.c_str(), 1);
    must(snippet);
    const int pairs = pairsFromEnv(10);
    auto c = compare(
        [&](bool pol) { return pol ? connsPerSecond(w1, w2) : connsPerSecond(p1, p2); }, pairs);
    auto t = compare([&](bool pol) { return iperf(pol ? w1 : p1); }, pairs);
    std::printf("A/B (median of %d alternating pairs), as rendered vs as changed:\n", pairs);
    std::printf("  connections/s %.0f vs %.0f -> ratio %.3f\n", c.policy, c.reference, c.ratio);
    std::printf("  iperf3 TCP %.0f vs %.0f Mbit/s -> ratio %.3f\n", t.policy, t.reference, t.ratio);
    return 0;
  }

  // BENCH_AGENT_PROFILE=policy|plain: only connections for ~10 s on that path (for `perf record
  // -a` alongside), then stop.
  if (const char* path = std::getenv("BENCH_AGENT_PROFILE")) {
    bool pol = std::string(path).rfind("policy", 0) == 0;
    if (std::string(path) != "policy") {
      // policy-stopped: the rules without the agent; policy-flushed: neither (its wiring only).
      ::kill(lab.agent, SIGKILL);
      ::waitpid(lab.agent, nullptr, 0);
      lab.agent = -1;
    }
    if (std::string(path) == "policy-flushed") {
      for (const char* t : {"raw", "mangle", "nat", "filter"}) {
        sh("ip netns exec " + lab.node + " iptables -t " + t + " -F");
        sh("ip netns exec " + lab.node + " iptables -t " + t + " -X");
      }
    }
    for (int i = 0; i < 7; ++i) {
      std::printf("%s path: %.0f conn/s\n", pol ? "policy" : "plain",
                  pol ? connsPerSecond(w1, w2) : connsPerSecond(p1, p2));
      std::fflush(stdout);
    }
    // Which of our rules dropped anything meanwhile, and the TCP retransmissions seen.
    std::printf("%s", sh("ip netns exec " + lab.node +
                         " iptables-save -c | grep -E 'DROP|REJECT' | grep -v '^\\[0:0\\]'")
                          .out.c_str());
    std::printf("%s", sh("ip netns exec " + (pol ? w1 : p1) +
                         " nstat -az TcpRetransSegs "
                         "TcpExtTCPSynRetrans 2>&1 | tail -2")
                          .out.c_str());
    return 0;
  }

  // 5. Traffic: the policy path (1,000 policies installed, each workload selected by 10) vs the
  //    plain twin with no rules at all, then vs the twin as the smallest stateful firewall (one
  //    conntrack rule: what any policy that admits replies needs), which separates the cost of
  //    being stateful from the cost of the policy. 5 alternating pairs each: single runs on a
  //    shared machine swing by 20%.
  const int kPairs = pairsFromEnv(5);
  auto tput = compare([&](bool pol) { return iperf(pol ? w1 : p1); }, kPairs);
  auto conns = compare(
      [&](bool pol) { return pol ? connsPerSecond(w1, w2) : connsPerSecond(p1, p2); }, kPairs);
  const std::string ipt = "ip netns exec " + plain + " iptables ";
  must(ipt + "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
  auto ctTput = compare([&](bool pol) { return iperf(pol ? w1 : p1); }, kPairs);
  auto ctConns = compare(
      [&](bool pol) { return pol ? connsPerSecond(w1, w2) : connsPerSecond(p1, p2); }, kPairs);

  int rules = std::atoi(rulesLines.c_str());
  std::printf("final ruleset: %d rules; ipset members: %d\n", rules,
              std::atoi(sh("grep -c '^add' " + lab.dir + "/final.ipsets").out.c_str()));
  std::printf(
      "cold start: agent %.0f ms (process start to ready) vs one iptables-restore %.0f ms"
      " (median of 3) -> ratio %.2f (goal <= 1.2)\n",
      coldMs, refMs, coldMs / refMs);
  std::printf(
      "endpoint added, write -> rules in kernel (%d samples): median %.1f ms, p99 %.1f ms"
      " (goal median <= 50 ms)%s\n",
      kAdds, addMedian, addP99, inKernel ? "" : " [last chain NOT found]");
  std::printf("  of which start to in-sync (list + calculation): %.0f ms\n", syncMs);
  std::printf(
      "agent RSS: %.1f MB at in-sync (before the first apply), %.1f MB after cold start, %.1f MB "
      "after the adds, peak %.1f MB (goal <= 60 MB)\n",
      rssInSync / 1024.0, rssCold / 1024.0, rss / 1024.0, hwm / 1024.0);
  std::printf(
      "iperf3 TCP (median of %d alternating pairs): %.0f Mbit/s with policies vs %.0f with no "
      "rules -> ratio %.3f (goal >= 0.95)\n",
      kPairs, tput.policy, tput.reference, tput.ratio);
  std::printf(
      "connections/s (median of %d alternating pairs): %.0f with policies vs %.0f with no rules"
      " -> ratio %.3f (goal >= 0.9)\n",
      kPairs, conns.policy, conns.reference, conns.ratio);
  std::printf(
      "  vs the smallest stateful firewall (one conntrack rule): TCP %.0f vs %.0f Mbit/s -> %.3f; "
      "%.0f vs %.0f conn/s -> %.3f\n",
      ctTput.policy, ctTput.reference, ctTput.ratio, ctConns.policy, ctConns.reference,
      ctConns.ratio);
  std::printf(
      "  that firewall alone vs no rules (medians of the two comparisons): TCP %.3f, conn/s %.3f\n",
      tput.reference > 0 ? ctTput.reference / tput.reference : 0,
      conns.reference > 0 ? ctConns.reference / conns.reference : 0);
  std::printf("agent log:\n%s",
              sh("grep -E 'starting|in sync|applied|apply:' " + lab.dir + "/agent.log | head -8")
                  .out.c_str());
  // BENCH_AGENT_LOG_COPY=path keeps the whole agent log (with BENCH_AGENT_LOG=Debug: every
  // apply's steps) after the run's directory is removed.
  if (const char* copy = std::getenv("BENCH_AGENT_LOG_COPY")) {
    sh("cp " + lab.dir + "/agent.log '" + std::string(copy) + "'");
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    return runBench(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_agent: %s\n", e.what());
    return 1;
  }
}
