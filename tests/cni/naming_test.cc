// Workload naming: SHA-1, host veth names, endpoint names, handles.
#include "cni/naming.h"

#include <gtest/gtest.h>

namespace brindle::cni {
namespace {

TEST(Sha1, KnownVectors) {
  EXPECT_EQ(sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(sha1Hex(std::string(1000, 'a')).size(), 40u);
}

CniEnv env(const std::string& args = "") {
  CniEnv e;
  e.command = "ADD";
  e.containerId = "c0ffee";
  e.ifName = "eth0";
  if (!args.empty()) {
    e.args = {{"K8S_POD_NAMESPACE", "prod"}, {"K8S_POD_NAME", args}};
  }
  return e;
}

TEST(Naming, CniWorkloadsAreNamedByContainerId) {
  auto ids = workloadIds(env(), "node-1");
  EXPECT_EQ(ids.orchestrator, "cni");
  EXPECT_EQ(ids.ns, "default");
  EXPECT_EQ(ids.workload, "c0ffee");
  EXPECT_EQ(hostVethName(ids), "cali" + sha1Hex("c0ffee").substr(0, 11));
  EXPECT_EQ(hostVethName(ids).size(), 15u);
  EXPECT_EQ(endpointName(ids), "node--1-cni-c0ffee-eth0");
}

TEST(Naming, KubernetesPodsHashNamespaceDotPod) {
  auto ids = workloadIds(env("web-0"), "n1");
  EXPECT_EQ(ids.orchestrator, "k8s");
  EXPECT_EQ(ids.ns, "prod");
  EXPECT_EQ(ids.pod, "web-0");
  // Calico's own name for this pod: cali + sha1("prod.web-0")[:11].
  EXPECT_EQ(hostVethName(ids), "cali" + sha1Hex("prod.web-0").substr(0, 11));
  EXPECT_EQ(endpointName(ids), "n1-k8s-web--0-eth0");
}

TEST(Naming, DistinctWorkloadsGetDistinctNames) {
  std::set<std::string> names;
  for (int i = 0; i < 2000; ++i) {
    auto e = env();
    e.containerId = "ctr" + std::to_string(i);
    names.insert(hostVethName(workloadIds(e, "n")));
  }
  EXPECT_EQ(names.size(), 2000u);
}

TEST(Naming, HandleIsNetworkDotContainer) { EXPECT_EQ(ipamHandle("net", "c1"), "net.c1"); }

}  // namespace
}  // namespace brindle::cni
