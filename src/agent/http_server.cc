// The health and metrics HTTP server and the test client, over cpp-httplib.
#include "agent/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace brindle::agent {

HttpServer::HttpServer() = default;
HttpServer::~HttpServer() { stop(); }

Status HttpServer::start(const std::string& host, int port, HttpHandler handler) {
  server_ = std::make_unique<httplib::Server>();
  // One thread, as the handlers are quick: a scrape must not cost the agent a thread pool.
  server_->new_task_queue = [] { return new httplib::ThreadPool(1); };
  // cpp-httplib's default adds SO_REUSEPORT, which would let a second agent share the port
  // silently: a busy port must be an error.
  server_->set_socket_options([](socket_t sock) {
    int one = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  });
  server_->Get(".*",
               [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
                 HttpResponse r = handler(req.path);
                 res.status = r.status;
                 res.set_content(r.body, r.contentType.c_str());
               });
  const std::string bindHost = host == "localhost" ? "127.0.0.1" : host;
  errno = 0;
  port_ = port == 0 ? server_->bind_to_any_port(bindHost)
                    : (server_->bind_to_port(bindHost, port) ? port : -1);
  if (port_ <= 0) {
    const std::string why = errno != 0 ? std::strerror(errno) : "bind failed";
    server_.reset();
    port_ = 0;
    return makeError(ErrorCode::kUnavailable,
                     "cannot listen on " + host + ":" + std::to_string(port) + ": " + why);
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() can end only a server that is already accepting (cpp-httplib 0.11): wait for it.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Status::ok();
}

void HttpServer::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

Result<HttpResult> httpGet(const std::string& host, int port, const std::string& path) {
  httplib::Client client(host, port);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  auto res = client.Get(path);
  if (!res) {
    return makeError(ErrorCode::kUnavailable, "GET " + host + ":" + std::to_string(port) + path +
                                                  ": " + httplib::to_string(res.error()));
  }
  return HttpResult{res->status, res->body};
}

}  // namespace brindle::agent
