#include "policy_diff/lab.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "agent/http_server.h"
#include "datastore/local/local_store.h"
#include "model/codec.h"
#include "os/netns.h"
#include "policy_diff/generator.h"
#include "resources/resource_store.h"
#include "testutil/metric_value.h"
#include "testutil/shell.h"

namespace brindle::policydiff {

namespace {

using namespace std::chrono_literals;

using testutil::killAndReap;
using testutil::must;
using testutil::sh;

bool enterNetns(const std::string& ns) {
  int fd = ::open(os::netnsPath(ns).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  int rc = ::setns(fd, CLONE_NEWNET);
  ::close(fd);
  return rc == 0;
}

sockaddr_in address(const std::string& ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

int remainingMs(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// A connection attempt, a datagram answered, or an echo reply: true when the packet was let
// through both ways. A refusal (RST, port unreachable) also proves the packet got through.
bool tcpProbe(const Packet& p, std::chrono::steady_clock::time_point deadline) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a = address(p.dstIp, p.port);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    ok = true;
  } else if (errno == EINPROGRESS) {
    pollfd pfd{fd, POLLOUT, 0};
    if (::poll(&pfd, 1, remainingMs(deadline)) > 0) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      ok = err == 0 || err == ECONNREFUSED;
    }
  }
  ::close(fd);
  return ok;
}

bool udpProbe(const Packet& p, std::chrono::steady_clock::time_point deadline) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // A source port no earlier probe of this run used: a conntrack entry of an allowed datagram
  // (kept 30 s and more) would otherwise let a later one with the same ports through whatever
  // the policy now says.
  static std::atomic<uint32_t> next{0};
  sockaddr_in src = address("0.0.0.0", static_cast<int>(20000 + next++ % 12000));
  ::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src);
  sockaddr_in a = address(p.dstIp, p.port);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::send(fd, "ping", 4, 0) == 4) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, remainingMs(deadline)) > 0) {
      char buf[256];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      ok = n > 0 || errno == ECONNREFUSED;
    }
  }
  ::close(fd);
  return ok;
}

uint16_t checksum(const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (len % 2) sum += static_cast<uint32_t>(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<uint16_t>(~sum));
}

