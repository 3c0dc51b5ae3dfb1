// brindlectl node run / node stop on a node made of namespaces (root): a node namespace with two
// uplinks (veths to a peer namespace) in different subnets. Autodetection picks the right one per
// method; a second run changes nothing; stop keeps an established flow working; stop --remove
// leaves nothing behind; an agent that never gets ready times out and is gone; an address
// another Node has is refused. The agent runs the dataplane backend BRINDLE_TEST_DATAPLANE names
// (ctest registers the tests that check its rules on both).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "bgp/traffic.h"
#include "node/agent_process.h"
#include "node/autodetect.h"
#include "os/netns.h"
#include "testutil/dataplane_view.h"
#include "testutil/shell.h"
#include "testutil/temp_dir.h"

namespace brindle::node {
namespace {

using testutil::must;
using testutil::sh;

class NodeRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    try {
      for (const auto& n : {node_, peer_}) {
        must("ip netns add " + n);
        must("ip -n " + n + " link set lo up");
      }
      // uplink0 10.81.1.5/24 and uplink1 10.82.2.5/24; the peer is .1 on each.
      for (int i : {0, 1}) {
        const std::string u = "uplink" + std::to_string(i), p = "peer" + std::to_string(i);
        const std::string net = "10.8" + std::to_string(i + 1) + "." + std::to_string(i + 1);
        must("ip -n " + node_ + " link add " + u + " type veth peer name " + p + " netns " + peer_);
        must("ip -n " + node_ + " addr add " + net + ".5/24 dev " + u);
        must("ip -n " + peer_ + " addr add " + net + ".1/24 dev " + p);
        must("ip -n " + node_ + " link set " + u + " up");
        must("ip -n " + peer_ + " link set " + p + " up");
      }
      // A destination only uplink0 leads to (can-reach=).
      must("ip -n " + node_ + " route add 10.99.0.0/24 via 10.81.1.1 dev uplink0");
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
  }

