// Probe sockets are opened from threads inside the members' namespaces (os/netns.h): a socket
// keeps its namespace, so one process serves and connects across the whole lab.
#include "lab/probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <thread>

#include "os/netns.h"

namespace brindle::lab {
namespace {

// A member's address: a workload's, or a node's fabric address.
Result<std::string> addressOf(const Lab& lab, const std::string& member) {
  if (const auto* w = lab.state().workload(member)) return w->address;
  if (const auto* n = lab.state().node(member)) return n->address.substr(0, n->address.find('/'));
  return makeError(ErrorCode::kNotFound,
                   "lab " + lab.name() + " has no node or workload " + member);
}

// A socket made inside the member's namespace; -1 on failure.
int socketIn(const Lab& lab, const std::string& member, int type) {
  int fd = -1;
  (void)os::runInNetns(lab.netns(member), [&] {
    fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    return Status::ok();
  });
  return fd;
}

sockaddr_in inet(const std::string& ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

bool waitFd(int fd, short events) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(kProbeWait.count())) > 0;
}

// The listening or echoing end of one target port; echo thread for UDP.
class Server {
 public:
  Server(const Lab& lab, const std::string& member, const std::string& proto, int port) {
    fd_ = socketIn(lab, member, proto == "tcp" ? SOCK_STREAM : SOCK_DGRAM);
    if (fd_ < 0) return;
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in any = inet("0.0.0.0", port);
    // A port already taken in the target is served by whoever holds it.
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) return;
    if (proto == "tcp") {
      ::listen(fd_, 128);  // the kernel completes handshakes; nothing needs to accept
    } else {
      echo_ = std::thread([this] { echo(); });
    }
  }
  ~Server() {
    stop_ = true;
    if (echo_.joinable()) echo_.join();
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  void echo() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[512];
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n > 0)
        ::sendto(fd_, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread echo_;
};

bool connectTcp(const Lab& lab, const std::string& from, const std::string& ip, int port) {
  int fd = socketIn(lab, from, SOCK_STREAM | SOCK_NONBLOCK);
  if (fd < 0) return false;
  sockaddr_in to = inet(ip, port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  if (!ok && errno == EINPROGRESS && waitFd(fd, POLLOUT)) {
    int err = 0;
    socklen_t len = sizeof err;
    ok = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
  }
  ::close(fd);
  return ok;
}

bool echoUdp(const Lab& lab, const std::string& from, const std::string& ip, int port) {
  int fd = socketIn(lab, from, SOCK_DGRAM);
  if (fd < 0) return false;
  sockaddr_in to = inet(ip, port);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 &&
      ::send(fd, "probe", 5, 0) == 5 && waitFd(fd, POLLIN)) {
    char buf[16];
    ok = ::recv(fd, buf, sizeof buf, 0) == 5;
  }
  ::close(fd);
  return ok;
}

bool ping(const Lab& lab, const std::string& from, const std::string& ip) {
  const std::string wait = std::to_string((kProbeWait.count() + 999) / 1000);
  auto r = lab.run(from, {"ping", "-n", "-q", "-c1", "-W" + wait, ip});
  return r && r->exitCode == 0;
}

}  // namespace

std::string Probe::target() const {
  return proto == "icmp" ? proto : proto + "/" + std::to_string(port);
}

std::string Probe::line() const {
  return from + " -> " + to + " " + target() + (allowed ? " allowed" : " denied");
}

Result<Probe> parseProbe(const std::string& from, const std::string& to, const std::string& what) {
  Probe p{from, to, what, 0, false};
  if (what == "icmp") return p;
  const size_t slash = what.find('/');
  p.proto = what.substr(0, slash);
  if ((p.proto == "tcp" || p.proto == "udp") && slash != std::string::npos) {
    try {
      size_t used = 0;
      p.port = std::stoi(what.substr(slash + 1), &used);
      if (used == what.size() - slash - 1 && p.port > 0 && p.port < 65536) return p;
    } catch (const std::exception&) {
    }
  }
  return makeError(ErrorCode::kInvalid,
                   "probe \"" + what + "\": expected tcp/PORT, udp/PORT or icmp");
}

Status runProbes(const Lab& lab, std::vector<Probe>& probes) {
  std::map<std::tuple<std::string, std::string, int>, std::unique_ptr<Server>> servers;
  std::vector<std::string> addresses;
  for (const auto& p : probes) {
    for (const auto* member : {&p.from, &p.to}) {
      if (auto a = addressOf(lab, *member); !a) return a.error();
    }
    addresses.push_back(*addressOf(lab, p.to));
    auto key = std::make_tuple(p.to, p.proto, p.port);
    if (p.proto != "icmp" && !servers.count(key)) {
      servers[key] = std::make_unique<Server>(lab, p.to, p.proto, p.port);
    }
  }
  std::vector<std::thread> threads;
  for (size_t i = 0; i < probes.size(); ++i) {
    threads.emplace_back([&, i] {
      Probe& p = probes[i];
      p.allowed = p.proto == "tcp"   ? connectTcp(lab, p.from, addresses[i], p.port)
                  : p.proto == "udp" ? echoUdp(lab, p.from, addresses[i], p.port)
                                     : ping(lab, p.from, addresses[i]);
    });
  }
  for (auto& t : threads) t.join();
  return Status::ok();
}

}  // namespace brindle::lab
