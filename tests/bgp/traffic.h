// Live traffic between two workload namespaces a test made, measured while the test changes the
// BGP set-up underneath: a TCP connect every 50 ms (each must complete within a second, as one
// lost SYN already costs a second) and one long TCP stream whose receiver records the longest
// time without data. Sockets are made in the workloads' namespaces by short threads (a socket
// stays in the namespace it was made in), so the test needs no helper process.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace brindle::testutil {

// A socket of `type` in network namespace `ns` (a name under /var/run/netns), or -1.
inline int socketIn(const std::string& ns, int type) {
  int fd = -1;
  std::thread([&] {
    const int nsfd = ::open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd >= 0 && ::setns(nsfd, CLONE_NEWNET) == 0) {
      fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    }
    if (nsfd >= 0) ::close(nsfd);
  }).join();
  return fd;
}

struct TrafficReport {
  int connects = 0;
  int failed = 0;
  std::vector<std::string> failures;  // "+12.3 s: why", the first few
  long maxConnectMs = 0;
  long streamSent = 0;
  long streamReceived = 0;
  std::string streamError;  // empty: the stream lived to the end
  long maxStreamGapMs = 0;  // the receiver's longest wait for data
};

class Traffic {
 public:
  // From namespace `from` to address `to` (in namespace `toNs`), ports `port` (connects) and
  // port + 1 (the stream).
  Traffic(std::string from, std::string toNs, std::string to, int port)
      : from_(std::move(from)), toNs_(std::move(toNs)), to_(std::move(to)), port_(port) {}
  ~Traffic() { stop(); }

  // Listens in `toNs`, opens the stream and starts connecting; false if the stream cannot open.
  bool start() {
    begin_ = Clock::now();
    probeListener_ = listenIn(port_);
    streamListener_ = listenIn(port_ + 1);
    if (probeListener_ < 0 || streamListener_ < 0) return false;
    threads_.emplace_back([this] { acceptProbes(); });
    const int s = connectFrom(port_ + 1, 5000);
    if (s < 0) return false;
    const int r = ::accept4(streamListener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (r < 0) {
      ::close(s);
      return false;
    }
    threads_.emplace_back([this, s] { sendStream(s); });
    threads_.emplace_back([this, r] { receiveStream(r); });
    threads_.emplace_back([this] { connectEvery50ms(); });
    return true;
  }

  TrafficReport stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
    for (int* fd : {&probeListener_, &streamListener_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
    std::lock_guard lock(mu_);
    return report_;
  }

 private:
  using Clock = std::chrono::steady_clock;

  long msSince(Clock::time_point t) const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
  }

  int listenIn(int port) {
    const int fd = socketIn(toNs_, SOCK_STREAM);
    if (fd < 0) return -1;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 128) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  // A connected socket from `from_`, or -1 with `why` set, within `timeoutMs`.
  int connectFrom(int port, int timeoutMs, std::string* why = nullptr) {
    const int fd = socketIn(from_, SOCK_STREAM | SOCK_NONBLOCK);
    if (fd < 0) {
      if (why) *why = "no socket";
      return -1;
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, to_.c_str(), &a.sin_addr);
    int err = 0;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        err = ::poll(&p, 1, timeoutMs) == 1 ? 0 : ETIMEDOUT;
        socklen_t len = sizeof err;
        if (err == 0) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
    }
    if (err != 0) {
      if (why) *why = std::string(::strerror(err));
      ::close(fd);
      return -1;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
  }

  void acceptProbes() {
    while (!stop_) {
      pollfd p{probeListener_, POLLIN, 0};
      if (::poll(&p, 1, 100) == 1) {
        const int fd = ::accept4(probeListener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) ::close(fd);
      }
    }
  }

  void connectEvery50ms() {
    auto next = Clock::now();
    while (!stop_) {
      const auto t = Clock::now();
      std::string why;
      const int fd = connectFrom(port_, 1000, &why);
      const long took = msSince(t);
      {
        std::lock_guard lock(mu_);
        ++report_.connects;
        report_.maxConnectMs = std::max(report_.maxConnectMs, took);
        if (fd < 0) {
          ++report_.failed;
          if (report_.failures.size() < 5) {
            report_.failures.push_back("+" + std::to_string(msSince(begin_)) + " ms: " + why);
          }
        }
      }
      if (fd >= 0) ::close(fd);
      next += std::chrono::milliseconds(50);
      if (next > Clock::now()) std::this_thread::sleep_until(next);
    }
  }

  void sendStream(int fd) {
    const timeval tv{20, 0};  // a send blocked this long is a dead stream
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::vector<char> chunk(4096, 'x');
    long sent = 0;
    std::string error;
    while (!stop_ && error.empty()) {
      const ssize_t n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n < 0) {
        error = std::string("send: ") + ::strerror(errno);
      } else {
        sent += n;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::shutdown(fd, SHUT_WR);
    ::close(fd);  // what is still in flight is delivered all the same
    std::lock_guard lock(mu_);
    report_.streamSent = sent;
    if (report_.streamError.empty()) report_.streamError = error;
  }

  void receiveStream(int fd) {
    const timeval tv{20, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::vector<char> buf(65536);
    long received = 0;
    long maxGap = 0;
    std::string error;
    auto last = Clock::now();
    for (;;) {
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n == 0) break;
      if (n < 0) {
        error = std::string("recv: ") + ::strerror(errno);
        break;
      }
      received += n;
      // Gaps while the test is stopping (the sender has stopped) do not count.
      if (!stop_) maxGap = std::max(maxGap, msSince(last));
      last = Clock::now();
    }
    ::close(fd);
    std::lock_guard lock(mu_);
    report_.streamReceived = received;
    report_.maxStreamGapMs = maxGap;
    if (!error.empty()) report_.streamError = error;
  }

  std::string from_, toNs_, to_;
  int port_;
  Clock::time_point begin_;
  int probeListener_ = -1;
  int streamListener_ = -1;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::mutex mu_;
  TrafficReport report_;
};

}  // namespace brindle::testutil
