// A "node" for CNI integration tests: a network namespace holding the cali veths (lo carries the
// node's address), a local store with an IPPool in a temp dir, and workload namespaces. Every
// namespace carries a prefix unique to this run and is deleted afterwards, also on failure.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "config/open_datastore.h"
#include "ipam/ipam.h"
#include "model/validate.h"
#include "resources/resource_store.h"
#include "testutil/temp_dir.h"

namespace brindle::cni::testing {

struct Cmd {
  int rc = -1;
  std::string out;
};

// Runs a shell command line and returns its exit status and stdout (stderr goes to ours).
inline Cmd sh(const std::string& line) {
  Cmd c;
  FILE* p = popen(line.c_str(), "r");
  if (!p) return c;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) c.out.append(buf, n);
  int st = pclose(p);
  c.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return c;
}

inline bool isRoot() { return geteuid() == 0; }

class NodeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!isRoot()) GTEST_SKIP() << "needs root (network namespaces)";
    static int counter = 0;
    prefix_ = "bcni" + std::to_string(getpid()) + "x" + std::to_string(counter++) + "-";
    node_ = ns("node");
    ASSERT_EQ(sh("ip netns add " + node_).rc, 0);
    ASSERT_EQ(sh(inNode("ip link set lo up && ip addr add " + nodeIp_ +
                        "/32 dev lo && "
                        "ip addr add " +
                        nodeIp6_ +
                        "/128 dev lo && sysctl -qw net.ipv4.ip_forward=1 && "
                        "sysctl -qw net.ipv6.conf.all.forwarding=1"))
                  .rc,
              0);
    config::DatastoreConfig cfg;
    cfg.storePath = dir_.file("store.db");
    auto client = config::openDatastore(cfg);
    ASSERT_TRUE(client) << client.message();
    client_ = std::move(*client);
    std::vector<model::Resource> pools;
    for (auto [name, cidr] : {std::pair{"pool1", poolCidr_}, {"pool6", poolCidr6_}}) {
      model::Resource pool;
      pool.kind = model::Kind::kIPPool;
      pool.metadata["name"] = name;
      pool.spec = {{"cidr", cidr}};
      model::applyDefaults(pool);
      ASSERT_TRUE(model::validateResource(pool));
      pools.push_back(pool);
    }
    resources::ResourceStore store(*client_);
    ASSERT_TRUE(store.write(resources::WriteMode::kApply, pools));
  }

  void TearDown() override {
    if (prefix_.empty()) return;
    // Our namespaces only: the prefix is unique to this process and test.
    Cmd list = sh("ip netns list | awk '{print $1}' | grep '^" + prefix_ + "' || true");
    size_t pos = 0;
    while (pos < list.out.size()) {
      size_t end = list.out.find('\n', pos);
      if (end == std::string::npos) end = list.out.size();
      std::string name = list.out.substr(pos, end - pos);
      if (!name.empty()) (void)sh("ip netns del " + name);
      pos = end + 1;
    }
  }

  std::string ns(const std::string& name) const { return prefix_ + name; }
  std::string nsPath(const std::string& name) const { return "/var/run/netns/" + ns(name); }
  std::string inNode(const std::string& cmd) const {
    return "ip netns exec " + node_ + " sh -c '" + cmd + "'";
  }
  std::string inNs(const std::string& name, const std::string& cmd) const {
    return "ip netns exec " + ns(name) + " sh -c '" + cmd + "'";
  }

  std::string conf(const std::string& version = "1.0.0", const std::string& extra = "") const {
    return R"({"cniVersion":")" + version + R"(","name":"net1","type":"brindle-cni",)" +
           R"("nodename":"node1","mtu":1450,"store_path":")" + dir_.file("store.db") + "\"" +
           extra + "}";
  }

  // Runs the plugin as a runtime does: CNI_* env, config on stdin, inside the node namespace.
  Cmd plugin(const std::string& command, const std::string& id, const std::string& workload,
             const std::string& config, const std::string& ifName = "eth0",
             const std::string& extraEnv = "") const {
    const std::string confFile = dir_.write("conf-" + id + ".json", config);
    return sh("ip netns exec " + node_ + " env CNI_COMMAND=" + command + " CNI_CONTAINERID=" + id +
              " CNI_NETNS=" + (workload.empty() ? "" : nsPath(workload)) + " CNI_IFNAME=" + ifName +
              " CNI_PATH=" + BRINDLE_CNI_DIR + ":/usr/lib/cni " + extraEnv + " " + BRINDLE_CNI_DIR +
              "/brindle-cni < " + confFile);
  }

  // The first IPv4 address in an ADD result.
  static std::string firstIp(const std::string& result) {
    auto j = nlohmann::json::parse(result);
    std::string a = j["ips"][0]["address"];
    return a.substr(0, a.find('/'));
  }

  // Config with the ADD result as prevResult (for CHECK).
  std::string withPrev(const std::string& config, const std::string& result) const {
    auto j = nlohmann::json::parse(config);
    j["prevResult"] = nlohmann::json::parse(result);
    return j.dump();
  }

  uint64_t ipsInUse() {
    auto usage = ipam::makeIpam(*client_)->usage();
    EXPECT_TRUE(usage) << usage.message();
    uint64_t n = 0;
    if (usage) {
      for (const auto& p : *usage) n += p.inUse;
    }
    return n;
  }

  size_t endpointCount() {
    resources::ResourceStore store(*client_);
    auto l = store.list(model::Kind::kWorkloadEndpoint);
    EXPECT_TRUE(l) << l.message();
    return l ? l->size() : 0;
  }

  testutil::TempDir dir_;
  std::string prefix_;
  std::string node_;
  std::string nodeIp_ = "10.99.0.1";
  std::string nodeIp6_ = "fd00:99::1";
  std::string poolCidr_ = "10.77.0.0/16";
  std::string poolCidr6_ = "fd80:24e2:f998:72d6::/64";  // S6's default IPv6 pool
  datastore::ClientPtr client_;
};

}  // namespace brindle::cni::testing
