// Real etcd processes for tests: one member or a cluster on loopback with free ports, a private
// data dir, optional TLS and auth; killed and removed by the destructor (also on test failure).
//
// Members are started with PR_SET_PDEATHSIG, so they die with the test process even if it
// crashes. Construct it on the test's main thread (the death signal follows the thread that
// forked). TLS certificates come from scripts/etcd-local certs (BRINDLE_ETCD_LOCAL must name it).
#pragma once
#include <filesystem>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "testutil/temp_dir.h"

namespace brindle::testutil {

struct EtcdServerOptions {
  bool tls = false;   // https client URLs, client certificates required
  bool auth = false;  // users root/rootpw and felix/felixpw (readwrite on /calico/ only)
  // Run the members (and etcdctl) inside this network namespace, listening on `host`: a test
  // can then cut them off (e.g. drop their packets) without touching the host's tables.
  std::string netns;
  std::string host = "127.0.0.1";
};

class EtcdCluster {
 public:
  explicit EtcdCluster(int members = 1, EtcdServerOptions options = {}) : options_(options) {
    if (options_.tls) {
#ifndef BRINDLE_ETCD_LOCAL
      throw std::runtime_error("EtcdCluster with TLS needs BRINDLE_ETCD_LOCAL defined");
#else
      runOrThrow(std::string(BRINDLE_ETCD_LOCAL) + " certs " + dir_.file("certs"));
#endif
    }
    for (int i = 0; i < members; ++i) {
      Member m;
      m.name = "m" + std::to_string(i);
      m.clientPort = freePort();
      m.peerPort = freePort();
      members_.push_back(m);
    }
    try {
      for (size_t i = 0; i < members_.size(); ++i) spawn(i);
      for (size_t i = 0; i < members_.size(); ++i) waitHealthy(i);
      if (options_.auth) {
        for (const char* cmd :
             {"user add root:rootpw --interactive=false", "user grant-role root root",
              "role add calico", "role grant-permission calico --prefix=true readwrite /calico/",
              "user add felix:felixpw --interactive=false", "user grant-role felix calico",
              "auth enable"}) {
          runOrThrow(etcdctlCommand(cmd));
        }
        authEnabled_ = true;
      }
    } catch (...) {
      // The destructor does not run for a half-built object: stop what was started here.
      for (size_t i = 0; i < members_.size(); ++i) kill(i);
      throw;
    }
  }

  ~EtcdCluster() {
    for (size_t i = 0; i < members_.size(); ++i) kill(i);
  }
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  std::string endpoint(size_t i) const {
    return std::string(options_.tls ? "https" : "http") + "://" + options_.host + ":" +
           std::to_string(members_[i].clientPort);
  }
  std::vector<std::string> endpoints() const {
    std::vector<std::string> out;
    for (size_t i = 0; i < members_.size(); ++i) out.push_back(endpoint(i));
    return out;
  }
  std::string endpointList() const {
    std::string out;
    for (size_t i = 0; i < members_.size(); ++i) out += (i ? "," : "") + endpoint(i);
    return out;
  }
  const std::string& dir() const { return dir_.path(); }
  std::string caFile() const { return dir_.file("certs/ca.pem"); }
  std::string certFile() const { return dir_.file("certs/client.pem"); }
  std::string keyFile() const { return dir_.file("certs/client-key.pem"); }