// An echo request with an identifier no other probe of this process uses, so that neither a
// concurrent probe's reply nor an old conntrack entry can stand in for this one.
bool icmpProbe(const Packet& p, std::chrono::steady_clock::time_point deadline) {
  static std::atomic<uint16_t> nextId{static_cast<uint16_t>(::getpid() * 7)};
  uint16_t id = nextId++;
  int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd < 0) return false;
  icmphdr req{};
  req.type = ICMP_ECHO;
  req.un.echo.id = htons(id);
  req.un.echo.sequence = htons(1);
  req.checksum = checksum(&req, sizeof req);
  sockaddr_in a = address(p.dstIp, 0);
  bool ok = false;
  if (::sendto(fd, &req, sizeof req, 0, reinterpret_cast<sockaddr*>(&a), sizeof a) > 0) {
    pollfd pfd{fd, POLLIN, 0};
    while (!ok && ::poll(&pfd, 1, remainingMs(deadline)) > 0) {
      uint8_t buf[1500];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < static_cast<ssize_t>(sizeof(iphdr))) continue;
      const auto* ip = reinterpret_cast<const iphdr*>(buf);
      size_t hl = ip->ihl * 4u;
      if (n < static_cast<ssize_t>(hl + sizeof(icmphdr))) continue;
      const auto* reply = reinterpret_cast<const icmphdr*>(buf + hl);
      ok = reply->type == ICMP_ECHOREPLY && ntohs(reply->un.echo.id) == id &&
           ip->saddr == a.sin_addr.s_addr;
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

Lab::Lab(std::string agentBinary, std::string probeBinary)
    : agentBinary_(std::move(agentBinary)), probeBinary_(std::move(probeBinary)) {
  prefix_ = "pdf" + std::to_string(::getpid() % 100000) + "-";
  node_ = prefix_ + "node";
  view_ = testutil::DataplaneView(node_, testutil::testDataplane());
  char pattern[] = "/tmp/brindle-policy-diff-XXXXXX";
  if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  port_ = 19500 + ::getpid() % 400;
  try {
    build();
  } catch (...) {
    cleanUp();  // the destructor does not run for a constructor that throws
    throw;
  }
}

void Lab::build() {
  // The run uses its own copy of the agent: a rebuild during a long run must neither change the
  // agent under test half way nor make a restart fail while the binary is being written.
  std::string copy = dir_ + "/brindle-agent";
  std::filesystem::copy_file(agentBinary_, copy);
  agentBinary_ = copy;
  must("ip netns add " + node_);
  must("ip -n " + node_ + " link set lo up");
  must("ip netns exec " + node_ + " sysctl -qw net.ipv4.ip_forward=1");
  for (const auto& h : labHosts()) {
    if (h.workload()) {
      addWorkload(h.name, h.iface, h.ip);
    } else {
      std::string nodeIp = h.ip.substr(0, h.ip.rfind('.')) + ".1";
      addOutside(h.name, h.iface, nodeIp, h.ip);
    }
  }
  for (const auto& h : labHosts()) {
    std::vector<std::string> argv = {"ip",
                                     "netns",
                                     "exec",
                                     prefix_ + h.name,
                                     probeBinary_,
                                     "serve",
                                     dir_ + "/seen-" + h.name + ".log"};
    for (int p : tcpPorts()) argv.push_back("tcp:" + std::to_string(p));
    for (int p : udpPorts()) argv.push_back("udp:" + std::to_string(p));
    servers_.push_back(testutil::spawnDaemon(argv, dir_ + "/probe-" + h.name + ".out"));
  }
}

Lab::~Lab() { cleanUp(); }

void Lab::cleanUp() {
  killAndReap(agent_, SIGKILL);
  for (auto& pid : servers_) killAndReap(pid, SIGKILL);
  // Always delete our namespaces (and only ours), also after a failure.
  testutil::deleteNamespaces(prefix_);
  servers_.clear();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  dir_.clear();
}

void Lab::addWorkload(const std::string& name, const std::string& iface, const std::string& ip) {
  testutil::addCaliWorkload(node_, prefix_ + name, iface, ip);
  nsByIp_[ip] = prefix_ + name;
}

void Lab::addOutside(const std::string& name, const std::string& iface, const std::string& nodeIp,
                     const std::string& ip) {
  std::string ns = prefix_ + name;
  for (const std::string& cmd :
       {"ip netns add " + ns,
        "ip -n " + node_ + " link add " + iface + " type veth peer name eth0 netns " + ns,
        "ip -n " + node_ + " addr add " + nodeIp + "/24 dev " + iface,
        "ip -n " + node_ + " link set " + iface + " up", "ip -n " + ns + " link set lo up",
        "ip -n " + ns + " addr add " + ip + "/24 dev eth0", "ip -n " + ns + " link set eth0 up",
        "ip -n " + ns + " route add default via " + nodeIp}) {
    must(cmd);
  }
  nsByIp_[ip] = ns;
}

std::string Lab::nsOfIp(const std::string& ip) const { return nsByIp_.at(ip); }

bool Lab::startAgent(std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {"ip", "netns", "exec", node_};
  // POLICY_DIFF_AGENT_WRAPPER runs the agent under a debugger or checker, e.g.
  // "gdb -batch -ex run -ex bt --args"; its output goes to the agent log.
  if (const char* wrapper = std::getenv("POLICY_DIFF_AGENT_WRAPPER")) {
    std::istringstream words(wrapper);
    for (std::string w; words >> w;) argv.push_back(w);
  }
  for (const char* a : {agentBinary_.c_str(), "--nodename", kNode}) argv.push_back(a);
  agent_ = testutil::spawnDaemon(
      argv, dir_ + "/agent.log",
      {"DATASTORE_TYPE=local", "BRINDLE_STORE_PATH=" + dir_ + "/store.db",
       "FELIX_IPV6SUPPORT=false", "FELIX_HEALTHPORT=" + std::to_string(port_),
       "FELIX_PROMETHEUSMETRICSPORT=" + std::to_string(port_), "FELIX_LOGSEVERITYSCREEN=Info",
       testutil::nftablesModeEnv(view_.dataplane())});
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until && agentAlive()) {
    Result<agent::HttpResult> r = makeError(ErrorCode::kUnavailable, "not run");
    Status s = os::runInNetns(node_, [&]() -> Status {
      r = agent::httpGet("127.0.0.1", port_, "/readiness");
      return Status::ok();
    });
    if (s && r && r->status == 200) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

void Lab::stopAgent() { killAndReap(agent_, SIGTERM); }

bool Lab::agentAlive() {
  int status = 0;
  if (agent_ <= 0) return false;
  if (::waitpid(agent_, &status, WNOHANG) != agent_) return true;
  agent_ = -1;
  death_ = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                               : "exited with status " + std::to_string(WEXITSTATUS(status));
  return false;
}

std::string Lab::agentDeath() {
  agentAlive();
  return std::exchange(death_, "");
}

void Lab::wipeKernel() {
  const std::string exec = "ip netns exec " + node_ + " ";
  if (sh(exec + "nft list table inet calico").code == 0) {
    must(exec + "nft delete table inet calico");
  }
  // iptables-restore without --noflush empties each table it names and deletes its chains. Not
  // run where iptables has no table: it would create them (the nftables run stays iptables-free).
  std::string empty = "*raw\nCOMMIT\n*mangle\nCOMMIT\n*nat\nCOMMIT\n*filter\nCOMMIT\n";
  for (const std::string iptables : {"iptables", "ip6tables"}) {
    if (sh(exec + iptables + "-save").out.find('*') == std::string::npos) continue;
    must("printf '" + std::regex_replace(empty, std::regex("\n"), "\\n") + "' | " + exec +
         iptables + "-restore");
  }
  // The kernel lets go of the sets the flushed rules referenced a moment later (nf_tables
  // releases them after the transaction), so destroying them may need a few tries.
  for (int attempt = 0;; ++attempt) {
    auto r = sh("ip netns exec " + node_ + " ipset destroy");
    if (r.code == 0) break;
    if (attempt == 40) throw std::runtime_error("ipset destroy: " + r.out);
    std::this_thread::sleep_for(50ms);
  }
  sh("ip -n " + node_ + " route flush proto 80");
}

std::string Lab::backendProblem() {
  std::string problem;
  if (!view_.programmed()) {
    problem += std::string("no rules of ours in ") + dataplaneName(view_.dataplane()) + "\n";
  }
  return problem + view_.otherBackendLeftovers();
}

void Lab::clearStore() {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::error_code ec;
    std::filesystem::remove(dir_ + "/store.db" + suffix, ec);
  }
}

size_t Lab::switchState(const std::map<std::string, Json>& current,
                        const std::map<std::string, Json>& target) {
  Json applyList = Json::array(), removeList = Json::array();
  for (const auto& [key, json] : target) {
    auto it = current.find(key);
    if (it == current.end() || it->second != json) applyList.push_back(json);
  }
  for (const auto& [key, json] : current) {
    if (!target.count(key)) removeList.push_back(json);
  }
  auto client = datastore::openLocalStore(dir_ + "/store.db");
  if (!client) throw std::runtime_error("store: " + client.message());
  resources::ResourceStore store(**client);
  for (auto [list, mode] : {std::pair{&applyList, resources::WriteMode::kApply},
                            std::pair{&removeList, resources::WriteMode::kDelete}}) {
    if (list->empty()) continue;
    auto decoded = model::decodeResources(list->dump(), "state");
    if (!decoded) throw std::runtime_error("state refused: " + decoded.message());
    auto w = store.write(mode, decoded->resources);
    if (!w) throw std::runtime_error("store write: " + w.message());
  }
  return applyList.size() + removeList.size();
}

std::string Lab::metricsText() {
  Result<agent::HttpResult> r = makeError(ErrorCode::kUnavailable, "not run");
  Status s = os::runInNetns(node_, [&]() -> Status {
    r = agent::httpGet("127.0.0.1", port_, "/metrics");
    return Status::ok();
  });
  return s && r ? r->body : "";
}

std::vector<std::string> Lab::nonZeroSeries(const std::string& family) {
  std::vector<std::string> out;
  std::istringstream in(metricsText());
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(family + "{", 0) != 0) continue;
    std::string value = line.substr(line.rfind(' ') + 1);
    if (value != "0") out.push_back(line);
  }
  return out;
}

