// bench_bgp: how fast nodes running Brindle's BGP (a real BIRD per node under bgp::Supervisor,
// driven by bgp::runSupervisor as brindle-agent's BGP thread drives it) learn where a
// workload lives, and what announcing 1,000 /32s costs next to a bare BIRD pair doing the same,
// measured side by side in one run. Needs root; builds its own namespaces (nodes on one bridge)
// and removes them and every BIRD it started, also on failure or Ctrl-C.
//   bench_bgp [--nodes 3,10] [--workloads 20] [--routes 1000] [--churn-rounds 5]
//             [--churn-nodes 2] [--refresh-ms 500] [--no-reach] [--no-churn]
// Reachability: CNI ADD (brindle-cni, spawned in node A's namespace as a runtime does) to the
// first working TCP connect from a workload on node B, for a workload in a block already affine
// to A and for the first workload of a new block (a pool of its own per sample), mesh and route
// reflectors. Churn: /32s outside node A's blocks (WorkloadEndpoints with hand-given addresses,
// as the seed's lab has, plus their kernel routes) announced, then withdrawn, until every other
// node's kernel agrees; the bare pair announces the same kernel routes with a hand-written BIRD.
// --refresh-ms is BgpRefreshInterval (the loop also steps on every datastore change). docs/perf.md
// has the figures and where the time goes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bgp/status.h"
#include "bgp/supervisor.h"
#include "datastore/local/local_store.h"
#include "ipam/block.h"
#include "model/codec.h"
#include "os/netns.h"
#include "resources/resource_store.h"
#include "testutil/shell.h"

using namespace brindle;
using Clock = std::chrono::steady_clock;
using testutil::must;
using testutil::sh;

namespace {

std::atomic<bool> interrupted{false};

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void checkInterrupted() {
  if (interrupted) throw std::runtime_error("interrupted");
}

// Polls `done` every `every` until it holds or `limit` passes; false on time-out.
bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds limit,
             std::chrono::milliseconds every = std::chrono::milliseconds(5)) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    checkInterrupted();
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

int countLines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

struct Options {
  std::vector<int> nodes = {3, 10};
  int workloads = 20;
  int routes = 1000;
  int churnRounds = 5;
  int churnNodes = 2;   // a pair, as the reference
  int refreshMs = 500;  // BgpRefreshInterval's default
  bool reach = true;
  bool churn = true;
};

std::string cniDir() {
  return std::filesystem::canonical("/proc/self/exe").parent_path().parent_path().string() +
         "/apps/brindle-cni";
}

// One cluster of nodes: namespaces on a bridge, a local store, a Supervisor per node stepped on
// its own thread every refresh interval (as runBgp in src/agent/runtime.cc).
class Cluster {
 public:
  Cluster(const Options& opt, int nodes, bool reflectors, int id)
      : opt_(opt),
        nodes_(nodes),
        prefix_("bbgp" + std::to_string(::getpid() % 100000) + "-" + std::to_string(id) + "-") {
    char tmpl[] = "/tmp/bench-bgp-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    rrs_ = reflectors ? (nodes >= 4 ? 2 : 1) : 0;
    try {
      setUp();
    } catch (...) {
      cleanUp();  // the destructor does not run for a half-made object
      throw;
    }
  }
  ~Cluster() { cleanUp(); }

