// HttpServer: the GET server for /liveness, /readiness and /metrics on a thread of its own;
// bound to loopback by default.
#pragma once

#include <functional>
#include <string>
#include <thread>

#include "common/result.h"

namespace brindle::agent {

struct HttpResponse {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

// Called on the server thread with the request path (query string removed).
using HttpHandler = std::function<HttpResponse(const std::string& path)>;

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (port 0: any free port, see port()) and starts serving.
  Status start(const std::string& host, int port, HttpHandler handler);
  void stop();
  int port() const { return port_; }

 private:
  void serve(const HttpHandler& handler);
  void answer(int conn, const HttpHandler& handler);

  int listenFd_ = -1;
  int wakeFd_ = -1;  // an eventfd: written by stop() to end the serving thread
  int port_ = 0;
  std::thread thread_;
};

// A blocking GET for tests and the e2e helpers: status code and body, or an Error.
struct HttpResult {
  int status = 0;
  std::string body;
};
Result<HttpResult> httpGet(const std::string& host, int port, const std::string& path);

}  // namespace brindle::agent
