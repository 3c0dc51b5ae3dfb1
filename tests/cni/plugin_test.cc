// ADD/DEL/CHECK over fakes: what a successful ADD leaves, that every failure point of ADD undoes
// all earlier steps, and that DEL is idempotent.
#include "cni/plugin.h"

#include <gtest/gtest.h>

#include "cni/fakes.h"  // tests/cni/fakes.h

namespace brindle::cni {
namespace {

using testing::FakeDataplane;
using testing::FakeEndpoints;
using testing::FakeIpam;

class PluginTest : public ::testing::Test {
 protected:
  PluginTest() : plugin_(PluginDeps{dp_, ipam_, eps_, nullptr}) {
    CniError e;
    conf_ = parseNetConf(R"({"cniVersion":"1.0.0","name":"net1","type":"brindle-cni",
                              "runtimeConfig":{"labels":{"app":"web"}}})",
                         &e)
                .value();
    env_.command = "ADD";
    env_.containerId = "ctr1";
    env_.netns = "/var/run/netns/w1";
    env_.ifName = "eth0";
    env_.args = {{"label.tier", "front"}};
  }

  bool empty() const { return dp_.pairs.empty() && ipam_.handles.empty() && eps_.items.empty(); }

  FakeDataplane dp_;
  FakeIpam ipam_;
  FakeEndpoints eps_;
  Plugin plugin_;
  NetConf conf_;
  CniEnv env_;
};

TEST_F(PluginTest, AddWiresEverythingAndWritesTheEndpoint) {
  CniResult r;
  auto err = plugin_.add(conf_, env_, "node1", &r);
  ASSERT_FALSE(err) << err->msg << " " << err->details;
  const std::string host = hostVethName(workloadIds(env_, "node1"));
  ASSERT_EQ(dp_.pairs.count(host), 1u);
  EXPECT_TRUE(dp_.pairs[host].hostConfigured);
  EXPECT_EQ(dp_.pairs[host].hostRoutes, std::set<std::string>{"10.0.0.1"});
  ASSERT_EQ(eps_.items.size(), 1u);
  const auto& wep = eps_.items.begin()->second;
  EXPECT_EQ(wep.name(), "node1-cni-ctr1-eth0");
  EXPECT_EQ(wep.ns(), "default");
  EXPECT_EQ(wep.spec["interfaceName"], host);
  EXPECT_EQ(wep.spec["ipNetworks"][0], "10.0.0.1/32");
  EXPECT_EQ(wep.spec["orchestrator"], "cni");
  EXPECT_EQ(wep.spec["profiles"][0], "net1");
  EXPECT_EQ(wep.metadata["labels"]["app"], "web");
  EXPECT_EQ(wep.metadata["labels"]["tier"], "front");
  EXPECT_EQ(wep.metadata["labels"]["projectcalico.org/orchestrator"], "cni");
  EXPECT_EQ(ipam_.handles.count("net1.ctr1"), 1u);
  ASSERT_EQ(r.interfaces.size(), 2u);
  EXPECT_EQ(r.interfaces[0].mac, kHostMac);
  EXPECT_EQ(r.interfaces[1].sandbox, env_.netns);
  EXPECT_EQ(r.ips[0].interfaceIndex, 1);

  // CHECK passes on the ADD result, then fails once a piece is gone.
  conf_.prevResult = resultToJson(r, "1.0.0");
  auto chk = plugin_.check(conf_, env_, "node1");
  EXPECT_FALSE(chk) << chk->msg;
  dp_.pairs[host].hostRoutes.clear();
  chk = plugin_.check(conf_, env_, "node1");
  ASSERT_TRUE(chk);
  EXPECT_NE(chk->msg.find("host route"), std::string::npos) << chk->msg;
}

TEST_F(PluginTest, EveryFailurePointOfAddLeavesNothingBehind) {
  for (auto [target, op] :
       std::vector<std::pair<std::string, std::string>>{{"ipam", "assign"},
                                                        {"dp", "createVeth"},
                                                        {"dp", "configureHostSide"},
                                                        {"dp", "configureContainerSide"},
                                                        {"dp", "addHostRoute"},
                                                        {"eps", "put"}}) {
    if (target == "ipam") ipam_.failures.arm(op);
    if (target == "dp") dp_.failures.arm(op);
    if (target == "eps") eps_.failures.arm(op);
    CniResult r;
    auto err = plugin_.add(conf_, env_, "node1", &r);
    ASSERT_TRUE(err) << op;
    EXPECT_NE(err->details.find("injected failure in " + op), std::string::npos) << err->details;
    EXPECT_TRUE(empty()) << "leftovers after a failure in " << op;
  }
}

