// Table-driven tests of rule rendering (rule -> iptables fragments), endpoint chains and names.
#include <gtest/gtest.h>

#include <algorithm>

#include "calc/hash.h"
#include "calc/rule_scanner.h"
#include "dataplane/iptables_render.h"
#include "dataplane/iptables_table.h"
#include "rules/endpoints.h"
#include "rules/managers.h"
#include "rules/names.h"
#include "rules/policy.h"

namespace brindle::rules {
namespace {

using dataplane::IpVersion;

calc::ParsedRule parsed(const std::string& json) {
  auto r = model::parseRule(model::Json::parse(json), "rule");
  EXPECT_TRUE(r) << r.message();
  auto scanned = calc::scanRules({*r}, {}, "");
  EXPECT_EQ(scanned.rules.ingress.size(), 1u);
  return scanned.rules.ingress.at(0);
}

std::vector<std::string> lines(const std::vector<dataplane::Rule>& rules) {
  std::vector<std::string> out;
  for (const auto& r : rules) {
    std::string l = dataplane::renderMatch(r.match);
    if (!l.empty()) l += " ";
    out.push_back(l + dataplane::renderAction(r.action));
  }
  return out;
}

std::string setName(const char* selector) {
  return ipSetName(calc::selectorIpSetId(*selector::Selector::parse(selector)), IpVersion::kV4);
}

struct Case {
  const char* name;
  std::string rule;
  IpVersion version;
  std::vector<std::string> expected;
};

TEST(RuleRender, Table) {
  const std::string accept = "-j MARK --set-xmark 0x1000000/0x1000000";
  const std::string acceptReturn = "-m mark --mark 0x1000000/0x1000000 -j RETURN";
  std::string ports16;
  for (int p = 1; p <= 16; ++p) ports16 += (p > 1 ? "," : "") + std::to_string(p);
  const std::vector<Case> cases = {
      {"allow everything", R"({"action":"Allow"})", IpVersion::kV4, {accept, acceptReturn}},
      {"deny tcp port",
       R"({"action":"Deny","protocol":"TCP","destination":{"ports":[80]}})",
       IpVersion::kV4,
       {"-p tcp -m multiport --dports 80 -j DROP"}},
      {"port range and not ports",
       R"({"action":"Deny","protocol":"UDP","destination":{"ports":["1000:2000",53],"notPorts":[1500]}})",
       IpVersion::kV4,
       {"-p udp -m multiport --dports 1000:2000,53 -m multiport ! --dports 1500 -j DROP"}},
      {"source ports",
       R"({"action":"Deny","protocol":"UDP","source":{"ports":[68]}})",
       IpVersion::kV4,
       {"-p udp -m multiport --sports 68 -j DROP"}},
      {"not protocol",
       R"({"action":"Deny","notProtocol":"UDP"})",
       IpVersion::kV4,
       {"! -p udp -j DROP"}},
      {"icmp type and code",
       R"({"action":"Deny","protocol":"ICMP","icmp":{"type":8,"code":0}})",
       IpVersion::kV4,
       {"-p icmp -m icmp --icmp-type 8/0 -j DROP"}},
      {"icmp rule skipped in v6", R"({"action":"Deny","protocol":"ICMP"})", IpVersion::kV6, {}},
      {"icmpv6 type",
       R"({"action":"Deny","protocol":"ICMPv6","icmp":{"type":128}})",
       IpVersion::kV6,
       {"-p ipv6-icmp -m icmp6 --icmpv6-type 128 -j DROP"}},
      {"v4 nets never match in v6",
       R"({"action":"Deny","destination":{"nets":["10.0.0.0/8"]}})",
       IpVersion::kV6,
       {}},
      {"ipVersion 6 skipped in v4", R"({"action":"Deny","ipVersion":6})", IpVersion::kV4, {}},
      {"source selector",
       R"({"action":"Allow","protocol":"TCP","source":{"selector":"namespace == 'default' && service == 'frontend'"},"destination":{"ports":[3306]}})",
       IpVersion::kV4,
       {"-p tcp -m set --match-set " + setName("namespace == 'default' && service == 'frontend'") +
            " src -m multiport --dports 3306 " + accept,
        acceptReturn}},
      {"destination not selector",
       R"({"action":"Deny","destination":{"notSelector":"app == 'x'"}})",
       IpVersion::kV4,
       {"-m set ! --match-set " + setName("app == 'x'") + " dst -j DROP"}},
      {"log",
       R"({"action":"Log"})",
       IpVersion::kV4,
       {"-j LOG --log-prefix \"calico-packet: \" --log-level 5"}},
      {"pass",
       R"({"action":"Pass"})",
       IpVersion::kV4,
       {"-j MARK --set-xmark 0x2000000/0x2000000", "-m mark --mark 0x2000000/0x2000000 -j RETURN"}},
      {"16 ports split over two rules",
       R"({"action":"Deny","protocol":"TCP","destination":{"ports":[)" + ports16 + "]}}",
       IpVersion::kV4,
       {"-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 -j DROP",
        "-p tcp -m multiport --dports 16 -j DROP"}},
  };
  RendererConfig config;
  for (const auto& c : cases) {
    EXPECT_EQ(lines(renderRule(parsed(c.rule), c.version, config)), c.expected) << c.name;
  }
}

TEST(RuleRender, SeveralNetsUseANetIpSet) {
  auto r = parsed(R"({"action":"Deny","source":{"nets":["10.0.0.0/8","192.168.0.0/16"]}})");
  ASSERT_EQ(r.source.ipSetIds.size(), 1u);
  auto out = lines(renderRule(r, IpVersion::kV4, RendererConfig{}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0],
            "-m set --match-set cali40" + r.source.ipSetIds[0].substr(0, 25) + " src -j DROP");
}

TEST(RuleRender, OneNetAndOneNotNetOnASideTakeOneSourceFlag) {
  // iptables refuses "-s A ! -s B" (multiple -s flags): the negated one goes into a net set.
  for (const char* side : {"source", "destination"}) {
    auto r = parsed(std::string(R"({"action":"Deny",")") + side +
                    R"(":{"nets":["10.0.0.0/8"],"notNets":["10.1.0.0/16"]}})");
    const auto& e = std::string(side) == "source" ? r.source : r.destination;
    ASSERT_EQ(e.notIpSetIds.size(), 1u);
    EXPECT_TRUE(e.notNets.empty());
    const char* flag = std::string(side) == "source" ? "-s" : "-d";
    const char* dir = std::string(side) == "source" ? "src" : "dst";
    EXPECT_EQ(lines(renderRule(r, IpVersion::kV4, RendererConfig{})),
              (std::vector<std::string>{std::string(flag) + " 10.0.0.0/8 -m set ! --match-set " +
                                        ipSetName(e.notIpSetIds[0], IpVersion::kV4) + " " + dir +
                                        " -j DROP"}));
  }
  // Not in the whole address space matches nothing (and "! -s 0.0.0.0/0" is refused).
  auto all = parsed(R"({"action":"Allow","source":{"notNets":["0.0.0.0/0"]}})");
  EXPECT_TRUE(renderRule(all, IpVersion::kV4, RendererConfig{}).empty());
  // A notNet alone stays inline.
  auto alone = parsed(R"({"action":"Deny","source":{"notNets":["10.1.0.0/16"]}})");
  EXPECT_EQ(lines(renderRule(alone, IpVersion::kV4, RendererConfig{})),
            (std::vector<std::string>{"! -s 10.1.0.0/16 -j DROP"}));
}

TEST(RuleRender, NotSelectorAloneInANamespacedPolicyStaysInItsNamespace) {
  // Calico: a namespaced policy's rule selectors apply in its namespace unless a
  // namespaceSelector says otherwise; a notSelector alone is no exception.
  auto rule = model::parseRule(
      model::Json::parse(R"({"action":"Allow","destination":{"notSelector":"app == 'x'"}})"), "r");
  ASSERT_TRUE(rule);
  auto scan = calc::scanRules({}, {*rule}, "ns1");
  ASSERT_EQ(scan.rules.egress.size(), 1u);
  const auto& d = scan.rules.egress[0].destination;
  ASSERT_EQ(d.ipSetIds.size(), 1u);
  ASSERT_EQ(d.notIpSetIds.size(), 1u);
  EXPECT_EQ(scan.selectorSets.at(d.ipSetIds[0]).canonical(),
            selector::Selector::parse("projectcalico.org/namespace == 'ns1'")->canonical());
  // In a global policy it is not scoped.
  auto global = calc::scanRules({}, {*rule}, "");
  EXPECT_TRUE(global.rules.egress[0].destination.ipSetIds.empty());
}

TEST(RuleRender, LogPrefixFitsTheLogTarget) {
  // A quote ends the argument (iptables-restore refuses the line); xt_LOG takes 29 characters.
  RendererConfig config;
  config.logPrefix = "a\"very-long-log-prefix-that-goes-on-and-on";
  auto r = parsed(R"({"action":"Log"})");
  EXPECT_EQ(lines(renderRule(r, IpVersion::kV4, config)),
            (std::vector<std::string>{
                "-j LOG --log-prefix \"avery-long-log-prefix-that-: \" --log-level 5"}));
}

TEST(RuleRender, ProtocolAndNotProtocolTakeOneProtocolFlag) {
  auto differ = parsed(R"({"action":"Deny","protocol":"TCP","notProtocol":"UDP"})");
  EXPECT_EQ(lines(renderRule(differ, IpVersion::kV4, RendererConfig{})),
            (std::vector<std::string>{"-p tcp -j DROP"}));
  auto same = parsed(R"({"action":"Allow","protocol":"TCP","notProtocol":"TCP"})");
  EXPECT_TRUE(renderRule(same, IpVersion::kV4, RendererConfig{}).empty());  // matches nothing
}

TEST(EndpointChains, NeitherPolicyNorProfileDrops) {
  auto rules = endpointPolicyRules({}, {}, true, RendererConfig{});
  EXPECT_EQ(lines(rules),
            (std::vector<std::string>{"-j MARK --set-xmark 0x0/0x1000000", "-j DROP"}));
  EXPECT_EQ(rules.back().comment, "Drop if no profiles matched");
}

TEST(EndpointChains, TiersThenProfiles) {
  calc::TierInfo sec{"security", {{"security", "security.a"}}, {}};
  calc::TierInfo def{"default", {{"default", "default.b"}, {"default", "default.c"}}, {}};
  auto rules = endpointPolicyRules({sec, def}, {"prof"}, true, RendererConfig{});
  std::vector<std::string> comments;
  for (const auto& r : rules)
    comments.push_back(r.comment + "|" + dataplane::renderAction(r.action));
  EXPECT_EQ(comments, (std::vector<std::string>{
                          "|-j MARK --set-xmark 0x0/0x1000000",
                          "Start of tier security|-j MARK --set-xmark 0x0/0x2000000",
                          "|-j cali-pi-gnp/security.a",
                          "Return if policy accepted|-j RETURN",
                          "Drop if no policies passed packet|-j DROP",
                          "Start of tier default|-j MARK --set-xmark 0x0/0x2000000",
                          "|-j cali-pi-gnp/default.b",
                          "Return if policy accepted|-j RETURN",
                          "|-j cali-pi-gnp/default.c",
                          "Return if policy accepted|-j RETURN",
                          "Drop if no policies passed packet|-j DROP",
                          "|-j cali-pri-prof",
                          "Return if profile accepted|-j RETURN",
                          "Drop if no profiles matched|-j DROP",
                      }));
  // Egress has no policies in any tier: straight to the profiles.
  auto egress = endpointPolicyRules({sec, def}, {"prof"}, false, RendererConfig{});
  EXPECT_EQ(egress.size(), 4u);
}

TEST(EndpointChains, PassTierEndsWithoutDropAndFallsThrough) {
  // Felix's endOfTierDrop: only a tier whose default action is not Pass drops at its end; a Pass
  // tier lets the packet (pass mark clear) go on to the next tier, here to the profiles.
  calc::TierInfo sec{"security", {{"security", "security.a"}}, {}, model::Action::kPass};
  calc::TierInfo def{"default", {{"default", "default.b"}}, {}, model::Action::kPass};
  auto comments = [](const std::vector<dataplane::Rule>& rules) {
    std::vector<std::string> out;
    for (const auto& r : rules) out.push_back(r.comment + "|" + dataplane::renderAction(r.action));
    return out;
  };
  EXPECT_EQ(comments(endpointPolicyRules({sec, def}, {"prof"}, true, RendererConfig{})),
            (std::vector<std::string>{
                "|-j MARK --set-xmark 0x0/0x1000000",
                "Start of tier security|-j MARK --set-xmark 0x0/0x2000000",
                "|-j cali-pi-gnp/security.a",
                "Return if policy accepted|-j RETURN",
                "Start of tier default|-j MARK --set-xmark 0x0/0x2000000",
                "|-j cali-pi-gnp/default.b",
                "Return if policy accepted|-j RETURN",
                "|-j cali-pri-prof",
                "Return if profile accepted|-j RETURN",
                "Drop if no profiles matched|-j DROP",
            }));
  // Deny in the default tier only: the security tier passes into it, it drops.
  def.defaultAction = model::Action::kDeny;
  auto mixed = comments(endpointPolicyRules({sec, def}, {}, true, RendererConfig{}));
  EXPECT_EQ(std::count(mixed.begin(), mixed.end(), "Drop if no policies passed packet|-j DROP"), 1);
  EXPECT_EQ(mixed[mixed.size() - 2], "Drop if no policies passed packet|-j DROP");
}

// Known values from Calico's own tests: felix/rules/policy_test.go (policy and profile chains),
// libcalico-go/lib/hash/unique_id_test.go (GetLengthLimitedID), felix/rules/dispatch_test.go.
TEST(Names, ChainNamesAreFelixs) {
  EXPECT_EQ(policyChainName({"default", "default.foo"}, true), "cali-pi-gnp/default.foo");
  EXPECT_EQ(policyChainName({"default", "default.foo"}, false), "cali-po-gnp/default.foo");
  EXPECT_EQ(policyChainName({"default", "long-policy-name-that-gets-hashed"}, true),
            "cali-pi-_PymyFHQQg3808jiz1OJ");
  EXPECT_EQ(policyChainName({"default", "long-policy-name-that-gets-hashed"}, false),
            "cali-po-_PymyFHQQg3808jiz1OJ");
  EXPECT_EQ(profileChainName("long-policy-name-that-gets-hashed", true),
            "cali-pri-_ffOMcf6pikpiZ6hgKc");
  EXPECT_EQ(profileChainName("long-policy-name-that-gets-hashed", false),
            "cali-pro-_ffOMcf6pikpiZ6hgKc");
  EXPECT_EQ(endpointChainName("cali-tw-", "cali1234"), "cali-tw-cali1234");
  EXPECT_EQ(calc::lengthLimitedId("felix", "1234", 10), "felix1234");
  EXPECT_EQ(calc::lengthLimitedId("felix", "123456", 11), "felix123456");
  EXPECT_EQ(calc::lengthLimitedId("felix", "_2345", 10), "felix_kMQI");
  EXPECT_EQ(calc::lengthLimitedId("felix", "12345678910", 13), "felix_Y2QCZIS");
  EXPECT_EQ(calc::lengthLimitedId("felix", "", 10), "felix_");
}

TEST(Names, LengthsAndShapes) {
  // A namespaced policy: Felix's "np/<namespace>/<name>".
  EXPECT_EQ(policyChainName({"default", "prod/web"}, true), "cali-pi-np/prod/web");
  std::string longName = policyChainName({"default", "default.a-very-long-policy-name"}, true);
  EXPECT_EQ(longName.size(), kMaxChainName);
  EXPECT_EQ(longName.substr(0, 9), "cali-pi-_");
  EXPECT_EQ(profileChainName("profile-database", false), "cali-pro-profile-database");
  EXPECT_EQ(endpointChainName("cali-tw-", "cali0ef24b1"), "cali-tw-cali0ef24b1");
  std::string set =
      ipSetName(calc::selectorIpSetId(*selector::Selector::parse("a == 'b'")), IpVersion::kV6);
  EXPECT_EQ(set.size(), kMaxIpSetName);
  EXPECT_EQ(set.substr(0, 8), "cali60s:");
}

TEST(Config, Validation) {
  RendererConfig c;
  EXPECT_EQ(validateConfig(c), "");
  c.markPass = 0x8000000;
  EXPECT_NE(validateConfig(c), "");
  c.markMask = 0xf000000;
  EXPECT_EQ(validateConfig(c), "");
}

// Felix names a selector's ipset "cali40"/"cali60" + its id, cut to ipset's 31 characters; the id
// for all() is the one in Calico's selector tests, so the set is the one Felix writes.
TEST(Names, SelectorIpSetNamesAreFelixs) {
  auto all = selector::Selector::parse("all()");
  ASSERT_TRUE(all.isOk());
  const std::string id = calc::selectorIpSetId(*all);
  EXPECT_EQ(ipSetName(id, IpVersion::kV4), "cali40s:5y5I3VdRZfDU01O--xXAPx2");
  EXPECT_EQ(ipSetName(id, IpVersion::kV6), "cali60s:5y5I3VdRZfDU01O--xXAPx2");
}

// The fixed chains admit IPIP from known nodes exactly while an enabled pool uses IPIP (Felix
// restarts for it; the managers write the fixed chains again).
TEST(StaticChains, IpipRulesFollowThePools) {
  struct NoKernel : os::CommandRunner {
    Result<os::CommandOutput> run(const os::Command&) override {
      return makeError(ErrorCode::kInternal, "not applied");
    }
  } none;
  dataplane::IptablesTable filter(dataplane::TableName::kFilter, IpVersion::kV4, none);
  RendererConfig config;
  config.ipv6Enabled = false;
  Managers managers({{IpVersion::kV4, dataplane::TableName::kFilter, &filter}}, nullptr, nullptr,
                    config);
  auto ipipRules = [&] {
    int n = 0;
    for (const auto& chain : managers.chains(IpVersion::kV4, dataplane::TableName::kFilter)) {
      for (const auto& rule : chain.rules) {
        const std::string line = dataplane::renderRuleLine(chain.name, rule, "h");
        if (line.find("-p 4") != std::string::npos) ++n;
      }
    }
    return n;
  };
  EXPECT_EQ(ipipRules(), 0);
  const Cidr pool = *Cidr::parse("10.68.0.0/16");
  managers.onIpPoolUpdate({pool, false, false, true});
  EXPECT_EQ(ipipRules(), 3);  // INPUT: from known nodes, drop the rest; OUTPUT: to known nodes
  managers.onIpPoolUpdate({pool, false, true, true});  // disabled
  EXPECT_EQ(ipipRules(), 0);
  managers.onIpPoolUpdate({pool, false, false, true});
  managers.onIpPoolRemove(pool);
  EXPECT_EQ(ipipRules(), 0);
}

}  // namespace
}  // namespace brindle::rules