  void TearDown() override {
    if (::geteuid() != 0) return;
    // Whatever a failed test left running: the agent by its pid file, BIRD (and the fake agent)
    // by the test directory on their command lines.
    long agent = 0;
    if (std::ifstream(runDir() + "/n1/agent.pid") >> agent && agent > 0) {
      ::kill(static_cast<pid_t>(agent), SIGKILL);
    }
    // Again while a pass found one: an agent killed mid-fork can still exec a BIRD.
    for (int pass = 0, found = 1; pass < 20 && found > 0; ++pass) {
      found = 0;
      for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        std::string cmdline;
        std::getline(std::ifstream(e.path() / "cmdline"), cmdline);
        const std::string name = e.path().filename().string();
        if (cmdline.find(dir_.path()) != std::string::npos && std::isdigit(name[0])) {
          found += ::kill(static_cast<pid_t>(std::stol(name)), SIGKILL) == 0;
        }
      }
      if (found > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    testutil::deleteNamespaces(prefix_);
  }

  std::string runDir() const { return dir_.file("run"); }

  // The datastore from the environment, or with `useConfigFile_` from a --config file while the
  // environment names a store that cannot exist (so whatever reads the environment fails).
  testutil::ShellResult ctl(const std::string& args) {
    if (!useConfigFile_) {
      return sh("ip netns exec " + node_ + " env " + backendEnv() +
                " DATASTORE_TYPE=local BRINDLE_STORE_PATH=" + dir_.file("store.db") + " " +
                BRINDLECTL_BINARY + " " + args);
    }
    const std::string config =
        dir_.write("brindlectl.cfg",
                   "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n"
                   "  datastoreType: local\n  storePath: " +
                       dir_.file("store.db") + "\n");
    return sh("ip netns exec " + node_ + " env " + backendEnv() +
              " DATASTORE_TYPE=local BRINDLE_STORE_PATH=/nonexistent/brindle/store.db " +
              BRINDLECTL_BINARY + " -c " + config + " " + args);
  }

  testutil::ShellResult run(const std::string& args) {
    return ctl("node run --name n1 --run-dir " + runDir() + " --log-dir " + dir_.file("log") +
               " --agent " + BRINDLE_AGENT_BINARY + " --timeout 30 " + args);
  }
  testutil::ShellResult stop(const std::string& args = "") {
    return ctl("node stop --name n1 --run-dir " + runDir() + " --agent " + BRINDLE_AGENT_BINARY +
               " " + args);
  }

  // The agent inherits node run's environment: this selects its dataplane backend.
  std::string backendEnv() const { return testutil::nftablesModeEnv(dataplane_.dataplane()); }

  long agentPid() {
    std::ifstream in(runDir() + "/n1/agent.pid");
    long pid = 0;
    in >> pid;
    return pid;
  }

  std::string nodeVersion() {
    std::smatch m;
    const std::string out = ctl("get node n1 -o yaml").out;
    return std::regex_search(out, m, std::regex("resourceVersion: \"?([0-9]+)")) ? m[1].str() : "";
  }

  bool useConfigFile_ = false;
  std::string prefix_ = "nrt" + std::to_string(::getpid() % 100000) + "-";
  std::string node_ = prefix_ + "node";
  std::string peer_ = prefix_ + "peer";
  testutil::DataplaneView dataplane_{node_, testutil::testDataplane()};
  testutil::TempDir dir_;
};

// The methods on the namespace's real interfaces and the kernel's own route lookup.
TEST_F(NodeRunTest, EachAutodetectionMethodPicksTheRightUplink) {
  auto detect = [&](const std::string& method) {
    std::string picked;
    Status s = os::runInNetns(node_, [&]() -> Status {
      auto m = parseAutodetectMethod(method, "--ip-autodetection-method");
      if (!m) return m.error();
      auto ifaces = listHostInterfaces();
      if (!ifaces) return ifaces.error();
      auto d = pickAddress(*m, 4, *ifaces, kernelSourceAddress);
      if (!d) return d.error();
      picked = d->interface + " " + d->address.text();
      return Status::ok();
    });
    return s ? picked : "error: " + s.message();
  };
  EXPECT_EQ(detect("first-found"), "uplink1 10.82.2.5/24");  // the last listed first, as Calico
  EXPECT_EQ(detect("interface=uplink0"), "uplink0 10.81.1.5/24");
  EXPECT_EQ(detect("skip-interface=uplink1"), "uplink0 10.81.1.5/24");
  EXPECT_EQ(detect("can-reach=10.99.0.7"), "uplink0 10.81.1.5/24");
  EXPECT_EQ(detect("can-reach=10.82.2.1"), "uplink1 10.82.2.5/24");
  EXPECT_EQ(detect("cidr=10.81.0.0/16"), "uplink0 10.81.1.5/24");

  // And through node run: the pick, its interface and the reason are printed.
  auto r =
      run("--backend none --no-default-ippools --ip autodetect "
          "--ip-autodetection-method can-reach=10.99.0.7");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("Autodetected IPv4 address 10.81.1.5/24 on interface uplink0"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("why: can-reach=10.99.0.7: the kernel routes to 10.99.0.7 from 10.81.1.5 "
                       "(on uplink0); passed over: uplink1 10.82.2.5/24"),
            std::string::npos)
      << r.out;
  EXPECT_NE(ctl("get node n1 -o yaml").out.find("ipv4Address: 10.81.1.5/24"), std::string::npos);
  EXPECT_EQ(stop("--remove").code, 0);
}

// Also: with --config, the agent (and its --bgp-teardown/--cleanup) get the same file.
TEST_F(NodeRunTest, SecondRunChangesNothingAndRemoveLeavesNothing) {
  useConfigFile_ = true;
  auto first = run("--ip 10.81.1.5/24");
  ASSERT_EQ(first.code, 0) << first.out;
  // No pool yet: Calico's IPv4 default (no IPv6 pool: the node has no IPv6 address).
  const std::string pools = ctl("get ippools -o yaml").out;
  EXPECT_NE(pools.find("name: default-ipv4-ippool"), std::string::npos) << pools;
  EXPECT_NE(pools.find("cidr: 192.168.0.0/16"), std::string::npos) << pools;
  EXPECT_NE(pools.find("natOutgoing: true"), std::string::npos) << pools;
  EXPECT_NE(pools.find("ipipMode: Never"), std::string::npos) << pools;
  EXPECT_EQ(pools.find("ipv6"), std::string::npos) << pools;
  EXPECT_NE(first.out.find("Brindle node started successfully"), std::string::npos) << first.out;
  // In a namespace of its own the conntrack limit is the host's: said, not failed.
  EXPECT_NE(first.out.find("nf_conntrack_max"), std::string::npos) << first.out;
  const long pid = agentPid();
  const std::string version = nodeVersion();
  ASSERT_GT(pid, 0);
  ASSERT_FALSE(version.empty());
  long birdPid = 0;
  std::ifstream(runDir() + "/n1/bird.pid") >> birdPid;
  ASSERT_GT(birdPid, 0);
  EXPECT_NE(ctl("node status --node n1 --run-dir " + runDir()).out.find("Brindle agent is ready"),
            std::string::npos);

  auto second = run("--ip 10.82.2.5/24 --as 64999");  // would change the Node if it ran
  EXPECT_EQ(second.code, 0) << second.out;
  EXPECT_NE(second.out.find("Brindle node n1 is already running (pid " + std::to_string(pid) + ")"),
            std::string::npos)
      << second.out;
  EXPECT_EQ(agentPid(), pid);
  EXPECT_EQ(nodeVersion(), version);
  EXPECT_TRUE(dataplane_.programmed()) << testutil::dataplaneName(dataplane_.dataplane());
  EXPECT_EQ(dataplane_.otherBackendLeftovers(), "");

  auto removed = stop("--remove");
  ASSERT_EQ(removed.code, 0) << removed.out;
  // Nothing of ours in either backend.
  EXPECT_EQ(sh("ip netns exec " + node_ + " iptables-save").out.find("cali"), std::string::npos);
  EXPECT_EQ(sh("ip netns exec " + node_ + " ipset list -n").out.find("cali"), std::string::npos);
  EXPECT_NE(sh("ip netns exec " + node_ + " nft list table inet calico").code, 0);
  EXPECT_FALSE(std::filesystem::exists(runDir() + "/n1"));
  EXPECT_NE(ctl("get node n1").code, 0);
  EXPECT_FALSE(processAlive(static_cast<pid_t>(pid)));
  EXPECT_FALSE(processAlive(static_cast<pid_t>(birdPid)));
}

TEST_F(NodeRunTest, StopKeepsAnEstablishedFlowWorking) {
  const std::string wl = prefix_ + "wl";
  const std::string resources =
      dir_.write("resources.yaml",
                 "kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata: {name: pool}\n"
                 "spec: {cidr: 10.83.0.0/24, ipipMode: Never}\n---\n"
                 "kind: Profile\napiVersion: projectcalico.org/v3\nmetadata: {name: net1}\n"
                 "spec: {ingress: [{action: Allow}], egress: [{action: Allow}]}\n");
  ASSERT_EQ(ctl("apply -f " + resources).code, 0);
  auto started = run("--ip 10.81.1.5/24");
  ASSERT_EQ(started.code, 0) << started.out;

  // A workload added by brindle-cni, as a runtime would; the peer routes the pool to the node.
  must("ip netns add " + wl);
  const std::string conf = dir_.write(
      "cni.json", R"({"cniVersion":"1.0.0","name":"net1","type":"brindle-cni","nodename":"n1",)"
                  R"("store_path":")" +
                      dir_.file("store.db") + R"(","ipam":{"type":"brindle-ipam"}})");
  auto added = sh("ip netns exec " + node_ + " env CNI_COMMAND=ADD CNI_CONTAINERID=c1 CNI_NETNS=" +
                  "/var/run/netns/" + wl + " CNI_IFNAME=eth0 CNI_PATH=" + BRINDLE_CNI_DIR + " " +
                  BRINDLE_CNI_DIR + "/brindle-cni < " + conf);
  ASSERT_EQ(added.code, 0) << added.out;
  must("ip -n " + peer_ + " route add 10.83.0.0/24 via 10.81.1.5");