 private:
  void setUp() {
    auto client = datastore::openLocalStore(dir_ + "/store.db");
    if (!client) throw std::runtime_error("store: " + client.message());
    client_ = std::move(*client);
    must("ip netns add " + prefix_ + "br");
    must("ip -n " + prefix_ + "br link add br0 type bridge");
    must("ip -n " + prefix_ + "br link set br0 up");
    std::string yaml =
        "kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata: {name: main}\n"
        "spec: {cidr: 10.66.0.0/16}\n---\n";
    for (int k = 0; k < opt_.workloads; ++k) {  // one pool per new-block sample
      yaml += "kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata: {name: nb" +
              std::to_string(k) + "}\nspec: {cidr: 10.67." + std::to_string(k) + ".0/24}\n---\n";
    }
    for (int i = 1; i <= nodes_; ++i) {
      addNode(i);
      const bool rr = i <= rrs_;
      yaml += "kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: " + node(i) +
              (rr ? ", labels: {rr: 'yes'}" : "") + "}\nspec: {bgp: {ipv4Address: " + nodeIp(i) +
              "/16" + (rr ? ", routeReflectorClusterID: 1.0.0.1" : "") + "}}\n---\n";
    }
    if (rrs_ > 0) {
      yaml +=
          "kind: BGPConfiguration\napiVersion: projectcalico.org/v3\nmetadata: {name: default}\n"
          "spec: {nodeToNodeMeshEnabled: false}\n---\n"
          "kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: {name: to-rr}\n"
          "spec: {peerSelector: has(rr)}\n---\n";
    }
    write(resources::WriteMode::kCreate, yaml);
    for (int i = 1; i <= nodes_; ++i) {
      auto c = datastore::openLocalStore(dir_ + "/store.db");
      if (!c) throw std::runtime_error("store: " + c.message());
      clients_.push_back(std::move(*c));
      bgp::SupervisorOptions o;
      o.node = node(i);
      o.runDir = dir_ + "/run";
      o.netns = prefix_ + node(i);
      supervisors_.push_back(std::make_unique<bgp::Supervisor>(*clients_.back(), o));
    }
    for (int i = 0; i < nodes_; ++i) {
      threads_.emplace_back([this, i] { loop(*supervisors_[i], *clients_[i]); });
    }
  }

