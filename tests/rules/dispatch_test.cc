// Dispatch chains as a prefix tree: every interface is reached, unknown ones are dropped, names fit
// and stay put when interfaces come and go elsewhere, and the walk per packet stays short.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "dataplane/iptables_render.h"
#include "rules/endpoints.h"
#include "rules/managers.h"
#include "rules/names.h"

namespace brindle::rules {
namespace {

using dataplane::Chain;

std::map<std::string, calc::WorkloadEndpoint> workloads(const std::vector<std::string>& ifaces) {
  std::map<std::string, calc::WorkloadEndpoint> out;
  for (const auto& i : ifaces) {
    calc::WorkloadEndpoint ep;
    ep.id = "wep-" + i;
    ep.interfaceName = i;
    out[ep.id] = ep;
  }
  return out;
}

// iptables' -i/-o test: exact, or a prefix when the pattern ends in '+'.
bool ifaceMatches(const std::string& pattern, const std::string& iface) {
  if (!pattern.empty() && pattern.back() == '+') {
    return iface.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0;
  }
  return pattern == iface;
}

struct Walk {
  std::string action;  // the first rule that matched, outside the dispatch tree
  int rulesSeen = 0;
};

// Follows one packet from `root` through the chains as the kernel would (-g into children).
Walk walk(const std::vector<Chain>& chains, const std::string& root, const std::string& flag,
          const std::string& iface) {
  std::map<std::string, const Chain*> byName;
  for (const auto& c : chains) byName[c.name] = &c;
  Walk w;
  std::string at = root;
  for (;;) {
    const Chain* c = byName.at(at);
    bool jumped = false;
    for (const auto& r : c->rules) {
      ++w.rulesSeen;
      const std::string m = dataplane::renderMatch(r.match);
      bool match = m.empty();
      if (m.rfind(flag + " ", 0) == 0) match = ifaceMatches(m.substr(3), iface);
      if (!match) continue;
      if (r.action.kind == dataplane::Action::Kind::kGoto && byName.count(r.action.target)) {
        at = r.action.target;
        jumped = true;
        break;
      }
      w.action = dataplane::renderAction(r.action);
      return w;
    }
    if (!jumped) return w;  // fell off the end: back to the hook
  }
}

std::vector<std::string> names(int n, const char* format) {
  std::vector<std::string> out;
  char buf[32];
  for (int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, format, i);
    out.push_back(buf);
  }
  return out;
}

TEST(DispatchTree, SmallSetStaysFlat) {
  auto chains = workloadDispatchChains(workloads({"cali0ef24b1", "cali0ef24b2", "caliweb"}));
  ASSERT_EQ(chains.size(), 2u);
  EXPECT_EQ(chains[0].name, kChainFromWlDispatch);
  EXPECT_EQ(chains[0].rules.size(), 4u);
  EXPECT_EQ(chains[1].name, kChainToWlDispatch);
  EXPECT_EQ(chains[1].rules.back().comment, "Unknown interface");
}

TEST(DispatchTree, EveryInterfaceReachedUnknownDropped) {
  // Calico's own names (cali + 11 hex) and the benchmark's (calib%05d), plus odd ones.
  std::vector<std::string> ifaces = names(500, "calib%05d");
  for (int i = 0; i < 300; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "cali%08x%03x", static_cast<unsigned>(i * 2654435761u), i);
    ifaces.push_back(buf);
  }
  for (const char* odd : {"cali", "calib", "calib0", "tap0", "tap1", "tap", "x"}) {
    ifaces.push_back(odd);
  }
  auto chains = workloadDispatchChains(workloads(ifaces));
  std::set<std::string> seen;
  for (const auto& c : chains) {
    EXPECT_LE(c.name.size(), kMaxChainName) << c.name;
    EXPECT_TRUE(seen.insert(c.name).second) << "duplicate " << c.name;
    ASSERT_FALSE(c.rules.empty());
    EXPECT_EQ(c.rules.back().action, dataplane::Action::drop()) << c.name;
    EXPECT_EQ(c.rules.back().comment, "Unknown interface") << c.name;
  }
  EXPECT_GT(chains.size(), 4u);
  int worst = 0;
  for (const auto& i : ifaces) {
    Walk from = walk(chains, kChainFromWlDispatch, "-i", i);
    EXPECT_EQ(from.action, "-g " + endpointChainName("cali-fw-", i)) << i;
    Walk to = walk(chains, kChainToWlDispatch, "-o", i);
    EXPECT_EQ(to.action, "-g " + endpointChainName("cali-tw-", i)) << i;
    worst = std::max(worst, from.rulesSeen);
  }
  EXPECT_LE(worst, 64);
  for (const char* unknown : {"calib99999", "calib0000", "cal", "tap2", "eth0", "calic"}) {
    EXPECT_EQ(walk(chains, kChainFromWlDispatch, "-i", unknown).action, "-j DROP") << unknown;
    EXPECT_EQ(walk(chains, kChainToWlDispatch, "-o", unknown).action, "-j DROP") << unknown;
  }
}

