// Golden tests: the seed's S17 lab (examples/seed-lab, examples/lab) on slave1 and slave2 renders
// to the seed's chains (S13-S16) with the same structure, names and order. Two checks:
//  1. SeedDump: each chain the seed dumps (its own text is embedded below) is compared rule by
//     rule, as sets of iptables options, with our chain of the same name; the seed's rule hashes
//     and ipset names map to ours (the mapping is written to golden/seed_hash_mapping.txt).
//  2. Golden files: the complete iptables-restore and ipset-restore text per node/family.
// Regenerate golden files with BRINDLE_UPDATE_GOLDEN=1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "calc/calc_graph.h"
#include "calc/rule_scanner.h"
#include "dataplane/iptables_render.h"
#include "model/codec.h"
#include "rules/names.h"
#include "rules/ruleset.h"

namespace brindle::rules {
namespace {

using dataplane::IpVersion;
using dataplane::TableName;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<model::Resource> load(const std::vector<std::string>& files) {
  std::vector<model::Resource> out;
  for (const auto& f : files) {
    auto r = model::decodeResources(readFile(std::string(BRINDLE_EXAMPLES_DIR) + "/" + f), f);
    EXPECT_TRUE(r) << r.message();
    if (r) out.insert(out.end(), r->resources.begin(), r->resources.end());
  }
  return out;
}

std::vector<model::Resource> seedLab() {
  return load({"lab/nodes.yaml", "lab/ippool.yaml", "seed-lab/endpoints.yaml",
               "seed-lab/policy.yaml", "seed-lab/profile.yaml"});
}

calc::DataplaneState calculate(const std::string& node, const std::vector<model::Resource>& rs) {
  calc::DataplaneState state;
  calc::CalcGraph graph(node, state);
  for (const auto& r : rs) graph.onUpdate(calc::Update{calc::UpdateType::kAdded, r.key(), r, {}});
  graph.onInSync();
  EXPECT_TRUE(graph.rejected().empty());
  return state;
}

void checkGolden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(BRINDLE_GOLDEN_DIR) + "/" + name;
  const char* update = std::getenv("BRINDLE_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path) << actual;
    return;
  }
  std::ifstream probe(path);
  ASSERT_TRUE(probe.good()) << path << " missing; run with BRINDLE_UPDATE_GOLDEN=1";
  EXPECT_EQ(readFile(path), actual)
      << "golden " << name << " differs; if intended, regenerate with BRINDLE_UPDATE_GOLDEN=1";
}

std::string fullText(const calc::DataplaneState& s, IpVersion v, const RendererConfig& c) {
  return renderRulesetRestore(renderRuleset(s, v, c), c) + "# ipset restore\n" +
         renderIpSetsRestore(s, v);
}

// ---- the seed's dump (000_bad1c1a64e74852e.txt, "node的报文处理过程"), verbatim ----
struct SeedChain {
  TableName table;
  std::vector<std::string> lines;
};

const std::vector<SeedChain> kSeedCommon = {
    {TableName::kRaw,
     {R"(-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING)"}},
    {TableName::kRaw,
     {R"(-A cali-PREROUTING -m comment --comment "cali:x4XbVMc5P_kNXnTy" -j MARK --set-xmark 0x0/0x7000000)",
      R"(-A cali-PREROUTING -i cali+ -m comment --comment "cali:fQeZek80kVOPa0xO" -j MARK --set-xmark 0x4000000/0x4000000)",
      R"(-A cali-PREROUTING -m comment --comment "cali:xp3NolkIpulCQL_G" -m mark --mark 0x0/0x4000000 -j cali-from-host-endpoint)",
      R"(-A cali-PREROUTING -m comment --comment "cali:fbdE50A0BiINbNiA" -m mark --mark 0x1000000/0x1000000 -j ACCEPT)"}},
    {TableName::kNat,
     {R"(-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING)"}},
    {TableName::kNat,
     {R"(-A cali-PREROUTING -m comment --comment "cali:r6XmIziWUJsdOK6Z" -j cali-fip-dnat)"}},
    {TableName::kNat,
     {R"(-A cali-POSTROUTING -m comment --comment "cali:Z-c7XtVd2Bq7s_hA" -j cali-fip-snat)",
      R"(-A cali-POSTROUTING -m comment --comment "cali:nYKhEzDlr11Jccal" -j cali-nat-outgoing)"}},
    {TableName::kNat, {R"(-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT)"}},
    {TableName::kNat,
     {R"(-A cali-OUTPUT -m comment --comment "cali:GBTAv2p5CwevEyJm" -j cali-fip-dnat)"}},
    {TableName::kNat,
     {R"(-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING)"}},
    {TableName::kFilter,
     {R"(-A INPUT -m comment --comment "cali:Cz_u1IQiXIMmKD4c" -j cali-INPUT)"}},
    {TableName::kFilter,
     {R"(-A cali-INPUT -m comment --comment "cali:46gVAqzWLjH8U4O2" -m mark --mark 0x1000000/0x1000000 -m conntrack --ctstate UNTRACKED -j ACCEPT)",
      R"(-A cali-INPUT -m comment --comment "cali:5M2EkEm-RVlDLAfE" -m conntrack --ctstate INVALID -j DROP)",
      R"(-A cali-INPUT -m comment --comment "cali:8ggYjLbFRX5Ap9Zj" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT)",
      R"(-A cali-INPUT -i cali+ -m comment --comment "cali:mA3ZJKi9nadUmYVF" -g cali-wl-to-host)",
      R"(-A cali-INPUT -m comment --comment "cali:hI4IjifGj0fegLPE" -j MARK --set-xmark 0x0/0x7000000)",
      R"(-A cali-INPUT -m comment --comment "cali:wdegoKfPlcmsZTOM" -j cali-from-host-endpoint)",
      R"(-A cali-INPUT -m comment --comment "cali:r875VVc8vFk1f-ZA" -m comment --comment "Host endpoint policy accepted packet." -m mark --mark 0x1000000/0x1000000 -j ACCEPT)"}},
    {TableName::kFilter,
     {R"(-A cali-wl-to-host -p udp -m comment --comment "cali:aEOMPPLgak2S0Lxs" -m multiport --sports 68 -m multiport --dports 67 -j ACCEPT)",
      R"(-A cali-wl-to-host -p udp -m comment --comment "cali:SzR8ejPiuXtFMS8B" -m multiport --dports 53 -j ACCEPT)",
      R"(-A cali-wl-to-host -m comment --comment "cali:MEmlbCdco0Fefcrw" -j cali-from-wl-dispatch)",
      R"(-A cali-wl-to-host -m comment --comment "cali:Q2b2iY2M-vmds5iY" -m comment --comment "Configured DefaultEndpointToHostAction" -j RETURN)"}},
    {TableName::kFilter,
     {R"(-A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD)"}},
    {TableName::kFilter,
     {R"(-A cali-FORWARD -m comment --comment "cali:jxvuJjmmRV135nVu" -m mark --mark 0x1000000/0x1000000 -m conntrack --ctstate UNTRACKED -j ACCEPT)",
      R"(-A cali-FORWARD -m comment --comment "cali:8YeDX9Z0tXyO0Sp8" -m conntrack --ctstate INVALID -j DROP)",
      R"(-A cali-FORWARD -m comment --comment "cali:1GMSV-PhhZ8QbJg4" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT)",
      R"(-A cali-FORWARD -i cali+ -m comment --comment "cali:36TkoGXj9EF7Plkv" -j cali-from-wl-dispatch)",
      R"(-A cali-FORWARD -o cali+ -m comment --comment "cali:URMhBRo8ugd8J8Yx" -j cali-to-wl-dispatch)",
      R"(-A cali-FORWARD -i cali+ -m comment --comment "cali:FyhWsW08U3a5niLK" -j ACCEPT)",
      R"(-A cali-FORWARD -o cali+ -m comment --comment "cali:G655uIfZuidj1gAw" -j ACCEPT)",
      R"(-A cali-FORWARD -m comment --comment "cali:4GbueNC2iWajKnxO" -j MARK --set-xmark 0x0/0x7000000)",
      R"(-A cali-FORWARD -m comment --comment "cali:bq3wVY3mkXk96NQP" -j cali-from-host-endpoint)",
      R"(-A cali-FORWARD -m comment --comment "cali:G8sjbYXH5_QiYnBl" -j cali-to-host-endpoint)",
      R"(-A cali-FORWARD -m comment --comment "cali:wYFYRdMhtSYCqKNm" -m comment --comment "Host endpoint policy accepted packet." -m mark --mark 0x1000000/0x1000000 -j ACCEPT)"}},
    {TableName::kFilter,
     {R"(-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT)"}},
    {TableName::kFilter,
     {R"(-A cali-OUTPUT -m comment --comment "cali:FwFFCT8uDthhfgS7" -m mark --mark 0x1000000/0x1000000 -m conntrack --ctstate UNTRACKED -j ACCEPT)",
      R"(-A cali-OUTPUT -m comment --comment "cali:KQN1p6BZgCGuApYk" -m conntrack --ctstate INVALID -j DROP)",
      R"(-A cali-OUTPUT -m comment --comment "cali:ThMSEAwgeF4nAqRa" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT)",
      R"(-A cali-OUTPUT -o cali+ -m comment --comment "cali:0YpIH4BWIJL90PfX" -j RETURN)",
      R"(-A cali-OUTPUT -m comment --comment "cali:sUIDpoFnawuqGYyG" -j MARK --set-xmark 0x0/0x7000000)",
      R"(-A cali-OUTPUT -m comment --comment "cali:vQVzNX-dNxUnYjUT" -j cali-to-host-endpoint)",
      R"(-A cali-OUTPUT -m comment --comment "cali:Ry2SAIVyda14xWHB" -m comment --comment "Host endpoint policy accepted packet." -m mark --mark 0x1000000/0x1000000 -j ACCEPT)"}},
};

const std::vector<SeedChain> kSeedSlave1 = {
    {TableName::kFilter,
     {R"(-A cali-from-wl-dispatch -i cali0ef24b1 -m comment --comment "cali:RkM6MKQgU0OTxwKU" -g cali-fw-cali0ef24b1)",
      R"(-A cali-from-wl-dispatch -i cali0ef24b2 -m comment --comment "cali:7hIahXYNmY9JDfKG" -g cali-fw-cali0ef24b2)",
      R"(-A cali-from-wl-dispatch -m comment --comment "cali:YKcphdGNZ1PwfGvt" -m comment --comment "Unknown interface" -j DROP)"}},
    {TableName::kFilter,
     {R"(-A cali-to-wl-dispatch -o cali0ef24b1 -m comment --comment "cali:ofrbQ8PhcrIR6rgF" -g cali-tw-cali0ef24b1)",
      R"(-A cali-to-wl-dispatch -o cali0ef24b2 -m comment --comment "cali:l9Rs20XXIl4D5AVE" -g cali-tw-cali0ef24b2)",
      R"(-A cali-to-wl-dispatch -m comment --comment "cali:dxGyc_mZA_GT16Wb" -m comment --comment "Unknown interface" -j DROP)"}},
    {TableName::kFilter,
     {R"(-A cali-fw-cali0ef24b1 -m comment --comment "cali:KOIFJxkWqvpSMSzk" -j MARK --set-xmark 0x0/0x1000000)",
      R"(-A cali-fw-cali0ef24b1 -m comment --comment "cali:Mm_GAikGLiINmRQh" -m comment --comment "Start of policies" -j MARK --set-xmark 0x0/0x2000000)",
      R"(-A cali-fw-cali0ef24b1 -m comment --comment "cali:c6bGtQzwKsoipZq6" -m mark --mark 0x0/0x2000000 -j cali-po-namespace-default)",
      R"(-A cali-fw-cali0ef24b1 -m comment --comment "cali:46b6gNjtXYDXasAi" -m comment --comment "Return if policy accepted" -m mark --mark 0x1000000/0x1000000 -j RETURN)",
      R"(-A cali-fw-cali0ef24b1 -m comment --comment "cali:6kNf2_vqiCYkwInx" -m comment --comment "Drop if no policies passed packet" -m mark --mark 0x0/0x2000000 -j DROP)",
      R"(-A cali-fw-cali0ef24b1 -m comment --comment "cali:GWdesho87l08Srht" -m comment --comment "Drop if no profiles matched" -j DROP)"}},
    {TableName::kFilter,
     {R"(-A cali-tw-cali0ef24b1 -m comment --comment "cali:v-IVzQuOaLDTvlKQ" -j MARK --set-xmark 0x0/0x1000000)",
      R"(-A cali-tw-cali0ef24b1 -m comment --comment "cali:vE8JWROTKOuSK0cA" -m comment --comment "Start of policies" -j MARK --set-xmark 0x0/0x2000000)",
      R"(-A cali-tw-cali0ef24b1 -m comment --comment "cali:fVy5z1nXaCLhF0EQ" -m mark --mark 0x0/0x2000000 -j cali-pi-namespace-default)",
      R"(-A cali-tw-cali0ef24b1 -m comment --comment "cali:_B9yiomhSoQTzhKL" -m comment --comment "Return if policy accepted" -m mark --mark 0x1000000/0x1000000 -j RETURN)",
      R"(-A cali-tw-cali0ef24b1 -m comment --comment "cali:uNPReN9_BghUJj7S" -m comment --comment "Drop if no policies passed packet" -m mark --mark 0x0/0x2000000 -j DROP)"}},
    {TableName::kFilter,
     {R"(-A cali-pi-namespace-default -m comment --comment "cali:K4jTheFcVvdYaw0q" -j DROP)",
      R"(-A cali-pi-namespace-default -m comment --comment "cali:VTQ78plyA8u_8_YC" -m set --match-set cali4-s:CEmFgJFwDvohR01JKvOkO8D src -j MARK --set-xmark 0x1000000/0x1000000)",
      R"(-A cali-pi-namespace-default -m comment --comment "cali:OAWI2ts9a8YpVP2b" -m mark --mark 0x1000000/0x1000000 -j RETURN)"}},
    {TableName::kFilter,
     {R"(-A cali-po-namespace-default -m comment --comment "cali:uT-hMQk_SRgHsKxT" -j MARK --set-xmark 0x1000000/0x1000000)",
      R"(-A cali-po-namespace-default -m comment --comment "cali:KDa-ASKrRQu4eYZs" -m mark --mark 0x1000000/0x1000000 -j RETURN)"}},
};

const std::vector<SeedChain> kSeedSlave2 = {
    {TableName::kFilter,
     {R"(-A cali-fw-cali0ef24b3 -m comment --comment "cali:CxOkDjFlTZaT70VP" -j MARK --set-xmark 0x0/0x1000000)",
      R"(-A cali-fw-cali0ef24b3 -m comment --comment "cali:2QQMYVCQs_pXjuNx" -m comment --comment "Start of policies" -j MARK --set-xmark 0x0/0x2000000)",
      R"(-A cali-fw-cali0ef24b3 -m comment --comment "cali:DyV6lV76WK8YZaJX" -m mark --mark 0x0/0x2000000 -j cali-po-namespace-default)",
      R"(-A cali-fw-cali0ef24b3 -m comment --comment "cali:TvuIyAsPjYsOd6oG" -m comment --comment "Return if policy accepted" -m mark --mark 0x1000000/0x1000000 -j RETURN)",
      R"(-A cali-fw-cali0ef24b3 -m comment --comment "cali:TXGkGvhZNM8gWSFv" -m comment --comment "Drop if no policies passed packet" -m mark --mark 0x0/0x2000000 -j DROP)",
      R"(-A cali-fw-cali0ef24b3 -m comment --comment "cali:sc2HAyx9fn5_mw0k" -j cali-pro-profile-database)",
      R"(-A cali-fw-cali0ef24b3 -m comment --comment "cali:LxL3UEOyLww7VztW" -m comment --comment "Return if profile accepted" -m mark --mark 0x1000000/0x1000000 -j RETURN)",
      R"(-A cali-fw-cali0ef24b3 -m comment --comment "cali:PMXWen2JRtHBNBVn" -m comment --comment "Drop if no profiles matched" -j DROP)"}},
    {TableName::kFilter,
     {R"(-A cali-tw-cali0ef24b3 -m comment --comment "cali:-l47AwgMbB6upZ-7" -j MARK --set-xmark 0x0/0x1000000)",
      R"(-A cali-tw-cali0ef24b3 -m comment --comment "cali:3qLl7L7-k49jf6Eu" -m comment --comment "Start of policies" -j MARK --set-xmark 0x0/0x2000000)",
      R"(-A cali-tw-cali0ef24b3 -m comment --comment "cali:Q6ycGZQm9W9l4KiJ" -m mark --mark 0x0/0x2000000 -j cali-pi-namespace-default)",
      R"(-A cali-tw-cali0ef24b3 -m comment --comment "cali:_ILnIsDpaSEGOULc" -m comment --comment "Return if policy accepted" -m mark --mark 0x1000000/0x1000000 -j RETURN)",
      R"(-A cali-tw-cali0ef24b3 -m comment --comment "cali:CtKcOQPXG9FZiCN-" -m comment --comment "Drop if no policies passed packet" -m mark --mark 0x0/0x2000000 -j DROP)",
      R"(-A cali-tw-cali0ef24b3 -m comment --comment "cali:NR6mgOGAOw90NLpp" -j cali-pri-profile-database)",
      R"(-A cali-tw-cali0ef24b3 -m comment --comment "cali:_OapaK4JADerp4Fv" -m comment --comment "Return if profile accepted" -m mark --mark 0x1000000/0x1000000 -j RETURN)",
      R"(-A cali-tw-cali0ef24b3 -m comment --comment "cali:ZVuAf3Bzin6dOKSX" -m comment --comment "Drop if no profiles matched" -j DROP)"}},
    {TableName::kFilter,
     {R"(-A cali-pro-profile-database -m comment --comment "cali:laSwzk9Ihy5ArWJB" -j MARK --set-xmark 0x1000000/0x1000000)",
      R"(-A cali-pro-profile-database -m comment --comment "cali:BpvFNyMPRLC0lDtu" -m mark --mark 0x1000000/0x1000000 -j RETURN)"}},
    {TableName::kFilter,
     {R"(-A cali-pri-profile-database -m comment --comment "cali:viAiQwvuZPt5-44a" -j DROP)",
      R"(-A cali-pri-profile-database -p tcp -m comment --comment "cali:Vcuflyj-wUF-f_Mo" -m set --match-set cali4-s:i357Nlxxj3AMBTQ4WyOllNt src -m multiport --dports 3306 -j MARK --set-xmark 0x1000000/0x1000000)",
      R"(-A cali-pri-profile-database -m comment --comment "cali:JWP_zDo3JNywNc0V" -m mark --mark 0x1000000/0x1000000 -j RETURN)"}},
};

// Where we knowingly differ from the seed's dump (chain, index, why).
struct Divergence {
  std::string chain;
  size_t index;
  const char* why;
};
// The seed's Felix named policy chains by the bare policy name; the current Felix names them by
// kind and full name (gnp/default.namespace-default, hashed to fit): the seed's text is compared
// under our names.
std::string withOurPolicyChainNames(std::string line) {
  for (bool ingress : {true, false}) {
    const std::string seedName =
        ingress ? "cali-pi-namespace-default" : "cali-po-namespace-default";
    const std::string ours = policyChainName({"default", "default.namespace-default"}, ingress);
    for (size_t at; (at = line.find(seedName)) != std::string::npos;) {
      line.replace(at, seedName.size(), ours);
    }
  }
  return line;
}

// Seed rules without a counterpart in our output.
const std::vector<Divergence> kSeedOnly = {
    {withOurPolicyChainNames("cali-pi-namespace-default"), 0,
     "the seed dumped an older version of the policy whose ingress began with `deny` (its own "
     "text says so); S17's policy.yaml, our input, has only the allow"},
};
// Our rules without a counterpart in the seed's dump.
const std::vector<Divergence> kOursOnly = {
    {"cali-tw-cali0ef24b1", 5,
     "the seed's listing of this chain stops early; Calico ends every endpoint chain with "
     "\"Drop if no profiles matched\", as the seed's own cali-fw-cali0ef24b1 shows"},
};

// The seed's ipset names -> ours (cali4-s: was Calico's old prefix, cali40s: the current one).
std::map<std::string, std::string> ipsetMapping() {
  auto name = [](const char* sel) {
    return ipSetName(calc::selectorIpSetId(*selector::Selector::parse(sel)), IpVersion::kV4);
  };
  return {
      {"cali4-s:CEmFgJFwDvohR01JKvOkO8D", name("namespace == 'default'")},
      {"cali4-s:i357Nlxxj3AMBTQ4WyOllNt", name("namespace == 'default' && service == 'frontend'")}};
}

std::vector<std::string> tokens(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : s) {
    if (c == '"') quoted = !quoted;
    if (c == ' ' && !quoted) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// A rule as the sorted set of its option groups ("-m mark", "--mark 0x0/0x2000000", "! -s x"),
// so iptables-save's reordering of options does not matter; the hash comment is taken out.
std::string normalize(const std::string& ruleText, std::string* hash,
                      const std::map<std::string, std::string>& ipsets) {
  auto t = tokens(ruleText);
  std::vector<std::string> groups;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == "-m" && i + 3 < t.size() && t[i + 1] == "comment" && t[i + 2] == "--comment" &&
        t[i + 3].rfind("\"cali:", 0) == 0) {
      if (hash) *hash = t[i + 3].substr(6, t[i + 3].size() - 7);
      i += 3;
      continue;
    }
    std::string tok = ipsets.count(t[i]) ? ipsets.at(t[i]) : t[i];
    bool startsGroup = tok == "!" || (tok[0] == '-' && !(groups.size() && groups.back() == "!"));
    if (startsGroup || groups.empty()) {
      groups.push_back(tok);
    } else {
      groups.back() += " " + tok;
    }
  }
  std::sort(groups.begin(), groups.end());
  std::string out;
  for (const auto& g : groups) out += "[" + g + "]";
  return out;
}