double Lab::metric(const std::string& name) {
  std::string text = metricsText();
  if (text.empty()) return -1;
  return testutil::metricValue(text, name);
}

bool Lab::waitApplied(double before, size_t updates, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until && agentAlive()) {
    double seen = metric("brindle_datastore_updates_total");
    double applied = metric("brindle_applied_datastore_updates");
    if (seen >= before + static_cast<double>(updates) && applied >= seen) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::vector<bool> Lab::probe(const std::vector<Packet>& packets,
                             std::chrono::milliseconds timeout) {
  std::vector<char> got(packets.size(), 0);
  std::vector<std::thread> threads;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (size_t i = 0; i < packets.size(); ++i) {
    threads.emplace_back([&, i] {
      const Packet& p = packets[i];
      // The thread's own network namespace: the socket lives in the source host.
      if (!enterNetns(nsOfIp(p.srcIp))) return;
      if (p.proto == "tcp") got[i] = tcpProbe(p, deadline);
      if (p.proto == "udp") got[i] = udpProbe(p, deadline);
      if (p.proto == "icmp") got[i] = icmpProbe(p, deadline);
    });
  }
  for (auto& t : threads) t.join();
  return {got.begin(), got.end()};
}

std::string Lab::agentLogTail(int lines) {
  return sh("tail -" + std::to_string(lines) + " " + dir_ + "/agent.log").out;
}

}  // namespace brindle::policydiff
