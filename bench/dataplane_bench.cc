// bench_dataplane: the iptables and ipset writers against raw iptables-restore / ipset restore of
// the identical text, in a throw-away network namespace (needs root). Prints figures and ratios.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "dataplane/ipsets_impl.h"
#include "dataplane/iptables_table.h"

using brindle::Status;
using namespace brindle::dataplane;
namespace os = brindle::os;

namespace {

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

bool run(os::CommandRunner& runner, std::vector<std::string> argv, const std::string& input = "") {
  auto out = runner.run({std::move(argv), input});
  if (!out || out->exitCode != 0) {
    std::fprintf(stderr, "bench: %s failed: %s\n", argv.empty() ? "" : argv[0].c_str(),
                 out ? out->err.c_str() : out.message().c_str());
    return false;
  }
  return true;
}

struct Netns {
  std::string name = "brdp-bench-" + std::to_string(::getpid());
  os::ProcessRunner host;
  Netns() { run(host, {"ip", "netns", "add", name}); }
  ~Netns() { (void)host.run({{"ip", "netns", "delete", name}, ""}); }
};

std::vector<Chain> makeChains(int chains, int rulesPerChain) {
  std::vector<Chain> out;
  for (int c = 0; c < chains; ++c) {
    Chain chain{"cali-pi-bench" + std::to_string(c), {}};
    for (int r = 0; r < rulesPerChain; ++r) {
      chain.rules.push_back(
          {brindle::dataplane::Match()
               .sourceNet("10." + std::to_string(c / 250) + "." + std::to_string(c % 250) + "." +
                          std::to_string(r) + "/32")
               .protocol("tcp")
               .destPorts(std::to_string(1000 + r)),
           brindle::dataplane::Action::accept(), ""});
    }
    out.push_back(std::move(chain));
  }
  return out;
}

}  // namespace

int main() {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "bench_dataplane needs root (it creates a network namespace)\n");
    return 1;
  }
  Netns ns;
  os::ProcessRunner runner(ns.name);
  const int kChains = 500, kRules = 20, kReps = 3;
  auto chains = makeChains(kChains, kRules);
  std::map<std::string, std::vector<Rule>> insertions = {
      {"FORWARD", {{{}, brindle::dataplane::Action::jump("cali-pi-bench0"), ""}}}};
  std::string text = renderFullRestore(TableName::kFilter, chains, insertions);
  auto clean = [&] {
    run(runner, {"iptables", "-F"});
    run(runner, {"iptables", "-X"});
  };

  std::vector<double> ours, raw;
  for (int rep = 0; rep < kReps; ++rep) {
    clean();
    IptablesTable table(TableName::kFilter, IpVersion::kV4, runner);
    for (const auto& chain : chains) table.updateChain(chain);
    table.setRuleInsertions("FORWARD", insertions["FORWARD"]);
    auto start = std::chrono::steady_clock::now();
    if (Status st = table.apply(); !st) {
      std::fprintf(stderr, "apply: %s\n", st.message().c_str());
      return 1;
    }
    ours.push_back(msSince(start));
    clean();
    start = std::chrono::steady_clock::now();
    if (!run(runner, {"iptables-restore", "--noflush"}, text)) return 1;
    raw.push_back(msSince(start));
  }
  std::printf(
      "iptables: %d rules in %d chains from scratch: apply %.1f ms, raw iptables-restore %.1f ms, "
      "ratio %.2f\n",
      kChains * kRules, kChains, median(ours), median(raw), median(ours) / median(raw));

  // Incremental: one chain of 500 changes (one rule), after a cold apply.
  clean();
  IptablesTable table(TableName::kFilter, IpVersion::kV4, runner);
  for (const auto& chain : chains) table.updateChain(chain);
  table.setRuleInsertions("FORWARD", insertions["FORWARD"]);
  if (!table.apply()) return 1;
  std::vector<double> incremental, resync;
  for (int rep = 0; rep < 10; ++rep) {
    Chain changed = chains[250];
    changed.rules[5].action =
        rep % 2 == 0 ? brindle::dataplane::Action::drop() : brindle::dataplane::Action::accept();
    table.updateChain(changed);
    auto start = std::chrono::steady_clock::now();
    if (!table.apply()) return 1;
    incremental.push_back(msSince(start));
  }
  for (int rep = 0; rep < 3; ++rep) {
    table.requestResync();
    auto start = std::chrono::steady_clock::now();
    if (!table.apply()) return 1;
    resync.push_back(msSince(start));
  }
  std::printf(
      "iptables: incremental apply changing 1 chain of %d: median %.1f ms; resync with no drift "
      "(save + diff): median %.1f ms\n",
      kChains, median(incremental), median(resync));

  // ipset: 10k members, from scratch, vs raw `ipset restore` of the same text.
  std::set<std::string> members;
  for (int i = 0; i < 10000; ++i) {
    members.insert("10." + std::to_string(100 + i / 65536) + "." + std::to_string((i / 256) % 256) +
                   "." + std::to_string(i % 256));
  }
  std::vector<double> setOurs, setRaw;
  std::string setText;
  for (int rep = 0; rep < kReps; ++rep) {
    (void)runner.run({{"ipset", "destroy"}, ""});
    IpSetsImpl sets(runner);
    sets.replaceMembers({"cali40s:bench", "hash:net", IpVersion::kV4}, members);
    auto start = std::chrono::steady_clock::now();
    if (Status st = sets.applyUpdates(); !st) {
      std::fprintf(stderr, "ipset: %s\n", st.message().c_str());
      return 1;
    }
    setOurs.push_back(msSince(start));
    setText = sets.lastRestoreInput();
    (void)runner.run({{"ipset", "destroy"}, ""});
    start = std::chrono::steady_clock::now();
    if (!run(runner, {"ipset", "restore", "-exist"}, setText)) return 1;
    setRaw.push_back(msSince(start));
  }
  std::printf(
      "ipset: %zu members from scratch: applyUpdates %.1f ms, raw ipset restore %.1f ms, ratio "
      "%.2f\n",
      members.size(), median(setOurs), median(setRaw), median(setOurs) / median(setRaw));
  return 0;
}
