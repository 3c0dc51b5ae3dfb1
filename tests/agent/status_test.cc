// Health and metrics: Prometheus text rendering, and /liveness, /readiness, /metrics scraped
// over HTTP from a server on a loopback port.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/http_server.h"
#include "agent/metrics.h"

namespace brindle::agent {
namespace {

TEST(MetricsTest, RendersPrometheusText) {
  Metrics m;
  m.defineCounter("a_total", "A counter.");
  m.defineGauge("b", "A gauge.");
  m.defineHistogram("c_seconds", "A histogram.", {0.1, 1});
  m.add("a_total");
  m.add("a_total", 2);
  m.set("b", 7);
  m.observe("c_seconds", 0.05);
  m.observe("c_seconds", 0.5);
  m.observe("c_seconds", 5);
  EXPECT_EQ(m.render(),
            "# HELP a_total A counter.\n# TYPE a_total counter\na_total 3\n"
            "# HELP b A gauge.\n# TYPE b gauge\nb 7\n"
            "# HELP c_seconds A histogram.\n# TYPE c_seconds histogram\n"
            "c_seconds_bucket{le=\"0.10000000000000001\"} 1\nc_seconds_bucket{le=\"1\"} 2\n"
            "c_seconds_bucket{le=\"+Inf\"} 3\nc_seconds_sum 5.5499999999999998\n"
            "c_seconds_count 3\n");
  EXPECT_EQ(m.value("c_seconds"), 3);
}

TEST(MetricsTest, AgentMetricsAreAllDefined) {
  Metrics m;
  defineAgentMetrics(m);
  std::string text = m.render();
  for (const char* name : {metric::kApplySeconds, metric::kRestoreCalls, metric::kRestoreErrors,
                           metric::kChains, metric::kRules, metric::kIpsetMembers,
                           metric::kEndpoints, metric::kPolicies, metric::kResyncs}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + name), std::string::npos) << name;
  }
}

TEST(StatusServerTest, ServesHealthAndMetricsOnLoopback) {
  Metrics metrics;
  defineAgentMetrics(metrics);
  HealthState health;
  HttpServer server;
  ASSERT_TRUE(server
                  .start("127.0.0.1", 0,
                         [&](const std::string& path) {
                           return statusEndpoint(path, health, metrics, true, true);
                         })
                  .isOk());
  ASSERT_GT(server.port(), 0);
  auto get = [&](const std::string& path) {
    auto r = httpGet("127.0.0.1", server.port(), path);
    EXPECT_TRUE(r.isOk()) << r.message();
    return r.isOk() ? *r : HttpResult{};
  };
  EXPECT_EQ(get("/liveness").status, 503);  // the loop has not ticked yet
  EXPECT_EQ(get("/readiness").status, 503);
  health.beat();
  EXPECT_EQ(get("/liveness").status, 200);
  health.setInSync();
  EXPECT_EQ(get("/readiness").status, 503);  // in sync, but nothing applied yet
  health.setApplyResult(true);
  EXPECT_EQ(get("/readiness").status, 200);
  health.setApplyResult(false);
  EXPECT_EQ(get("/readiness").status, 503);  // the kernel lags while applies fail
  health.setApplyResult(true);
  metrics.add(metric::kRestoreCalls, 4);
  auto m = get("/metrics?x=1");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("brindle_iptables_restore_calls_total 4\n"), std::string::npos);
  EXPECT_EQ(get("/nope").status, 404);
  server.stop();
  EXPECT_FALSE(httpGet("127.0.0.1", server.port(), "/liveness").isOk());
}

TEST(StatusServerTest, HealthOnlyServerHidesMetrics) {
  Metrics metrics;
  HealthState health;
  HttpServer server;
  ASSERT_TRUE(server
                  .start("127.0.0.1", 0,
                         [&](const std::string& path) {
                           return statusEndpoint(path, health, metrics, true, false);
                         })
                  .isOk());
  EXPECT_EQ(httpGet("127.0.0.1", server.port(), "/metrics")->status, 404);
}

TEST(StatusServerTest, BusyPortIsAnError) {
  HttpServer a, b;
  ASSERT_TRUE(a.start("127.0.0.1", 0, [](const std::string&) { return HttpResponse{}; }).isOk());
  EXPECT_FALSE(
      b.start("127.0.0.1", a.port(), [](const std::string&) { return HttpResponse{}; }).isOk());
}

// What the server answers to `request` sent as is on a connection of its own.
std::string rawExchange(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) reply.append(buf, n);
  }
  ::close(fd);
  return reply;
}

TEST(StatusServerTest, HeadHasNoBodyAndOtherMethodsAreRefused) {
  HttpServer server;
  ASSERT_TRUE(server
                  .start("127.0.0.1", 0,
                         [](const std::string& path) {
                           return HttpResponse{200, "text/plain", "at " + path + "\n"};
                         })
                  .isOk());
  // The answer says its length and closes the connection; the query is not part of the path.
  EXPECT_EQ(rawExchange(server.port(), "GET /x?y HTTP/1.1\r\nHost: a\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n"
            "Connection: close\r\n\r\nat /x\n");
  EXPECT_EQ(rawExchange(server.port(), "HEAD /x HTTP/1.0\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n"
            "Connection: close\r\n\r\n");
  EXPECT_EQ(rawExchange(server.port(), "POST /x HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405 ", 0), 0u);
  EXPECT_EQ(rawExchange(server.port(), "nonsense\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);
  // Still serving after all that.
  EXPECT_EQ(httpGet("127.0.0.1", server.port(), "/z")->body, "at /z\n");
}

}  // namespace
}  // namespace brindle::agent
