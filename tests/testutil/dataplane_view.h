// Which dataplane backend the root-only tests run the agent on (BRINDLE_TEST_DATAPLANE=iptables
// or nftables, default iptables; ctest registers each agent suite once per backend), and the same
// questions about what the agent programmed asked of either backend in a node namespace: does a
// chain exist, its rules, what matched a rule, the whole kernel state, and whether the backend
// not in use holds anything of ours (a run that passes on rules it never looked at is no pass).
//
// Names are iptables' (table "filter", chain "cali-tw-cali1"); on nftables they are looked up in
// `table inet calico` as "<table>-<chain>" (IPv6: "<table>6-<chain>"), as the backend names them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "testutil/shell.h"

namespace brindle::testutil {

enum class Dataplane { kIptables, kNftables };

inline Dataplane dataplaneFromName(const std::string& name) {
  if (name.empty() || name == "iptables") return Dataplane::kIptables;
  if (name == "nftables") return Dataplane::kNftables;
  throw std::invalid_argument("BRINDLE_TEST_DATAPLANE: '" + name +
                              "' is neither iptables nor nftables");
}

// The backend this test run is for.
inline Dataplane testDataplane() {
  const char* v = std::getenv("BRINDLE_TEST_DATAPLANE");
  return dataplaneFromName(v ? v : "");
}

inline const char* dataplaneName(Dataplane d) {
  return d == Dataplane::kNftables ? "nftables" : "iptables";
}

// The agent's environment entry selecting `d` (Felix's spelling).
inline std::string nftablesModeEnv(Dataplane d) {
  return std::string("FELIX_NFTABLESMODE=") + (d == Dataplane::kNftables ? "Enabled" : "Disabled");
}

class DataplaneView {
 public:
  static constexpr const char* kNftTable = "calico";

  DataplaneView(std::string netns, Dataplane dataplane)
      : netns_(std::move(netns)), dataplane_(dataplane) {}

  Dataplane dataplane() const { return dataplane_; }
  bool nftables() const { return dataplane_ == Dataplane::kNftables; }

  // The metric counting the backend's kernel writes: stays put when the agent wrote nothing.
  const char* writesMetric() const {
    return nftables() ? "brindle_nftables_transactions_total"
                      : "brindle_iptables_restore_calls_total";
  }

  // The nftables name of iptables chain `chain` of `table`.
  static std::string nftChain(const std::string& table, const std::string& chain, bool v6 = false) {
    return table + (v6 ? "6-" : "-") + chain;
  }

  // The interface's device group as the kernel holds it (0 when none or no such link).
  uint32_t linkGroup(const std::string& iface) const {
    std::smatch m;
    const std::string out = run("ip -d link show dev " + iface).out;
    if (!std::regex_search(out, m, std::regex(" group ([0-9]+) "))) return 0;
    return static_cast<uint32_t>(std::stoul(m[1].str()));
  }

  // nftables: the group the dispatch holds for workload interface `iface` (the pair set, or a
  // lone dispatch rule), 0 when none.
  uint32_t dispatchGroup(const std::string& iface) const {
    const std::string listed = run("nft list table inet calico").out;
    std::smatch m;
    if (std::regex_search(listed, m, std::regex("\"" + iface + "\" \\. ([0-9]+)")) ||
        std::regex_search(listed, m,
                          std::regex("[io]ifname \"" + iface + "\" [io]ifgroup ([0-9]+) "))) {
      return static_cast<uint32_t>(std::stoul(m[1].str()));
    }
    return 0;
  }

  // The nftables name of iptables chain `chain`: a workload's endpoint chain ("cali-tw-cali1")
  // is its group's ("filter-cali-tw-g10a2b3c4", rules/endpoints.h), the group found in the
  // dispatch.
  std::string nftName(const std::string& table, const std::string& chain, bool v6 = false) const {
    std::smatch m;
    if (std::regex_match(chain, m, std::regex("(cali-[tf]w-)(.+)")) &&
        !std::regex_match(m[2].str(), std::regex("g[0-9a-f]{8}"))) {
      char group[16];
      std::snprintf(group, sizeof group, "g%08x", dispatchGroup(m[2].str()));
      return nftChain(table, m[1].str() + group, v6);
    }
    return nftChain(table, chain, v6);
  }

