// Done-means 5 of issue #13 (IPIP): nodes 1 and 2 share a subnet, node 3 sits in another one
// behind a router namespace; full mesh with a real BIRD per node under Brindle's Supervisor,
// which also applies IPIP (tunl0, tunnel address, tunnel routes); a workload per node added by
// brindle-cni. With the pool CrossSubnet, node 1 reaches node 2's block by a plain BIRD route
// and node 3's through tunl0 (only its tunl0 counters move for the latter); with Always every
// remote block goes through tunl0; a 1400-byte ping with DF set crosses the tunnel, a larger one
// is refused ("frag needed"). The decisions and BIRD's side are checked on any kernel; the
// tunnel traffic needs a kernel with IPIP (CONFIG_NET_IPIP) and is skipped, saying so, without.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <thread>

#include "bgp/e2e_steps.h"
#include "bgp/supervisor.h"
#include "datastore/local/local_store.h"
#include "ipam/block.h"
#include "model/codec.h"
#include "resources/resource_store.h"
#include "testutil/shell.h"
#include "testutil/temp_dir.h"

namespace brindle::bgp {
namespace {

using namespace std::chrono_literals;
using testutil::must;
using testutil::sh;

// Whether this kernel can make an IPIP device at all (a scratch namespace, deleted again).
bool kernelHasIpip(const std::string& prefix) {
  const std::string probe = prefix + "probe";
  sh("ip netns add " + probe);
  const bool ok = sh("ip -n " + probe + " link add name x0 type ipip").code == 0 ||
                  sh("ip -n " + probe + " link show tunl0").code == 0;
  sh("ip netns delete " + probe);
  return ok;
}

class IpipE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    ipip_ = kernelHasIpip(prefix_);
    auto client = datastore::openLocalStore(dir_.file("store.db"));
    ASSERT_TRUE(client.isOk()) << client.message();
    client_ = std::move(*client);
    try {
      // The router: a bridge for subnet 10.93.1.0/24 (nodes 1, 2), a veth for 10.93.2.0/24.
      const std::string r = ns("r");
      must("ip netns add " + r);
      must("ip netns exec " + r + " sysctl -qw net.ipv4.ip_forward=1");
      must("ip -n " + r + " link add br0 type bridge");
      must("ip -n " + r + " addr add 10.93.1.254/24 dev br0");
      must("ip -n " + r + " link set br0 up");
      // The seed's v1 pool form: ipip enabled, cross-subnet.
      std::string yaml =
          "apiVersion: v1\nkind: ipPool\nmetadata: {cidr: 10.67.0.0/16}\n"
          "spec: {ipip: {enabled: true, mode: cross-subnet}}\n";
      auto pool = model::decodeResources(yaml, "pool");
      ASSERT_TRUE(pool.isOk()) << pool.message();
      std::vector<model::Resource> batch = pool->resources;
      ASSERT_EQ(batch.at(0).spec.value("ipipMode", ""), "CrossSubnet");
      std::string nodes;
      for (int i = 1; i <= 3; ++i) {
        addNode(i);
        nodes += "kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: " + node(i) +
                 "}\nspec: {bgp: {ipv4Address: " + nodeIp(i) + "/24}}\n---\n";
      }
      auto decoded = model::decodeResources(nodes, "nodes");
      ASSERT_TRUE(decoded.isOk()) << decoded.message();
      batch.insert(batch.end(), decoded->resources.begin(), decoded->resources.end());
      resources::ResourceStore store(*client_);
      ASSERT_TRUE(store.write(resources::WriteMode::kCreate, batch).isOk());
      for (int i = 1; i <= 3; ++i) {
        addWorkload(i);
        SupervisorOptions o;
        o.node = node(i);
        o.runDir = dir_.file("run");
        o.netns = ns(node(i));
        supervisors_.push_back(std::make_unique<Supervisor>(*client_, o));
      }
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
  }

  void TearDown() override {
    for (auto& s : supervisors_) s->teardown();
    for (int i = 1; i <= 3; ++i) {  // BIRDs a failed teardown may have left
      std::ifstream in(dir_.file("run") + "/" + node(i) + "/bird.pid");
      pid_t pid = 0;
      if (in >> pid && pid > 0) ::kill(pid, SIGKILL);
    }
    testutil::deleteNamespaces(prefix_);
  }

  std::string ns(const std::string& name) const {
    return name.rfind(prefix_, 0) == 0 ? name : prefix_ + name;
  }
  std::string node(int i) const { return prefix_ + "n" + std::to_string(i); }
  std::string nodeIp(int i) const { return i < 3 ? "10.93.1." + std::to_string(i) : "10.93.2.1"; }
  std::string workload(int i) const { return prefix_ + "w" + std::to_string(i); }

