// The agent's incremental path ends where the full render does: the calculation graph fed one
// update at a time (the seed's lab, then generated clusters changing into one another), the
// DataplaneDriver applying over the fake kernel after random batches; then the fake kernel's
// chains, hooks and sets equal those of renderRuleset() / renderIpSetsRestore() of the final
// state written into an empty fake kernel.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "agent/dataplane_driver.h"
#include "calc/calc_graph.h"
#include "calc/dataplane_state.h"
#include "dataplane/testing/fake_ipset.h"
#include "dataplane/testing/fake_iptables.h"
#include "dataplane/testing/fake_route_netlink.h"
#include "model/codec.h"
#include "policy_diff/generator.h"
#include "rules/ruleset.h"

namespace brindle::policydiff {
namespace {

using dataplane::IpVersion;
using dataplane::TableName;

// Passes every callback to the driver and to a DataplaneState that keeps the whole state.
struct Tee : calc::DataplaneCallbacks {
  calc::DataplaneCallbacks& a;
  calc::DataplaneCallbacks& b;
  Tee(calc::DataplaneCallbacks& x, calc::DataplaneCallbacks& y) : a(x), b(y) {}
  void onIpSetAdded(const std::string& id) override { a.onIpSetAdded(id), b.onIpSetAdded(id); }
  void onIpSetMembersAdded(const std::string& id, const std::set<Cidr>& m) override {
    a.onIpSetMembersAdded(id, m), b.onIpSetMembersAdded(id, m);
  }
  void onIpSetMembersRemoved(const std::string& id, const std::set<Cidr>& m) override {
    a.onIpSetMembersRemoved(id, m), b.onIpSetMembersRemoved(id, m);
  }
  void onIpSetRemoved(const std::string& id) override {
    a.onIpSetRemoved(id), b.onIpSetRemoved(id);
  }
  void onPolicyActive(const calc::PolicyId& id, const calc::ParsedRules& r) override {
    a.onPolicyActive(id, r), b.onPolicyActive(id, r);
  }
  void onPolicyInactive(const calc::PolicyId& id) override {
    a.onPolicyInactive(id), b.onPolicyInactive(id);
  }
  void onProfileActive(const std::string& n, const calc::ParsedRules& r) override {
    a.onProfileActive(n, r), b.onProfileActive(n, r);
  }
  void onProfileInactive(const std::string& n) override {
    a.onProfileInactive(n), b.onProfileInactive(n);
  }
  void onWorkloadEndpointUpdate(const calc::WorkloadEndpoint& e) override {
    a.onWorkloadEndpointUpdate(e), b.onWorkloadEndpointUpdate(e);
  }
  void onWorkloadEndpointRemove(const std::string& id) override {
    a.onWorkloadEndpointRemove(id), b.onWorkloadEndpointRemove(id);
  }
  void onHostEndpointUpdate(const calc::HostEndpoint& e) override {
    a.onHostEndpointUpdate(e), b.onHostEndpointUpdate(e);
  }
  void onHostEndpointRemove(const std::string& id) override {
    a.onHostEndpointRemove(id), b.onHostEndpointRemove(id);
  }
  void onIpPoolUpdate(const calc::IpPool& p) override { a.onIpPoolUpdate(p), b.onIpPoolUpdate(p); }
  void onIpPoolRemove(const Cidr& c) override { a.onIpPoolRemove(c), b.onIpPoolRemove(c); }
  void onRouteUpdate(const calc::Route& r) override { a.onRouteUpdate(r), b.onRouteUpdate(r); }
  void onRouteRemove(const Cidr& d) override { a.onRouteRemove(d), b.onRouteRemove(d); }
  void onInSync() override { a.onInSync(), b.onInSync(); }
};

std::map<std::string, model::Resource> decode(const std::string& text, const std::string& source) {
  auto decoded = model::decodeResources(text, source);
  EXPECT_TRUE(decoded) << source << ": " << decoded.message();
  std::map<std::string, model::Resource> out;
  if (decoded) {
    for (const auto& r : decoded->resources) out.emplace(r.key(), r);
  }
  return out;
}

std::map<std::string, model::Resource> seedLab() {
  std::map<std::string, model::Resource> out;
  for (const char* f : {"lab/nodes.yaml", "lab/ippool.yaml", "seed-lab/endpoints.yaml",
                        "seed-lab/policy.yaml", "seed-lab/profile.yaml"}) {
    std::ifstream in(std::string(BRINDLE_EXAMPLES_DIR) + "/" + f);
    std::stringstream text;
    text << in.rdbuf();
    out.merge(decode(text.str(), f));
  }
  return out;
}

std::map<std::string, model::Resource> generated(uint64_t seed, const std::string& node) {
  std::map<std::string, model::Resource> out;
  for (const auto& [key, json] : Generator(seed, {}).state().resources(node)) {
    out.merge(decode(json.dump(), key));
  }
  return out;
}

// Our chains and the rules of every chain in an iptables-save text (which lists chains in the
// order they were created: not compared).
std::map<std::string, std::vector<std::string>> ourRules(const std::string& save) {
  std::map<std::string, std::vector<std::string>> out;
  std::istringstream in(save);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(":cali-", 0) == 0) out[line.substr(1, line.find(' ') - 1)];
    if (line.rfind("-A ", 0) == 0) {
      size_t end = line.find(' ', 3);
      out[line.substr(3, end - 3)].push_back(line.substr(end + 1));
    }
  }
  return out;
}

