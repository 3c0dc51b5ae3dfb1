// nftables text of every match and action, names, base chains, dispatch maps and port sets.
#include "dataplane/nftables_render.h"

#include <gtest/gtest.h>

#include "common/digest.h"
#include "dataplane/iptables_render.h"

namespace brindle::dataplane {
namespace {

constexpr IpVersion kV4 = IpVersion::kV4;
constexpr IpVersion kV6 = IpVersion::kV6;

std::string namer(const std::string& ipset) { return nftSetName(ipset, false); }

std::string match(const Match& m, IpVersion v = kV4) { return renderNftMatch(m, v, namer); }
std::string action(const Action& a, IpVersion v = kV4, TableName t = TableName::kFilter) {
  return renderNftAction(a, t, v);
}

// The rules' texts, rendered with hashes "h0", "h1", ...
NftRendered render(const std::vector<Rule>& rules, IpVersion v = kV4, bool base = false) {
  std::vector<std::string> hashes;
  for (size_t i = 0; i < rules.size(); ++i) hashes.push_back("h" + std::to_string(i));
  return renderNftRules(TableName::kFilter, v, v == kV4 ? "filter-d" : "filter6-d", rules, hashes,
                        namer, base);
}
std::vector<std::string> texts(const NftRendered& r) {
  std::vector<std::string> out;
  for (const auto& rule : r.rules) out.push_back(rule.text);
  return out;
}

std::string hash16(const std::string& input) {
  auto d = sha224(input);
  return base64Url(d.data(), d.size()).substr(0, 16);
}

TEST(NftablesRenderTest, Names) {
  EXPECT_EQ(nftChainName(TableName::kFilter, kV4, "cali-fw-cali1"), "filter-cali-fw-cali1");
  EXPECT_EQ(nftChainName(TableName::kFilter, kV6, "cali-fw-cali1"), "filter6-cali-fw-cali1");
  EXPECT_EQ(nftChainName(TableName::kNat, kV6, "cali-POSTROUTING"), "nat6-cali-POSTROUTING");
  EXPECT_EQ(nftBaseChainName(TableName::kMangle, "PREROUTING"), "mangle-PREROUTING");
  EXPECT_EQ(nftSetName("cali40s:Uh1Ln4ztYwBJ2T_JJzf4kPX", false),
            "cali40s-Uh1Ln4ztYwBJ2T_JJzf4kPX");
  EXPECT_EQ(nftSetName("cali40s:Uh1Ln4ztYwBJ2T_JJzf4kPX", true),
            "cali40s-Uh1Ln4ztYwBJ2T_JJzf4kPX-net");
  EXPECT_EQ(nftSetName("cali60all-ipam-pools", false), "cali60all-ipam-pools");
  EXPECT_EQ(nftSetName("a b@c,d.e/f", false), "a-b-c-d.e/f");
}

TEST(NftablesRenderTest, BaseChainSpecs) {
  using T = TableName;
  EXPECT_EQ(nftBaseChainSpec(T::kRaw, "PREROUTING"),
            "type filter hook prerouting priority raw; policy accept;");
  EXPECT_EQ(nftBaseChainSpec(T::kRaw, "OUTPUT"),
            "type filter hook output priority raw; policy accept;");
  for (const char* hook : {"PREROUTING", "INPUT", "FORWARD", "POSTROUTING"}) {
    std::string lower;
    for (const char* c = hook; *c; ++c) lower += static_cast<char>(std::tolower(*c));
    EXPECT_EQ(nftBaseChainSpec(T::kMangle, hook),
              "type filter hook " + lower + " priority mangle; policy accept;");
  }
  EXPECT_EQ(nftBaseChainSpec(T::kMangle, "OUTPUT"),
            "type route hook output priority mangle; policy accept;");
  EXPECT_EQ(nftBaseChainSpec(T::kNat, "PREROUTING"),
            "type nat hook prerouting priority dstnat; policy accept;");
  EXPECT_EQ(nftBaseChainSpec(T::kNat, "OUTPUT"),
            "type nat hook output priority -100; policy accept;");
  EXPECT_EQ(nftBaseChainSpec(T::kNat, "INPUT"), "type nat hook input priority 100; policy accept;");
  EXPECT_EQ(nftBaseChainSpec(T::kNat, "POSTROUTING"),
            "type nat hook postrouting priority srcnat + 10; policy accept;");
  EXPECT_EQ(nftBaseChainSpec(T::kFilter, "INPUT"),
            "type filter hook input priority filter; policy accept;");
  EXPECT_EQ(nftBaseChainSpec(T::kFilter, "FORWARD"),
            "type filter hook forward priority filter; policy accept;");
  EXPECT_EQ(nftBaseChainSpec(T::kFilter, "OUTPUT"),
            "type filter hook output priority filter; policy accept;");
  EXPECT_EQ(nftBaseChainSpec(T::kFilter, "PREROUTING"), "");
  EXPECT_EQ(nftBaseChainSpec(T::kRaw, "FORWARD"), "");
  EXPECT_EQ(nftBaseChainSpec(T::kFilter, "forward"), "");
}

TEST(NftablesRenderTest, Protocols) {
  EXPECT_EQ(match(Match().protocol("tcp")), "meta l4proto 6");
  EXPECT_EQ(match(Match().protocol("udp")), "meta l4proto 17");
  EXPECT_EQ(match(Match().protocol("icmp")), "meta l4proto 1");
  EXPECT_EQ(match(Match().protocol("ipv6-icmp"), kV6), "meta l4proto 58");
  EXPECT_EQ(match(Match().protocol("icmpv6"), kV6), "meta l4proto 58");
  EXPECT_EQ(match(Match().protocol("sctp")), "meta l4proto 132");
  EXPECT_EQ(match(Match().protocol("udplite")), "meta l4proto 136");
  EXPECT_EQ(match(Match().protocol("4")), "meta l4proto 4");
  EXPECT_EQ(match(Match().protocol("gre")), "meta l4proto gre");
  EXPECT_EQ(match(Match().notProtocol("udp")), "meta l4proto != 17");
}

TEST(NftablesRenderTest, NetsAndSetsByFamily) {
  EXPECT_EQ(match(Match().sourceNet("10.0.0.0/8").notDestNet("10.1.0.0/16")),
            "ip saddr 10.0.0.0/8 ip daddr != 10.1.0.0/16");
  EXPECT_EQ(match(Match().notSourceNet("fd00::/64").destNet("fd01::1/128"), kV6),
            "ip6 saddr != fd00::/64 ip6 daddr fd01::1/128");
  EXPECT_EQ(match(Match().sourceIpSet("cali40s:A").notDestIpSet("cali40s:B")),
            "ip saddr @cali40s-A ip daddr != @cali40s-B");
  EXPECT_EQ(match(Match().notSourceIpSet("cali60s:A").destIpSet("cali60s:B"), kV6),
            "ip6 saddr != @cali60s-A ip6 daddr @cali60s-B");
  // The namer decides the set's nftables name (an interval variant, for instance).
  auto interval = [](const std::string& s) { return nftSetName(s, true); };
  EXPECT_EQ(renderNftMatch(Match().sourceIpSet("cali40s:A"), kV4, interval),
            "ip saddr @cali40s-A-net");
}

TEST(NftablesRenderTest, PortsInline) {
  EXPECT_EQ(match(Match().destPorts("80")), "th dport 80");
  EXPECT_EQ(match(Match().sourcePorts("8000:8080")), "th sport 8000-8080");
  EXPECT_EQ(match(Match().notDestPorts("53")), "th dport != 53");
  EXPECT_EQ(match(Match().destPorts("443,80,8000:8080")), "th dport { 80, 443, 8000-8080 }");
  EXPECT_EQ(match(Match().notSourcePorts("1,2,4")), "th sport != { 1-2, 4 }");
  EXPECT_EQ(match(Match().notSourcePorts("1,2")), "th sport != 1-2");  // one element: no set
  // Overlapping and repeated entries merge (an interval set refuses overlaps).
  EXPECT_EQ(match(Match().destPorts("80,80,70:90,100")), "th dport { 70-90, 100 }");
  EXPECT_EQ(match(Match().destPorts("10,9")), "th dport 9-10");
  // Service names keep their order.
  EXPECT_EQ(match(Match().destPorts("http,22")), "th dport { http, 22 }");
}

TEST(NftablesRenderTest, IcmpBothFamilies) {
  EXPECT_EQ(match(Match().icmpType(kV4, "8")), "icmp type 8");
  EXPECT_EQ(match(Match().icmpType(kV4, "8/0")), "icmp type 8 icmp code 0");
  EXPECT_EQ(match(Match().icmpType(kV4, "8", true)), "icmp type != 8");
  EXPECT_EQ(match(Match().icmpType(kV4, "8/0", true)), "icmp type . icmp code != { 8 . 0 }");
  EXPECT_EQ(match(Match().icmpType(kV4, "echo-request")), "icmp type echo-request");
  EXPECT_EQ(match(Match().icmpType(kV6, "128"), kV6), "icmpv6 type 128");
  EXPECT_EQ(match(Match().icmpType(kV6, "1/4"), kV6), "icmpv6 type 1 icmpv6 code 4");
  EXPECT_EQ(match(Match().icmpType(kV6, "135", true), kV6), "icmpv6 type != 135");
  EXPECT_EQ(match(Match().icmpType(kV6, "1/4", true), kV6),
            "icmpv6 type . icmpv6 code != { 1 . 4 }");
}

TEST(NftablesRenderTest, InterfacesMarksConntrackFib) {
  EXPECT_EQ(match(Match().inInterface("cali1")), "iifname \"cali1\"");
  EXPECT_EQ(match(Match().inInterface("cali+")), "iifname \"cali*\"");
  EXPECT_EQ(match(Match().outInterface("tunl0")), "oifname \"tunl0\"");
  EXPECT_EQ(match(Match().outInterface("cali+")), "oifname \"cali*\"");
  EXPECT_EQ(match(Match()), "");
  EXPECT_EQ(match(Match().mark(0x10, 0x30)), "meta mark & 0x30 == 0x10");
  EXPECT_EQ(match(Match().markClear(0x100000)), "meta mark & 0x100000 == 0x0");
  EXPECT_EQ(match(Match().markSet(0x10000)), "meta mark & 0x10000 == 0x10000");
  EXPECT_EQ(match(Match().conntrackState("RELATED,ESTABLISHED")), "ct state established,related");
  EXPECT_EQ(match(Match().conntrackState("INVALID")), "ct state invalid");
  EXPECT_EQ(match(Match().conntrackState("UNTRACKED")), "ct state untracked");
  EXPECT_EQ(match(Match().rpfFailed()), "fib saddr . iif oif missing");
  EXPECT_EQ(match(Match().sourceAddrType("LOCAL")), "fib saddr type local");
  EXPECT_EQ(match(Match().destAddrType("LOCAL"), kV6), "fib daddr type local");
}

TEST(NftablesRenderTest, ActionsBothFamilies) {
  EXPECT_EQ(action(Action::none()), "");
  EXPECT_EQ(action(Action::accept()), "accept");
  EXPECT_EQ(action(Action::drop()), "drop");
  EXPECT_EQ(action(Action::ret()), "return");
  EXPECT_EQ(action(Action::jump("cali-fw-cali1")), "jump filter-cali-fw-cali1");
  EXPECT_EQ(action(Action::goTo("cali-fw-cali1"), kV6), "goto filter6-cali-fw-cali1");
  EXPECT_EQ(action(Action::jump("cali-PREROUTING"), kV6, TableName::kRaw),
            "jump raw6-cali-PREROUTING");
  EXPECT_EQ(action(Action::setMark(0x10, 0x30)), "meta mark set meta mark & 0xffffffcf | 0x10");
  EXPECT_EQ(action(Action::clearMark(0x10000), kV6), "meta mark set meta mark & 0xfffeffff");
  EXPECT_EQ(action(Action::setMark(0x5, 0xffffffff)), "meta mark set 0x5");
  EXPECT_EQ(action(Action::log("calico-packet")), "log prefix \"calico-packet: \" level notice");
  EXPECT_EQ(action(Action::masquerade(), kV4, TableName::kNat), "masquerade");
  EXPECT_EQ(action(Action::dnat("10.0.0.1"), kV4, TableName::kNat), "dnat ip to 10.0.0.1");
  EXPECT_EQ(action(Action::dnat("fd00::1"), kV6, TableName::kNat), "dnat ip6 to fd00::1");
  EXPECT_EQ(action(Action::snat("10.0.0.2"), kV4, TableName::kNat), "snat ip to 10.0.0.2");
  EXPECT_EQ(action(Action::snat("fd00::2"), kV6, TableName::kNat), "snat ip6 to fd00::2");
}

// The same cleaning as iptables (no quote, backslash or newline, 27 characters) and no '$', which
// nft would expand as a variable.
TEST(NftablesRenderTest, LogPrefixCleaned) {
  EXPECT_EQ(action(Action::log("a\"b\\c\nd$e")), "log prefix \"abcde: \" level notice");
  EXPECT_EQ(action(Action::log(std::string(40, 'x'))),
            "log prefix \"" + std::string(27, 'x') + ": \" level notice");
  EXPECT_EQ(logPrefix("a\"b"), "ab");
}

TEST(NftablesRenderTest, RuleTextsCommentsAndIds) {
  auto r = render({
      {Match().protocol("tcp").destPorts("80"), Action::accept(), ""},
      {Match(), Action::drop(), "Drop if no policies \"passed\"\npacket"},
      {Match().conntrackState("INVALID"), Action::none(), ""},
      {Match(), Action::none(), ""},
  });
  EXPECT_EQ(texts(r), (std::vector<std::string>{
                          "meta l4proto 6 th dport 80 accept comment \"cali:h0\"",
                          "drop comment \"cali:h1; Drop if no policies 'passed' packet\"",
                          "ct state invalid comment \"cali:h2\"",
                          "counter comment \"cali:h3\"",
                      }));
  ASSERT_EQ(r.rules.size(), 4u);
  EXPECT_EQ(r.rules[1].id, "h1");
  EXPECT_TRUE(r.portSets.empty());
  EXPECT_TRUE(r.ipsets.empty());
}

TEST(NftablesRenderTest, CommentTruncatedTo128Bytes) {
  std::string hash(16, 'H');
  std::vector<std::string> hashes{hash};
  auto one = [&](std::string comment) {
    return renderNftRules(TableName::kFilter, kV4, "filter-c",
                          {{Match(), Action::accept(), comment}}, hashes, namer)
        .rules.at(0)
        .text;
  };
  // "cali:" + 16 + "; " = 23 bytes before the text: 105 bytes of text fit.
  std::string fits(105, 'c');
  EXPECT_EQ(one(fits), "accept comment \"cali:" + hash + "; " + fits + "\"");
  EXPECT_EQ(one(fits + "overflow"), "accept comment \"cali:" + hash + "; " + fits + "\"");
  // A multi-byte character is not cut in half: 104 bytes + "é" (2 bytes) would end at 129.
  std::string text = std::string(104, 'c') + "\xc3\xa9";
  EXPECT_EQ(one(text), "accept comment \"cali:" + hash + "; " + std::string(104, 'c') + "\"");
  std::string exact = std::string(103, 'c') + "\xc3\xa9";
  EXPECT_EQ(one(exact), "accept comment \"cali:" + hash + "; " + exact + "\"");
}

TEST(NftablesRenderTest, BaseChainRulesCarryTheFamilyGuard) {
  std::vector<Rule> rules{{Match(), Action::jump("cali-FORWARD"), ""},
                          {Match().inInterface("cali+"), Action::drop(), ""}};
  EXPECT_EQ(
      texts(render(rules, kV4, true)),
      (std::vector<std::string>{"meta nfproto ipv4 jump filter-cali-FORWARD comment \"cali:h0\"",
                                "meta nfproto ipv4 iifname \"cali*\" drop comment \"cali:h1\""}));
  EXPECT_EQ(
      texts(render(rules, kV6, true)),
      (std::vector<std::string>{"meta nfproto ipv6 jump filter6-cali-FORWARD comment \"cali:h0\"",
                                "meta nfproto ipv6 iifname \"cali*\" drop comment \"cali:h1\""}));
  EXPECT_EQ(texts(render(rules, kV4, false))[0], "jump filter-cali-FORWARD comment \"cali:h0\"");
  EXPECT_EQ(texts(render({{Match(), Action::none(), ""}}, kV6, true))[0],
            "meta nfproto ipv6 counter comment \"cali:h0\"");
}

TEST(NftablesRenderTest, PortListsBecomeSharedNamedSets) {
  auto r = render({
      {Match().protocol("tcp").destPorts("80,443"), Action::accept(), ""},
      {Match().protocol("udp").notSourcePorts("443,80"), Action::accept(), ""},
      {Match().protocol("tcp").destPorts("8000:8080,22"), Action::accept(), ""},
      {Match().protocol("tcp").destPorts("22"), Action::accept(), ""},
  });
  auto d = sha224("80, 443");
  const std::string name = "p-" + base64Url(d.data(), d.size()).substr(0, 12);
  auto d2 = sha224("22, 8000-8080");
  const std::string name2 = "p-" + base64Url(d2.data(), d2.size()).substr(0, 12);
  EXPECT_EQ(texts(r), (std::vector<std::string>{
                          "meta l4proto 6 th dport @" + name + " accept comment \"cali:h0\"",
                          "meta l4proto 17 th sport != @" + name + " accept comment \"cali:h1\"",
                          "meta l4proto 6 th dport @" + name2 + " accept comment \"cali:h2\"",
                          "meta l4proto 6 th dport 22 accept comment \"cali:h3\"",
                      }));
  EXPECT_EQ(r.portSets,
            (std::map<std::string, std::string>{{name, "80, 443"}, {name2, "22, 8000-8080"}}));
  EXPECT_NE(name, name2);
}

TEST(NftablesRenderTest, IpsetsRecordedByIpsetName) {
  auto r = render({{Match().sourceIpSet("cali40s:A").notDestIpSet("cali40s:B"), Action::drop(), ""},
                   {Match().sourceIpSet("cali40s:A"), Action::accept(), ""}});
  EXPECT_EQ(r.ipsets, (std::set<std::string>{"cali40s:A", "cali40s:B"}));
  EXPECT_EQ(r.rules.at(0).text,
            "ip saddr @cali40s-A ip daddr != @cali40s-B drop comment \"cali:h0\"");
}

Rule dispatch(const std::string& iface, const std::string& chain, bool out = false) {
  Match m = out ? Match().outInterface(iface) : Match().inInterface(iface);
  return {m, Action::goTo(chain), ""};
}

TEST(NftablesRenderTest, DispatchRunsBecomeNamedVerdictMaps) {
  const std::vector<Rule> rules{
      dispatch("cali1", "cali-fw-cali1"),
      {Match().inInterface("cali2"), Action::jump("cali-fw-cali2"), ""},
      dispatch("cali3", "cali-fw-cali3"),
      {Match().inInterface("cali+"), Action::drop(), ""},  // a wildcard ends the run
      dispatch("cali4", "cali-fw-cali4"),                  // a run of one stays a rule
      {Match().inInterface("cali5"), Action::goTo("cali-fw-cali5"), "note"},  // commented
      dispatch("cali6", "cali-tw-cali6", true),  // oifname: its own run ...
      dispatch("cali7", "cali-tw-cali7", true),
      dispatch("cali8", "cali-fw-cali8"),  // ... ended by an iifname
      dispatch("cali9", "cali-fw-cali9"),
      dispatch("cali8", "cali-fw-cali8x"),  // a repeated name starts a new run
  };
  auto r = render(rules);
  // A map rule's id is its text's hash; the rules after it chain from that id.
  const std::string map0 = hash16("iifname vmap @filter-d-map");
  const std::string map1 = hash16("oifname vmap @filter-d-map1");
  const std::string map2 = hash16("iifname vmap @filter-d-map2");
  const std::vector<Rule> after0(rules.begin() + 3, rules.end());
  const auto tail0 = ruleHashes(map0, after0);
  const auto tail2 = ruleHashes(map2, {rules.back()});
  EXPECT_EQ(
      texts(r),
      (std::vector<std::string>{
          "iifname vmap @filter-d-map comment \"cali:" + map0 + "\"",
          "iifname \"cali*\" drop comment \"cali:" + tail0[0] + "\"",
          "iifname \"cali4\" goto filter-cali-fw-cali4 comment \"cali:" + tail0[1] + "\"",
          "iifname \"cali5\" goto filter-cali-fw-cali5 comment \"cali:" + tail0[2] + "; note\"",
          "oifname vmap @filter-d-map1 comment \"cali:" + map1 + "\"",
          "iifname vmap @filter-d-map2 comment \"cali:" + map2 + "\"",
          "iifname \"cali8\" goto filter-cali-fw-cali8x comment \"cali:" + tail2[0] + "\"",
      }));
  EXPECT_EQ(r.rules[0].id, map0);
  EXPECT_EQ(r.rules[2].id, tail0[1]);
  using Elements = std::map<std::string, std::string>;
  EXPECT_EQ(r.maps,
            (std::map<std::string, Elements>{
                {"filter-d-map",
                 {{"cali1", "goto filter-cali-fw-cali1"},
                  {"cali2", "jump filter-cali-fw-cali2"},
                  {"cali3", "goto filter-cali-fw-cali3"}}},
                {"filter-d-map1",
                 {{"cali6", "goto filter-cali-tw-cali6"}, {"cali7", "goto filter-cali-tw-cali7"}}},
                {"filter-d-map2",
                 {{"cali8", "goto filter-cali-fw-cali8"}, {"cali9", "goto filter-cali-fw-cali9"}}},
            }));
  // Without a map the ids are the Felix hashes given.
  auto plain = render({dispatch("cali1", "a"), {Match(), Action::drop(), ""}});
  EXPECT_EQ(plain.rules.at(1).id, "h1");
  EXPECT_TRUE(plain.maps.empty());
}

// A workload interface's rule by device group (rules/endpoints.h).
Rule grouped(const std::string& iface, uint32_t group, const std::string& target,
             bool out = false) {
  Match m =
      out ? Match().outInterface(iface).outGroup(group) : Match().inInterface(iface).inGroup(group);
  return {m, Action::goTo(target), ""};
}

TEST(NftablesRenderTest, GroupedRunsBecomeAPairSetAndAMapByGroup) {
  const std::vector<Rule> rules{
      grouped("cali1", 7, "cali-fw-g7"),
      grouped("cali2", 9, "cali-fw-g9"),
      grouped("cali3", 7, "cali-fw-g7"),
      grouped("cali3", 9, "cali-fw-g9"),     // an interface in two groups: two pairs
      grouped("cali4", 7, "cali-fw-other"),  // group 7 elsewhere ends the run
      grouped("cali5", 7, "cali-fw-other"),
      dispatch("cali6", "cali-fw-cali6"),  // an ungrouped rule ends it too
      dispatch("cali7", "cali-fw-cali7"),
      grouped("cali8", 3, "cali-tw-g3", true),  // a lone one stays a rule
  };
  auto r = render(rules);
  const std::string run0 =
      "iifname . meta iifgroup @filter-d-gmap-if meta iifgroup vmap @filter-d-gmap";
  const std::string run1 =
      "iifname . meta iifgroup @filter-d-gmap1-if meta iifgroup vmap @filter-d-gmap1";
  const std::string run2 = "iifname vmap @filter-d-map2";
  const auto tail = ruleHashes(hash16(run2), {rules.back()});
  EXPECT_EQ(texts(r),
            (std::vector<std::string>{
                run0 + " comment \"cali:" + hash16(run0) + "\"",
                run1 + " comment \"cali:" + hash16(run1) + "\"",
                run2 + " comment \"cali:" + hash16(run2) + "\"",
                "oifname \"cali8\" meta oifgroup 3 goto filter-cali-tw-g3 comment \"cali:" +
                    tail[0] + "\"",
            }));
  using Elements = std::map<std::string, std::string>;
  EXPECT_EQ(r.maps.at("filter-d-gmap"),
            (Elements{{"7", "goto filter-cali-fw-g7"}, {"9", "goto filter-cali-fw-g9"}}));
  EXPECT_EQ(r.maps.at("filter-d-gmap-if"),
            (Elements{{"cali1 . 7", ""}, {"cali2 . 9", ""}, {"cali3 . 7", ""}, {"cali3 . 9", ""}}));
  EXPECT_EQ(r.maps.at("filter-d-gmap1"), (Elements{{"7", "goto filter-cali-fw-other"}}));
  ASSERT_EQ(r.runs.size(), 3u);
  EXPECT_TRUE(r.runs[0].grouped);
  EXPECT_EQ(r.runs[1].begin, 4u);
  EXPECT_FALSE(r.runs[2].grouped);

  EXPECT_EQ(nftMapKind("filter-d-gmap"), NftMapKind::kGroup);
  EXPECT_EQ(nftMapKind("filter-d-gmap12"), NftMapKind::kGroup);
  EXPECT_EQ(nftMapKind("filter-d-gmap1-if"), NftMapKind::kPairs);
  EXPECT_EQ(nftMapKind("filter-d-map3"), NftMapKind::kInterface);
  // A selector set's or port set's name (base64url) may end in "-if" as well: not a pair set.
  EXPECT_NE(nftMapKind("cali40s-Uh1Ln4ztYwBJ2T_JJzf4k-if"), NftMapKind::kPairs);
  EXPECT_NE(nftMapKind("p-3Yc0iRk1W-if"), NftMapKind::kPairs);
  EXPECT_EQ(nftMapElement(NftMapKind::kPairs, "cali3 . 9"), "\"cali3\" . 9");
  const std::string verdict = "goto x";
  EXPECT_EQ(nftMapElement(NftMapKind::kGroup, "9", &verdict), "9 : goto x");
  EXPECT_EQ(nftMapElement(NftMapKind::kInterface, "cali3", &verdict), "\"cali3\" : goto x");
  EXPECT_EQ(nftMapDeclaration("calico", "filter-d-gmap-if"),
            "add set inet calico filter-d-gmap-if { type ifname . devgroup; }");
  EXPECT_EQ(nftMapDeclaration("calico", "filter-d-gmap"),
            "add map inet calico filter-d-gmap { type devgroup : verdict; }");
}

// An endpoint more or less changes the map's elements only: no rule's text or id, so the chain
// is not rewritten.
TEST(NftablesRenderTest, NoRuleChangesWithTheMapsElements) {
  auto dispatchChain = [](int endpoints) {
    std::vector<Rule> rules;
    for (int i = 0; i < endpoints; ++i) {
      rules.push_back(dispatch("cali" + std::to_string(i), "cali-fw-cali" + std::to_string(i)));
    }
    rules.push_back({Match(), Action::drop(), "Unknown interface"});
    // The chain's real (chained) hashes: every one after a change differs.
    auto r = renderNftRules(TableName::kFilter, kV6, "filter6-cali-from-wl-dispatch", rules,
                            ruleHashes("cali-from-wl-dispatch", rules), namer);
    EXPECT_EQ(r.maps.size(), 1u);
    EXPECT_EQ(r.maps.begin()->second.size(), static_cast<size_t>(endpoints));
    return r;
  };
  auto three = dispatchChain(3), four = dispatchChain(4);
  ASSERT_EQ(three.rules.size(), 2u);
  ASSERT_EQ(four.rules.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(three.rules[i].text, four.rules[i].text);
    EXPECT_EQ(three.rules[i].id, four.rules[i].id);
  }
  EXPECT_TRUE(three.rules[0].text.starts_with("iifname vmap @filter6-cali-from-wl-dispatch-map "))
      << three.rules[0].text;
  EXPECT_EQ(four.maps.at("filter6-cali-from-wl-dispatch-map").at("cali3"),
            "goto filter6-cali-fw-cali3");
  // The base chain's guard: one map per family, named after the family's chain name.
  auto base = render({dispatch("cali1", "a"), dispatch("cali2", "b")}, kV6, true);
  EXPECT_EQ(texts(base), std::vector<std::string>{
                             "meta nfproto ipv6 iifname vmap @filter6-d-map comment \"cali:" +
                             hash16("meta nfproto ipv6 iifname vmap @filter6-d-map") + "\""});
}

// Replayed edits give what rendering the edited chain gives: the same rules (text and id), runs
// and map elements; edits that would change more than elements are refused. Random chains of
// dispatch rules in both directions, repeated names and other rules, random edits.
TEST(NftablesRenderTest, ReplayedEditsEqualARenderingOfTheEditedChain) {
  uint32_t seed = 17;
  auto next = [&seed](uint32_t n) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % n;
  };
  auto randomRule = [&]() -> Rule {
    const std::string iface = "cali" + std::to_string(next(40));
    const uint32_t group = next(4);
    switch (next(12)) {
      case 0:
        return {Match().protocol("tcp"), Action::accept(), ""};
      case 8:
      case 9:
      case 10:  // grouped, now and then to another group's chain
        return grouped(iface, group, "cali-fw-g" + std::to_string(next(6) ? group : group + 1));
      case 11:
        return grouped(iface, group, "cali-tw-g" + std::to_string(group), true);
      case 1:
        return dispatch(iface, "cali-tw-" + iface, true);
      case 2:
        return dispatch(iface + "+", "cali-x");  // a wildcard: never in a map
      default:
        return dispatch(iface, "cali-fw-" + iface + (next(4) == 0 ? "b" : ""));
    }
  };
  auto renderOf = [](const std::vector<Rule>& rules) {
    return renderNftRules(TableName::kFilter, kV4, "filter-c", rules, ruleHashes("c", rules),
                          namer);
  };
  int replayed = 0, refused = 0;
  for (int round = 0; round < 4000; ++round) {
    std::vector<Rule> rules;
    const size_t n = 2 + next(10);
    for (size_t i = 0; i < n; ++i) rules.push_back(randomRule());
    if (next(2)) rules.push_back({Match(), Action::drop(), "Unknown interface"});
    const NftRendered before = renderOf(rules);
    std::vector<RuleEdit> edits;
    for (size_t e = 1 + next(3); e > 0; --e) {
      if (!rules.empty() && next(2)) {
        const size_t at = next(static_cast<uint32_t>(rules.size()));
        edits.push_back({at, false, rules[at]});
        rules.erase(rules.begin() + static_cast<long>(at));
      } else {
        const size_t at = next(static_cast<uint32_t>(rules.size() + 1));
        edits.push_back({at, true, randomRule()});
        rules.insert(rules.begin() + static_cast<long>(at), edits.back().rule);
      }
    }
    const NftRendered after = renderOf(rules);
    std::vector<NftMapRun> runs = before.runs;
    std::map<std::string, NftElementChanges> changes;
    if (!replayNftMapEdits(TableName::kFilter, kV4, rules, edits, runs, before.maps, changes)) {
      ++refused;
      continue;
    }
    ++replayed;
    ASSERT_EQ(texts(after), texts(before)) << "round " << round;
    for (size_t i = 0; i < after.rules.size(); ++i) {
      EXPECT_EQ(after.rules[i].id, before.rules[i].id) << "round " << round;
    }
    ASSERT_EQ(runs.size(), after.runs.size()) << "round " << round;
    for (size_t i = 0; i < runs.size(); ++i) {
      EXPECT_EQ(runs[i].map, after.runs[i].map);
      EXPECT_EQ(runs[i].begin, after.runs[i].begin) << "round " << round;
      EXPECT_EQ(runs[i].end, after.runs[i].end) << "round " << round;
      EXPECT_EQ(runs[i].incoming, after.runs[i].incoming);
      EXPECT_EQ(runs[i].grouped, after.runs[i].grouped);
    }
    auto maps = before.maps;
    for (const auto& [map, elements] : changes) {
      for (const auto& [iface, verdict] : elements) {
        if (verdict) {
          maps[map][iface] = *verdict;
        } else {
          maps[map].erase(iface);
        }
      }
    }
    EXPECT_EQ(maps, after.maps) << "round " << round;
  }
  // Both paths taken often enough to mean something.
  EXPECT_GT(replayed, 100);
  EXPECT_GT(refused, 100);
}
}  // namespace
}  // namespace brindle::dataplane