  void addNode(int i) {
    const std::string n = node(i);
    const std::string r = ns("r");
    const std::string p = "p" + std::to_string(i);
    must("ip netns add " + n);
    must("ip -n " + n + " link set lo up");
    must("ip -n " + r + " link add " + p + " type veth peer name eth0 netns " + n);
    if (i < 3) {
      must("ip -n " + r + " link set " + p + " master br0 up");
    } else {
      must("ip -n " + r + " addr add 10.93.2.254/24 dev " + p);
      must("ip -n " + r + " link set " + p + " up");
    }
    must("ip -n " + n + " addr add " + nodeIp(i) + "/24 dev eth0");
    must("ip -n " + n + " link set eth0 up");
    must("ip -n " + n + " route add default via " + (i < 3 ? "10.93.1.254" : "10.93.2.254"));
    must("ip netns exec " + n + " sysctl -qw net.ipv4.ip_forward=1");
  }

  void addWorkload(int i) {
    must("ip netns add " + workload(i));
    const std::string conf = dir_.write(
        "cni" + std::to_string(i) + ".json",
        R"({"cniVersion":"1.0.0","name":"net1","type":"brindle-cni","nodename":")" + node(i) +
            R"(","store_path":")" + dir_.file("store.db") + R"(","ipam":{"type":"brindle-ipam"}})");
    const std::string out = cniAdd(node(i), workload(i), "c" + std::to_string(i), conf);
    std::smatch m;
    if (!std::regex_search(out, m, std::regex(R"("address":\s*"([0-9.]+)/)"))) {
      throw std::runtime_error("no IPv4 address from brindle-cni on " + node(i) + ": " + out);
    }
    ips_[i] = m[1].str();
    blocks_[i] = ipam::blockOf(*IpAddr::parse(ips_[i]), 26).toString();
  }

  bool converge(const std::function<bool()>& done, std::chrono::seconds limit) {
    return stepUntil(supervisors_, done, limit);
  }

  std::string routes(int i) { return sh("ip -n " + node(i) + " -4 route show").out; }
  bool has(int i, const std::string& what) { return routes(i).find(what) != std::string::npos; }
  // The route another node holds for node j's block: through tunl0, or BIRD's plain one.
  std::string tunnelRoute(int j) {
    return blocks_.at(j) + " via " + nodeIp(j) + " dev tunl0 proto 81 onlink";
  }
  std::string plainRoute(int j) {
    return blocks_.at(j) + " via " + nodeIp(j) + " dev eth0 proto bird";
  }
  long counter(int i, const std::string& name) {
    auto r = sh("ip netns exec " + node(i) + " cat /sys/class/net/tunl0/statistics/" + name);
    return r.code == 0 ? std::stol(r.out) : -1;
  }
  long txPackets(int i) { return counter(i, "tx_packets"); }
  long rxPackets(int i) { return counter(i, "rx_packets"); }
  // Whether node i's BIRD holds node j's block (learned over BGP, whatever reaches the kernel).
  bool birdHas(int i, int j) {
    const std::string ctl = dir_.file("run") + "/" + node(i) + "/bird.ctl";
    return sh("birdc -s " + ctl + " show route " + blocks_.at(j)).out.find("via " + nodeIp(j)) !=
           std::string::npos;
  }
  bool ping(int from, int to, const std::string& options = "") {
    return sh("ip netns exec " + workload(from) + " ping -c 1 -W 2 " + options + " " + ips_.at(to))
               .code == 0;
  }
  void setPoolMode(const std::string& mode) {
    resources::ResourceStore store(*client_);
    auto pools = store.list(model::Kind::kIPPool);
    ASSERT_TRUE(pools.isOk() && pools->size() == 1);
    model::Resource pool = pools->front();
    pool.spec["ipipMode"] = mode;
    ASSERT_TRUE(store.write(resources::WriteMode::kReplace, {pool}).isOk());
  }
  std::string tunnelAddress(int i) {
    resources::ResourceStore store(*client_);
    auto n = store.get(model::Kind::kNode, "", node(i));
    if (!n) return "";
    return n->spec.value("/bgp/ipv4IPIPTunnelAddr"_json_pointer, std::string());
  }

  std::string prefix_ = "ipe" + std::to_string(::getpid() % 100000) + "-";
  testutil::TempDir dir_;
  datastore::ClientPtr client_;
  std::vector<std::unique_ptr<Supervisor>> supervisors_;
  std::map<int, std::string> ips_, blocks_;
  bool ipip_ = false;  // the kernel has IPIP
};

