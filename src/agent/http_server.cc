// The health and metrics HTTP server and the test client: just the HTTP/1.1 the probes, scrapes
// and our tests speak (GET and HEAD, one request per connection), on plain sockets. cpp-httplib
// did this before; it links OpenSSL, whose loading and initialisation made every agent ~4 MB
// bigger for TLS it never used.
#include "agent/http_server.h"

#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace brindle::agent {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHead = 16 * 1024;  // request line and headers
constexpr auto kReadTimeout = std::chrono::seconds(5);
constexpr auto kConnectTimeout = std::chrono::seconds(2);

// Closes the descriptor it holds.
struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd, o.fd);
    return *this;
  }
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Waits until `fd` has `events` (true) or the deadline passes, an error occurs or `wake` (if
// given) becomes readable (false).
bool waitFor(int fd, short events, Clock::time_point deadline, int wake = -1) {
  pollfd fds[2] = {{fd, events, 0}, {wake, POLLIN, 0}};
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    int n = ::poll(fds, wake >= 0 ? 2 : 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || (wake >= 0 && fds[1].revents != 0)) return false;
    return true;
  }
}

bool sendAll(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!waitFor(fd, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

// Appends what `fd` has to `out`: the byte count, 0 at the end of the stream, -1 on an error or
// timeout.
ssize_t receive(int fd, std::string& out, Clock::time_point deadline, int wake = -1) {
  if (!waitFor(fd, POLLIN, deadline, wake)) return -1;
  char buf[8192];
  ssize_t n;
  do {
    n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n > 0) out.append(buf, static_cast<size_t>(n));
  return n;
}

std::string_view reasonPhrase(int status) {
  static constexpr std::pair<int, std::string_view> kReasons[] = {{200, "OK"},
                                                                  {400, "Bad Request"},
                                                                  {404, "Not Found"},
                                                                  {405, "Method Not Allowed"},
                                                                  {500, "Internal Server Error"},
                                                                  {503, "Service Unavailable"}};
  for (const auto& [code, text] : kReasons) {
    if (code == status) return text;
  }
  return "Status";  // clients go by the code
}

// getaddrinfo for a TCP `host`:`port`; `passive`: addresses to listen on (empty host: any).
Result<std::unique_ptr<addrinfo, void (*)(addrinfo*)>> resolve(const std::string& host, int port,
                                                               bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    return makeError(ErrorCode::kUnavailable,
                     fmt::format("cannot resolve {}: {}", host, ::gai_strerror(rc)));
  }
  return std::unique_ptr<addrinfo, void (*)(addrinfo*)>(res, ::freeaddrinfo);
}

}  // namespace

HttpServer::HttpServer() = default;
HttpServer::~HttpServer() { stop(); }

Status HttpServer::start(const std::string& host, int port, HttpHandler handler) {
  const std::string bindHost = host == "localhost" ? "127.0.0.1" : host;
  auto fail = [&](const std::string& why) {
    port_ = 0;
    return makeError(ErrorCode::kUnavailable,
                     "cannot listen on " + host + ":" + std::to_string(port) + ": " + why);
  };
  auto addrs = resolve(bindHost, port, true);
  if (!addrs) return fail(addrs.message());
  Fd listener;
  std::string why = "no address";
  for (addrinfo* ai = addrs->get(); ai != nullptr && listener.fd < 0; ai = ai->ai_next) {
    Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    // SO_REUSEADDR only (no SO_REUSEPORT): a port another agent listens on must be an error.
    int one = 1;
    if (fd.fd >= 0 && ::setsockopt(fd.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
        ::bind(fd.fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd.fd, 16) == 0) {
      listener = std::move(fd);
    } else {
      why = std::strerror(errno);
    }
  }
  if (listener.fd < 0) return fail(why);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  if (::getsockname(listener.fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    return fail(std::strerror(errno));
  }
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  wakeFd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wakeFd_ < 0) return fail(std::strerror(errno));
  listenFd_ = std::exchange(listener.fd, -1);
  thread_ = std::thread([this, handler = std::move(handler)] { serve(handler); });
  return Status::ok();
}

void HttpServer::stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    (void)!::write(wakeFd_, &one, sizeof one);
    thread_.join();
  }
  for (int* fd : {&listenFd_, &wakeFd_}) {
    if (*fd >= 0) ::close(std::exchange(*fd, -1));
  }
}