TEST(DispatchTree, AddingAnInterfaceRewritesLittle) {
  auto ifaces = names(500, "calib%05d");
  auto before = workloadDispatchChains(workloads(ifaces));
  ifaces.push_back("calin0");
  auto after = workloadDispatchChains(workloads(ifaces));
  std::map<std::string, const Chain*> old;
  for (const auto& c : before) old[c.name] = &c;
  size_t changedRules = 0;
  for (const auto& c : after) {
    auto it = old.find(c.name);
    if (it == old.end() || !(*it->second == c)) changedRules += c.rules.size();
  }
  // The two roots (and at most a new small child each): not the 500-rule chains.
  EXPECT_LE(changedRules, 2u * 40u);
  // Calico-style names get one-character children.
  std::vector<std::string> calico;
  for (int i = 0; i < 100; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "cali%08x%03x", static_cast<unsigned>(i * 2654435761u), i);
    calico.push_back(buf);
  }
  auto chains = workloadDispatchChains(workloads(calico));
  bool found = false;
  for (const auto& c : chains) found |= c.name == "cali-from-wl-dispatch-0";
  EXPECT_TRUE(found);
}

// The managers as the nftables backend configures them, writing one IPv4 filter table.
struct FlatManagers {
  static RendererConfig flat() {
    RendererConfig c;
    c.flatDispatch = true;
    return c;
  }
  RendererConfig config = flat();
  dataplane::ChainTable filter{dataplane::TableName::kFilter, dataplane::IpVersion::kV4};
  Managers managers{{{dataplane::IpVersion::kV4, dataplane::TableName::kFilter, &filter}},
                    nullptr,
                    nullptr,
                    config};

  // Endpoint "wep-a" on interface calia with profile kns.one, rendered.
  calc::WorkloadEndpoint addEndpoint() {
    calc::WorkloadEndpoint ep;
    ep.id = "wep-a";
    ep.interfaceName = "calia";
    ep.profileIds = {"kns.one"};
    managers.onWorkloadEndpointUpdate(ep);
    managers.renderAggregates();
    return ep;
  }
  uint32_t groupOf(const calc::WorkloadEndpoint& ep) const {
    return preferredWorkloadGroup(workloadChainsDigest(workloadEndpointChains(ep, config)));
  }
};

