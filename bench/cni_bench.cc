// bench_cni: ADD and DEL latency of brindle-cni (in-process IPAM, local store), one at a time
// and 8 at once, side by side with Debian's ptp + host-local doing the same job (a veth, a /32,
// routes) on the same machine. Needs root; builds its own node and workload namespaces.
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

constexpr int kSerial = 40;   // workloads added then deleted one at a time
constexpr int kParallel = 8;  // workloads in flight at once
constexpr int kRounds = 5;    // parallel rounds

struct Flavour {
  std::string name;
  std::string binary;
  std::string confPath;
};

std::string prefix() { return "bcnibench" + std::to_string(getpid()) + "-"; }

int run(const std::string& cmd) { return std::system(cmd.c_str()); }

// Runs one plugin invocation as a runtime does and returns its wall time in ms (-1 on failure).
double invoke(const Flavour& f, const std::string& command, const std::string& id,
              const std::string& netns, const std::string& cniPath) {
  std::vector<std::string> env = {"CNI_COMMAND=" + command, "CNI_CONTAINERID=" + id,
                                  "CNI_NETNS=" + netns,     "CNI_IFNAME=eth0",
                                  "CNI_PATH=" + cniPath,    "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, f.confPath.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  std::string bin = f.binary;
  char* argv[] = {bin.data(), nullptr};
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid;
  if (posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv, envp.data()) != 0) return -1;
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  waitpid(pid, &status, 0);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? ms : -1;
}

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct Figures {
  double addP50, addP99, delP50, delP99;
};

// Serial: kSerial ADDs, then kSerial DELs. Parallel: kRounds x kParallel ADDs at once, then DELs.
bool measure(const Flavour& f, const std::string& pre, const std::string& cniPath, bool parallel,
             Figures* out) {
  std::vector<double> adds, dels;
  const int n = parallel ? kParallel * kRounds : kSerial;
  auto ns = [&](int i) { return "/var/run/netns/" + pre + "w" + std::to_string(i); };
  auto id = [&](int i) { return f.name + (parallel ? "p" : "s") + std::to_string(i); };
  bool ok = true;
  auto phase = [&](const std::string& command, std::vector<double>* times) {
    if (!parallel) {
      for (int i = 0; i < n; ++i) {
        double ms = invoke(f, command, id(i), ns(i), cniPath);
        ok &= ms >= 0;
        times->push_back(ms);
      }
      return;
    }
    for (int r = 0; r < kRounds; ++r) {
      std::vector<double> t(kParallel);
      std::vector<std::thread> threads;
      for (int k = 0; k < kParallel; ++k) {
        const int i = r * kParallel + k;
        threads.emplace_back([&, i, k] { t[k] = invoke(f, command, id(i), ns(i), cniPath); });
      }
      for (auto& th : threads) th.join();
      for (double ms : t) {
        ok &= ms >= 0;
        times->push_back(ms);
      }
    }
  };
  phase("ADD", &adds);
  phase("DEL", &dels);
  *out = {pct(adds, 0.5), pct(adds, 0.99), pct(dels, 0.5), pct(dels, 0.99)};
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (geteuid() != 0) {
    std::fprintf(stderr, "bench_cni: needs root (network namespaces)\n");
    return 1;
  }
  // The plugin sits beside this binary's build tree: apps/brindle-cni/brindle-cni.
  std::string pluginDir = argc > 1 ? argv[1] : "";
  if (pluginDir.empty()) {
    pluginDir = std::filesystem::canonical("/proc/self/exe").parent_path().parent_path().string() +
                "/apps/brindle-cni";
  }
  const std::string brindlectl =
      std::filesystem::path(pluginDir).parent_path().string() + "/brindlectl/brindlectl";
  char tmpl[] = "/tmp/bench-cni-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string pre = prefix();
  const int maxW = std::max(kSerial, kParallel * kRounds);

  // Node namespace with the workloads' namespaces; the bench enters the node so that every
  // plugin it spawns runs there, as under a runtime on that node.
  std::string setup = "ip netns add " + pre + "node";
  for (int i = 0; i < maxW; ++i) setup += " && ip netns add " + pre + "w" + std::to_string(i);
  bool ok = run(setup) == 0;
  std::ofstream(dir + "/pool.yaml") << "apiVersion: projectcalico.org/v3\nkind: IPPool\n"
                                       "metadata: {name: bench}\nspec: {cidr: 10.79.0.0/16}\n";
  ok = ok && run("BRINDLE_STORE_PATH=" + dir + "/store.db " + brindlectl + " create -f " + dir +
                 "/pool.yaml >/dev/null") == 0;
  std::ofstream(dir + "/brindle.json")
      << R"({"cniVersion":"1.0.0","name":"bench","type":"brindle-cni","nodename":"node1",)"
      << R"("store_path":")" << dir << R"(/store.db"})";
  std::ofstream(dir + "/ptp.json")
      << R"({"cniVersion":"1.0.0","name":"bench","type":"ptp","ipMasq":false,)"
      << R"("ipam":{"type":"host-local","dataDir":")" << dir
      << R"(/hl","ranges":[[{"subnet":"10.80.0.0/16"}]]}})";
  int nodeFd = open(("/var/run/netns/" + pre + "node").c_str(), O_RDONLY);
  ok = ok && nodeFd >= 0 && setns(nodeFd, CLONE_NEWNET) == 0;

  const std::string cniPath = pluginDir + ":/usr/lib/cni";
  Flavour ours{"brindle", pluginDir + "/brindle-cni", dir + "/brindle.json"};
  Flavour peer{"ptp", "/usr/lib/cni/ptp", dir + "/ptp.json"};
  if (ok) {
    std::printf("CNI ADD/DEL latency (ms), %d serial, %d x %d parallel; plugin spawned per call\n",
                kSerial, kRounds, kParallel);
    std::printf("%-22s %9s %9s %9s %9s\n", "", "ADD p50", "ADD p99", "DEL p50", "DEL p99");
    for (bool parallel : {false, true}) {
      Figures a{}, b{};
      ok &= measure(ours, pre, cniPath, parallel, &a);
      ok &= measure(peer, pre, cniPath, parallel, &b);
      const char* mode = parallel ? "8 at once" : "one at a time";
      std::printf("brindle-cni %-10s %9.1f %9.1f %9.1f %9.1f\n", mode, a.addP50, a.addP99, a.delP50,
                  a.delP99);
      std::printf("ptp+host-local %-7s %9.1f %9.1f %9.1f %9.1f\n", mode, b.addP50, b.addP99,
                  b.delP50, b.delP99);
      std::printf("ratio brindle/ptp %-4s %9.2f %9.2f %9.2f %9.2f\n", "", a.addP50 / b.addP50,
                  a.addP99 / b.addP99, a.delP50 / b.delP50, a.delP99 / b.delP99);
    }
  }
  if (!ok) std::fprintf(stderr, "bench_cni: a setup step or a plugin call failed\n");
  std::string cleanup = "ip netns del " + pre + "node";
  for (int i = 0; i < maxW; ++i) cleanup += "; ip netns del " + pre + "w" + std::to_string(i);
  run(cleanup + " 2>/dev/null");
  std::filesystem::remove_all(dir);
  return ok ? 0 : 1;
}
