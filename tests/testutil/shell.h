// What the root-only tests and benchmarks do to the system: run a shell command, start a daemon
// and stop it, wire a workload namespace behind a cali veth as Calico does, and delete the
// namespaces a test made (only those: other processes use namespaces too).
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace brindle::testutil {

struct ShellResult {
  int code = -1;
  std::string out;  // stdout and stderr
};

inline ShellResult sh(const std::string& cmd) {
  ShellResult r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Runs `cmd`; throws with its output if it fails (set-up steps: a fixture that throws still
// tears down what it made so far).
inline void must(const std::string& cmd) {
  auto r = sh(cmd);
  if (r.code != 0) throw std::runtime_error(cmd + ": " + r.out);
}

// Starts argv as a daemon (own session, so a test's process group signals do not reach it)
// with stdout and stderr appended to `log`, `env` added to the environment; returns its pid.
inline pid_t spawnDaemon(const std::vector<std::string>& argv, const std::string& log,
                         const std::vector<std::string>& env = {}) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    if (FILE* f = std::fopen(log.c_str(), "a")) {
      ::dup2(fileno(f), 1);
      ::dup2(fileno(f), 2);
    }
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

// Sends `sig` to `pid` (if set), reaps it and clears it.
inline void killAndReap(pid_t& pid, int sig = SIGKILL) {
  if (pid <= 0) return;
  ::kill(pid, sig);
  ::waitpid(pid, nullptr, 0);
  pid = -1;
}

// Namespace `ns` behind veth `iface` (host side, in namespace `node`), addressed `ip`/32 with
// Calico's gateway trick: 169.254.1.1 on-link and default via it, with a permanent neighbour
// entry so nothing depends on proxy-ARP (FIELD-NOTES). Creates `ns`.
inline void addCaliWorkload(const std::string& node, const std::string& ns,
                            const std::string& iface, const std::string& ip) {
  must("ip netns add " + ns);
  must("ip -n " + node + " link add " + iface + " type veth peer name eth0 netns " + ns);
  must("ip -n " + node + " link set " + iface + " up");
  must("ip -n " + ns + " link set lo up");
  must("ip -n " + ns + " link set eth0 up");
  must("ip -n " + ns + " addr add " + ip + "/32 dev eth0");
  must("ip -n " + ns + " route add 169.254.1.1 dev eth0 scope link");
  must("ip -n " + ns + " route add default via 169.254.1.1 dev eth0");
  const auto link = sh("ip -n " + node + " -o link show " + iface);
  std::smatch m;
  if (!std::regex_search(link.out, m, std::regex("link/ether ([0-9a-f:]+)"))) {
    throw std::runtime_error("no MAC for " + iface + ": " + link.out);
  }
  must("ip -n " + ns + " neigh add 169.254.1.1 lladdr " + m[1].str() + " dev eth0 nud permanent");
}

// Deletes every namespace whose name starts with `prefix` (never anyone else's).
inline void deleteNamespaces(const std::string& prefix) {
  if (prefix.empty()) return;
  std::istringstream in(sh("ip netns list").out);
  std::string line;
  while (std::getline(in, line)) {
    const std::string name = line.substr(0, line.find(' '));
    if (name.rfind(prefix, 0) == 0) sh("ip netns delete " + name);
  }
}

}  // namespace brindle::testutil
