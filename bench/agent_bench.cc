// bench_agent: brindle-agent at the shape (10,000 endpoints over 20 nodes, 500 local,
// 100 apps, 1,000 policies; `--scale k` multiplies it) in a throw-away node namespace, on each
// dataplane backend in turn (iptables, then nftables), against raw tools measured in the same
// run: cold start vs one restore of the final ruleset (iptables-restore / nft -f), endpoint-add
// latency, RSS, and at scale 1 iperf3 throughput / connections per second with the rules vs
// without and vs one conntrack rule. Ends with the goals (PASS/MISS) and a table. Root.
//   bench_agent [--dataplane iptables|nftables|both] [--scale 1,2,4] [--pairs 5] [--no-traffic]
//               [--memory] [path/to/brindle-agent]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
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
#include "dataplane/nft_executor.h"
#include "dataplane/nftables_writer.h"
#include "datastore/local/local_store.h"
#include "os/netns.h"
#include "resources/resource_store.h"
#include "testutil/shell.h"

using namespace brindle;
using namespace brindle::bench;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kAdds = 40;  // endpoint-add latency samples

const auto ipOf = Shape::ipOf;
const auto ifaceOf = Shape::ifaceOf;

std::atomic<bool> interrupted{false};

// Ctrl-C ends the run by exception at the next step, so the Labs' destructors still clean up.
void checkInterrupted() {
  if (interrupted) throw std::runtime_error("interrupted");
}

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// A failed set-up command (testutil::must) ends the backend's run by exception, so the Lab's
// destructor still removes the namespaces and processes made so far.
using brindle::testutil::must;
using brindle::testutil::sh;

enum class Backend { kIptables, kNftables };

const char* nameOf(Backend b) { return b == Backend::kIptables ? "iptables" : "nftables"; }

// A directory under /tmp, removed with everything in it whichever way the run ends.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/bench-agent-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() { sh("rm -rf " + path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// One backend's run at one scale: its node namespace (agent, two workloads), the plain twin and
// the reference namespace, the iperf3 servers and the agent, all named after `tag`.
struct Lab {
  explicit Lab(const std::string& tag)
      : prefix("bagb" + std::to_string(::getpid() % 100000) + "-" + tag + "-") {}
  std::string prefix;
  std::string node = prefix + "node";
  TempDir dir;
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
  }
  std::string log() const { return dir.path + "/agent.log"; }
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
    checkInterrupted();
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

// The nftables writer without a kernel: every transaction succeeds, there is no table to list.
class NullNftExecutor : public dataplane::NftExecutor {
 public:
  Status run(const std::string&) override { return Status::ok(); }
  Status check(const std::string&) override { return Status::ok(); }
  Result<std::string> listJson(const std::string&) override {
    return makeError(ErrorCode::kNotFound, "no table");
  }
};

// The driver fed `state` as the agent's calculation feeds it.
void feedDriver(agent::DataplaneDriver& driver, const calc::DataplaneState& state) {
  for (const auto& [id, members] : state.ipSets) {
    driver.onIpSetAdded(id);
    driver.onIpSetMembersAdded(id, members);
  }
  for (const auto& [id, r] : state.policies) driver.onPolicyActive(id, r);
  for (const auto& [id, r] : state.profiles) driver.onProfileActive(id, r);
  for (const auto& [id, e] : state.workloads) driver.onWorkloadEndpointUpdate(e);
}