std::string ourRuleText(const dataplane::Rule& r) {
  std::string s;
  if (!r.comment.empty()) s += "-m comment --comment \"" + r.comment + "\" ";
  return s + dataplane::renderMatch(r.match) + " " + dataplane::renderAction(r.action);
}

// Compares the seed's chains with ours and appends "seed hash -> our hash" lines to `mapping`.
void compareWithSeed(const Ruleset& ours, const std::vector<SeedChain>& seed,
                     std::string& mapping) {
  const auto ipsets = ipsetMapping();
  for (SeedChain sc : seed) {
    for (auto& line : sc.lines) line = withOurPolicyChainNames(line);
    const std::string chain = tokens(sc.lines.at(0)).at(1);
    const TableRules& table = ours.tables.at(sc.table);
    std::vector<dataplane::Rule> rules;
    if (chain.rfind("cali-", 0) != 0) {
      ASSERT_TRUE(table.insertions.count(chain)) << chain;
      rules = table.insertions.at(chain);
    } else {
      auto it = std::find_if(table.chains.begin(), table.chains.end(),
                             [&](const dataplane::Chain& c) { return c.name == chain; });
      ASSERT_NE(it, table.chains.end()) << "no chain " << chain;
      rules = it->rules;
    }
    const auto hashes = dataplane::ruleHashes(chain, rules);
    std::vector<std::pair<size_t, std::string>> mine;  // (our index, normalized)
    for (size_t i = 0; i < rules.size(); ++i) {
      bool skip = std::any_of(kOursOnly.begin(), kOursOnly.end(), [&](const Divergence& d) {
        return d.chain == chain && d.index == i;
      });
      if (!skip) mine.push_back({i, normalize(ourRuleText(rules[i]), nullptr, {})});
    }
    std::vector<std::pair<std::string, std::string>> theirs;  // (seed hash, normalized)
    for (size_t i = 0; i < sc.lines.size(); ++i) {
      bool skip = std::any_of(kSeedOnly.begin(), kSeedOnly.end(), [&](const Divergence& d) {
        return d.chain == chain && d.index == i;
      });
      std::string hash;
      std::string rest = sc.lines[i].substr(4 + chain.size());  // drop "-A <chain> "
      std::string norm = normalize(rest, &hash, ipsets);
      if (skip) {
        mapping += hash + " -> (none)             " + chain + " (seed-only)\n";
        continue;
      }
      theirs.push_back({hash, norm});
    }
    ASSERT_EQ(mine.size(), theirs.size()) << chain;
    // Rule hashes are Felix's: a chain whose rules are the seed's Felix's, word for word, carries
    // its hashes. (Not so where that Felix named sets and policy chains in its older way or
    // where the chains differ; each hash covers the rules above it.)
    const bool sameText = std::none_of(sc.lines.begin(), sc.lines.end(),
                                       [](const auto& l) {
                                         return l.find("--match-set") != std::string::npos ||
                                                l.find("cali-p") != std::string::npos;
                                       }) &&
                          mine.size() == rules.size() && theirs.size() == sc.lines.size();
    for (size_t i = 0; i < mine.size(); ++i) {
      EXPECT_EQ(mine[i].second, theirs[i].second) << chain << " rule " << i;
      if (sameText) {
        EXPECT_EQ(hashes[mine[i].first], theirs[i].first) << chain << " rule " << i;
      }
      mapping += theirs[i].first + " -> " + hashes[mine[i].first] + " " +
                 dataplane::tableNameText(sc.table) + " " + chain + " #" +
                 std::to_string(mine[i].first) + "\n";
    }
  }
}

