// Every combination of matches the model allows on a rule, scanned and rendered as the agent does,
// must be accepted by the real kernel: one iptables-restore (ip6tables-restore) commit per group
// of rules into a throw-away network namespace with the ipsets they name. A refused rendering
// (iptables' "multiple -s flags not allowed", multiport without a protocol, ...) fails the test
// with the rule's JSON and its rendered line. Root only (label `integration`).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "calc/rule_scanner.h"
#include "dataplane/iptables_table.h"
#include "dataplane/netns_fixture.h"
#include "model/rule.h"
#include "os/process.h"
#include "rules/names.h"
#include "rules/policy.h"

namespace brindle::rules {
namespace {

using dataplane::IpVersion;
using dataplane::testing::TestNetns;

struct Feature {
  std::string name;
  std::string json;    // fields of one rule side
  bool ports = false;  // needs a port protocol
};

struct RuleLevel {
  std::string name;
  std::string json;  // rule fields besides action and sides ("" for none)
  bool portsOk = false;
};

// One side's features (each alone, every pair, and a few large groups) on the source or both
// sides; crossed with the rule-level fields and actions.
std::vector<Feature> sideFeatures() {
  std::string ports16;
  for (int p = 1; p <= 16; ++p) ports16 += (p > 1 ? "," : "") + std::to_string(p);
  return {
      {"nets1", R"("nets":["10.1.0.0/24"])"},
      {"nets2", R"("nets":["10.1.0.0/24","0.0.0.0/0"])"},
      {"netsAll", R"("nets":["0.0.0.0/0"])"},
      {"notNets1", R"("notNets":["10.1.0.9/32"])"},
      {"notNets2", R"("notNets":["10.1.0.9/32","10.3.0.0/16"])"},
      {"notNetsAll", R"("notNets":["0.0.0.0/0"])"},
      {"selector", R"("selector":"app == 'a'")"},
      {"notSelector", R"("notSelector":"app == 'b'")"},
      {"namespaceSelector", R"("namespaceSelector":"team == 'x'")"},
      {"namespaceGlobal", R"j("namespaceSelector":"global()")j"},
      {"serviceAccounts", R"("serviceAccounts":{"names":["sa1"],"selector":"role == 'r'"})"},
      {"ports", R"("ports":[80,"1000:2000"])", true},
      {"ports16", R"("ports":[)" + ports16 + "]", true},
      {"notPorts", R"("notPorts":[81,"3000:3100"])", true},
      {"notPorts16", R"("notPorts":[)" + ports16 + "]", true},
      {"namedPort", R"("ports":["http"])", true},
      {"namedNotPort", R"("notPorts":["metrics"])", true},
  };
}

// The same features in IPv6 spelling where they name addresses.
std::string toV6(std::string json) {
  auto swap = [&](const std::string& from, const std::string& to) {
    for (size_t at = json.find(from); at != std::string::npos; at = json.find(from, at)) {
      json.replace(at, from.size(), to);
      at += to.size();
    }
  };
  swap("10.1.0.0/24", "fd00:1::/64");
  swap("10.1.0.9/32", "fd00:1::9/128");
  swap("10.3.0.0/16", "fd00:3::/48");
  swap("0.0.0.0/0", "::/0");
  return json;
}

std::vector<RuleLevel> ruleLevels() {
  return {
      {"none", ""},
      {"tcp", R"("protocol":"TCP")", true},
      {"udp", R"("protocol":"UDP")", true},
      {"sctp", R"("protocol":"SCTP")", true},
      {"udplite", R"("protocol":"UDPLite")"},
      {"proto99", R"("protocol":99)"},
      {"notUdp", R"("notProtocol":"UDP")"},
      {"tcpNotUdp", R"("protocol":"TCP","notProtocol":"UDP")", true},
      {"tcpNotTcp", R"("protocol":"TCP","notProtocol":"TCP")", true},
      {"notIcmp6", R"("notProtocol":"ICMPv6")"},
      {"ipv4", R"("ipVersion":4)"},
      {"ipv6", R"("ipVersion":6)"},
      {"tcpIpv4", R"("protocol":"TCP","ipVersion":4)", true},
      {"icmp", R"("protocol":"ICMP")"},
      {"icmpType", R"("protocol":"ICMP","icmp":{"type":8})"},
      {"icmpTypeCode", R"("protocol":"ICMP","icmp":{"type":3,"code":1})"},
      {"notIcmpType", R"("protocol":"ICMP","notICMP":{"type":0})"},
      {"icmpAndNotIcmp", R"("protocol":"ICMP","icmp":{"type":8},"notICMP":{"type":8,"code":1})"},
      {"icmp6Type", R"("protocol":"ICMPv6","icmp":{"type":128})"},
      {"icmp6Both", R"("protocol":"ICMPv6","icmp":{"type":128,"code":0},"notICMP":{"type":129})"},
      {"icmpNotProtoUdp", R"("protocol":"ICMP","notProtocol":"UDP","icmp":{"type":8})"},
      {"http", R"("http":{"methods":["GET"],"paths":[{"prefix":"/a"}]})"},
  };
}

std::string joinFields(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    out += (out.empty() ? "" : ",") + p;
  }
  return out;
}

struct Rendered {
  std::string json;
  std::string line;  // iptables rule line, for the report
};

class KernelAcceptsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
  }
};