// iptables: the driver and the writers' desired state (nothing applied). nftables: the same,
// then after an apply through a null executor (the writer's record of what it wrote), then
// applied for real through libnftables in a throw-away namespace (its cache of the table).
void dataplaneMemory(const calc::DataplaneState& state, Backend backend, const std::string& ns) {
  rules::RendererConfig rc;
  rc.ipv6Enabled = false;
  const auto kTables = {dataplane::TableName::kRaw, dataplane::TableName::kMangle,
                        dataplane::TableName::kNat, dataplane::TableName::kFilter};
  // Each in a child of its own: RSS deltas after malloc_trim are not additive in one process (a
  // second measurement reuses heap the first freed but the allocator kept).
  auto inChild = [&](const std::function<Status()>& fn) {
    std::fflush(stdout);
    pid_t pid = ::fork();
    if (pid == 0) {
      Status s = fn();
      if (!s) std::printf("memory: %s\n", s.message().c_str());
      std::fflush(stdout);
      ::_exit(s ? 0 : 1);
    }
    ::waitpid(pid, nullptr, 0);
  };
  if (backend == Backend::kIptables) {
    inChild([&] {
      long base = selfRssKb();
      auto t = Clock::now();
      NullRunner runner;
      std::vector<std::unique_ptr<dataplane::IptablesTable>> tables;
      agent::DataplaneDeps deps;
      for (auto name : kTables) {
        tables.push_back(
            std::make_unique<dataplane::IptablesTable>(name, dataplane::IpVersion::kV4, runner));
        deps.tables.push_back({dataplane::IpVersion::kV4, name, tables.back().get()});
      }
      dataplane::IpSetsImpl ipsets(runner);
      deps.ipsets = &ipsets;
      agent::DataplaneDriver driver(deps, rc);
      feedDriver(driver, state);
      std::printf(
          "memory: iptables: dataplane driver + writers' desired state (%zu endpoints, %zu "
          "policies): %.1f MB (render + hash + record %.0f ms)\n",
          driver.endpointCount(), driver.policyCount(), (selfRssKb() - base) / 1024.0, msSince(t));
      return Status::ok();
    });
    return;
  }
  rc.flatDispatch = true;  // as the agent configures it for the verdict map
  // `real`: libnftables in the calling process's namespace; otherwise the null executor.
  auto measure = [&](bool real) -> Status {
    std::vector<std::unique_ptr<dataplane::ChainTable>> tables;
    std::vector<dataplane::ChainTable*> raw;
    agent::DataplaneDeps deps;
    for (auto name : kTables) {
      tables.push_back(std::make_unique<dataplane::ChainTable>(name, dataplane::IpVersion::kV4));
      raw.push_back(tables.back().get());
      deps.tables.push_back({dataplane::IpVersion::kV4, name, raw.back()});
    }
    NullNftExecutor null;
    dataplane::NftExecutorPtr lib;
    if (real) {
      auto opened = dataplane::openLibNftables();
      if (!opened) return opened.status();
      lib = std::move(*opened);
    }
    long before = selfRssKb();
    auto start = Clock::now();
    dataplane::NftablesWriter writer(raw, real ? *lib : static_cast<dataplane::NftExecutor&>(null));
    deps.nftables = &writer;
    agent::DataplaneDriver driver(deps, rc);
    feedDriver(driver, state);
    if (!real) {
      std::printf(
          "memory: nftables: dataplane driver + desired state (%zu endpoints, %zu policies): "
          "%.1f MB (render + hash + record %.0f ms)\n",
          driver.endpointCount(), driver.policyCount(), (selfRssKb() - before) / 1024.0,
          msSince(start));
    }
    start = Clock::now();
    if (Status s = driver.apply(); !s) return s;
    std::printf("memory: nftables: the same after the first apply, %s: %.1f MB (apply %.0f ms)\n",
                real ? "through libnftables into a throw-away namespace (what it keeps included)"
                     : "through a null executor (the writer's record of what it wrote)",
                (selfRssKb() - before) / 1024.0, msSince(start));
    return Status::ok();
  };
  inChild([&] { return measure(false); });
  if (::geteuid() != 0) return;
  must("ip netns add " + ns);
  inChild([&] { return os::runInNetns(ns, [&] { return measure(true); }); });
  sh("ip netns delete " + ns);
}

// --memory: where the agent's memory goes, in-process, step by step (RSS deltas after
// malloc_trim): the syncer's snapshot, the calculation graph, the rendered desired state.
int memoryBreakdown(const std::string& storePath, const std::vector<Backend>& backends) {
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
  std::printf("memory: syncer + calculation graph + its output state: %.1f MB (%.0f ms)\n",
              (selfRssKb() - base) / 1024.0, graphMs);
  for (Backend b : backends) {
    dataplaneMemory(state, b, "bagb" + std::to_string(::getpid() % 100000) + "-mem");
  }
  return 0;
}

struct Options {
  std::vector<Backend> backends{Backend::kIptables, Backend::kNftables};
  std::vector<int> scales{1};
  std::string agentBin = "build/apps/brindle-agent/brindle-agent";
  int pairs = 5;
  bool traffic = true;
};

struct Traffic {
  Comparison tput, conns;      // policies vs no rules
  Comparison ctTput, ctConns;  // policies vs one conntrack rule
};

// What one backend measured at one scale; negative: not measured.
struct RunResult {
  RunResult(Backend b, int k, Shape s) : backend(b), scale(k), shape(s) {}
  Backend backend;
  int scale;
  Shape shape;
  bool ready = false;
  std::string why;  // not ready / failed: the reason and the agent log's tail
  double coldMs = -1, syncMs = -1, refMs = -1;
  std::string refWhy;  // the reference restore failed: its error
  double addMedian = -1, addP99 = -1;
  int adds = 0;
  bool inKernel = false;
  long rssInSync = -1, rssReady = -1, rssCold = -1, rss = -1, hwm = -1;  // KiB
  int rules = -1, chains = -1, setMembers = -1;
  std::optional<Traffic> traffic;
  std::string log;  // the agent log's start and apply lines
  double rssPerEndpointKib() const {
    return rssCold > 0 ? static_cast<double>(rssCold) / shape.endpoints : -1;
  }
};

std::string tailOf(const std::string& path, int lines) {
  return sh("tail -" + std::to_string(lines) + " " + path).out;
}