class DriverConvergesTest : public ::testing::Test {
 protected:
  void start(const std::string& node) {
    iptables_.setIpsetExists([this](const std::string& s) { return ipset_.has(s); });
    netlink_.addLink("cali0ef24b1");
    agent::DataplaneDeps deps;
    for (auto v : {IpVersion::kV4, IpVersion::kV6}) {
      for (auto t : {TableName::kRaw, TableName::kMangle, TableName::kNat, TableName::kFilter}) {
        tables_.push_back(std::make_unique<dataplane::IptablesTable>(t, v, iptables_));
        deps.tables.push_back({v, t, tables_.back().get()});
      }
    }
    deps.ipsets = &ipsets_;
    deps.routes = &routes_;
    driver_ = std::make_unique<agent::DataplaneDriver>(deps, config_);
    tee_ = std::make_unique<Tee>(*driver_, state_);
    graph_ = std::make_unique<calc::CalcGraph>(node, *tee_);
  }

  // Moves the store from `from` to `to` one resource at a time in a random order, applying
  // after random batches.
  void change(const std::map<std::string, model::Resource>& from,
              const std::map<std::string, model::Resource>& to) {
    std::vector<calc::Update> updates;
    for (const auto& [key, r] : from) {
      if (!to.count(key)) updates.push_back({calc::UpdateType::kDeleted, key, std::nullopt, {}});
    }
    for (const auto& [key, r] : to) {
      auto old = from.find(key);
      if (old != from.end() && old->second.toJson() == r.toJson()) continue;
      updates.push_back(
          {old == from.end() ? calc::UpdateType::kAdded : calc::UpdateType::kUpdated, key, r, {}});
    }
    std::shuffle(updates.begin(), updates.end(), rng_);
    for (const auto& u : updates) {
      graph_->onUpdate(u);
      if (!synced_) continue;
      if (std::uniform_int_distribution<int>(0, 3)(rng_) == 0) {
        ASSERT_TRUE(driver_->apply().isOk());
      }
    }
    if (!synced_) {
      graph_->onInSync();
      synced_ = true;
    }
    ASSERT_TRUE(driver_->apply().isOk());
  }

  // The fake kernel equals the full render of the final state written into an empty one.
  void expectKernelEqualsFullRender() {
    dataplane::testing::FakeIptables reference;
    dataplane::testing::FakeIpset referenceSets;
    for (IpVersion v : {IpVersion::kV4, IpVersion::kV6}) {
      const bool v4 = v == IpVersion::kV4;
      auto sets = referenceSets.run({{"ipset", "restore"}, rules::renderIpSetsRestore(state_, v)});
      ASSERT_TRUE(sets && sets->exitCode == 0) << (sets ? sets->err : "");
      auto restore = rules::renderRulesetRestore(rules::renderRuleset(state_, v, config_), config_);
      auto out =
          reference.run({{v4 ? "iptables-restore" : "ip6tables-restore", "--noflush"}, restore});
      ASSERT_TRUE(out && out->exitCode == 0) << (out ? out->err : "") << restore;
      for (const char* table : {"raw", "mangle", "nat", "filter"}) {
        EXPECT_EQ(ourRules(iptables_.save(v, table)), ourRules(reference.save(v, table)))
            << "IPv" << (v4 ? 4 : 6) << " " << table;
      }
    }
    EXPECT_EQ(ipset_.names(), referenceSets.names());
    for (const auto& name : referenceSets.names()) {
      if (ipset_.has(name)) {
        EXPECT_EQ(ipset_.set(name).members, referenceSets.set(name).members) << name;
      }
    }
  }

  std::mt19937_64 rng_{20261205};
  rules::RendererConfig config_;
  dataplane::testing::FakeIptables iptables_;
  dataplane::testing::FakeIpset ipset_;
  dataplane::testing::FakeRouteNetlink netlink_;
  dataplane::testing::FakeSysctl sysctl_;
  std::vector<std::unique_ptr<dataplane::IptablesTable>> tables_;
  dataplane::IpSetsImpl ipsets_{ipset_};
  dataplane::RouteTable routes_{netlink_, sysctl_};
  calc::DataplaneState state_;
  std::unique_ptr<agent::DataplaneDriver> driver_;
  std::unique_ptr<Tee> tee_;
  std::unique_ptr<calc::CalcGraph> graph_;
  bool synced_ = false;
};

TEST_F(DriverConvergesTest, SeedLab) {
  start("slave1");
  const auto lab = seedLab();
  change({}, lab);
  EXPECT_EQ(driver_->endpointCount(), 2u);
  expectKernelEqualsFullRender();
  // Everything away and back again, in other orders.
  change(lab, {});
  expectKernelEqualsFullRender();
  change({}, lab);
  expectKernelEqualsFullRender();
}

TEST_F(DriverConvergesTest, GeneratedClusters) {
  const std::string node = "node1";
  start(node);
  std::map<std::string, model::Resource> previous;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    auto next = generated(seed, node);
    change(previous, next);
    EXPECT_GT(driver_->endpointCount(), 0u);
    EXPECT_GT(driver_->policyCount(), 0u);
    expectKernelEqualsFullRender();
    if (HasFailure()) {
      ADD_FAILURE() << "seed " << seed;
      return;
    }
    previous = std::move(next);
  }
}

}  // namespace
}  // namespace brindle::policydiff