 public:
  void cleanUp() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
    for (auto& s : supervisors_) s->teardown();
    for (int i = 1; i <= nodes_; ++i) {  // BIRDs a failed teardown may have left
      std::ifstream in(dir_ + "/run/" + node(i) + "/bird.pid");
      pid_t pid = 0;
      if (in >> pid && pid > 0) ::kill(pid, SIGKILL);
    }
    testutil::deleteNamespaces(prefix_);
    supervisors_.clear();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    dir_.clear();
  }

  int nodes() const { return nodes_; }
  int reflectors() const { return rrs_; }
  std::string node(int i) const { return "n" + std::to_string(i); }
  std::string ns(int i) const { return prefix_ + node(i); }
  std::string nodeIp(int i) const { return "10.88.0." + std::to_string(i); }
  const std::string& prefix() const { return prefix_; }
  const std::string& dir() const { return dir_; }
  bgp::Supervisor& supervisor(int i) { return *supervisors_[i - 1]; }
  // Supervisor steps so far, all nodes.
  int steps() {
    std::lock_guard lock(mu_);
    return steps_;
  }

  void write(resources::WriteMode mode, const std::string& yaml) {
    auto decoded = model::decodeResources(yaml, "bench");
    if (!decoded) throw std::runtime_error("decode: " + decoded.message());
    resources::ResourceStore store(*client_);
    auto out = store.write(mode, decoded->resources);
    if (!out) throw std::runtime_error("store write: " + out.message());
  }

  void write(resources::WriteMode mode, const std::vector<model::Resource>& batch) {
    resources::ResourceStore store(*client_);
    auto out = store.write(mode, batch);
    if (!out) throw std::runtime_error("store write: " + out.message());
  }

  // CNI ADD by brindle-cni in node i's namespace, as a runtime runs it, for the existing
  // namespace `wl` (prefixed), its address from `pool`. Returns the address; *ms is the wall time.
  std::string cniAdd(int i, const std::string& wl, const std::string& pool, double* ms = nullptr) {
    const std::string conf = dir_ + "/cni-" + node(i) + "-" + pool + ".json";
    if (!std::filesystem::exists(conf)) {
      std::ofstream(conf) << R"({"cniVersion":"1.0.0","name":"net1","type":"brindle-cni",)"
                          << R"("nodename":")" << node(i) << R"(","store_path":")" << dir_
                          << R"(/store.db","ipam":{"type":"brindle-ipam","ipv4_pools":[")" << pool
                          << R"("]}})";
    }
    testutil::ShellResult r;
    const auto t0 = Clock::now();
    Status s = os::runInNetns(ns(i), [&] {
      r = sh("env CNI_COMMAND=ADD CNI_CONTAINERID=" + wl + " CNI_NETNS=/var/run/netns/" + prefix_ +
             wl + " CNI_IFNAME=eth0 CNI_PATH=" + cniDir() + " " + cniDir() + "/brindle-cni < " +
             conf + " 2>/dev/null");
      return Status::ok();
    });
    if (ms != nullptr) *ms = msSince(t0);
    std::smatch m;
    if (!s || r.code != 0 ||
        !std::regex_search(r.out, m, std::regex(R"("address":\s*"([0-9.]+)/)"))) {
      throw std::runtime_error("brindle-cni ADD on " + node(i) + ": " + r.out + s.message());
    }
    return m[1].str();
  }
  std::string addWorkload(int i, const std::string& wl) {
    must("ip netns add " + prefix_ + wl);
    return cniAdd(i, wl, "main");
  }

  std::string birdRoutes(int i, const std::string& root = "") {
    return sh("ip -n " + ns(i) + " -4 route show proto bird" +
              (root.empty() ? "" : " root " + root))
        .out;
  }

  // Every node's kernel holds every other node's blocks from BIRD.
  bool converged() {
    std::vector<std::string> blocks;
    resources::ResourceStore store(*client_);
    auto list = client_->list(ipam::blockPrefix(true));
    if (!list) return false;
    std::map<std::string, std::vector<std::string>> byNode;
    for (const auto& kv : list->items) {
      auto b = ipam::Block::decode(kv.value);
      if (b && b->affinity()) byNode[*b->affinity()].push_back(b->cidr().toString());
    }
    for (int i = 1; i <= nodes_; ++i) {
      const std::string routes = birdRoutes(i);
      for (const auto& [aff, cidrs] : byNode) {
        if (aff == "host:" + node(i)) continue;
        for (const auto& c : cidrs) {
          if (routes.find(c + " via") == std::string::npos) return false;
        }
      }
    }
    return true;
  }

  struct NodeCounts {
    int sessions = 0, established = 0, birdRoutes = 0, allRoutes = 0;
  };
  NodeCounts counts(int i) {
    NodeCounts c;
    if (auto peers = bgp::readPeers(supervisor(i).path(4, ".ctl"))) {
      for (const auto& p : *peers) {
        ++c.sessions;
        c.established += p.bgpState() == "Established";
      }
    }
    c.birdRoutes = countLines(birdRoutes(i));
    c.allRoutes = countLines(sh("ip -n " + ns(i) + " -4 route show").out);
    return c;
  }

 private:
  void addNode(int i) {
    const std::string n = ns(i);
    const std::string br = prefix_ + "br";
    const std::string p = "p" + std::to_string(i);
    must("ip netns add " + n);
    must("ip -n " + n + " link set lo up");
    must("ip -n " + br + " link add " + p + " type veth peer name eth0 netns " + n);
    must("ip -n " + br + " link set " + p + " master br0 up");
    must("ip -n " + n + " addr add " + nodeIp(i) + "/16 dev eth0");
    must("ip -n " + n + " link set eth0 up");
    must("ip netns exec " + n + " sysctl -qw net.ipv4.ip_forward=1");
  }

  // brindle-agent's BGP thread (runBgp): bgp::runSupervisor, counting the steps.
  void loop(bgp::Supervisor& s, datastore::Client& client) {
    bgp::runSupervisor(s, client, std::chrono::milliseconds(opt_.refreshMs), stop_, [&] {
      std::lock_guard lock(mu_);
      ++steps_;
    });
  }

  const Options& opt_;
  int nodes_;
  int rrs_ = 0;
  std::string prefix_;
  std::string dir_;
  datastore::ClientPtr client_;
  std::vector<datastore::ClientPtr> clients_;
  std::vector<std::unique_ptr<bgp::Supervisor>> supervisors_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  int steps_ = 0;
};

// A listening TCP socket on port 8080 inside namespace `netns` (connections complete into its
// backlog; nobody needs to accept). -1 on failure.
int listenIn(const std::string& netns) {
  int fd = -1;
  (void)os::runInNetns(netns, [&] {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(8080);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0) {
      ::close(fd);
      fd = -1;
    }
    return Status::ok();
  });
  return fd;
}

// From namespace `netns`, connects to ip:8080 again and again (10 ms per attempt) until one
// succeeds; the time it took in ms, or -1 after `limit`.
double connectUntilOk(const std::string& netns, const std::string& ip,
                      std::chrono::milliseconds limit) {
  double took = -1;
  (void)os::runInNetns(netns, [&] {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(8080);
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    const auto t0 = Clock::now();
    while (Clock::now() - t0 < limit && !interrupted) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      linger l{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
      bool ok = rc == 0;
      if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, 10) == 1) {
          int err = 0;
          socklen_t len = sizeof err;
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
          ok = err == 0;
        }
      }
      ::close(fd);
      if (ok) {
        took = msSince(t0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return Status::ok();
  });
  return took;
}