TEST_F(KernelAcceptsTest, EveryModelCombinationRendersToRulesTheKernelTakes) {
  TestNetns ns;
  const RendererConfig config;
  std::vector<std::string> jsons;
  auto features = sideFeatures();
  std::vector<std::vector<size_t>> groups;
  for (size_t i = 0; i < features.size(); ++i) {
    groups.push_back({i});
    for (size_t j = i + 1; j < features.size(); ++j) groups.push_back({i, j});
  }
  // And a few of everything at once.
  groups.push_back({0, 3, 6, 7, 8, 11, 13});
  groups.push_back({1, 4, 6, 7, 10, 12, 14});
  groups.push_back({2, 5, 7, 9, 15, 16});
  size_t invalid = 0;
  for (const auto& level : ruleLevels()) {
    for (const auto& group : groups) {
      bool ports = false;
      std::vector<std::string> side;
      for (size_t f : group) {
        ports = ports || features[f].ports;
        side.push_back(features[f].json);
      }
      if (ports && !level.portsOk) continue;  // ports need TCP, UDP or SCTP: refused by the model
      std::string sideJson = "{" + joinFields(side) + "}";
      // Actions differ only in the target (Pass and Log are checked by the golden and unit
      // tests); the destination alone is the source's mirror, and both sides hold it.
      for (const char* action : {"Allow", "Deny"}) {
        for (const char* where : {"source", "both"}) {
          std::string src = std::string(where) != "destination" ? sideJson : "{}";
          std::string dst = std::string(where) != "source" ? sideJson : "{}";
          std::string rule = "{" +
                             joinFields({std::string(R"("action":")") + action + "\"", level.json,
                                         "\"source\":" + src, "\"destination\":" + dst}) +
                             "}";
          jsons.push_back(rule);
          if (level.name.find("icmp6") == std::string::npos && level.name != "ipv6") {
            jsons.push_back(toV6(rule));
          }
        }
      }
    }
  }

  // Scan and render; sets per IP version; rules grouped into chains of up to 200.
  std::map<IpVersion, std::set<std::string>> sets;
  std::map<IpVersion, std::vector<Rendered>> rendered;
  size_t scanned = 0;
  for (const auto& text : jsons) {
    auto rule = model::parseRule(model::Json::parse(text), "rule");
    if (!rule) {
      ++invalid;  // the model refuses it with an error (as Calico's validation does)
      continue;
    }
    for (const std::string nsName : {"", "ns1"}) {
      auto scan = calc::scanRules({*rule}, {}, nsName);
      ++scanned;
      for (IpVersion v : {IpVersion::kV4, IpVersion::kV6}) {
        for (const auto& [id, sel] : scan.selectorSets) sets[v].insert(ipSetName(id, v));
        for (const auto& [id, nets] : scan.netSets) sets[v].insert(ipSetName(id, v));
        for (const auto& r : renderRules(scan.rules.ingress, v, config)) {
          rendered[v].push_back({text, dataplane::renderRuleLine("cali-pi-t", r, "h")});
        }
      }
    }
  }
  // Log rules, with the default prefix and with one the LOG target could not take as written
  // (too long, a quote): the renderer must make it fit.
  RendererConfig longPrefix;
  longPrefix.logPrefix = "a\"very-long-log-prefix-that-goes-on-and-on";
  for (const auto& level : ruleLevels()) {
    std::string text = "{" + joinFields({R"("action":"Log")", level.json}) + "}";
    auto rule = model::parseRule(model::Json::parse(text), "rule");
    if (!rule) continue;
    auto scan = calc::scanRules({*rule}, {}, "");
    for (IpVersion v : {IpVersion::kV4, IpVersion::kV6}) {
      for (const RendererConfig* c : {&config, static_cast<const RendererConfig*>(&longPrefix)}) {
        for (const auto& r : renderRules(scan.rules.ingress, v, *c)) {
          rendered[v].push_back({text, dataplane::renderRuleLine("cali-pi-t", r, "h")});
        }
      }
    }
  }
  ASSERT_GT(scanned, 2000u);
  std::fflush(stdout);
  std::printf("%zu rules scanned (%zu refused by the model), %zu/%zu iptables rules (v4/v6)\n",
              scanned, invalid, rendered[IpVersion::kV4].size(), rendered[IpVersion::kV6].size());

  for (IpVersion v : {IpVersion::kV4, IpVersion::kV6}) {
    std::string setInput;
    for (const auto& name : sets[v]) {
      setInput +=
          "create " + name + " hash:net family " + (v == IpVersion::kV4 ? "inet" : "inet6") + "\n";
    }
    dataplane::testing::sh({"ipset", "restore"}, ns.name(), setInput);
    const std::string restore = v == IpVersion::kV4 ? "iptables-restore" : "ip6tables-restore";
    os::ProcessRunner runner(ns.name());
    const auto& rules = rendered[v];
    constexpr size_t kPerChain = 200;
    for (size_t at = 0; at < rules.size(); at += kPerChain) {
      std::string chain = "cali-pi-t" + std::to_string(at / kPerChain);
      auto textOf = [&](size_t from, size_t to) {
        std::string in = "*filter\n:" + chain + " - [0:0]\n";
        for (size_t i = from; i < to; ++i) {
          std::string line = rules[i].line;
          line.replace(3, std::string("cali-pi-t").size(), chain);
          in += line + "\n";
        }
        return in + "COMMIT\n";
      };
      size_t end = std::min(rules.size(), at + kPerChain);
      auto out = runner.run({{restore, "--noflush"}, textOf(at, end)});
      ASSERT_TRUE(out);
      if (out->exitCode == 0) continue;
      // Name every refused rule (one at a time into a scratch chain).
      for (size_t i = at; i < end; ++i) {
        auto one = runner.run({{restore, "--noflush"}, textOf(i, i + 1)});
        ASSERT_TRUE(one);
        EXPECT_EQ(one->exitCode, 0)
            << "refused: " << rules[i].json << "\n  " << rules[i].line << "\n  " << one->err;
      }
    }
  }
}

}  // namespace
}  // namespace brindle::rules
