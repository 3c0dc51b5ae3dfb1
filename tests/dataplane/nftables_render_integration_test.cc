// The rendered nftables text against the real nft (root; label `integration`): chains using every
// match and action of both families, every base chain, port sets and a verdict map, in one script
// checked by the kernel with `nft -c` (nothing committed) inside a throw-away namespace.
#include <gtest/gtest.h>

#include "dataplane/nftables_render.h"
#include "netns_fixture.h"
#include "os/process.h"

namespace brindle::dataplane {
namespace {

using testing::TestNetns;

std::vector<Rule> everyMatchAndAction(IpVersion v) {
  const bool v4 = v == IpVersion::kV4;
  const std::string net = v4 ? "10.65.0.0/16" : "fd00:65::/64";
  const std::string set = v4 ? "cali40s:A" : "cali60s:A";
  const std::string other = v4 ? "cali40s:B" : "cali60s:B";
  const std::string icmp = v4 ? "icmp" : "ipv6-icmp";
  return {
      {Match().protocol("tcp").sourceNet(net).notDestNet(net), Action::accept(), "nets"},
      {Match().notProtocol("udp").sourceIpSet(set).notDestIpSet(other), Action::drop(), ""},
      {Match().protocol("udp").destIpSet(set).notSourceIpSet(other), Action::ret(), ""},
      {Match().protocol("tcp").destPorts("80,443,8000:8080").sourcePorts("1024:65535"),
       Action::accept(), ""},
      {Match().protocol("sctp").notDestPorts("80,443").notSourcePorts("53"), Action::accept(), ""},
      {Match().protocol("udplite").destPorts("http,22"), Action::accept(), ""},
      {Match().protocol(icmp).icmpType(v, "8"), Action::accept(), ""},
      {Match().protocol(icmp).icmpType(v, "8/0"), Action::accept(), ""},
      {Match().protocol(icmp).icmpType(v, "8", true), Action::accept(), ""},
      {Match().protocol(icmp).icmpType(v, "8/0", true), Action::accept(), ""},
      {Match().protocol(icmp).icmpType(v, v4 ? "echo-request" : "echo-reply"), Action::accept(),
       ""},
      {Match().inInterface("cali+").outInterface("eth0"), Action::none(), ""},
      {Match().mark(0x10, 0x30).markClear(0x100), Action::setMark(0x10, 0x30), ""},
      {Match().markSet(0x1000), Action::clearMark(0x1000), ""},
      {Match(), Action::setMark(0x5, 0xffffffff), ""},
      {Match().conntrackState("RELATED,ESTABLISHED"), Action::accept(), ""},
      {Match().conntrackState("INVALID"), Action::drop(), ""},
      {Match().conntrackState("UNTRACKED"), Action::accept(), ""},
      {Match().rpfFailed(), Action::drop(), "a \"quoted\" $comment\nwith a line break"},
      {Match().sourceAddrType("LOCAL").destAddrType("LOCAL"), Action::jump("cali-x"), ""},
      {Match().protocol("47"), Action::log("calico-drop \"$x\\"), ""},
      {Match().inInterface("cali1"), Action::goTo("cali-x"), ""},
      {Match().inInterface("cali2"), Action::jump("cali-x"), ""},
      {Match().outInterface("cali3"), Action::goTo("cali-x"), ""},
      {Match().outInterface("cali4"), Action::goTo("cali-x"), ""},
      {Match(), Action::none(), std::string(200, 'c')},
  };
}

std::vector<std::string> hashes(const std::vector<Rule>& rules, size_t salt = 0) {
  std::vector<std::string> out;
  for (size_t i = 0; i < rules.size(); ++i) {
    out.push_back("hash" + std::to_string(salt) + "-" + std::to_string(i));
  }
  return out;
}

class Script {
 public:
  explicit Script(std::string table) : table_(std::move(table)) {
    text_ = "add table inet " + table_ + "\n";
  }