  // SIGKILL, like a crash; the member's data dir stays for restart().
  void kill(size_t i) {
    Member& m = members_[i];
    if (m.pid <= 0) return;
    ::kill(m.pid, SIGKILL);
    ::waitpid(m.pid, nullptr, 0);
    m.pid = -1;
  }
  // Starts a killed member again on its data dir and ports, and waits until it is healthy.
  void restart(size_t i) {
    spawn(i);
    waitHealthy(i);
  }
  // Starts every killed member at once (a cluster that lost quorum needs them together), then
  // waits until each is healthy.
  void restartAll() {
    for (size_t i = 0; i < members_.size(); ++i) {
      if (members_[i].pid <= 0) spawn(i);
    }
    for (size_t i = 0; i < members_.size(); ++i) waitHealthy(i);
  }
  size_t size() const { return members_.size(); }
  int clientPort(size_t i) const { return members_[i].clientPort; }
  bool running(size_t i) const { return members_[i].pid > 0; }
  // Sends `sig` to member i (SIGSTOP: a hung etcd that accepts connections but never answers).
  // Sends `sig` to member i. For SIGSTOP, returns only once every thread of it has stopped:
  // kill() merely queues the stop, and a busy etcd could otherwise still answer a request.
  void signal(size_t i, int sig) {
    if (members_[i].pid <= 0) return;
    ::kill(members_[i].pid, sig);
    if (sig != SIGSTOP) return;
    const std::string tasks = "/proc/" + std::to_string(members_[i].pid) + "/task";
    for (int tries = 0; tries < 400; ++tries) {
      bool allStopped = true;
      std::error_code ec;
      for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
        std::ifstream stat(task.path() / "stat");
        std::string line;
        std::getline(stat, line);
        const auto close = line.rfind(')');  // the state follows the command name
        if (close == std::string::npos || close + 2 >= line.size() ||
            (line[close + 2] != 'T' && line[close + 2] != 't')) {
          allStopped = false;
          break;
        }
      }
      if (allStopped) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // An etcdctl command line against every member, with TLS files and root's credentials.
  std::string etcdctlCommand(const std::string& args) const {
    std::string cmd =
        "ETCDCTL_API=3 " + inNetns() +
        "etcdctl --dial-timeout=2s --command-timeout=5s --endpoints=" + endpointList();
    if (options_.tls) {
      cmd += " --cacert=" + caFile() + " --cert=" + certFile() + " --key=" + keyFile();
    }
    if (authEnabled_) cmd += " --user=root:rootpw";
    return cmd + " " + args;
  }

  // Runs a shell command; throws with its output if it fails.
  static std::string runOrThrow(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (p == nullptr) throw std::runtime_error("popen failed: " + cmd);
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    int status = ::pclose(p);
    if (status != 0) throw std::runtime_error("command failed: " + cmd + "\n" + out);
    return out;
  }

 private:
  struct Member {
    std::string name;
    int clientPort = 0;
    int peerPort = 0;
    pid_t pid = -1;
  };

  static int freePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error("no free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  void spawn(size_t i) {
    Member& m = members_[i];
    std::string cluster;
    for (size_t j = 0; j < members_.size(); ++j) {
      cluster += (j ? "," : "") + members_[j].name + "=http://" + options_.host + ":" +
                 std::to_string(members_[j].peerPort);
    }
    const std::string client = endpoint(i);
    const std::string peer = "http://" + options_.host + ":" + std::to_string(m.peerPort);
    std::vector<std::string> args;
    if (!options_.netns.empty()) args = {"ip", "netns", "exec", options_.netns};
    args.insert(args.end(), {"etcd", "--name=" + m.name, "--data-dir=" + dir_.file(m.name),
                             "--listen-client-urls=" + client, "--advertise-client-urls=" + client,
                             "--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
                             "--initial-cluster=" + cluster, "--initial-cluster-token=brindle-test",
                             "--logger=zap", "--log-level=warn",
                             "--log-outputs=" + dir_.file(m.name + ".log")});
    if (options_.tls) {
      args.push_back("--cert-file=" + dir_.file("certs/server.pem"));
      args.push_back("--key-file=" + dir_.file("certs/server-key.pem"));
      args.push_back("--trusted-ca-file=" + caFile());
      args.push_back("--client-cert-auth");
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);  // the test died before prctl took effect
      int devnull = ::open("/dev/null", O_RDWR);
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      ::execvp(argv[0], argv.data());  // `ip netns exec` execs etcd: the pid stays etcd's
      ::_exit(127);
    }
    m.pid = pid;
  }

  void waitHealthy(size_t i) {
    Member& m = members_[i];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::string cmd = "ETCDCTL_API=3 " + inNetns() +
                      "etcdctl --dial-timeout=1s --command-timeout=2s --endpoints=" + endpoint(i);
    if (options_.tls) {
      cmd += " --cacert=" + caFile() + " --cert=" + certFile() + " --key=" + keyFile();
    }
    if (authEnabled_) cmd += " --user=root:rootpw";
    cmd += " endpoint health >/dev/null 2>&1";
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(m.pid, &status, WNOHANG) == m.pid) {
        m.pid = -1;
        throw std::runtime_error("etcd member " + m.name + " exited (is etcd-server installed?)" +
                                 logTail(m));
      }
      if (std::system(cmd.c_str()) == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("etcd member " + m.name + " not healthy after 20 s" + logTail(m));
  }

  std::string inNetns() const {
    return options_.netns.empty() ? "" : "ip netns exec " + options_.netns + " ";
  }

  std::string logTail(const Member& m) const {
    std::ifstream in(dir_.file(m.name + ".log"));
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    return "\n" + (s.size() > 2000 ? s.substr(s.size() - 2000) : s);
  }

  EtcdServerOptions options_;
  TempDir dir_;
  std::vector<Member> members_;
  bool authEnabled_ = false;
};

}  // namespace brindle::testutil