int64_t mtimeNs(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mtim.tv_sec * 1000000000L + st.st_mtim.tv_nsec;
}

struct ReachFigures {
  std::vector<double> total, cni, conf;  // ms: ADD to connect; the ADD; ADD to A's BIRD config
  int failed = 0;
};

void printReach(const char* what, const ReachFigures& f, double goal, bool goalApplies) {
  const double med = pct(f.total, 0.5);
  std::printf("  %-15s median %7.1f ms  p99 %7.1f ms  (CNI ADD median %5.1f ms", what, med,
              pct(f.total, 0.99), pct(f.cni, 0.5));
  if (!f.conf.empty()) std::printf(", A's new config written after %5.1f ms", pct(f.conf, 0.5));
  std::printf(")  goal median <= %.0f ms%s: %s", goal, goalApplies ? "" : " (at 10 nodes)",
              med <= goal && f.failed == 0 ? "PASS" : "FAIL");
  if (f.failed > 0) std::printf("  [%d of %zu never connected]", f.failed, f.total.size());
  std::printf("\n");
}

void printCounts(Cluster& c) {
  std::printf(
      "  per node: BGP sessions Established/configured, kernel routes proto bird/all:\n   ");
  for (int i = 1; i <= c.nodes(); ++i) {
    auto n = c.counts(i);
    std::printf(" n%d%s %d/%d %d/%d", i, i <= c.reflectors() ? "(rr)" : "", n.established,
                n.sessions, n.birdRoutes, n.allRoutes);
  }
  std::printf("\n");
}

void reachability(const Options& opt, int nodes, bool rr, int id) {
  const auto setup = Clock::now();
  Cluster c(opt, nodes, rr, id);
  // A = the last node, B = the one before (both clients of the reflectors when there are any).
  const int a = nodes, b = nodes - 1;
  for (int i = 1; i <= nodes; ++i) c.addWorkload(i, "w" + std::to_string(i));  // a block each
  if (!waitFor([&] { return c.converged(); }, std::chrono::seconds(90),
               std::chrono::milliseconds(200))) {
    throw std::runtime_error("the nodes did not learn each other's blocks in 90 s");
  }
  std::printf("%d nodes, %s: converged %.1f s after start\n", nodes,
              rr ? (std::to_string(c.reflectors()) + " route reflectors").c_str() : "full mesh",
              msSince(setup) / 1000);
  const std::string conf = c.supervisor(a).path(4, ".conf");
  const int steps0 = c.steps();
  const auto sampling = Clock::now();
  for (bool fresh : {false, true}) {
    ReachFigures f;
    for (int k = 0; k < opt.workloads; ++k) {
      checkInterrupted();
      const std::string wl = std::string(fresh ? "nb" : "eb") + std::to_string(k);
      // The runtime makes the namespace (and the app listens in it) before ADD.
      const std::string wns = c.prefix() + wl;
      must("ip netns add " + wns);
      must("ip -n " + wns + " link set lo up");
      const int listener = listenIn(wns);
      if (listener < 0) throw std::runtime_error("cannot listen in " + wns);
      const int64_t confBefore = mtimeNs(conf);
      double cniMs = 0;
      const auto t0 = Clock::now();
      std::string addr;
      try {
        addr = c.cniAdd(a, wl, fresh ? "nb" + std::to_string(k) : "main", &cniMs);
      } catch (...) {
        ::close(listener);
        throw;
      }
      const double connectMs = connectUntilOk(c.prefix() + "w" + std::to_string(b), addr,
                                              std::chrono::milliseconds(10000));
      const double total = msSince(t0);
      ::close(listener);
      f.cni.push_back(cniMs);
      if (connectMs < 0) ++f.failed;
      f.total.push_back(connectMs < 0 ? 10000 : total);
      if (fresh) {  // when A's BIRD got the new block (bird.conf replaced)
        const int64_t after = mtimeNs(conf);
        if (after != confBefore) {
          const auto now = std::chrono::system_clock::now();
          const double ago = std::chrono::duration<double, std::milli>(
                                 now.time_since_epoch() - std::chrono::nanoseconds(after))
                                 .count();
          f.conf.push_back(msSince(t0) - ago);
        }
      }
    }
    printReach(fresh ? "new block" : "existing block", f, fresh ? 1000 : 200, nodes >= 10);
  }
  std::printf(
      "  supervisor steps: %.1f per node per second while sampling (every %d ms and on "
      "each datastore change)\n",
      (c.steps() - steps0) / (msSince(sampling) / 1000) / nodes, opt.refreshMs);
  printCounts(c);
}

