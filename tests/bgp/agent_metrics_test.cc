// brindle-agent's BGP health and metrics, from two real agents (each running BIRD) in two node
// namespaces on a veth: /metrics counts the sessions by state and the routes they import and
// export (each node announces the service range, so one route each way); /readiness says when
// no session is Established without gating readiness on it (docs/bgp.md). On either dataplane
// backend (BRINDLE_TEST_DATAPLANE): its write counter is in /metrics, its rules in the kernel.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "datastore/local/local_store.h"
#include "model/codec.h"
#include "resources/resource_store.h"
#include "testutil/dataplane_view.h"
#include "testutil/shell.h"
#include "testutil/temp_dir.h"

namespace brindle::bgp {
namespace {

using namespace std::chrono_literals;
using testutil::sh;

class AgentBgpMetrics : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    testutil::must("ip netns add " + ns(1));
    testutil::must("ip netns add " + ns(2));
    testutil::must("ip -n " + ns(1) + " link add eth0 type veth peer name eth0 netns " + ns(2));
    for (int i : {1, 2}) {
      testutil::must("ip -n " + ns(i) + " link set lo up");
      testutil::must("ip -n " + ns(i) + " addr add 10.77.0." + std::to_string(i) + "/24 dev eth0");
      testutil::must("ip -n " + ns(i) + " link set eth0 up");
    }
    auto client = datastore::openLocalStore(dir_.file("store.db"));
    ASSERT_TRUE(client.isOk()) << client.message();
    auto decoded = model::decodeResources(
        "kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: m1}\n"
        "spec: {bgp: {ipv4Address: 10.77.0.1/24}}\n---\n"
        "kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: m2}\n"
        "spec: {bgp: {ipv4Address: 10.77.0.2/24}}\n---\n"
        "kind: BGPConfiguration\napiVersion: projectcalico.org/v3\nmetadata: {name: default}\n"
        "spec: {serviceClusterIPs: [{cidr: 10.96.0.0/12}]}\n",
        "nodes");
    ASSERT_TRUE(decoded.isOk()) << decoded.message();
    resources::ResourceStore store(**client);
    ASSERT_TRUE(store.write(resources::WriteMode::kCreate, decoded->resources).isOk());
  }
  void TearDown() override {
    for (int i : {1, 2}) {
      testutil::killAndReap(agents_[i - 1]);
      std::ifstream in(dir_.file("run") + "/m" + std::to_string(i) + "/bird.pid");
      pid_t pid = 0;
      if (in >> pid && pid > 0) ::kill(pid, SIGKILL);
      sh("ip netns delete " + ns(i));
    }
  }

  std::string ns(int i) const {
    return "bgpmt" + std::to_string(::getpid()) + "-" + std::to_string(i);
  }
  void startAgent(int i) {
    agents_[i - 1] = testutil::spawnDaemon(
        {"ip", "netns", "exec", ns(i), BRINDLE_AGENT_BINARY, "--nodename", "m" + std::to_string(i)},
        dir_.file("agent" + std::to_string(i) + ".log"),
        {"DATASTORE_TYPE=local", "BRINDLE_STORE_PATH=" + dir_.file("store.db"),
         "FELIX_BGPRUNDIR=" + dir_.file("run"), "FELIX_HEALTHENABLED=true",
         "FELIX_PROMETHEUSMETRICSENABLED=true", "FELIX_HEALTHPORT=9099",
         "FELIX_PROMETHEUSMETRICSPORT=9099", testutil::nftablesModeEnv(dataplane_)});
  }
  std::string get(int i, const std::string& path) {
    return sh("ip netns exec " + ns(i) + " curl -s -m 2 http://127.0.0.1:9099" + path).out;
  }
  // Polls node i's `path` until it contains `want` (bounded); `readyToo`: and starts with
  // "ready" (the BGP note comes with "not ready" too while the first apply runs).
  bool eventually(int i, const std::string& path, const std::string& want, bool readyToo = false) {
    for (int n = 0; n < 150; ++n) {
      const std::string body = get(i, path);
      if (body.find(want) != std::string::npos && (!readyToo || body.rfind("ready\n", 0) == 0)) {
        return true;
      }
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }
  std::string log(int i) {
    return sh("cat " + dir_.file("agent" + std::to_string(i) + ".log")).out;
  }

  testutil::TempDir dir_;
  pid_t agents_[2] = {-1, -1};
  const testutil::Dataplane dataplane_ = testutil::testDataplane();
};

TEST_F(AgentBgpMetrics, SessionsAndRoutesInMetricsNoSessionInReadiness) {
  // m2's agent is not running: m1's only session (m1 waits, the passive side by address order)
  // cannot come up. Readiness says so but stays ready.
  startAgent(1);
  ASSERT_TRUE(eventually(1, "/readiness", "BGP: no session Established (1 configured)", true))
      << get(1, "/readiness") << log(1);
  EXPECT_EQ(get(1, "/readiness").rfind("ready\n", 0), 0u) << get(1, "/readiness");
  EXPECT_NE(
      get(1, "/metrics").find("brindle_bgp_sessions{ip_version=\"4\",state=\"Established\"} 0"),
      std::string::npos)
      << get(1, "/metrics");

  startAgent(2);
  for (int i : {1, 2}) {
    EXPECT_TRUE(
        eventually(i, "/metrics", "brindle_bgp_sessions{ip_version=\"4\",state=\"Established\"} 1"))
        << get(i, "/metrics") << log(i);
    EXPECT_TRUE(
        eventually(i, "/metrics", "brindle_bgp_routes{ip_version=\"4\",direction=\"imported\"} 1"))
        << get(i, "/metrics");
    const std::string metrics = get(i, "/metrics");
    EXPECT_NE(metrics.find("brindle_bgp_routes{ip_version=\"4\",direction=\"exported\"} 1"),
              std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("# TYPE brindle_bgp_sessions gauge"), std::string::npos);
    // Ready (its first apply may still run on a loaded machine), with no BGP note now.
    EXPECT_TRUE(eventually(i, "/readiness", "", true)) << get(i, "/readiness");
    const std::string ready = get(i, "/readiness");
    EXPECT_EQ(ready, "ready\n") << ready;
    // Ready means applied: the backend under test holds our rules, the other nothing of ours.
    const testutil::DataplaneView view(ns(i), dataplane_);
    std::smatch writes;
    ASSERT_TRUE(std::regex_search(
        metrics, writes, std::regex("\n" + std::string(view.writesMetric()) + " ([0-9]+)")))
        << metrics;
    EXPECT_GT(std::stol(writes[1].str()), 0) << metrics;
    EXPECT_TRUE(view.programmed()) << testutil::dataplaneName(dataplane_);
    EXPECT_EQ(view.otherBackendLeftovers(), "");
  }
}

}  // namespace
}  // namespace brindle::bgp
