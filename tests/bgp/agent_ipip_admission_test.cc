// IPIP admission by brindle-agent's fixed chains, with real packets on either dataplane backend
// (BRINDLE_TEST_DATAPLANE): while a pool uses IPIP, a node namespace accepts IP protocol 4 from a
// known Node's address and drops it from any other host (docs/bgp.md; Felix's all-hosts-net).
// The packets are raw protocol-4 datagrams from a peer namespace holding both a Node's address
// and an unknown one; a raw socket in the node namespace sees what INPUT let through (raw
// delivery comes after the netfilter input hook), so no IPIP support in the kernel is needed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "datastore/local/local_store.h"
#include "model/codec.h"
#include "os/netns.h"
#include "resources/resource_store.h"
#include "testutil/dataplane_view.h"
#include "testutil/shell.h"
#include "testutil/temp_dir.h"

namespace brindle::bgp {
namespace {

using namespace std::chrono_literals;
using testutil::sh;

constexpr const char* kNode = "10.79.0.1";     // n1, the agent's node
constexpr const char* kKnown = "10.79.0.2";    // n2, a Node of the cluster
constexpr const char* kUnknown = "10.79.0.9";  // no Node's

// A raw IP protocol 4 socket opened in `netns` (it stays in that namespace); -1 on failure.
int ipipSocket(const std::string& netns, const char* bindTo = nullptr) {
  int fd = -1;
  Status s = os::runInNetns(netns, [&]() -> Status {
    fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IPIP);
    if (fd < 0) return makeError(ErrorCode::kInternal, "socket");
    if (bindTo) {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      ::inet_pton(AF_INET, bindTo, &a.sin_addr);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        return makeError(ErrorCode::kInternal, "bind");
      }
    }
    return Status::ok();
  });
  if (!s && fd >= 0) {
    ::close(fd);
    fd = -1;
  }
  return fd;
}

class AgentIpipAdmission : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    testutil::must("ip netns add " + node_);
    testutil::must("ip netns add " + peer_);
    testutil::must("ip -n " + node_ + " link add eth0 type veth peer name eth0 netns " + peer_);
    testutil::must("ip -n " + node_ + " addr add " + kNode + "/24 dev eth0");
    testutil::must("ip -n " + peer_ + " addr add " + kKnown + "/24 dev eth0");
    testutil::must("ip -n " + peer_ + " addr add " + kUnknown + "/24 dev eth0");
    for (const auto& ns : {node_, peer_}) {
      testutil::must("ip -n " + ns + " link set lo up");
      testutil::must("ip -n " + ns + " link set eth0 up");
    }
    auto client = datastore::openLocalStore(dir_.file("store.db"));
    ASSERT_TRUE(client.isOk()) << client.message();
    auto decoded = model::decodeResources(
        std::string("kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: n1}\n"
                    "spec: {bgp: {ipv4Address: ") +
            kNode +
            "/24}}\n---\n"
            "kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: n2}\n"
            "spec: {bgp: {ipv4Address: " +
            kKnown +
            "/24}}\n---\n"
            "kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata: {name: pool}\n"
            "spec: {cidr: 10.68.0.0/16, ipipMode: Always}\n",
        "cluster");
    ASSERT_TRUE(decoded.isOk()) << decoded.message();
    resources::ResourceStore store(**client);
    ASSERT_TRUE(store.write(resources::WriteMode::kCreate, decoded->resources).isOk());
    receiver_ = ipipSocket(node_);
    ASSERT_GE(receiver_, 0);
  }
  void TearDown() override {
    testutil::killAndReap(agent_);
    if (receiver_ >= 0) ::close(receiver_);
    sh("ip netns delete " + node_);
    sh("ip netns delete " + peer_);
  }

  void startAgent() {
    agent_ = testutil::spawnDaemon(
        {"ip", "netns", "exec", node_, BRINDLE_AGENT_BINARY, "--nodename", "n1"},
        dir_.file("agent.log"),
        {"DATASTORE_TYPE=local", "BRINDLE_STORE_PATH=" + dir_.file("store.db"),
         "CALICO_NETWORKING_BACKEND=none", "FELIX_HEALTHENABLED=true", "FELIX_HEALTHPORT=9099",
         "FELIX_PROMETHEUSMETRICSENABLED=false",
         testutil::nftablesModeEnv(dataplane_.dataplane())});
  }
  bool agentReady() {
    return sh("ip netns exec " + node_ + " curl -s -m 1 http://127.0.0.1:9099/readiness").out ==
           "ready\n";
  }
  std::string log() { return sh("cat " + dir_.file("agent.log")).out; }

  // Sends one protocol-4 datagram from `from` (an address of the peer) to the node.
  void send(const char* from) {
    const int fd = ipipSocket(peer_, from);
    ASSERT_GE(fd, 0) << from;
    sockaddr_in to{};
    to.sin_family = AF_INET;
    ::inet_pton(AF_INET, kNode, &to.sin_addr);
    const char payload[20] = {0x45};  // an inner IPv4 header's first byte; never decapsulated here
    EXPECT_EQ(::sendto(fd, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(sizeof payload))
        << from;
    ::close(fd);
  }

  // The sources of what the node's raw socket received, counted, until one from `until` came
  // (or 2 s passed: then `until` is missing from the result).
  std::map<std::string, int> receivedUntil(const char* until) {
    std::map<std::string, int> seen;
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (!seen.count(until) && std::chrono::steady_clock::now() < deadline) {
      pollfd p{receiver_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      unsigned char buf[256];
      const ssize_t n = ::recv(receiver_, buf, sizeof buf, 0);
      if (n < 20) continue;
      char src[INET_ADDRSTRLEN];
      ::inet_ntop(AF_INET, buf + 12, src, sizeof src);
      ++seen[src];
    }
    return seen;
  }

  testutil::TempDir dir_;
  std::string node_ = "bgpip" + std::to_string(::getpid()) + "-n";
  std::string peer_ = "bgpip" + std::to_string(::getpid()) + "-p";
  testutil::DataplaneView dataplane_{node_, testutil::testDataplane()};
  pid_t agent_ = -1;
  int receiver_ = -1;
};

TEST_F(AgentIpipAdmission, OnlyKnownNodesMaySendIpip) {
  // Without the agent both get through: the drop below is the agent's.
  send(kUnknown);
  send(kKnown);
  auto before = receivedUntil(kKnown);
  EXPECT_EQ(before[kUnknown], 1);
  EXPECT_EQ(before[kKnown], 1);

  startAgent();
  bool ready = false;
  for (int i = 0; i < 100 && !(ready = agentReady()); ++i) std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(ready) << log();
  EXPECT_FALSE(dataplane_.setsHolding(kKnown).empty()) << dataplane_.ours();
  EXPECT_TRUE(dataplane_.setsHolding(kUnknown).empty()) << dataplane_.ours();
  EXPECT_EQ(dataplane_.otherBackendLeftovers(), "");

  // The same path in order: an unknown datagram let through would arrive before the known one.
  for (int i = 0; i < 3; ++i) send(kUnknown);
  send(kKnown);
  auto after = receivedUntil(kKnown);
  EXPECT_EQ(after[kKnown], 1) << "IPIP from a known node must be admitted\n" << dataplane_.ours();
  EXPECT_EQ(after[kUnknown], 0) << "IPIP from an unknown host must be dropped\n"
                                << dataplane_.ours();
}

}  // namespace
}  // namespace brindle::bgp