  void chain(const std::string& name, const std::string& spec = "") {
    text_ += "add chain inet " + table_ + " " + name;
    if (!spec.empty()) text_ += " { " + spec + " }";
    text_ += "\n";
  }
  // Sets first (rules refer to them), then the rules.
  void rules(const std::string& chain, IpVersion v, const NftRendered& r) {
    for (const auto& ipset : r.ipsets) {
      std::string name = nftSetName(ipset, false);
      if (!declared_.insert(name).second) continue;
      sets_ += "add set inet " + table_ + " " + name + " { type " +
               (v == IpVersion::kV4 ? "ipv4_addr" : "ipv6_addr") + "; }\n";
    }
    for (const auto& [name, elements] : r.portSets) {
      if (!declared_.insert(name).second) continue;
      sets_ += "add set inet " + table_ + " " + name +
               " { type inet_service; flags interval; elements = { " + elements + " } }\n";
    }
    for (const auto& [name, elements] : r.maps) {  // after every chain (text_): elements go there
      sets_ += "add map inet " + table_ + " " + name + " { type ifname : verdict; }\n";
      for (const auto& [iface, verdict] : elements) {
        sets_ += "add element inet " + table_ + " " + name + " { \"" + iface + "\" : " + verdict +
                 " }\n";
      }
    }
    for (const auto& rule : r.rules)
      rules_ += "add rule inet " + table_ + " " + chain + " " + rule.text + "\n";
  }
  std::string text() const { return text_ + sets_ + rules_; }

 private:
  std::string table_, text_, sets_, rules_;
  std::set<std::string> declared_;
};

int nftCheck(const TestNetns& ns, const std::string& script, std::string* err) {
  os::ProcessRunner runner(ns.name());
  auto out = runner.run({{"nft", "-c", "-f", "-"}, script});
  if (!out) {
    *err = out.message();
    return -1;
  }
  *err = out->err;
  return out->exitCode;
}

class NftablesRenderIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  }
};

TEST_F(NftablesRenderIntegrationTest, NftAcceptsEveryRenderedKind) {
  TestNetns ns;
  auto namer = [](const std::string& s) { return nftSetName(s, false); };
  Script script("brtest");
  for (IpVersion v : {IpVersion::kV4, IpVersion::kV6}) {
    const auto rules = everyMatchAndAction(v);
    const std::string chain = nftChainName(TableName::kFilter, v, "cali-every");
    script.chain(chain);
    script.chain(nftChainName(TableName::kFilter, v, "cali-x"));
    auto r = renderNftRules(TableName::kFilter, v, chain, rules, hashes(rules), namer);
    EXPECT_EQ(r.rules.size(), rules.size() - 2);  // two verdict maps of two rules each
    script.rules(chain, v, r);
  }
  // Every base chain, with rules of both families.
  for (TableName t : {TableName::kRaw, TableName::kMangle, TableName::kNat, TableName::kFilter}) {
    for (const char* hook : {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}) {
      std::string spec = nftBaseChainSpec(t, hook);
      if (spec.empty()) continue;
      script.chain(nftBaseChainName(t, hook), spec);
      for (IpVersion v : {IpVersion::kV4, IpVersion::kV6}) {
        script.chain(nftChainName(t, v, "cali-x"));
        std::vector<Rule> rules{{Match().conntrackState("INVALID"), Action::jump("cali-x"), ""}};
        if (t == TableName::kNat && std::string_view(hook) == "PREROUTING") {
          rules.push_back({Match().protocol("tcp").destPorts("80,443"),
                           Action::dnat(v == IpVersion::kV4 ? "10.0.0.1" : "fd00::1"), ""});
        }
        if (t == TableName::kNat && std::string_view(hook) == "POSTROUTING") {
          rules.push_back({Match().sourceIpSet(v == IpVersion::kV4 ? "cali40masq" : "cali60masq"),
                           Action::masquerade(), ""});
          rules.push_back({Match().protocol("udp"),
                           Action::snat(v == IpVersion::kV4 ? "10.0.0.2" : "fd00::2"), ""});
        }
        if (t == TableName::kFilter && std::string_view(hook) == "FORWARD") {
          rules.push_back({Match().inInterface("cali1"), Action::goTo("cali-x"), ""});
          rules.push_back({Match().inInterface("cali2"), Action::goTo("cali-x"), ""});
        }
        script.rules(
            nftBaseChainName(t, hook), v,
            renderNftRules(t, v, nftChainName(t, v, hook), rules, hashes(rules, 1), namer, true));
      }
    }
  }
  std::string err;
  EXPECT_EQ(nftCheck(ns, script.text(), &err), 0) << err << "\n" << script.text();
  // The check is not vacuous: nft refuses what it does not know.
  EXPECT_NE(nftCheck(ns, script.text() + "add rule inet brtest filter-cali-x bogus\n", &err), 0);
}

}  // namespace
}  // namespace brindle::dataplane