  bool hasChain(const std::string& table, const std::string& chain, bool v6 = false) const {
    if (nftables())
      return run("nft list chain inet calico " + nftName(table, chain, v6)).code == 0;
    return run(iptables(v6) + " -t " + table + " -S " + chain).code == 0;
  }

  // The chain's rules as the backend lists them, counters zeroed out ("" if it does not exist).
  std::string chainRules(const std::string& table, const std::string& chain,
                         bool v6 = false) const {
    auto r = nftables() ? run("nft list chain inet calico " + nftName(table, chain, v6))
                        : run(iptables(v6) + " -t " + table + " -S " + chain);
    return r.code == 0 ? withoutCounters(r.out) : "";
  }

  // Empties one of our chains behind the agent's back (drift).
  bool flushChain(const std::string& table, const std::string& chain, bool v6 = false) const {
    if (nftables()) {
      return run("nft flush chain inet calico " + nftName(table, chain, v6)).code == 0;
    }
    return run(iptables(v6) + " -t " + table + " -F " + chain).code == 0;
  }

  // Our sets that hold `member` (an address) as a member of its own, not in a CIDR.
  std::vector<std::string> setsHolding(const std::string& member) const {
    std::vector<std::string> out;
    if (nftables()) {
      const std::string listed = run("nft list sets inet").out;
      const std::regex declared("set (cali[^ ]+) \\{");
      for (std::sregex_iterator it(listed.begin(), listed.end(), declared), end; it != end; ++it) {
        const std::string name = (*it)[1].str();
        auto r = run("nft get element inet calico " + name + " { " + member + " }");
        if (r.code == 0 && r.out.find("{ " + member + " }") != std::string::npos) {
          out.push_back(name);
        }
      }
      return out;
    }
    std::istringstream names(run("ipset list -n").out);
    for (std::string name; std::getline(names, name);) {
      // A line of its own (`ipset test` would also match a CIDR holding it).
      if (name.rfind("cali", 0) == 0 &&
          ("\n" + run("ipset list " + name).out).find("\n" + member + "\n") != std::string::npos) {
        out.push_back(name);
      }
    }
    return out;
  }

  // Removes `member` from our set `set` behind the agent's back (drift).
  bool deleteSetMember(const std::string& set, const std::string& member) const {
    if (nftables()) {
      return run("nft delete element inet calico " + set + " { " + member + " }").code == 0;
    }
    return run("ipset del " + set + " " + member).code == 0;
  }

  // Packets counted by the first rule of the chain whose text matches `iptablesRule` (a regex on
  // its `iptables-save` line) or `nftRule` (on its `nft list` line), per backend; -1 if no rule
  // matches or it carries no counter.
  long long rulePackets(const std::string& table, const std::string& chain,
                        const std::string& iptablesRule, const std::string& nftRule) const {
    std::smatch m;
    if (nftables()) {
      auto r = run("nft list chain inet calico " + nftName(table, chain));
      std::istringstream in(r.out);
      for (std::string line; std::getline(in, line);) {
        if (!std::regex_search(line, std::regex(nftRule))) continue;
        if (!std::regex_search(line, m, std::regex("counter packets ([0-9]+)"))) return -1;
        return std::stoll(m[1].str());
      }
      return -1;
    }
    auto r = run("iptables-save -c -t " + table);
    std::istringstream in(r.out);
    const std::regex counted("^\\[([0-9]+):[0-9]+\\] -A " + chain + " (.*)$");
    for (std::string line; std::getline(in, line);) {
      if (!std::regex_match(line, m, counted)) continue;
      const std::string rest = m[2].str();
      const long long packets = std::stoll(m[1].str());
      if (std::regex_search(rest, std::regex(iptablesRule))) return packets;
    }
    return -1;
  }