// An endpoint whose chains change moves its interface to another group. Until the route table
// has given the link the new group, the dispatch also admits the old one, to the new group's
// chains (the old ones may go at once: they may jump to policies that went); then that goes too.
TEST(GroupedDispatch, AnInterfaceStillCarryingItsOldGroupGetsTheNewChains) {
  FlatManagers m;
  auto& [config, filter, managers] = m;
  calc::WorkloadEndpoint ep = m.addEndpoint();
  auto groupOf = [&](const calc::WorkloadEndpoint& e) { return m.groupOf(e); };
  auto dispatched = [&] {
    std::vector<std::string> out;
    for (const auto& r : filter.desiredChain(kChainFromWlDispatch)->rules) {
      out.push_back(dataplane::renderMatch(r.match) + " " + dataplane::renderAction(r.action) +
                    (r.comment.empty() ? "" : " # " + r.comment));
    }
    return out;
  };
  auto rule = [](uint32_t g, uint32_t to) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%08x", to);
    return "-i calia -m devgroup --src-group " + std::to_string(g) + " -g cali-fw-g" + hex +
           (g == to ? "" : " # Interface moving to its new group");
  };
  const uint32_t one = groupOf(ep);
  const std::string drop = " -j DROP # Unknown interface";
  EXPECT_EQ(dispatched(), (std::vector<std::string>{rule(one, one), drop}));
  EXPECT_FALSE(managers.retireLeavingGroups());

  ep.profileIds = {"kns.two"};
  managers.onWorkloadEndpointUpdate(ep);
  managers.renderAggregates();
  const uint32_t two = groupOf(ep);
  ASSERT_NE(one, two);
  EXPECT_EQ(dispatched(), (std::vector<std::string>{rule(one, two), rule(two, two), drop}));
  EXPECT_EQ(filter.desiredChain(workloadGroupChainName("cali-fw-", one)), nullptr);
  EXPECT_NE(filter.desiredChain(workloadGroupChainName("cali-fw-", two)), nullptr);

  EXPECT_TRUE(managers.retireLeavingGroups());
  managers.renderAggregates();
  EXPECT_EQ(dispatched(), (std::vector<std::string>{rule(two, two), drop}));
  EXPECT_FALSE(managers.retireLeavingGroups());

  // Back and forth before the link moved: the group it returns to is simply its own.
  ep.profileIds = {"kns.one"};
  managers.onWorkloadEndpointUpdate(ep);
  ep.profileIds = {"kns.two"};
  managers.onWorkloadEndpointUpdate(ep);
  managers.renderAggregates();
  EXPECT_EQ(dispatched(), (std::vector<std::string>{rule(one, two), rule(two, two), drop}));
  EXPECT_TRUE(managers.retireLeavingGroups());
  managers.renderAggregates();
  EXPECT_EQ(dispatched(), (std::vector<std::string>{rule(two, two), drop}));

  // Gone: nothing admitted, nothing left to retire.
  managers.onWorkloadEndpointRemove(ep.id);
  managers.renderAggregates();
  EXPECT_EQ(dispatched(), (std::vector<std::string>{drop}));
  EXPECT_FALSE(managers.retireLeavingGroups());
  EXPECT_EQ(filter.desiredChain(workloadGroupChainName("cali-fw-", two)), nullptr);
}

// Before the first apply the agent reads the groups the links carry: one in our range other than
// the endpoint's (the previous agent's numbering) is admitted too, until the link has moved.
TEST(GroupedDispatch, AGroupTheLinkCarriesFromBeforeTheStartIsAdmittedUntilItMoves) {
  FlatManagers m;
  auto& [config, filter, managers] = m;
  const uint32_t group = m.groupOf(m.addEndpoint());
  const uint32_t old = group == dataplane::kWorkloadGroupLast ? group - 1 : group + 1;
  auto dispatch = [&] { return filter.desiredChain(kChainFromWlDispatch)->rules.size(); };
  ASSERT_EQ(dispatch(), 2u);  // calia's rule, Unknown interface

  // Nothing to adopt: the wanted group, group 0 (no table of ours admits it), a foreign group,
  // an interface with no endpoint.
  EXPECT_FALSE(managers.adoptLinkGroups({{"calia", group}}));
  EXPECT_FALSE(managers.adoptLinkGroups({{"calia", 0}}));
  EXPECT_FALSE(managers.adoptLinkGroups({{"calia", 5}}));
  EXPECT_FALSE(managers.adoptLinkGroups({{"calib", old}}));

  ASSERT_TRUE(managers.adoptLinkGroups({{"calia", old}}));
  managers.renderAggregates();
  const auto& rules = filter.desiredChain(kChainFromWlDispatch)->rules;
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(dataplane::renderMatch(rules[0].match),
            "-i calia -m devgroup --src-group " + std::to_string(old));
  EXPECT_EQ(dataplane::renderAction(rules[0].action),
            "-g " + workloadGroupChainName("cali-fw-", group));
  EXPECT_EQ(rules[0].comment, "Interface moving to its new group");

  EXPECT_TRUE(managers.retireLeavingGroups());
  managers.renderAggregates();
  EXPECT_EQ(dispatch(), 2u);
}

