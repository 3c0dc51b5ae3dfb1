// Nodes as network namespaces on one L2 segment (a bridge in its own namespace), each with a real
// BIRD under Brindle's Supervisor and a workload added by brindle-cni (which takes an IPAM block
// affine to the node). Shared by the BGP end-to-end tests; everything is removed again, also on
// failure.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "bgp/e2e_steps.h"
#include "bgp/supervisor.h"
#include "cli/app.h"
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

class BgpMeshE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto client = datastore::openLocalStore(dir_.file("store.db"));
    ASSERT_TRUE(client.isOk()) << client.message();
    client_ = std::move(*client);
    try {
      must("ip netns add " + ns("br"));
      must("ip -n " + ns("br") + " link add br0 type bridge");
      must("ip -n " + ns("br") + " link set br0 up");
      if (tor_) must("ip netns exec " + ns("br") + " sysctl -qw net.ipv4.ip_forward=1");
      std::string yaml =
          "kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata: {name: pool}\n"
          "spec: {cidr: 10.66.0.0/16}\n---\n"
          "kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata: {name: pool6}\n"
          "spec: {cidr: \"fd66::/112\"}\n---\n";
      for (int i = 1; i <= nodes_; ++i) {
        addNode(i);
        const bool rr = reflectors_.count(i) > 0;
        yaml += "kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: " + node(i) +
                (rr ? ", labels: {rr: 'yes'}" : "") + "}\nspec: {bgp: {ipv4Address: " + nodeIp(i) +
                "/24" + (rr ? ", routeReflectorClusterID: 1.0.0.1" : "") +
                (tor_ ? ", asNumber: " + std::to_string(64600 + i) : "") +
                (dualStack_ ? ", ipv6Address: \"fd88::" + std::to_string(i) + "/64\"" : "") +
                "}}\n---\n";
      }
      if (tor_) {  // Done-means 4: eBGP to the ToR, one AS per node, no mesh
        yaml +=
            "kind: BGPConfiguration\napiVersion: projectcalico.org/v3\nmetadata: {name: default}\n"
            "spec: {nodeToNodeMeshEnabled: false}\n---\n";
        for (int i = 1; i <= nodes_; ++i) {
          yaml += "kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: {name: tor-" +
                  std::to_string(i) + "}\nspec: {node: " + node(i) + ", peerIP: " + via(i, 0) +
                  ", asNumber: 65001}\n---\n";
        }
      }
      if (fastHold_) {  // explicit peerings between the nodes, keepalive 1 s (hold 3 s)
        yaml +=
            "kind: BGPConfiguration\napiVersion: projectcalico.org/v3\nmetadata: {name: default}\n"
            "spec: {nodeToNodeMeshEnabled: false}\n---\n";
        for (int i = 1; i <= nodes_; ++i) {
          yaml += "kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: {name: peer-" +
                  std::to_string(i) + "}\nspec: {node: " + node(i) +
                  ", peerIP: " + nodeIp(i == 1 ? 2 : 1) +
                  ", asNumber: 64512, keepaliveTime: 1s}\n---\n";
        }
      }
      if (!reflectors_.empty()) {  // Done-means 2's topology: mesh off, RRs by peerSelector
        yaml +=
            "kind: BGPConfiguration\napiVersion: projectcalico.org/v3\nmetadata: {name: default}\n"
            "spec: {nodeToNodeMeshEnabled: false}\n---\n"
            "kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: {name: to-rr}\n"
            "spec: {peerSelector: has(rr)}\n---\n";
      }
      auto decoded = model::decodeResources(yaml, "cluster");
      ASSERT_TRUE(decoded.isOk()) << decoded.message();
      resources::ResourceStore store(*client_);
      ASSERT_TRUE(store.write(resources::WriteMode::kCreate, decoded->resources).isOk());
      for (int i = 1; i <= nodes_; ++i) {
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
    for (int i = 1; i <= nodes_; ++i) {  // BIRDs a failed teardown may have left
      std::ifstream in(dir_.file("run") + "/" + node(i) + "/bird.pid");
      pid_t pid = 0;
      if (in >> pid && pid > 0) ::kill(pid, SIGKILL);
    }
    testutil::killAndReap(server_);
    testutil::killAndReap(torBird_);
    testutil::deleteNamespaces(prefix_);
  }

  std::string ns(const std::string& name) const {
    return name.rfind(prefix_, 0) == 0 ? name : prefix_ + name;
  }
  std::string node(int i) const { return prefix_ + "n" + std::to_string(i); }
  // On the bridge: 10.88.0.<i>/24. Behind the ToR: 10.91.<i>.1/24, the ToR at 10.91.<i>.254.
  std::string nodeIp(int i) const {
    return tor_ ? "10.91." + std::to_string(i) + ".1" : "10.88.0." + std::to_string(i);
  }
  // Where node i's kernel sends node j's block.
  std::string via(int i, int j) const {
    return tor_ ? "10.91." + std::to_string(i) + ".254" : nodeIp(j);
  }
  std::string block(int i) const { return blocks_.at(i); }
  std::string workloadIp(int i) const { return ips_.at(i); }
  std::string workload(int i) const { return prefix_ + "w" + std::to_string(i); }

  // A node: eth0 on the shared bridge, forwarding on, a workload behind cali<i>.
  void addNode(int i) {
    const std::string n = node(i);
    const std::string br = ns("br");
    const std::string p = "p" + std::to_string(i);
    must("ip netns add " + n);
    must("ip -n " + n + " link set lo up");
    must("ip -n " + br + " link add " + p + " type veth peer name eth0 netns " + n);
    if (tor_) {  // the "br" namespace is the ToR: a router with one subnet per node
      must("ip -n " + br + " addr add 10.91." + std::to_string(i) + ".254/24 dev " + p);
      must("ip -n " + br + " link set " + p + " up");
    } else {
      must("ip -n " + br + " link set " + p + " master br0 up");
    }
    must("ip -n " + n + " addr add " + nodeIp(i) + "/24 dev eth0");
    must("ip -n " + n + " link set eth0 up");
    if (tor_) must("ip -n " + n + " route add default via " + via(i, 0));
    must("ip netns exec " + n + " sysctl -qw net.ipv4.ip_forward=1");
    if (dualStack_) {
      must("ip -n " + n + " addr add fd88::" + std::to_string(i) + "/64 dev eth0 nodad");
      must("ip netns exec " + n + " sysctl -qw net.ipv6.conf.all.forwarding=1");
    }
  }

  // A workload on node i, added by brindle-cni as a runtime would (CNI_* environment, network
  // config on stdin, run in the node's namespace); its address comes from IPAM.
  void addWorkload(int i) {
    must("ip netns add " + workload(i));
    const std::string conf =
        dir_.write("cni" + std::to_string(i) + ".json",
                   R"({"cniVersion":"1.0.0","name":"net1","type":"brindle-cni","nodename":")" +
                       node(i) + R"(","store_path":")" + dir_.file("store.db") +
                       R"(","ipam":{"type":"brindle-ipam","assign_ipv6":")" +
                       (dualStack_ ? "true" : "false") + R"("}})");
    const std::string out = cniAdd(node(i), workload(i), "c" + std::to_string(i), conf);
    std::smatch m;
    if (!std::regex_search(out, m, std::regex(R"("address":\s*"([0-9.]+)/)"))) {
      throw std::runtime_error("no IPv4 address from brindle-cni on " + node(i) + ": " + out);
    }
    ips_[i] = m[1].str();
    blocks_[i] = ipam::blockOf(*IpAddr::parse(ips_[i]), 26).toString();
    if (dualStack_) {
      if (!std::regex_search(out, m, std::regex(R"("address":\s*"([0-9a-f:]+:[0-9a-f:]*)/)"))) {
        throw std::runtime_error("no IPv6 address from brindle-cni on " + node(i) + ": " + out);
      }
      ips6_[i] = m[1].str();
      blocks6_[i] = ipam::blockOf(*IpAddr::parse(ips6_[i]), 122).toString();
    }
  }

  // Steps every supervisor until `done` holds or the time is up.
  bool converge(const std::function<bool()>& done, std::chrono::seconds limit) {
    return stepUntil(supervisors_, done, limit);
  }

  std::string birdRoutes(int i) { return sh("ip -n " + node(i) + " route show proto bird").out; }

  bool everyNodeHasTheOthersBlocks() {
    for (int i = 1; i <= nodes_; ++i) {
      const std::string routes = birdRoutes(i);
      for (int j = 1; j <= nodes_; ++j) {
        if (i == j) continue;
        if (routes.find(block(j) + " via " + via(i, j)) == std::string::npos) return false;
      }
    }
    return true;
  }

  // brindlectl node status for node i.
  std::string nodeStatus(int i) {
    std::istringstream in;
    std::ostringstream out, err;
    cli::Io io{in, out, err, {}};
    cli::runBrindlectl({"node", "status", "--node", node(i), "--run-dir", dir_.file("run")}, io);
    return out.str() + err.str();
  }
  static int count(const std::string& text, const std::string& what) {
    int n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }

  std::string prefix_ = "bgm" + std::to_string(::getpid() % 100000) + "-";
  testutil::TempDir dir_;
  datastore::ClientPtr client_;
  std::vector<std::unique_ptr<Supervisor>> supervisors_;
  pid_t server_ = -1;
  std::map<int, std::string> ips_, blocks_;  // per node: its workload's address and block
  std::map<int, std::string> ips6_, blocks6_;
  bool dualStack_ = false;
  int nodes_ = 3;
  bool tor_ = false;
  bool fastHold_ = false;     // two nodes peering explicitly with a 3 s hold time
  pid_t torBird_ = -1;        // nodes in their own subnets behind a BIRD ToR (AS 65001) instead
  std::set<int> reflectors_;  // nodes that are route reflectors (cluster 1.0.0.1)
};

}  // namespace
}  // namespace brindle::bgp