// Routes and the tunnel device in all three modes. On a kernel without IPIP, tunl0 is a veth
// standing in (this kernel may have no dummy device either) (after checking the problem the
// Supervisor reports without it): routes, MTU and address are the same, only nothing is
// encapsulated.
TEST_F(IpipE2e, RoutesAndTunnelDeviceFollowThePoolMode) {
  if (!ipip_) {
    ASSERT_TRUE(converge(
        [&] { return supervisors_[0]->problem().find("CONFIG_NET_IPIP") != std::string::npos; },
        30s))
        << supervisors_[0]->problem();
    for (int i = 1; i <= 3; ++i) {
      must("ip -n " + node(i) + " link add tunl0 type veth peer name tunl0-peer");
      must("ip -n " + node(i) + " link set tunl0-peer up");
    }
  }
  // CrossSubnet: node 2's block plain on node 1 (same subnet); node 3's through tunl0, never
  // installed by BIRD although BIRD has it.
  ASSERT_TRUE(converge(
      [&] {
        return has(1, plainRoute(2)) && has(2, plainRoute(1)) && has(1, tunnelRoute(3)) &&
               has(3, tunnelRoute(1)) && has(3, tunnelRoute(2)) && has(2, tunnelRoute(3));
      },
      30s))
      << routes(1) << routes(3) << supervisors_[0]->problem();
  EXPECT_EQ(supervisors_[0]->problem(), "");
  EXPECT_TRUE(birdHas(1, 3)) << "node 1's BIRD learned node 3's block over BGP";
  EXPECT_EQ(sh("ip -n " + node(1) + " route show proto bird " + blocks_.at(3)).out, "");
  EXPECT_EQ(sh("ip -n " + node(3) + " route show proto bird " + blocks_.at(1)).out, "");
  // Every node has a tunnel address from its own block, written to its Node, on tunl0.
  for (int i = 1; i <= 3; ++i) {
    const std::string addr = tunnelAddress(i);
    ASSERT_FALSE(addr.empty()) << node(i);
    EXPECT_TRUE(Cidr::parse(blocks_.at(i))->contains(*IpAddr::parse(addr))) << addr;
    const std::string tunl0 = sh("ip -n " + node(i) + " addr show tunl0").out;
    EXPECT_NE(tunl0.find("mtu 1480"), std::string::npos) << tunl0;  // veth 1500 - 20
    EXPECT_NE(tunl0.find(",UP"), std::string::npos) << tunl0;
    EXPECT_NE(tunl0.find("inet " + addr + "/32"), std::string::npos) << tunl0;
  }

  // Always: node 2's block leaves BIRD's hands and goes through tunl0 as well.
  setPoolMode("Always");
  ASSERT_TRUE(converge([&] { return has(1, tunnelRoute(2)) && has(2, tunnelRoute(1)); }, 30s))
      << routes(1);
  EXPECT_EQ(sh("ip -n " + node(1) + " route show proto bird " + blocks_.at(2)).out, "");

  // Never: the tunnel routes go, BIRD routes every block, the addresses go back, tunl0 goes down.
  setPoolMode("Never");
  ASSERT_TRUE(converge(
      [&] {
        return has(1, plainRoute(2)) && !has(1, "dev tunl0") && !has(3, "dev tunl0") &&
               has(1, blocks_.at(3) + " via 10.93.1.254 dev eth0 proto bird");
      },
      30s))
      << routes(1) << routes(3);
  EXPECT_TRUE(tunnelAddress(1).empty());
  const std::string tunl0 = sh("ip -n " + node(1) + " addr show tunl0").out;
  EXPECT_EQ(tunl0.find("inet "), std::string::npos) << tunl0;
  EXPECT_EQ(tunl0.find(",UP"), std::string::npos) << tunl0;
}

// The traffic (needs a kernel with IPIP): CrossSubnet encapsulates across the router only, a
// 1400-byte DF packet crosses the tunnel and a larger one is refused; Always encapsulates all.
TEST_F(IpipE2e, TrafficIsEncapsulatedWhereThePoolSays) {
  if (!ipip_) {
    GTEST_SKIP() << "this kernel has no IPIP (CONFIG_NET_IPIP): no encapsulated traffic to test";
  }
  ASSERT_TRUE(converge(
      [&] {
        return has(1, plainRoute(2)) && has(1, tunnelRoute(3)) && has(3, tunnelRoute(1)) &&
               has(3, tunnelRoute(2)) && has(2, tunnelRoute(3));
      },
      30s))
      << routes(1) << routes(3) << supervisors_[0]->problem();
  long before = txPackets(1);
  ASSERT_TRUE(ping(1, 2)) << routes(1);
  EXPECT_EQ(txPackets(1), before) << "same subnet must not be encapsulated";
  ASSERT_TRUE(ping(1, 3)) << routes(1) << routes(3);
  EXPECT_GT(txPackets(1), before) << "across the router must be encapsulated";
  const long received = rxPackets(3);
  EXPECT_GT(received, 0);

  // 1372 bytes of ICMP data: a 1400-byte packet, inside tunl0's 1480; 1460 bytes make 1488.
  EXPECT_TRUE(ping(1, 3, "-M do -s 1372"));
  const auto big = sh("ip netns exec " + workload(1) + " ping -c 2 -W 2 -M do -s 1460 " + ips_[3]);
  EXPECT_NE(big.code, 0) << big.out;
  EXPECT_TRUE(std::regex_search(big.out, std::regex("[Ff]rag needed|mtu = 1480|too long")))
      << big.out;

  setPoolMode("Always");
  ASSERT_TRUE(converge([&] { return has(1, tunnelRoute(2)) && has(2, tunnelRoute(1)); }, 30s))
      << routes(1);
  before = txPackets(1);
  ASSERT_TRUE(ping(1, 2)) << routes(1);
  EXPECT_GT(txPackets(1), before) << "Always: the same subnet is encapsulated too";
  EXPECT_TRUE(ping(2, 3));
}

}  // namespace
}  // namespace brindle::bgp