// The shell's single-quoted form of `s`.
std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The node's ruleset as the backend's own tool saves it, into `dir`: final.rules (+ final.ipsets)
// for iptables, final.nft (`nft list table inet calico`) for nftables; counts its rules, chains
// and set members.
void saveRuleset(const Lab& lab, Backend backend, RunResult& r) {
  const std::string in = "ip netns exec " + lab.node + " ";
  const std::string& d = lab.dir.path;
  if (backend == Backend::kIptables) {
    must(in + "iptables-save > " + d + "/final.rules");
    must(in + "ipset save > " + d + "/final.ipsets");
    r.rules = std::atoi(sh("grep -c '^-A' " + d + "/final.rules").out.c_str());
    r.chains = std::atoi(sh("grep -c '^:' " + d + "/final.rules").out.c_str());
    r.setMembers = std::atoi(sh("grep -c '^add' " + d + "/final.ipsets").out.c_str());
  } else {
    // Listed without a shell redirect, so that an error (no table) reaches the report.
    auto list = sh(in + "nft list table inet calico");
    if (list.code != 0) throw std::runtime_error("nft list table inet calico: " + list.out);
    std::ofstream(d + "/final.nft") << list.out;
    // Every rule we write carries a "cali:" comment (nftables_render.h).
    r.rules = std::atoi(sh("grep -c 'comment \"cali:' " + d + "/final.nft").out.c_str());
    r.chains = std::atoi(sh("grep -cE '^\\s*chain ' " + d + "/final.nft").out.c_str());
    r.setMembers = std::atoi(sh("awk '/^\\t*set /{s=1} s{n+=gsub(/[0-9]+\\.[0-9]+\\.[0-9]+\\."
                                "[0-9]+/,\"\")} s&&/^\\t*}/{s=0} END{print n+0}' " +
                                d + "/final.nft")
                                 .out.c_str());
  }
}

// One restore of the saved final ruleset into a fresh namespace, timed (iptables: its ipsets
// restored first, untimed; nftables: sets and rules are one `nft -f`): the median of 3 (one
// restore swings by 15% on a shared machine). -1 with `why` if the tool refused it.
double referenceRestoreMs(const Lab& lab, Backend backend, std::string& why) {
  const std::string ref = lab.prefix + "ref";
  const std::string& d = lab.dir.path;
  std::vector<double> runs;
  for (int i = 0; i < 3; ++i) {
    checkInterrupted();
    must("ip netns add " + ref);
    std::string cmd;
    if (backend == Backend::kIptables) {
      must("ip netns exec " + ref + " ipset restore < " + d + "/final.ipsets");
      cmd = "ip netns exec " + ref + " iptables-restore < " + d + "/final.rules";
    } else {
      cmd = "ip netns exec " + ref + " nft -f " + d + "/final.nft";
    }
    auto start = Clock::now();
    auto r = sh(cmd);
    double ms = msSince(start);
    must("ip netns del " + ref);
    if (r.code != 0) {
      why = cmd + ": " + r.out.substr(0, 600);
      return -1;
    }
    runs.push_back(ms);
  }
  std::sort(runs.begin(), runs.end());
  return runs[1];
}