// The seed's Felix ran with DefaultEndpointToHostAction RETURN and no anti-spoofing rule.
RendererConfig seedConfig() {
  RendererConfig c;
  c.defaultEndpointToHostAction = EndpointToHostAction::kReturn;
  c.antiSpoofing = false;
  return c;
}

TEST(Golden, SeedDumpStructureNamesAndOrder) {
  const auto rs = seedLab();
  std::string mapping =
      "# The seed's rule hashes (old Felix) -> ours for the same rule, and ipset names.\n"
      "# Generated by golden_test.cc (SeedDumpStructureNamesAndOrder).\n";
  for (const auto& [seedName, ours] : ipsetMapping()) {
    // The seed's sets were named by a real Felix: ours carry the same selector id, only the
    // prefix is the current Felix's ("cali40s:" for the old "cali4-s:").
    EXPECT_EQ(ours, "cali40s:" + seedName.substr(std::string("cali4-s:").size()));
    mapping += seedName + " -> " + ours + "\n";
  }
  for (const char* node : {"slave1", "slave2"}) {
    mapping += "# " + std::string(node) + "\n";
    Ruleset ours = renderRuleset(calculate(node, rs), IpVersion::kV4, seedConfig());
    compareWithSeed(ours, kSeedCommon, mapping);
    compareWithSeed(ours, std::string(node) == "slave1" ? kSeedSlave1 : kSeedSlave2, mapping);
  }
  checkGolden("seed_hash_mapping.txt", mapping);
}