// The nftables backend's dispatch: one flat chain per direction (a pair set and a verdict map by
// group), however many interfaces, each rule naming the interface, its group and the group's chain.
TEST(GroupedDispatch, FlatWithEachInterfacesGroup) {
  std::map<std::string, uint32_t> groups;
  const auto ifaces = names(500, "calib%05d");
  for (size_t i = 0; i < ifaces.size(); ++i) groups[ifaces[i]] = 0x10000000u + i % 7;
  auto chains = groupedWorkloadDispatchChains(groups);
  ASSERT_EQ(chains.size(), 2u);
  for (const auto& c : chains) EXPECT_EQ(c.rules.size(), 501u) << c.name;  // + Unknown interface
  EXPECT_EQ(chains[0].name, kChainFromWlDispatch);
  auto text = [](const dataplane::Rule& r) {
    return dataplane::renderMatch(r.match) + " " + dataplane::renderAction(r.action);
  };
  EXPECT_EQ(text(chains[0].rules[321]),
            "-i calib00321 -m devgroup --src-group 268435462 -g cali-fw-g10000006");
  EXPECT_EQ(chains[1].name, kChainToWlDispatch);
  EXPECT_EQ(text(chains[1].rules[499]),
            "-o calib00499 -m devgroup --dst-group 268435458 -g cali-tw-g10000002");
  EXPECT_EQ(chains[1].rules[500].comment, "Unknown interface");
}

// The group number is the chains' content: equal chains, equal numbers, whatever the interface;
// different policy, another number; always inside the range the agent owns on links.
TEST(GroupedDispatch, GroupsAreTheChainsContent) {
  RendererConfig config;
  calc::WorkloadEndpoint a, b, c;
  a.interfaceName = "calia";
  b.interfaceName = "calib";
  c.interfaceName = "calic";
  a.profileIds = b.profileIds = {"kns.default"};
  c.profileIds = {"kns.other"};
  const auto da = workloadChainsDigest(workloadEndpointChains(a, config));
  EXPECT_EQ(da, workloadChainsDigest(workloadEndpointChains(b, config)));
  EXPECT_NE(da, workloadChainsDigest(workloadEndpointChains(c, config)));
  for (const auto* ep : {&a, &c}) {
    const uint32_t g =
        preferredWorkloadGroup(workloadChainsDigest(workloadEndpointChains(*ep, config)));
    EXPECT_GE(g, dataplane::kWorkloadGroupFirst);
    EXPECT_LE(g, dataplane::kWorkloadGroupLast);
  }
  EXPECT_EQ(workloadGroupChainName("cali-tw-", 0x1a2b3c4d), "cali-tw-g1a2b3c4d");
}

TEST(DispatchTree, HostEndpointsReturnWhenUnknown) {
  std::map<std::string, calc::HostEndpoint> hosts;
  for (const auto& i : names(40, "eth%d")) {
    calc::HostEndpoint ep;
    ep.id = "hep-" + i;
    ep.interfaceName = i;
    hosts[ep.id] = ep;
  }
  auto chains = hostDispatchChains(hosts);
  EXPECT_GT(chains.size(), 2u);
  for (const auto& c : chains) EXPECT_LE(c.name.size(), kMaxChainName) << c.name;
  for (const auto& [id, ep] : hosts) {
    EXPECT_EQ(walk(chains, kChainFromHostEndpoint, "-i", ep.interfaceName).action,
              "-g " + endpointChainName("cali-fh-", ep.interfaceName));
    EXPECT_EQ(walk(chains, kChainToHostEndpoint, "-o", ep.interfaceName).action,
              "-g " + endpointChainName("cali-th-", ep.interfaceName));
  }
  EXPECT_EQ(walk(chains, kChainFromHostEndpoint, "-i", "eth99").action, "");
  EXPECT_EQ(walk(chains, kChainFromHostEndpoint, "-i", "lo").action, "");
}