// The twin made the smallest stateful firewall in the backend's own terms: iptables (as before)
// one FORWARD conntrack rule; nftables a table with a forward base chain and the same rule.
void addConntrackRule(const std::string& ns, Backend backend, const std::string& dir) {
  if (backend == Backend::kIptables) {
    must("ip netns exec " + ns +
         " iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
    return;
  }
  std::ofstream(dir + "/ct.nft") << "table inet bench {\n"
                                    "  chain forward {\n"
                                    "    type filter hook forward priority 0; policy accept;\n"
                                    "    ct state established,related accept\n"
                                    "  }\n"
                                    "}\n";
  must("ip netns exec " + ns + " nft -f " + dir + "/ct.nft");
}

// BENCH_AGENT_AB / BENCH_AGENT_PROFILE: the layout experiments (docs/perf.md), on the first
// backend's run; true if one ran (the benchmark then stops).
bool runExperiment(Lab& lab, Backend backend, const std::string& w1, const std::string& p1,
                   const std::string& w2, const std::string& p2, const std::string& plain) {
  const bool ipt = backend == Backend::kIptables;
  // BENCH_AGENT_AB='<shell>': the node's ruleset (after the adds) is saved to $IN (iptables: its
  // ipsets copied into the plain twin $NS); the snippet restores a changed copy into $NS (e.g.
  // `sed -E '/rpfilter/d' "$IN" | ip netns exec "$NS" iptables-restore`, or `... nft -f -`),
  // and the two paths are compared: the same wiring, our rules as they are vs as changed.
  if (const char* snippet = std::getenv("BENCH_AGENT_AB")) {
    const std::string in = lab.dir.path + "/ab-before.rules";
    if (ipt) {
      must("ip netns exec " + lab.node + " iptables-save > " + in);
      must("ip netns exec " + lab.node + " ipset save | ip netns exec " + plain + " ipset restore");
    } else {
      must("ip netns exec " + lab.node + " nft list table inet calico > " + in);
      // The dispatch goes by the interfaces' device groups: the twin's get the same.
      for (const std::string& iface : {ifaceOf(0), ifaceOf(90)}) {
        must("ip -n " + plain + " link set " + iface + " group $(ip -n " + lab.node +
             " -j link show dev " + iface + " | jq -r '.[0].group')");
      }
    }
    ::setenv("IN", in.c_str(), 1);
    ::setenv("NS", plain.c_str(), 1);
    must(snippet);
    const int pairs = pairsFromEnv(10);
    auto c = compare(
        [&](bool pol) { return pol ? connsPerSecond(w1, w2) : connsPerSecond(p1, p2); }, pairs);
    auto t = compare([&](bool pol) { return iperf(pol ? w1 : p1); }, pairs);
    std::printf("A/B (%s, median of %d alternating pairs), as rendered vs as changed:\n",
                nameOf(backend), pairs);
    std::printf("  connections/s %.0f vs %.0f -> ratio %.3f\n", c.policy, c.reference, c.ratio);
    std::printf("  iperf3 TCP %.0f vs %.0f Mbit/s -> ratio %.3f\n", t.policy, t.reference, t.ratio);
    return true;
  }
  // BENCH_AGENT_PROFILE=policy|policy-stopped|policy-flushed|plain: only connections for ~10 s
  // on that path (for `perf record -a` alongside), then stop.
  if (const char* path = std::getenv("BENCH_AGENT_PROFILE")) {
    bool pol = std::string(path).rfind("policy", 0) == 0;
    if (std::string(path) != "policy") {
      // policy-stopped: the rules without the agent; policy-flushed: neither (its wiring only).
      testutil::killAndReap(lab.agent);
    }
    if (std::string(path) == "policy-flushed") {
      if (ipt) {
        for (const char* t : {"raw", "mangle", "nat", "filter"}) {
          sh("ip netns exec " + lab.node + " iptables -t " + t + " -F");
          sh("ip netns exec " + lab.node + " iptables -t " + t + " -X");
        }
      } else {
        sh("ip netns exec " + lab.node + " nft delete table inet calico");
      }
    }
    for (int i = 0; i < 7; ++i) {
      std::printf("%s path: %.0f conn/s\n", pol ? "policy" : "plain",
                  pol ? connsPerSecond(w1, w2) : connsPerSecond(p1, p2));
      std::fflush(stdout);
    }
    // Which of our rules dropped anything meanwhile (iptables' counters), and the TCP
    // retransmissions seen.
    if (ipt) {
      std::printf("%s", sh("ip netns exec " + lab.node +
                           " iptables-save -c | grep -E 'DROP|REJECT' | grep -v '^\\[0:0\\]'")
                            .out.c_str());
    }
    std::printf("%s", sh("ip netns exec " + (pol ? w1 : p1) +
                         " nstat -az TcpRetransSegs "
                         "TcpExtTCPSynRetrans 2>&1 | tail -2")
                          .out.c_str());
    return true;
  }
  return false;
}

// One backend at one scale, from a copy of the scale's store in `storeDir`, into `res` (what
// was measured stays there if a later step throws). A backend that never gets ready returns
// with `why`.
void runBackend(const Options& opt, RunResult& res, const std::string& storeDir,
                bool& experimentDone) {
  const Backend backend = res.backend;
  const int scale = res.scale;
  const Shape& shape = res.shape;
  Lab lab(std::string(backend == Backend::kIptables ? "i" : "n") + std::to_string(scale));
  must("cp -a " + storeDir + "/. " + lab.dir.path + "/");
  const std::string storePath = lab.dir.path + "/store.db";
  const bool measureTraffic = opt.traffic && scale == 1;

  // 1. The node namespace with two real workloads (w1 = endpoint 0, app0; w2 = endpoint 90,
  //    app90, whose policies admit app0 at scale 1), and for the traffic figures a twin "plain"
  //    node (p1, p2) wired the same way that never gets a rule of ours: the reference path,
  //    measured alternately with the policy path.
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
  if (measureTraffic) {
    node(plain, p1, p2);
    std::fflush(stdout);  // children are forked below
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
  }

  // 2. Cold start: agent process start until /readiness (in sync and first apply done).
  std::string portText = std::to_string(lab.port);
  std::fflush(stdout);
  auto agentStart = Clock::now();
  lab.agent = ::fork();
  if (lab.agent == 0) {
    ::setsid();
    std::freopen(lab.log().c_str(), "w", stderr);
    std::string envs[] = {
        "DATASTORE_TYPE=local",
        "BRINDLE_STORE_PATH=" + storePath,
        "FELIX_IPV6SUPPORT=false",
        std::string("FELIX_NFTABLESMODE=") +
            (backend == Backend::kNftables ? "Enabled" : "Disabled"),
        "FELIX_HEALTHPORT=" + portText,
        "FELIX_PROMETHEUSMETRICSPORT=" + portText,
        "FELIX_LOGSEVERITYSCREEN=" +
            std::string(std::getenv("BENCH_AGENT_LOG") ? std::getenv("BENCH_AGENT_LOG") : "Info")};
    for (auto& e : envs) ::putenv(e.data());
    ::execlp("ip", "ip", "netns", "exec", lab.node.c_str(), opt.agentBin.c_str(), "--nodename",
             "node0", nullptr);
    ::_exit(127);
  }
  std::string exited;  // the agent ended before it was ready: how
  (void)os::runInNetns(lab.node, [&]() -> Status {
    while (msSince(agentStart) < 120000.0 * scale) {
      checkInterrupted();
      int st = 0;
      if (::waitpid(lab.agent, &st, WNOHANG) == lab.agent) {
        lab.agent = -1;
        exited = WIFEXITED(st) ? "exited with status " + std::to_string(WEXITSTATUS(st))
                               : "killed by signal " + std::to_string(WTERMSIG(st));
        break;
      }
      if (res.rssInSync < 0) {
        auto m = agent::httpGet("127.0.0.1", lab.port, "/metrics");
        if (m && metric(m->body, "brindle_in_sync") == 1) {
          res.rssInSync = rssKb(lab.agent, "VmRSS:");
          res.syncMs = msSince(agentStart);
        }
      }
      auto r = agent::httpGet("127.0.0.1", lab.port, "/readiness");
      if (r && r->status == 200) {
        res.coldMs = msSince(agentStart);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return Status::ok();
  });
  if (res.coldMs < 0) {
    res.why = "agent not ready after " + std::to_string(static_cast<int>(msSince(agentStart))) +
              " ms" + (exited.empty() ? "" : " (" + exited + ")") + "; agent log tail:\n" +
              tailOf(lab.log(), 8);
    if (auto r = agent::httpGet("127.0.0.1", lab.port, "/readiness"); r && lab.agent > 0) {
      res.why += "readiness: " + r->body.substr(0, 400) + "\n";
    }
    return;
  }
  res.ready = true;
  // Readiness is reported before the agent returns the first apply's heap to the kernel
  // (malloc_trim): RSS at ready is that transient, the figure compared is RSS once settled (two
  // readings 100 ms apart within 1%, at most 5 s).
  res.rssReady = rssKb(lab.agent, "VmRSS:");
  res.rssCold = res.rssReady;
  for (auto t = Clock::now(); msSince(t) < 5000;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    long now = rssKb(lab.agent, "VmRSS:");
    const bool settled = std::labs(now - res.rssCold) * 100 <= res.rssCold;
    res.rssCold = now;
    if (settled) break;
  }
  res.log = sh("grep -E 'starting|in sync|applied|apply:' " + lab.log() + " | head -8").out;

  // 3. The final ruleset saved, to be restored into a fresh namespace with the backend's own
  //    tool after the adds: the kernel tears a deleted namespace's 30k rules down in the
  //    background for a while, which the adds would otherwise share the machine with.
  saveRuleset(lab, backend, res);

  // 4. Endpoint added: datastore write -> its rules applied in the kernel (the agent reports
  //    through brindle_applied_datastore_updates once its iptables-restore / nft transaction has
  //    returned; the last endpoint's chain is looked up in the kernel afterwards).
  std::vector<double> addMs;
  Status adds = os::runInNetns(lab.node, [&]() -> Status {
    auto client = datastore::openLocalStore(storePath);
    if (!client) return client.status();
    resources::ResourceStore store(**client);
    for (int n = 0; n < kAdds; ++n) {
      checkInterrupted();
      auto body = agent::httpGet("127.0.0.1", lab.port, "/metrics");
      if (!body) return body.status();
      double before = metric(body->body, "brindle_datastore_updates_total");
      // A new local endpoint (apps 0, 20, 40...: selected by 10 policies, a member of the sets
      // of the 30 rules naming its app).
      model::Resource ep = shape.endpoint(shape.endpoints + n * shape.nodes);
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
        if (msSince(t0) > 30000.0 * scale) {
          return makeError(ErrorCode::kInternal,
                           "endpoint add " + std::to_string(n) + " not applied");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      addMs.push_back(msSince(t0));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Status::ok();
  });
  if (!adds) res.why = "adds stopped: " + adds.message();
  res.adds = static_cast<int>(addMs.size());
  if (!addMs.empty()) {
    const std::string last = "calin" + std::to_string(addMs.size() - 1);
    res.inKernel =
        sh(backend == Backend::kIptables
               ? "ip netns exec " + lab.node + " iptables -S cali-tw-" + last
               : "ip netns exec " + lab.node +
                     " nft list set inet calico filter-cali-to-wl-dispatch-gmap-if | grep -q '\"" +
                     last + "\" \\. '")
            .code == 0;
    std::sort(addMs.begin(), addMs.end());
    res.addMedian = addMs[addMs.size() / 2];
    res.addP99 = addMs[std::min(addMs.size() - 1, addMs.size() * 99 / 100)];
  }
  res.rss = rssKb(lab.agent, "VmRSS:");
  res.hwm = rssKb(lab.agent, "VmHWM:");
  res.refMs = referenceRestoreMs(lab, backend, res.refWhy);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the reference's teardown, as above

  if (measureTraffic && runExperiment(lab, backend, w1, p1, w2, p2, plain)) {
    experimentDone = true;
    return;
  }

  // 5. Traffic: the policy path (the policies installed, each workload selected by 10) vs the
  //    plain twin with no rules at all, then vs the twin as the smallest stateful firewall (one
  //    conntrack rule: what any policy that admits replies needs), which separates the cost of
  //    being stateful from the cost of the policy. Alternating pairs: single runs on a shared
  //    machine swing by 20%.
  if (measureTraffic) {
    Traffic t;
    auto conns = [&](bool pol) { return pol ? connsPerSecond(w1, w2) : connsPerSecond(p1, p2); };
    auto tput = [&](bool pol) { return iperf(pol ? w1 : p1); };
    t.tput = compare(tput, opt.pairs);
    t.conns = compare(conns, opt.pairs);
    addConntrackRule(plain, backend, lab.dir.path);
    t.ctTput = compare(tput, opt.pairs);
    t.ctConns = compare(conns, opt.pairs);
    res.traffic = t;
  }
  // BENCH_AGENT_LOG_COPY=path keeps the whole agent log (with BENCH_AGENT_LOG=Debug: every
  // apply's steps) after the run's directory is removed, as path.<backend>-<scale>, and the
  // final ruleset the reference restored beside it (.rules/.ipsets, or .nft).
  if (const char* copy = std::getenv("BENCH_AGENT_LOG_COPY")) {
    const std::string to = std::string(copy) + "." + nameOf(backend) + "-" + std::to_string(scale);
    sh("cp " + lab.log() + " " + quoted(to));
    for (const char* ext : {".rules", ".ipsets", ".nft"}) {
      sh("cp " + lab.dir.path + "/final" + ext + " " + quoted(to + ext));
    }
  }
}

void printRun(const RunResult& r, int pairs) {
  const bool ipt = r.backend == Backend::kIptables;
  std::printf("== %s, scale %d: %d endpoints (%d local), %d policies ==\n", nameOf(r.backend),
              r.scale, r.shape.endpoints, r.shape.perNode(), r.shape.policies());
  if (!r.ready) {
    std::printf("NOT MEASURED: %s\n", r.why.c_str());
    return;
  }
  // A run stopped part-way (a failed step) prints what it measured, then why.
  if (!r.log.empty()) std::printf("agent log:\n%s", r.log.c_str());
  if (r.rules >= 0) {
    std::printf("final ruleset: %d rules in %d chains; %d set members\n", r.rules, r.chains,
                r.setMembers);
  }
  if (r.refMs > 0) {
    std::printf(
        "cold start: agent %.0f ms (process start to ready; in sync at %.0f ms) vs one %s of "
        "the final ruleset %.0f ms (median of 3) -> ratio %.2f\n",
        r.coldMs, r.syncMs, ipt ? "iptables-restore" : "nft -f", r.refMs, r.coldMs / r.refMs);
  } else {
    std::printf("cold start: agent %.0f ms (process start to ready; in sync at %.0f ms)%s%s\n",
                r.coldMs, r.syncMs,
                r.refWhy.empty() ? "" : "; reference restore failed: ", r.refWhy.c_str());
  }
  if (r.adds > 0) {
    std::printf(
        "endpoint added, write -> rules in kernel (%d samples): median %.1f ms, p99 %.1f ms%s\n",
        r.adds, r.addMedian, r.addP99, r.inKernel ? "" : " [last chain NOT found in the kernel]");
  }
  std::printf(
      "agent RSS: %.1f MB at in-sync (before the first apply), %.1f MB at ready, %.1f MB after "
      "cold start (settled; %.2f KiB per endpoint)",
      r.rssInSync / 1024.0, r.rssReady / 1024.0, r.rssCold / 1024.0, r.rssPerEndpointKib());
  if (r.rss > 0)
    std::printf(", %.1f MB after the adds, peak %.1f MB", r.rss / 1024.0, r.hwm / 1024.0);
  std::printf("\n");
  if (!r.why.empty()) std::printf("%s\n", r.why.c_str());
  if (const auto& t = r.traffic) {
    std::printf(
        "iperf3 TCP (median of %d alternating pairs): %.0f Mbit/s with policies vs %.0f with no "
        "rules -> ratio %.3f\n",
        pairs, t->tput.policy, t->tput.reference, t->tput.ratio);
    std::printf(
        "connections/s (median of %d alternating pairs): %.0f with policies vs %.0f with no "
        "rules -> ratio %.3f\n",
        pairs, t->conns.policy, t->conns.reference, t->conns.ratio);
    std::printf(
        "  vs the smallest stateful firewall (one conntrack rule, %s): TCP %.0f vs %.0f Mbit/s "
        "-> %.3f; %.0f vs %.0f conn/s -> %.3f\n",
        ipt ? "iptables" : "nft", t->ctTput.policy, t->ctTput.reference, t->ctTput.ratio,
        t->ctConns.policy, t->ctConns.reference, t->ctConns.ratio);
    std::printf(
        "  that firewall alone vs no rules (medians of the two comparisons): TCP %.3f, conn/s "
        "%.3f\n",
        t->tput.reference > 0 ? t->ctTput.reference / t->tput.reference : 0,
        t->conns.reference > 0 ? t->ctConns.reference / t->conns.reference : 0);
  }
  std::fflush(stdout);
}

const RunResult* find(const std::vector<RunResult>& runs, Backend b, int scale) {
  for (const auto& r : runs) {
    if (r.backend == b && r.scale == scale && r.ready) return &r;
  }
  return nullptr;
}

// One goal line: "<what> <value text> (goal ...) PASS|MISS".
void goal(int scale, const std::string& what, const std::string& value, const std::string& goalText,
          bool met) {
  std::printf("  %dx  %-52s %-30s %-14s %s\n", scale, what.c_str(), value.c_str(), goalText.c_str(),
              met ? "PASS" : "MISS");
}

std::string fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[128];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

// The goals for the nftables backend, each against its figure (and iptables' where the
// goal is relative), then how endpoint add grows with the ruleset.
void printGoals(const std::vector<RunResult>& runs, const std::vector<int>& scales) {
  std::printf("\n== goals (issue 17: the nftables backend) ==\n");
  for (int k : scales) {
    const RunResult* n = find(runs, Backend::kNftables, k);
    const RunResult* i = find(runs, Backend::kIptables, k);
    if (!n) {
      std::printf("  %dx  nftables not measured\n", k);
      continue;
    }
    if (i) {
      goal(k, "cold start nftables / iptables",
           fmt("%.0f / %.0f ms = %.2f", n->coldMs, i->coldMs, n->coldMs / i->coldMs), "<= 1",
           n->coldMs <= i->coldMs);
    }
    if (n->adds > 0) {
      const double limit = k == 1 ? 15 : 25;
      goal(k, "endpoint add median, write -> kernel",
           fmt("%.1f ms (p99 %.1f)", n->addMedian, n->addP99),
           fmt(k == 1 ? "<= %.0f ms" : "<= %.0f ms (4x)", limit), n->addMedian <= limit);
    }
    if (i) {
      goal(k, "agent RSS after cold start nftables / iptables",
           fmt("%.1f / %.1f MB = %.2f", n->rssCold / 1024.0, i->rssCold / 1024.0,
               static_cast<double>(n->rssCold) / i->rssCold),
           "<= 1", n->rssCold <= i->rssCold);
    }
    goal(k, "agent RSS per endpoint (after cold start)",
         fmt("%.2f KiB", n->rssPerEndpointKib()) +
             (i ? fmt(" (iptables %.2f)", i->rssPerEndpointKib()) : ""),
         "<= 4 KiB", n->rssPerEndpointKib() <= 4);
    if (const auto& t = n->traffic) {
      std::string ipt = i && i->traffic ? fmt(" (iptables %.3f)", i->traffic->ctConns.ratio) : "";
      goal(k, "connections/s policies / one conntrack rule", fmt("%.3f", t->ctConns.ratio) + ipt,
           ">= 0.95", t->ctConns.ratio >= 0.95);
      ipt = i && i->traffic ? fmt(" (iptables %.3f)", i->traffic->ctTput.ratio) : "";
      goal(k, "TCP throughput policies / one conntrack rule", fmt("%.3f", t->ctTput.ratio) + ipt,
           ">= 0.98", t->ctTput.ratio >= 0.98);
    }
  }
  // Growth: the ruleset grows k-fold; endpoint add should grow less than that.
  for (Backend b : {Backend::kIptables, Backend::kNftables}) {
    const RunResult* base = nullptr;
    for (int k : scales) {
      if (const RunResult* r = find(runs, b, k); r && r->adds > 0 && !base) base = r;
    }
    if (!base) continue;
    for (int k : scales) {
      const RunResult* r = find(runs, b, k);
      if (!r || r == base || r->adds == 0) continue;
      std::printf(
          "  growth %s %dx -> %dx (ruleset x%.1f): endpoint add median x%.2f, p99 x%.2f, cold "
          "start x%.2f, RSS x%.2f\n",
          nameOf(b), base->scale, k, static_cast<double>(k) / base->scale,
          r->addMedian / base->addMedian, r->addP99 / base->addP99, r->coldMs / base->coldMs,
          static_cast<double>(r->rssCold) / base->rssCold);
    }
  }
}

void printSummary(const std::vector<RunResult>& runs) {
  std::printf("\n== summary ==\n");
  std::printf("%-9s %5s %9s %8s %8s %8s %8s %8s %8s %8s %9s %9s\n", "backend", "scale", "endpoints",
              "policies", "rules", "cold ms", "ref ms", "add med", "add p99", "RSS MB", "KiB/endp",
              "conn,tcp");
  for (const auto& r : runs) {
    if (!r.ready) {
      std::printf("%-9s %5d %9d %8d  not measured (see above)\n", nameOf(r.backend), r.scale,
                  r.shape.endpoints, r.shape.policies());
      continue;
    }
    std::string traffic =
        r.traffic ? fmt("%.2f,%.2f", r.traffic->ctConns.ratio, r.traffic->ctTput.ratio) : "-";
    // "-": not measured (the run stopped before that step).
    auto cell = [](double v, const char* f) { return v < 0 ? std::string("-") : fmt(f, v); };
    std::printf("%-9s %5d %9d %8d %8s %8s %8s %8s %8s %8s %9s %9s\n", nameOf(r.backend), r.scale,
                r.shape.endpoints, r.shape.policies(), cell(r.rules, "%.0f").c_str(),
                cell(r.coldMs, "%.0f").c_str(), cell(r.refMs, "%.0f").c_str(),
                cell(r.addMedian, "%.1f").c_str(), cell(r.addP99, "%.1f").c_str(),
                cell(r.rssCold / 1024.0, "%.1f").c_str(),
                cell(r.rssPerEndpointKib(), "%.2f").c_str(), traffic.c_str());
  }
  std::printf(
      "(cold: process start to ready; ref: one restore of the final ruleset; add: endpoint write "
      "-> rules in kernel; RSS after cold start; conn,tcp: policies / one conntrack rule)\n");
}

// The scale's store, written once and copied for each backend's run.
void writeStore(const std::string& path, const Shape& shape) {
  auto start = Clock::now();
  auto client = datastore::openLocalStore(path);
  if (!client) throw std::runtime_error("store: " + client.message());
  resources::ResourceStore store(**client);
  shape.write(store);
  std::printf(
      "shape: %d endpoints over %d nodes (%d local), %d apps, %d policies "
      "(store written in %.0f ms)\n",
      shape.endpoints, shape.nodes, shape.perNode(), shape.apps, shape.policies(), msSince(start));
}

}  // namespace

int runBench(int argc, char** argv) {
  Options opt;
  opt.pairs = pairsFromEnv(opt.pairs);
  std::string dataplane = "both";
  bool memoryOnly = false, noTraffic = false;
  CLI::App app{"bench_agent: brindle-agent on both dataplane backends at the issue's shape"};
  app.add_option("--dataplane", dataplane, "iptables, nftables or both (one after the other)")
      ->check(CLI::IsMember({"iptables", "nftables", "both"}))
      ->capture_default_str();
  app.add_option("--scale", opt.scales,
                 "scale factors, comma-separated: k = 10,000k endpoints, 1,000k policies")
      ->delimiter(',')
      ->allow_extra_args(false)  // "--scale 2 path/to/agent": the path is the positional
      ->check(CLI::Range(1, 6))
      ->capture_default_str();
  app.add_option("--pairs", opt.pairs, "alternating pairs per traffic comparison (~8 s a pair)")
      ->check(CLI::Range(1, 50))
      ->capture_default_str();
  app.add_flag("--no-traffic", noTraffic, "skip the iperf3 and connections/s figures");
  app.add_flag("--memory", memoryOnly,
               "only where the agent's memory goes, in-process (first scale)");
  app.add_option("agent", opt.agentBin, "the brindle-agent binary")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  opt.traffic = !noTraffic;
  if (dataplane == "iptables") opt.backends = {Backend::kIptables};
  if (dataplane == "nftables") opt.backends = {Backend::kNftables};

  if (::geteuid() != 0 && !memoryOnly) {
    std::fprintf(stderr, "bench_agent: needs root (network namespaces)\n");
    return 1;
  }
  struct sigaction sa {};
  sa.sa_handler = [](int) { interrupted = true; };
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  std::vector<RunResult> runs;
  for (int k : opt.scales) {
    const Shape shape = Shape::scaled(k);
    TempDir storeDir;
    writeStore(storeDir.path + "/store.db", shape);
    if (memoryOnly) return memoryBreakdown(storeDir.path + "/store.db", opt.backends);
    for (Backend b : opt.backends) {
      checkInterrupted();
      auto start = Clock::now();
      bool experimentDone = false;
      runs.emplace_back(b, k, shape);
      try {
        runBackend(opt, runs.back(), storeDir.path, experimentDone);
      } catch (const std::exception& e) {
        if (interrupted) throw;
        runs.back().why = std::string("run stopped: ") + e.what();
      }
      if (experimentDone) return 0;
      printRun(runs.back(), opt.pairs);
      std::printf("(%s %dx run: %.0f s)\n", nameOf(b), k, msSince(start) / 1000);
    }
  }
  printGoals(runs, opt.scales);
  printSummary(runs);
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