TEST_F(PluginTest, UndoGoesOnWhenOneStepFailsAndReportsIt) {
  eps_.failures.arm("put");
  dp_.failures.arm("deleteHostLink");  // the pre-ADD cleanup takes this one...
  dp_.failures.arm("release");         // (not an op of dp: stays armed, harmless)
  ipam_.failures.arm("release");
  CniResult r;
  auto err = plugin_.add(conf_, env_, "node1", &r);
  ASSERT_TRUE(err);
  // ...so undo deleted the veth, but release failed: the error says so.
  EXPECT_TRUE(dp_.pairs.empty());
  EXPECT_NE(err->details.find("undo failed: release net1.ctr1"), std::string::npos) << err->details;
  EXPECT_EQ(ipam_.handles.size(), 1u);
}

TEST_F(PluginTest, MissingNamespaceIsUnknownContainer) {
  env_.netns = "/var/run/netns/gone";
  CniResult r;
  auto err = plugin_.add(conf_, env_, "node1", &r);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, ErrCode::kUnknownContainer);
  EXPECT_TRUE(empty());
}

TEST_F(PluginTest, InvalidEndpointFailsBeforeTouchingAnything) {
  CniResult r;
  auto err = plugin_.add(conf_, env_, "Bad_Node", &r);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, ErrCode::kInvalidConfig);
  EXPECT_TRUE(ipam_.failures.calls.empty());
  EXPECT_TRUE(dp_.failures.calls.empty());
}

TEST_F(PluginTest, DelIsIdempotent) {
  CniResult r;
  ASSERT_FALSE(plugin_.add(conf_, env_, "node1", &r));
  EXPECT_FALSE(plugin_.del(conf_, env_, "node1"));
  EXPECT_TRUE(empty());
  EXPECT_FALSE(plugin_.del(conf_, env_, "node1"));
  env_.netns = "";
  EXPECT_FALSE(plugin_.del(conf_, env_, "node1"));
}

TEST_F(PluginTest, DelAfterHalfDoneAddCleansWhatExists) {
  // As if the plugin was killed after the veth: allocation + veth, no endpoint.
  ipam_.handles["net1.ctr1"] = {IpAddr::parse("10.0.0.9").value()};
  FakeDataplane::Pair half;
  half.netns = env_.netns;
  half.ifName = "eth0";
  dp_.pairs[hostVethName(workloadIds(env_, "node1"))] = half;
  EXPECT_FALSE(plugin_.del(conf_, env_, "node1"));
  EXPECT_TRUE(empty());
}

TEST_F(PluginTest, DelLeavesAnotherSandboxsEndpointAlone) {
  CniResult r;
  ASSERT_FALSE(plugin_.add(conf_, env_, "node1", &r));
  eps_.items.begin()->second.spec["containerID"] = "newer";
  EXPECT_FALSE(plugin_.del(conf_, env_, "node1"));
  EXPECT_EQ(eps_.items.size(), 1u);
}

TEST_F(PluginTest, DelRemovesItsOwnEndpointWhoseStoredValueIsUnreadable) {
  CniResult r;
  ASSERT_FALSE(plugin_.add(conf_, env_, "node1", &r));
  // Another tool overwrote the endpoint with something that is not a resource: nobody can own
  // it, and a DEL that refused would be retried by the runtime forever.
  eps_.corrupt.insert(eps_.items.begin()->first);
  eps_.items.clear();
  EXPECT_FALSE(plugin_.del(conf_, env_, "node1"));
  EXPECT_TRUE(eps_.corrupt.empty());
  EXPECT_TRUE(empty());
}

TEST_F(PluginTest, DelReportsADatastoreFailureButStillCleansTheRest) {
  CniResult r;
  ASSERT_FALSE(plugin_.add(conf_, env_, "node1", &r));
  eps_.failures.arm("remove");
  auto err = plugin_.del(conf_, env_, "node1");
  ASSERT_TRUE(err);
  EXPECT_TRUE(dp_.pairs.empty());
  EXPECT_TRUE(ipam_.handles.empty());
  EXPECT_FALSE(plugin_.del(conf_, env_, "node1")) << "a retried DEL finishes the job";
  EXPECT_TRUE(empty());
}

TEST_F(PluginTest, CheckNeedsPrevResultAndZeroFourOrLater) {
  auto err = plugin_.check(conf_, env_, "node1");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, ErrCode::kInvalidConfig);
  conf_.cniVersion = "0.3.1";
  err = plugin_.check(conf_, env_, "node1");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, ErrCode::kIncompatibleVersion);
}

TEST_F(PluginTest, UndoRunsNewestFirst) {
  Undo undo;
  std::vector<int> order;
  for (int i = 0; i < 3; ++i) {
    undo.push("s" + std::to_string(i), [&order, i] {
      order.push_back(i);
      return Status::ok();
    });
  }
  EXPECT_TRUE(undo.run().empty());
  EXPECT_EQ(order, (std::vector<int>{2, 1, 0}));
}

}  // namespace
}  // namespace brindle::cni