// The managers keep flat dispatch chains by editing them: an endpoint added or removed is one
// rule inserted or removed in each chain (ChainTable::ruleEdits), never the chains written whole,
// and the chains stay exactly what building them whole from all endpoints gives. Random adds,
// removes, renames and shared interfaces; a large batch is written whole.
TEST(FlatDispatch, AnEndpointIsOneRuleEditAndTheChainsStayAWholeBuild) {
  FlatManagers m;
  auto& [config, filter, managers] = m;
  std::map<std::string, calc::WorkloadEndpoint> endpoints;
  auto update = [&](const std::string& id, const std::string& iface, int profile = 0) {
    calc::WorkloadEndpoint ep;
    ep.id = id;
    ep.interfaceName = iface;
    ep.profileIds = {"prof" + std::to_string(profile)};
    endpoints[id] = ep;
    managers.onWorkloadEndpointUpdate(ep);
  };
  auto remove = [&](const std::string& id) {
    endpoints.erase(id);
    managers.onWorkloadEndpointRemove(id);
  };
  // Each interface in the group of the last endpoint (by id) using it, each group's chains
  // written once and no others.
  auto expectWholeBuild = [&](const std::string& when) {
    std::map<std::string, uint32_t> groups;
    std::map<uint32_t, std::vector<Chain>> groupChains;
    for (const auto& [id, ep] : endpoints) {
      auto chains = workloadEndpointChains(ep, config);
      const uint32_t g = preferredWorkloadGroup(workloadChainsDigest(chains));
      groups[ep.interfaceName] = g;
      groupChains[g] = chains;
    }
    for (const auto& want : groupedWorkloadDispatchChains(groups)) {
      const Chain* have = filter.desiredChain(want.name);
      ASSERT_NE(have, nullptr) << want.name;
      EXPECT_EQ(have->rules, want.rules) << want.name << " after " << when;
      EXPECT_EQ(*filter.desiredHashes(want.name), dataplane::ruleHashes(want)) << want.name;
    }
    size_t written = 0;
    for (const auto& [name, chain] : filter.desiredChains()) {
      written += name.rfind("cali-tw-g", 0) == 0 || name.rfind("cali-fw-g", 0) == 0;
    }
    EXPECT_EQ(written, 2 * groupChains.size()) << "after " << when;
    for (const auto& [g, chains] : groupChains) {
      const Chain* tw = filter.desiredChain(workloadGroupChainName("cali-tw-", g));
      ASSERT_NE(tw, nullptr) << "after " << when;
      EXPECT_EQ(tw->rules, chains[0].rules);
    }
  };
  for (const auto& i : names(100, "cali%03d0")) update("wep-" + i, i);
  managers.renderAggregates();
  expectWholeBuild("the first render");
  EXPECT_EQ(filter.ruleEdits(kChainFromWlDispatch), nullptr) << "written whole";
  filter.clearChanged();

  update("wep-new", "cali0505");  // sorts between cali0500 and cali0510
  managers.renderAggregates();
  for (const char* chain : {kChainFromWlDispatch, kChainToWlDispatch}) {
    const auto* edits = filter.ruleEdits(chain);
    ASSERT_NE(edits, nullptr) << chain;
    ASSERT_EQ(edits->size(), 1u) << chain;
    EXPECT_TRUE(edits->front().inserted);
    EXPECT_EQ(edits->front().index, 51u);
  }
  expectWholeBuild("an add");
  filter.clearChanged();

  uint32_t seed = 11;
  auto next = [&seed](uint32_t n) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % n;
  };
  size_t changes = 0;  // since the last clearChanged()
  for (int round = 0; round < 200; ++round) {
    for (uint32_t change = 1 + next(3); change > 0; --change, ++changes) {
      const std::string id = "wep-r" + std::to_string(next(30));
      const std::string iface = "calir" + std::to_string(next(40));  // some shared, some renamed
      if (next(3) == 0) {
        remove(id);
      } else {
        update(id, iface, static_cast<int>(next(3)));  // some change group only
      }
    }
    managers.renderAggregates();
    if (const auto* edits = filter.ruleEdits(kChainFromWlDispatch)) {
      // A rename changes two interfaces, a group change replaces a rule: at most four edits a
      // change (a group change keeps the old one admitted for an apply: the chains written whole).
      EXPECT_LE(edits->size(), 4 * changes);
    }
    // The links have their groups (as the driver says after an apply): the groups left go.
    managers.retireLeavingGroups();
    managers.renderAggregates();
    expectWholeBuild("round " + std::to_string(round));
    if (next(2)) {
      filter.clearChanged();
      changes = 0;
    }
  }

  // A batch of many: written whole, the same chains.
  filter.clearChanged();
  for (const auto& i : names(60, "calib%02d")) update("wep-" + i, i);
  managers.renderAggregates();
  EXPECT_EQ(filter.ruleEdits(kChainFromWlDispatch), nullptr);
  expectWholeBuild("a batch");
}

}  // namespace
}  // namespace brindle::rules