// Two namespaces on a veth, a hand-written BIRD each: p1 learns kernel routes and announces
// them, p2 installs what it hears. The reference for the churn figures.
struct BarePair {
  std::string prefix = "bbgp" + std::to_string(::getpid() % 100000) + "-bare-";
  std::string dir;
  pid_t bird[2] = {-1, -1};
  BarePair() {
    char tmpl[] = "/tmp/bench-bgp-bare-XXXXXX";
    dir = ::mkdtemp(tmpl);
    try {
      setUp();
    } catch (...) {
      cleanUp();
      throw;
    }
  }
  ~BarePair() { cleanUp(); }
  void setUp() {
    must("ip netns add " + ns(1));
    must("ip netns add " + ns(2));
    must("ip -n " + ns(1) + " link add eth0 type veth peer name eth0 netns " + ns(2));
    for (int i : {1, 2}) {
      must("ip -n " + ns(i) + " link set lo up");
      must("ip -n " + ns(i) + " addr add 10.89.0." + std::to_string(i) + "/24 dev eth0");
      must("ip -n " + ns(i) + " link set eth0 up");
    }
    must("ip -n " + ns(1) + " link add calichurn type veth peer name calichurnp");
    must("ip -n " + ns(1) + " link set calichurn up");
    must("ip -n " + ns(1) + " link set calichurnp up");
    for (int i : {1, 2}) {
      const std::string me = "10.89.0." + std::to_string(i);
      const std::string peer = "10.89.0." + std::to_string(3 - i);
      const std::string conf = dir + "/bird" + std::to_string(i) + ".conf";
      // The same kernel protocol settings as Brindle's (scan time, netlink rx buffer).
      std::ofstream(conf) << "router id " << me << ";\nprotocol device { scan time 2; }\n"
                          << (i == 1 ? "protocol kernel { ipv4 { import all; export none; }; learn;"
                                     : "protocol kernel { ipv4 { import none; export all; };")
                          << " scan time 2; netlink rx buffer 8388608; }\n"
                          << "protocol bgp peer { local " << me << " as 64512; neighbor " << peer
                          << " as 64512; ipv4 { "
                          << (i == 1 ? "import none; export where source = RTS_INHERIT;"
                                     : "import all; export none;")
                          << " }; }\n";
      bird[i - 1] = testutil::spawnDaemon(
          {"ip", "netns", "exec", ns(i), "bird", "-f", "-c", conf, "-s", ctl(i)},
          dir + "/bird" + std::to_string(i) + ".log");
    }
    if (!waitFor(
            [&] {
              return sh("birdc -s " + ctl(1) + " show protocols").out.find("Established") !=
                     std::string::npos;
            },
            std::chrono::seconds(30), std::chrono::milliseconds(100))) {
      throw std::runtime_error("the bare BIRD pair did not establish its session");
    }
  }
  void cleanUp() {
    for (pid_t& pid : bird) testutil::killAndReap(pid);
    sh("ip netns delete " + ns(1));
    sh("ip netns delete " + ns(2));
    if (!dir.empty()) std::filesystem::remove_all(dir);
    dir.clear();
  }
  std::string ns(int i) const { return prefix + "p" + std::to_string(i); }
  std::string ctl(int i) const { return dir + "/bird" + std::to_string(i) + ".ctl"; }
};

std::string churnIp(int k) {
  return "10.69." + std::to_string(k / 250) + "." + std::to_string(k % 250 + 1);
}

// Kernel routes for the churn /32s from BIRD in namespace `ns`.
int churnRoutes(const std::string& ns) {
  return countLines(sh("ip -n " + ns + " -4 route show proto bird root 10.69.0.0/16").out);
}

