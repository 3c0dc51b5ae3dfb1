// brindle-cni against the real kernel (root): workloads in namespaces under a node namespace,
// driven exactly as a runtime drives a plugin, proven with ping and TCP; 50 workloads in and
// out leaving nothing; kill -9 mid-ADD and `brindlectl ipam check --fix`; errors; delegation.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "cni/naming.h"
#include "cni/node_fixture.h"

namespace brindle::cni::testing {
namespace {

using Json = nlohmann::json;

class CniIntegration : public NodeFixture {};

TEST_F(CniIntegration, TwoWorkloadsReachEachOtherAndTheNode) {
  ASSERT_EQ(sh("ip netns add " + ns("a") + " && ip netns add " + ns("b")).rc, 0);
  Cmd a = plugin("ADD", "ctra", "a", conf());
  ASSERT_EQ(a.rc, 0) << a.out;
  Cmd b = plugin("ADD", "ctrb", "b", conf());
  ASSERT_EQ(b.rc, 0) << b.out;
  const std::string ipA = firstIp(a.out), ipB = firstIp(b.out);

  // The wiring, as the kernel reports it.
  Json ra = Json::parse(a.out);
  const std::string hostA = ra["interfaces"][0]["name"];
  EXPECT_EQ(hostA.substr(0, 4), "cali");
  EXPECT_EQ(ra["interfaces"][0]["mac"], "ee:ee:ee:ee:ee:ee");
  EXPECT_EQ(sh(inNode("cat /proc/sys/net/ipv4/conf/" + hostA + "/proxy_arp")).out, "1\n");
  EXPECT_NE(sh(inNode("ip route show " + ipA)).out.find("dev " + hostA + " scope link"),
            std::string::npos);
  EXPECT_EQ(sh(inNode("ip -4 addr show dev " + hostA)).out, "") << "host side has no address";
  Cmd route = sh(inNs("a", "ip route"));
  EXPECT_NE(route.out.find("default via 169.254.1.1 dev eth0"), std::string::npos) << route.out;
  EXPECT_NE(route.out.find("169.254.1.1 dev eth0 scope link"), std::string::npos) << route.out;
  EXPECT_NE(sh(inNs("a", "ip neigh"))
                .out.find("169.254.1.1 dev eth0 lladdr ee:ee:ee:ee:ee:ee "
                          "PERMANENT"),
            std::string::npos);
  EXPECT_NE(sh(inNs("a", "ip addr show eth0")).out.find("inet " + ipA + "/32"), std::string::npos);
  EXPECT_NE(sh(inNs("a", "ip link show eth0")).out.find("mtu 1450"), std::string::npos);

  // Real traffic: workload <-> workload, workload -> node, node -> workload, and TCP.
  EXPECT_EQ(sh(inNs("a", "ping -c2 -i0.2 -W2 " + ipB + " >/dev/null")).rc, 0);
  EXPECT_EQ(sh(inNs("b", "ping -c1 -W2 " + ipA + " >/dev/null")).rc, 0);
  EXPECT_EQ(sh(inNs("a", "ping -c1 -W2 " + nodeIp_ + " >/dev/null")).rc, 0);
  EXPECT_EQ(sh(inNode("ping -c1 -W2 " + ipB + " >/dev/null")).rc, 0);
  const std::string got = dir_.file("tcp.out");
  // The listener hands the connection to `cat` (-e): busybox nc -l with its own stdin at EOF
  // (a background job's) may close the connection before the client's data arrives.
  ASSERT_EQ(sh("ip netns exec " + ns("b") + " timeout 10 busybox nc -l -p 5000 -e sh -c 'cat > " +
               got + "' & sleep 0.1; " +
               inNs("a", "for i in $(seq 30); do echo hello-over-tcp | busybox nc -w 2 " + ipB +
                             " 5000 && break; sleep 0.1; done") +
               "; wait")
                .rc,
            0);
  EXPECT_EQ(sh("cat " + got).out, "hello-over-tcp\n");

  // CHECK passes, then fails once the host route is gone.
  Cmd chk = plugin("CHECK", "ctra", "a", withPrev(conf(), a.out));
  EXPECT_EQ(chk.rc, 0) << chk.out;
  ASSERT_EQ(sh(inNode("ip route del " + ipA + "/32 dev " + hostA)).rc, 0);
  chk = plugin("CHECK", "ctra", "a", withPrev(conf(), a.out));
  EXPECT_EQ(chk.rc, 1);
  EXPECT_NE(chk.out.find("host route"), std::string::npos) << chk.out;

  // The endpoint in the store.
  resources::ResourceStore store(*client_);
  auto wep = store.get(model::Kind::kWorkloadEndpoint, "default", "node1-cni-ctra-eth0");
  ASSERT_TRUE(wep) << wep.message();
  EXPECT_EQ(wep->spec["ipNetworks"][0], ipA + "/32");
  EXPECT_EQ(wep->spec["interfaceName"], hostA);

  for (const char* id : {"ctra", "ctrb"}) {
    std::string w = id == std::string("ctra") ? "a" : "b";
    EXPECT_EQ(plugin("DEL", id, w, conf()).rc, 0);
    EXPECT_EQ(plugin("DEL", id, w, conf()).rc, 0) << "second DEL";
  }
  EXPECT_EQ(plugin("DEL", "ctra", "", conf()).rc, 0) << "DEL without a namespace";
  EXPECT_EQ(ipsInUse(), 0u);
  EXPECT_EQ(endpointCount(), 0u);
}

TEST_F(CniIntegration, FiftyWorkloadsInAndOutLeaveNothing) {
  constexpr int kN = 50;
  const std::string routes = "ip route show; ip -6 route show";
  const std::string routesBefore = sh(inNode(routes)).out;
  std::string mk;
  for (int i = 0; i < kN; ++i) mk += "ip netns add " + ns("w" + std::to_string(i)) + " && ";
  ASSERT_EQ(sh(mk + "true").rc, 0);
  std::vector<std::string> results(kN);
  for (int i = 0; i < kN; ++i) {
    Cmd r = plugin("ADD", "c" + std::to_string(i), "w" + std::to_string(i), conf("0.4.0"));
    ASSERT_EQ(r.rc, 0) << r.out;
    results[i] = r.out;
  }
  EXPECT_EQ(ipsInUse(), static_cast<uint64_t>(kN));
  EXPECT_EQ(endpointCount(), static_cast<size_t>(kN));
  EXPECT_EQ(std::stoi(sh(inNode("ip -o link show | grep -c cali")).out), kN);
  // Workload 0 reaches workload 49 through the node.
  EXPECT_EQ(sh(inNs("w0", "ping -c1 -W2 " + firstIp(results[kN - 1]) + " >/dev/null")).rc, 0);
  for (int i = 0; i < kN; ++i) {
    Cmd r = plugin("CHECK", "c" + std::to_string(i), "w" + std::to_string(i),
                   withPrev(conf("0.4.0"), results[i]));
    ASSERT_EQ(r.rc, 0) << r.out;
  }
  for (int i = 0; i < kN; ++i) {
    Cmd r = plugin("DEL", "c" + std::to_string(i), "w" + std::to_string(i), conf("0.4.0"));
    ASSERT_EQ(r.rc, 0) << r.out;
  }
  EXPECT_EQ(sh(inNode("ip -o link show | grep -v \" lo:\" || true")).out, "");
  EXPECT_EQ(sh(inNode(routes)).out, routesBefore) << "routes are back to the node's own";
  EXPECT_EQ(endpointCount(), 0u);
  EXPECT_EQ(ipsInUse(), 0u);
  Cmd show = sh(std::string("BRINDLE_STORE_PATH=") + dir_.file("store.db") + " " +
                BRINDLECTL_BINARY + " ipam show");
  EXPECT_NE(show.out.find("0 (0%)"), std::string::npos) << show.out;
}

TEST_F(CniIntegration, KillDuringAddLeaksAnAddressThatIpamCheckFindsAndFixes) {
  ASSERT_EQ(sh("ip netns add " + ns("k")).rc, 0);
  const std::string mark = dir_.file("paused");
  const std::string confFile = dir_.write("kill.json", conf());
  Cmd bg = sh("ip netns exec " + node_ + " env CNI_COMMAND=ADD CNI_CONTAINERID=ctrk CNI_NETNS=" +
              nsPath("k") + " CNI_IFNAME=eth0 BRINDLE_CNI_TEST_PAUSE=after-veth " +
              "BRINDLE_CNI_TEST_PAUSE_MARK=" + mark + " " + BRINDLE_CNI_DIR + "/brindle-cni < " +
              confFile + " > /dev/null 2>&1 & echo $!");
  const pid_t pid = std::stoi(bg.out);
  for (int i = 0; i < 200 && !std::filesystem::exists(mark); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(std::filesystem::exists(mark)) << "the plugin never reached its pause point";
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(ipsInUse(), 1u) << "the address was allocated before the kill";
  EXPECT_EQ(endpointCount(), 0u);

  const std::string ctl =
      std::string("BRINDLE_STORE_PATH=") + dir_.file("store.db") + " " + BRINDLECTL_BINARY;
  Cmd check = sh(ctl + " ipam check");
  EXPECT_NE(check.out.find("Found 1 IPs that are allocated in IPAM but not actually in use"),
            std::string::npos)
      << check.out;
  Cmd fix = sh(ctl + " ipam check --fix --yes");
  EXPECT_EQ(fix.rc, 0) << fix.out;
  EXPECT_EQ(ipsInUse(), 0u) << fix.out;
  // The runtime's DEL after a failed ADD removes the half-made veth.
  EXPECT_EQ(sh(inNode("ip -o link show | grep -c cali || true")).out, "1\n");
  EXPECT_EQ(plugin("DEL", "ctrk", "k", conf()).rc, 0);
  EXPECT_EQ(sh(inNode("ip -o link show | grep -c cali || true")).out, "0\n");
}

TEST_F(CniIntegration, FailedAddLeavesNothing) {
  ASSERT_EQ(sh("ip netns add " + ns("f")).rc, 0);
  // eth0 is taken in the workload: the veth cannot be created after the address was assigned.
  ASSERT_EQ(sh(inNs("f", "ip link add eth0 type veth peer name other0")).rc, 0);
  Cmd r = plugin("ADD", "ctrf", "f", conf());
  EXPECT_EQ(r.rc, 1);
  Json e = Json::parse(r.out);
  EXPECT_EQ(e["cniVersion"], "1.0.0");
  EXPECT_TRUE(e["code"].is_number());
  EXPECT_NE(e["msg"].get<std::string>().find("already exists"), std::string::npos) << r.out;
  EXPECT_EQ(ipsInUse(), 0u);
  EXPECT_EQ(endpointCount(), 0u);
  EXPECT_EQ(sh(inNode("ip -o link show | grep -c cali || true")).out, "0\n");

  // A namespace that does not exist: code 3, nothing left.
  r = plugin("ADD", "ctrg", "nonexistent", conf());
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(Json::parse(r.out)["code"], 3) << r.out;
  EXPECT_EQ(ipsInUse(), 0u);
}

// Values another tool wrote into the store that are not readable: unrelated ones (another IP
// pool, another pod's endpoint, another node) do not fail ADD or DEL; the bad pool is named on
// stderr once.
TEST_F(CniIntegration, BadUnrelatedStoredValuesDoNotFailAdd) {
  ASSERT_EQ(sh("ip netns add " + ns("u")).rc, 0);
  const std::string badPool = model::resourceKey(model::Kind::kIPPool, "", "broken");
  ASSERT_TRUE(client_->create(badPool, "{not json"));
  ASSERT_TRUE(client_->create(
      model::resourceKey(model::Kind::kWorkloadEndpoint, "default", "node1-k8s-other-eth0"),
      "[1,"));
  ASSERT_TRUE(client_->create(model::resourceKey(model::Kind::kNode, "", "node2"), "\x01"));
  const std::string errFile = dir_.file("stderr.txt");
  Cmd a = plugin("ADD", "ctru", "u", conf());
  ASSERT_EQ(a.rc, 0) << a.out;
  EXPECT_EQ(firstIp(a.out).rfind("10.77.", 0), 0u) << a.out;
  // What the plugin says on stderr: the bad pool, named once.
  const std::string confFile = dir_.write("conf-ctru2.json", conf());
  Cmd again = sh("ip netns exec " + ns("node") + " env CNI_COMMAND=ADD CNI_CONTAINERID=ctru2 " +
                 "CNI_NETNS=" + nsPath("u") + " CNI_IFNAME=eth1 CNI_PATH=" + BRINDLE_CNI_DIR + " " +
                 BRINDLE_CNI_DIR + "/brindle-cni < " + confFile + " 2>" + errFile +
                 " >/dev/null; grep -c 'skipped unreadable IP pool: stored value of " + badPool +
                 " is not valid JSON' " + errFile);
  EXPECT_EQ(again.out, "1\n") << sh("cat " + errFile).out;
  EXPECT_EQ(plugin("DEL", "ctru2", "u", conf(), "eth1").rc, 0);
  EXPECT_EQ(plugin("DEL", "ctru", "u", conf()).rc, 0);
  EXPECT_EQ(ipsInUse(), 0u);
}

// A bad value at the key the ADD writes (its own endpoint) fails it with an error naming the key.
TEST_F(CniIntegration, BadValueAtItsOwnEndpointFailsAddNamingTheKey) {
  ASSERT_EQ(sh("ip netns add " + ns("o")).rc, 0);
  ASSERT_EQ(plugin("ADD", "ctro", "o", conf()).rc, 0);
  auto listed = client_->list(model::kindPrefix(model::Kind::kWorkloadEndpoint, ""));
  ASSERT_TRUE(listed) << listed.message();
  ASSERT_EQ(listed->items.size(), 1u);
  const std::string key = listed->items[0].key;
  ASSERT_EQ(plugin("DEL", "ctro", "o", conf()).rc, 0);
  ASSERT_TRUE(client_->create(key, "{not json"));
  Cmd again = plugin("ADD", "ctro", "o", conf());
  EXPECT_EQ(again.rc, 1);
  EXPECT_NE(again.out.find(key), std::string::npos) << again.out;
  ASSERT_TRUE(client_->remove(key, 0));
  EXPECT_EQ(plugin("DEL", "ctro", "o", conf()).rc, 0);
  EXPECT_EQ(ipsInUse(), 0u);
}

TEST_F(CniIntegration, ErrorsAndVersion) {
  Cmd v = plugin("VERSION", "x", "", R"({"cniVersion":"0.4.0"})");
  EXPECT_EQ(v.rc, 0);
  EXPECT_EQ(Json::parse(v.out)["supportedVersions"].size(), 4u);
  Cmd bad = plugin("ADD", "x", "none", "{not json");
  EXPECT_EQ(bad.rc, 1);
  EXPECT_EQ(Json::parse(bad.out)["code"], 6);
  Cmd old = plugin("ADD", "x", "none", conf("0.2.0"));
  EXPECT_EQ(Json::parse(old.out)["code"], 1);
  Cmd noPool =
      plugin("ADD", "x", "none",
             conf("1.0.0", R"(,"ipam":{"type":"brindle-ipam","ipv4_pools":["10.200.0.0/16"]})"));
  EXPECT_EQ(noPool.rc, 1) << noPool.out;
}

TEST_F(CniIntegration, DelegatesToHostLocalIpam) {
  ASSERT_EQ(sh("ip netns add " + ns("h")).rc, 0);
  const std::string c =
      conf("0.4.0", R"(,"ipam":{"type":"host-local","dataDir":")" + dir_.file("hl") +
                        R"(","ranges":[[{"subnet":"10.88.0.0/24"}]]})");
  Cmd a = plugin("ADD", "ctrh", "h", c);
  ASSERT_EQ(a.rc, 0) << a.out;
  const std::string ip = firstIp(a.out);
  EXPECT_EQ(ip.rfind("10.88.0.", 0), 0u) << a.out;
  EXPECT_NE(sh(inNs("h", "ip addr show eth0")).out.find(ip + "/32"), std::string::npos);
  EXPECT_EQ(sh(inNode("ping -c1 -W2 " + ip + " >/dev/null")).rc, 0);
  EXPECT_EQ(plugin("CHECK", "ctrh", "h", withPrev(c, a.out)).rc, 0);
  EXPECT_EQ(plugin("DEL", "ctrh", "h", c).rc, 0);
  EXPECT_EQ(sh("ls " + dir_.file("hl") + "/net1 | grep -c 10.88 || true").out, "0\n");
}

TEST_F(CniIntegration, BrindleIpamAnswersAsAnIpamPlugin) {
  // The IPAM half on its own, called as another network plugin would delegate to it. (Debian's
  // ptp cannot use it: ptp deletes the subnet route the kernel adds for the address, and a /32,
  // which Calico's IPAM also returns, has none.)
  const std::string c = conf("0.3.1");
  const std::string confFile = dir_.write("ipam.json", c);
  auto run = [&](const std::string& cmd, const std::string& extra = "") {
    return sh("env CNI_COMMAND=" + cmd + " CNI_CONTAINERID=ctrp CNI_NETNS=/nonexistent " +
              "CNI_IFNAME=eth0 CNI_PATH=" + BRINDLE_CNI_DIR + " " + extra + " " + BRINDLE_CNI_DIR +
              "/brindle-ipam < " + confFile);
  };
  Cmd a = run("ADD");
  ASSERT_EQ(a.rc, 0) << a.out;
  Json r = Json::parse(a.out);
  EXPECT_EQ(r["cniVersion"], "0.3.1");
  EXPECT_EQ(r["ips"][0]["version"], "4");
  EXPECT_EQ(firstIp(a.out).rfind("10.77.", 0), 0u) << a.out;
  EXPECT_FALSE(r.contains("interfaces"));
  EXPECT_EQ(ipsInUse(), 1u);
  EXPECT_EQ(run("DEL").rc, 0);
  EXPECT_EQ(run("DEL").rc, 0);
  EXPECT_EQ(ipsInUse(), 0u);
}

}  // namespace
}  // namespace brindle::cni::testing