void HttpServer::serve(const HttpHandler& handler) {
  // One connection at a time, as the handlers are quick: a scrape must not cost the agent
  // threads. A stalled client holds the next one back for at most kReadTimeout.
  for (;;) {
    pollfd fds[2] = {{listenFd_, POLLIN, 0}, {wakeFd_, POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[1].revents != 0) return;
    Fd conn(::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC));
    if (conn.fd >= 0) answer(conn.fd, handler);
  }
}

void HttpServer::answer(int conn, const HttpHandler& handler) {
  const auto deadline = Clock::now() + kReadTimeout;
  std::string head;
  size_t end;
  while ((end = head.find("\r\n\r\n")) == std::string::npos) {
    if (head.size() > kMaxHead) return;  // not a probe or a scrape
    if (receive(conn, head, deadline, wakeFd_) <= 0) return;
  }
  // Request line: method SP target SP version.
  const std::string_view line(head.data(), head.find("\r\n"));
  const size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  HttpResponse r;
  std::string_view method;
  if (sp1 == std::string_view::npos || sp2 == sp1 || line.substr(sp2 + 1).rfind("HTTP/", 0) != 0) {
    r = {400, "text/plain", "bad request line\n"};
  } else {
    method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (method == "GET" || method == "HEAD") {
      r = handler(std::string(target.substr(0, target.find('?'))));
    } else {
      r = {405, "text/plain", "only GET and HEAD\n"};
    }
  }
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
      r.status, reasonPhrase(r.status), r.contentType, r.body.size());
  if (method != "HEAD") out += r.body;
  (void)sendAll(conn, out, Clock::now() + kReadTimeout);
}

Result<HttpResult> httpGet(const std::string& host, int port, const std::string& path) {
  auto fail = [&](const std::string& why) {
    return makeError(ErrorCode::kUnavailable,
                     "GET " + host + ":" + std::to_string(port) + path + ": " + why);
  };
  auto addrs = resolve(host, port, false);
  if (!addrs) return fail(addrs.message());
  Fd conn;
  std::string why = "no address";
  for (addrinfo* ai = addrs->get(); ai != nullptr && conn.fd < 0; ai = ai->ai_next) {
    Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol));
    if (fd.fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    int err = ::connect(fd.fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      err = ETIMEDOUT;
      socklen_t len = sizeof err;
      if (waitFor(fd.fd, POLLOUT, Clock::now() + kConnectTimeout)) {
        ::getsockopt(fd.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
    }
    if (err == 0) {
      conn = std::move(fd);
    } else {
      why = "cannot connect: " + std::string(std::strerror(err));
    }
  }
  if (conn.fd < 0) return fail(why);
  const std::string hostHeader = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const std::string request = fmt::format(
      "GET {} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\n\r\n", path, hostHeader, port);
  if (!sendAll(conn.fd, request, Clock::now() + kReadTimeout)) return fail("cannot send");
  // The server closes the connection after the response (we asked it to).
  std::string reply;
  for (ssize_t n; (n = receive(conn.fd, reply, Clock::now() + kReadTimeout)) != 0;) {
    if (n < 0) return fail("no response (read error or timeout)");
  }
  const size_t end = reply.find("\r\n\r\n");
  int status = 0;
  if (end == std::string::npos || std::sscanf(reply.c_str(), "HTTP/1.%*d %d", &status) != 1) {
    return fail("malformed response");
  }
  std::string headers = reply.substr(0, end);
  for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (headers.find("\r\ntransfer-encoding:") != std::string::npos) {
    return fail("transfer-encoding is not supported");
  }
  HttpResult result{status, reply.substr(end + 4)};
  if (size_t at = headers.find("\r\ncontent-length:"); at != std::string::npos) {
    const size_t want = std::strtoul(headers.c_str() + at + 17, nullptr, 10);
    if (result.body.size() < want) return fail("response body truncated");
    result.body.resize(want);
  }
  return result;
}

}  // namespace brindle::agent