// Waits until every namespace in `others` holds `want` churn routes; ms since t0, -1 on time-out.
double untilAgreed(const std::vector<std::string>& others, int want, Clock::time_point t0) {
  const bool ok = waitFor(
      [&] {
        for (const auto& o : others) {
          if (churnRoutes(o) != want) return false;
        }
        return true;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(2));
  return ok ? msSince(t0) : -1;
}

void churn(const Options& opt, int id) {
  BarePair bare;
  Cluster c(opt, opt.churnNodes, false, id);
  for (int i = 1; i <= c.nodes(); ++i) c.addWorkload(i, "w" + std::to_string(i));
  if (!waitFor([&] { return c.converged(); }, std::chrono::seconds(90),
               std::chrono::milliseconds(200))) {
    throw std::runtime_error("the churn nodes did not learn each other's blocks in 90 s");
  }
  must("ip -n " + c.ns(1) + " link add calichurn type veth peer name calichurnp");
  must("ip -n " + c.ns(1) + " link set calichurn up");
  must("ip -n " + c.ns(1) + " link set calichurnp up");
  std::string add, del, yaml;
  for (int k = 0; k < opt.routes; ++k) {
    add += "route add " + churnIp(k) + "/32 dev calichurn scope link\n";
    del += "route del " + churnIp(k) + "/32 dev calichurn scope link\n";
    yaml +=
        "kind: WorkloadEndpoint\napiVersion: projectcalico.org/v3\nmetadata:\n  name: n1-k8s-c" +
        std::to_string(k) +
        "-eth0\n  namespace: default\nspec:\n  node: n1\n  orchestrator: k8s\n  pod: c" +
        std::to_string(k) + "\n  endpoint: eth0\n  interfaceName: calichurn\n  ipNetworks: [" +
        churnIp(k) + "/32]\n---\n";
  }
  std::ofstream(c.dir() + "/add.batch") << add;
  std::ofstream(c.dir() + "/del.batch") << del;
  auto decoded = model::decodeResources(yaml, "churn");
  if (!decoded) throw std::runtime_error("churn endpoints: " + decoded.message());
  std::vector<std::string> others;
  for (int i = 2; i <= c.nodes(); ++i) others.push_back(c.ns(i));
  const std::string conf = c.supervisor(1).path(4, ".conf");
  std::vector<double> up, down, bareUp, bareDown, confUp;
  auto confAfter = [&](Clock::time_point t0, int64_t before) {
    const int64_t after = mtimeNs(conf);
    if (after == before) return -1.0;
    const double ago =
        std::chrono::duration<double, std::milli>(
            std::chrono::system_clock::now().time_since_epoch() - std::chrono::nanoseconds(after))
            .count();
    return msSince(t0) - ago;
  };
  const int steps0 = c.steps();
  const auto rounds = Clock::now();
  for (int round = 0; round < opt.churnRounds; ++round) {
    checkInterrupted();
    // Brindle: the kernel routes (as the CNI plugin adds them) and the endpoints, written while
    // the clock runs (as CNI plugins write them) but not ahead of it: the clock stops when the
    // kernels agree, the write done or not.
    auto brindle = [&](const char* batch, resources::WriteMode mode, int want) {
      const auto t0 = Clock::now();
      must("ip -n " + c.ns(1) + " -batch " + c.dir() + batch);
      std::exception_ptr failed;
      std::thread writer([&] {
        try {
          c.write(mode, decoded->resources);
        } catch (...) {
          failed = std::current_exception();
        }
      });
      const double ms = untilAgreed(others, want, t0);
      writer.join();
      if (failed) std::rethrow_exception(failed);
      return std::pair{ms, t0};
    };
    const int64_t before = mtimeNs(conf);
    const auto [ms, start] = brindle("/add.batch", resources::WriteMode::kCreate, opt.routes);
    up.push_back(ms);
    confUp.push_back(confAfter(start, before));
    down.push_back(brindle("/del.batch", resources::WriteMode::kDelete, 0).first);
    // The bare pair: the same kernel routes.
    auto t0 = Clock::now();
    must("ip -n " + bare.ns(1) + " -batch " + c.dir() + "/add.batch");
    bareUp.push_back(untilAgreed({bare.ns(2)}, opt.routes, t0));
    t0 = Clock::now();
    must("ip -n " + bare.ns(1) + " -batch " + c.dir() + "/del.batch");
    bareDown.push_back(untilAgreed({bare.ns(2)}, 0, t0));
  }
  for (const auto* v : {&up, &down, &bareUp, &bareDown}) {
    if (std::find(v->begin(), v->end(), -1.0) != v->end()) {
      throw std::runtime_error("a churn round did not converge in 60 s");
    }
  }
  std::printf(
      "Churn: %d /32s announced on node A, then withdrawn, until every other node's kernel "
      "agrees (median of %d rounds)\n",
      opt.routes, opt.churnRounds);
  // Median and range: single rounds swing between ~0.05 and ~3 s (docs/perf.md).
  auto fig = [](const std::vector<double>& v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%7.1f ms (%.0f-%.0f)", pct(v, 0.5), pct(v, 0), pct(v, 1));
    return std::string(buf);
  };
  std::vector<double> confWritten;  // rounds in which A's config changed before the kernels agreed
  for (double ms : confUp) {
    if (ms >= 0) confWritten.push_back(ms);
  }
  std::printf("  brindle, %d nodes (mesh)   announce %s  withdraw %s\n", c.nodes(), fig(up).c_str(),
              fig(down).c_str());
  if (confWritten.empty()) {
    std::printf("    (announce: A's config unchanged in every round)\n");
  } else {
    std::printf("    (announce: A's new config written after %.1f ms, median of %zu rounds)\n",
                pct(confWritten, 0.5), confWritten.size());
  }
  std::printf("  bare BIRD pair             announce %s  withdraw %s\n", fig(bareUp).c_str(),
              fig(bareDown).c_str());
  const double ru = pct(up, 0.5) / pct(bareUp, 0.5), rd = pct(down, 0.5) / pct(bareDown, 0.5);
  std::printf(
      "  ratio brindle/bare         announce %7.2f     withdraw %7.2f     goal <= 1.2: "
      "announce %s, withdraw %s\n",
      ru, rd, ru <= 1.2 ? "PASS" : "FAIL", rd <= 1.2 ? "PASS" : "FAIL");
  std::printf("  supervisor steps: %.1f per node per second during the rounds\n",
              (c.steps() - steps0) / (msSince(rounds) / 1000) / c.nodes());
  printCounts(c);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{
      "bench_bgp: reachability (CNI ADD on one node to the first TCP connect from another) "
      "and route churn against a bare BIRD pair; root, network namespaces (docs/perf.md)"};
  app.add_option("--nodes", opt.nodes, "topology sizes, comma-separated (each >= 3)")
      ->delimiter(',')
      ->check(CLI::Range(3, 1000))
      ->capture_default_str();
  app.add_option("--workloads", opt.workloads, "workloads per node in the reachability runs")
      ->check(CLI::Range(1, 250))
      ->capture_default_str();
  app.add_option("--routes", opt.routes, "routes per churn round")
      ->check(CLI::Range(1, 60000))
      ->capture_default_str();
  app.add_option("--churn-rounds", opt.churnRounds, "churn rounds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--churn-nodes", opt.churnNodes, "nodes in the churn run")
      ->check(CLI::Range(2, 1000))
      ->capture_default_str();
  app.add_option("--refresh-ms", opt.refreshMs, "the supervisor's refresh interval")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  bool noReach = false, noChurn = false;
  app.add_flag("--no-reach", noReach, "skip the reachability runs");
  app.add_flag("--no-churn", noChurn, "skip the churn run");
  CLI11_PARSE(app, argc, argv);
  opt.reach = !noReach;
  opt.churn = !noChurn;
  if (::geteuid() != 0) {
    std::fprintf(stderr, "bench_bgp: needs root (network namespaces)\n");
    return 1;
  }
  struct sigaction sa {};
  sa.sa_handler = [](int) { interrupted = true; };
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  int id = 0;
  try {
    if (opt.reach) {
      std::printf(
          "Reachability: CNI ADD on node A to the first TCP connect from a workload on "
          "node B, %d workloads each\n",
          opt.workloads);
      for (int n : opt.nodes) {
        for (bool rr : {false, true}) reachability(opt, n, rr, id++);
      }
    }
    if (opt.churn) churn(opt, id++);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_bgp: %s\n", e.what());
    return 1;
  }
  return 0;
}