  // Our rules and sets in the backend in use, as text (counters zeroed out): iptables-save and
  // ip6tables-save and `ipset list`, or `nft list table inet calico`.
  std::string ours() const {
    if (nftables()) return withoutCounters(run("nft list table inet calico").out);
    return withoutCounters(run("iptables-save; ip6tables-save; ipset list").out);
  }

  // Everything of both backends, without timestamps and counters: compared before and after
  // something that must not change the kernel (a restart, an outage).
  std::string kernelState() const {
    return withoutCounters(
        run("iptables-save; ip6tables-save; ipset list; nft list table inet calico 2>/dev/null; "
            "true")
            .out);
  }

  // What the backend not in use holds of ours: "" when nothing. iptables run: `table inet
  // calico`; nftables run: cali chains or rules (IPv4 or IPv6) and cali ipsets.
  std::string otherBackendLeftovers() const {
    if (!nftables()) {
      auto r = run("nft list table inet calico");
      return r.code == 0 ? "table inet calico exists:\n" + r.out : "";
    }
    std::string found;
    for (const char* save : {"iptables-save", "ip6tables-save"}) {
      std::istringstream in(run(save).out);
      for (std::string line; std::getline(in, line);) {
        if (line.find("cali") != std::string::npos) found += std::string(save) + ": " + line + "\n";
      }
    }
    std::istringstream sets(run("ipset list -n").out);
    for (std::string line; std::getline(sets, line);) {
      if (line.rfind("cali", 0) == 0) found += "ipset: " + line + "\n";
    }
    return found;
  }

  // Our rules that carry no "cali:<hash>" id in their comment, one a line ("" when none): every
  // rule must map back to the policy rule it came from, on either backend.
  std::string rulesWithoutId() const {
    std::string found;
    if (!nftables()) {
      std::istringstream in(run("iptables-save; ip6tables-save").out);
      for (std::string line; std::getline(in, line);) {
        if (line.rfind("-A ", 0) == 0 && line.find("--comment \"cali:") == std::string::npos) {
          found += line + "\n";
        }
      }
      return found;
    }
    // Rules inside chain blocks; a rule with a long set or map is wrapped over several lines
    // (until its braces balance).
    std::istringstream in(run("nft list table inet calico").out);
    bool inChain = false;
    std::string rule;
    for (std::string line; std::getline(in, line);) {
      const std::string text = std::regex_replace(line, std::regex("^\\s+"), "");
      if (!inChain) {
        inChain = std::regex_search(line, std::regex("^\\tchain [^ ]+ \\{$"));
        continue;
      }
      if (rule.empty() && (text == "}" || text.empty() || text.rfind("type ", 0) == 0)) {
        inChain = text != "}";
        continue;
      }
      rule += text + " ";
      if (std::count(rule.begin(), rule.end(), '{') != std::count(rule.begin(), rule.end(), '}')) {
        continue;
      }
      if (rule.find("comment \"cali:") == std::string::npos) found += rule + "\n";
      rule.clear();
    }
    return found;
  }

  // Whether the backend in use has our rules at all (chains in the kernel).
  bool programmed() const {
    return nftables() ? run("nft list table inet calico").code == 0
                      : run("iptables-save -t filter").out.find(":cali-") != std::string::npos;
  }

  static std::string withoutCounters(const std::string& text) {
    std::string out = std::regex_replace(text, std::regex("(^|\n)#[^\n]*"), "");  // timestamps
    out = std::regex_replace(out, std::regex("\\[[0-9]+:[0-9]+\\]"), "[0:0]");
    return std::regex_replace(out, std::regex("counter packets [0-9]+ bytes [0-9]+"), "counter");
  }

 private:
  static std::string iptables(bool v6) { return v6 ? "ip6tables" : "iptables"; }
  ShellResult run(const std::string& cmd) const {
    return sh("ip netns exec " + netns_ + " sh -c '" + cmd + "'");
  }

  std::string netns_;
  Dataplane dataplane_;
};

}  // namespace brindle::testutil