  testutil::Traffic traffic(wl, peer_, "10.81.1.1", 7301);
  bool flowing = false;  // the agent programs the workload's route and rules
  for (int i = 0; i < 100 && !flowing; ++i) {
    flowing = sh("ip netns exec " + wl + " ping -c1 -W1 10.81.1.1").code == 0;
  }
  ASSERT_TRUE(flowing);
  // BIRD's routes (the workload block's blackhole) must outlive it.
  auto birdRoutes = [&] { return sh("ip -n " + node_ + " route show proto bird").out; };
  for (int i = 0; i < 100 && birdRoutes().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string routes = birdRoutes();
  EXPECT_NE(routes.find("blackhole 10.83.0."), std::string::npos) << routes;
  ASSERT_TRUE(traffic.start());

  auto stopped = stop();
  ASSERT_EQ(stopped.code, 0) << stopped.out;
  EXPECT_NE(stopped.out.find("Stopped bird"), std::string::npos) << stopped.out;
  EXPECT_FALSE(std::filesystem::exists(runDir() + "/n1/agent.pid"));
  // The rules stay (in the backend in use) and keep the flow going.
  EXPECT_TRUE(dataplane_.programmed()) << testutil::dataplaneName(dataplane_.dataplane());
  EXPECT_EQ(dataplane_.otherBackendLeftovers(), "");
  EXPECT_EQ(birdRoutes(), routes);
  // A second of traffic with no agent and no BIRD: the measurement window, not a wait.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const auto report = traffic.stop();
  EXPECT_EQ(report.streamError, "");
  EXPECT_EQ(report.failed, 0) << (report.failures.empty() ? "" : report.failures[0]);
  EXPECT_GT(report.streamReceived, 0);
  EXPECT_LT(report.maxStreamGapMs, 1000);
  EXPECT_EQ(stop("--remove").code, 0);
}

TEST_F(NodeRunTest, AnAgentThatNeverGetsReadyTimesOutAndIsStopped) {
  const std::string fake = dir_.write("fake-agent.sh",
                                      "#!/bin/sh\necho fake agent starting\n"
                                      "while :; do sleep 0.1; done\n");
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  auto r = ctl("node run --name n1 --run-dir " + runDir() + " --log-dir " + dir_.file("log") +
               " --agent " + fake + " --timeout 2 --ip 10.81.1.5/24 --no-default-ippools");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("the agent was not ready after 2s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fake agent starting"), std::string::npos) << r.out;  // the log's tail
  EXPECT_FALSE(std::filesystem::exists(runDir() + "/n1/agent.pid"));
  // Any process of it but a zombie (this machine's init may not reap); the pattern does not
  // match the shell that runs the check.
  EXPECT_EQ(sh("ps -eo stat=,args= | grep -v '^Z' | grep -c 'fake-agent[.]sh'").out, "0\n");
}

TEST_F(NodeRunTest, RefusesAnAddressAnotherNodeHas) {
  const std::string other =
      dir_.write("other.yaml",
                 "kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: other}\n"
                 "spec: {bgp: {ipv4Address: 10.81.1.5/16}}\n");
  ASSERT_EQ(ctl("apply -f " + other).code, 0);
  auto r = run("--ip 10.81.1.5/24 --no-default-ippools");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("address 10.81.1.5 is already used by node other"), std::string::npos)
      << r.out;
  EXPECT_NE(ctl("get node n1").code, 0);  // nothing written
  EXPECT_FALSE(std::filesystem::exists(runDir() + "/n1/agent.pid"));
}

}  // namespace
}  // namespace brindle::node