TEST(Golden, SeedLabFiles) {
  const auto rs = seedLab();
  RendererConfig config;  // Brindle's defaults (DefaultEndpointToHostAction Drop, anti-spoofing)
  checkGolden("seed_slave1_v4.txt", fullText(calculate("slave1", rs), IpVersion::kV4, config));
  checkGolden("seed_slave2_v4.txt", fullText(calculate("slave2", rs), IpVersion::kV4, config));
  checkGolden("seed_slave1_v6.txt", fullText(calculate("slave1", rs), IpVersion::kV6, config));
}

// Everything the seed's lab does not exercise: tiers, Pass, Log, nets, port ranges, a namespaced
// policy, a host endpoint with failsafes, a floating IP, a dual-stack workload.
TEST(Golden, FeaturesFile) {
  auto rs = seedLab();
  auto more = model::decodeResources(R"(
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: tunnelled
spec:
  cidr: 10.68.0.0/16
  ipipMode: CrossSubnet
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: slave1-k8s-web-eth0
  namespace: prod
  labels: {app: web}
spec:
  node: slave1
  orchestrator: k8s
  pod: web
  endpoint: eth0
  interfaceName: caliweb
  ipNetworks: [172.16.1.10/32, "fd00::10/128"]
  ipNATs:
  - internalIP: 172.16.1.10
    externalIP: 192.168.40.100
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata:
  name: slave1-eth0
  labels: {role: host}
spec:
  node: slave1
  interfaceName: eth0
  expectedIPs: [192.168.40.11]
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata:
  name: security
spec:
  order: 100
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: security.quarantine
spec:
  tier: security
  order: 1
  selector: all()
  ingress:
  - action: Log
    source:
      nets: [10.66.0.0/16]
  - action: Deny
    source:
      nets: [10.66.0.0/16, 10.67.0.0/16]
  - action: Pass
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: web
  namespace: prod
spec:
  order: 100
  selector: app == 'web'
  types: [Ingress, Egress]
  ingress:
  - action: Allow
    protocol: TCP
    source:
      notNets: [172.16.1.3/32]
    destination:
      ports: [80, "8000:8100"]
  - action: Allow
    protocol: ICMP
    icmp: {type: 8}
  egress:
  - action: Allow
    protocol: UDP
    destination:
      ports: [53]
  - action: Deny
    notProtocol: TCP
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: host-ssh
spec:
  selector: role == 'host'
  ingress:
  - action: Allow
    protocol: TCP
    destination:
      ports: [22]
  egress:
  - action: Allow
)",
                                     "features");
  ASSERT_TRUE(more) << more.message();
  rs.insert(rs.end(), more->resources.begin(), more->resources.end());
  const auto state = calculate("slave1", rs);
  RendererConfig config;
  checkGolden("features_v4.txt", fullText(state, IpVersion::kV4, config));
  checkGolden("features_v6.txt", fullText(state, IpVersion::kV6, config));
  // Every chain name fits iptables' limit and every ipset name ipset's.
  for (IpVersion v : {IpVersion::kV4, IpVersion::kV6}) {
    for (const auto& [t, table] : renderRuleset(state, v, config).tables) {
      for (const auto& c : table.chains) EXPECT_LE(c.name.size(), kMaxChainName) << c.name;
    }
    for (const auto& [id, m] : state.ipSets) EXPECT_LE(ipSetName(id, v).size(), kMaxIpSetName);
  }
}

}  // namespace
}  // namespace brindle::rules
