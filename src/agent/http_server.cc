// Minimal HTTP server/client over POSIX sockets (poll with a short timeout so stop() is prompt).
#include "agent/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace brindle::agent {

namespace {

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 404:
      return "Not Found";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

bool writeAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

Result<sockaddr_in> address(const std::string& host, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string h = host == "localhost" ? "127.0.0.1" : host;
  if (::inet_pton(AF_INET, h.c_str(), &addr.sin_addr) != 1) {
    return makeError(ErrorCode::kInvalid, "not an IPv4 address: " + host);
  }
  return addr;
}

}  // namespace

Status HttpServer::start(const std::string& host, int port, HttpHandler handler) {
  auto addr = address(host, port);
  if (!addr) return addr.error();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return makeError(ErrorCode::kInternal, std::string("socket: ") + strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) != 0 || ::listen(fd, 16) != 0) {
    std::string err = strerror(errno);
    ::close(fd);
    return makeError(ErrorCode::kUnavailable,
                     "cannot listen on " + host + ":" + std::to_string(port) + ": " + err);
  }
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.sin_port);
  listenFd_ = fd;
  handler_ = std::move(handler);
  stopping_ = false;
  thread_ = std::thread([this] { serve(); });
  return Status::ok();
}

void HttpServer::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (listenFd_ >= 0) ::close(listenFd_);
  listenFd_ = -1;
}

void HttpServer::serve() {
  while (!stopping_) {
    pollfd p{listenFd_, POLLIN, 0};
    int n = ::poll(&p, 1, 100);
    if (n <= 0) continue;
    int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    handle(fd);
    ::close(fd);
  }
}

void HttpServer::handle(int fd) {
  // Read the request head (up to 8 KiB, 2 s): only the request line matters.
  std::string req;
  char buf[2048];
  while (req.find("\r\n\r\n") == std::string::npos && req.find("\n\n") == std::string::npos &&
         req.size() < 8192) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    req.append(buf, static_cast<size_t>(n));
  }
  HttpResponse resp;
  auto sp1 = req.find(' ');
  auto sp2 = sp1 == std::string::npos ? std::string::npos : req.find(' ', sp1 + 1);
  std::string method = sp1 == std::string::npos ? "" : req.substr(0, sp1);
  std::string path = sp2 == std::string::npos ? "" : req.substr(sp1 + 1, sp2 - sp1 - 1);
  if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
  if (method != "GET" && method != "HEAD") {
    resp = {405, "text/plain", "only GET\n"};
  } else {
    resp = handler_(path);
  }
  std::string head = "HTTP/1.0 " + std::to_string(resp.status) + " " + reason(resp.status) +
                     "\r\nContent-Type: " + resp.contentType +
                     "\r\nContent-Length: " + std::to_string(resp.body.size()) +
                     "\r\nConnection: close\r\n\r\n";
  writeAll(fd, method == "HEAD" ? head : head + resp.body);
}

Result<HttpResult> httpGet(const std::string& host, int port, const std::string& path) {
  auto addr = address(host, port);
  if (!addr) return addr.error();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return makeError(ErrorCode::kInternal, "socket failed");
  if (::connect(fd, reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) != 0) {
    ::close(fd);
    return makeError(ErrorCode::kUnavailable,
                     "connect " + host + ":" + std::to_string(port) + ": " + strerror(errno));
  }
  writeAll(fd, "GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\n\r\n");
  std::string resp;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  HttpResult out;
  if (resp.rfind("HTTP/", 0) != 0 || resp.size() < 12) {
    return makeError(ErrorCode::kInternal, "bad HTTP response");
  }
  out.status = std::atoi(resp.c_str() + resp.find(' ') + 1);
  auto body = resp.find("\r\n\r\n");
  if (body != std::string::npos) out.body = resp.substr(body + 4);
  return out;
}

}  // namespace brindle::agent
