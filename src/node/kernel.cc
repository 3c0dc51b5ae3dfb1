// Kernel modules: the list, the reading of /proc, /lib/modules and the kernel config, and the
// check (see kernel.h).
#include "node/kernel.h"

#include <sys/utsname.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/strings.h"

namespace brindle::node {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Module names treat '-' and '_' alike (the kernel stores '_').
std::string canonical(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

bool anyLine(const std::string& text, const std::function<bool(const std::string&)>& pred) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (pred(line)) return true;
  }
  return false;
}

// "kernel/net/netfilter/xt_set.ko[.xz][: deps]" names xt_set.
bool listsModule(const std::string& text, const std::string& name) {
  const std::string want = "/" + name + ".ko";
  return anyLine(text, [&](const std::string& line) {
    const std::string path = canonical(line.substr(0, line.find(':')));
    const size_t at = path.find(want);
    if (at == std::string::npos) return false;
    const size_t end = at + want.size();
    return end == path.size() || path[end] == '.';
  });
}

bool inProcModules(const std::string& text, const std::string& name) {
  return anyLine(text, [&](const std::string& line) {
    return canonical(line.substr(0, line.find(' '))) == name;
  });
}

// 'y' or 'm' for CONFIG_X=y|m, else 0.
char configValue(const std::string& config, const std::string& option) {
  const std::string prefix = option + "=";
  char value = 0;
  anyLine(config, [&](const std::string& line) {
    if (line.rfind(prefix, 0) != 0 || line.size() <= prefix.size()) return false;
    value = line[prefix.size()];
    return true;
  });
  return value == 'y' || value == 'm' ? value : 0;
}

}  // namespace

const std::vector<KernelModule>& kernelModules() {
  using List = std::vector<std::string>;
  auto need = [](const char* name, const char* why, List configs, List alternatives = {}) {
    return KernelModule{name, std::move(alternatives), std::move(configs), false, false, why};
  };
  static const std::vector<KernelModule> modules = [&] {
    std::vector<KernelModule> m = {
        need("ip_tables", "iptables (IPv4 rules)", {"CONFIG_IP_NF_IPTABLES"}),
        need("ip6_tables", "ip6tables (IPv6 rules)", {"CONFIG_IP6_NF_IPTABLES"}),
        need("ip_set", "ipsets (selector and CIDR sets)", {"CONFIG_IP_SET"}),
        need("xt_set", "rules matching ipsets", {"CONFIG_NETFILTER_XT_SET"}, {"ipt_set"}),
        need("xt_conntrack", "connection state matches", {"CONFIG_NETFILTER_XT_MATCH_CONNTRACK"}),
        need("xt_mark", "policy marks",
             {"CONFIG_NETFILTER_XT_MARK", "CONFIG_NETFILTER_XT_TARGET_MARK"}),
        need("xt_multiport", "rules with port lists", {"CONFIG_NETFILTER_XT_MATCH_MULTIPORT"}),
        need("xt_addrtype", "local-address matches (natOutgoing, host endpoints)",
             {"CONFIG_NETFILTER_XT_MATCH_ADDRTYPE"}),
        need("xt_rpfilter", "workload anti-spoofing",
             {"CONFIG_NETFILTER_XT_MATCH_RPFILTER", "CONFIG_IP_NF_MATCH_RPFILTER"},
             {"ipt_rpfilter"}),
        need("ipt_REJECT", "REJECT actions",
             {"CONFIG_IP_NF_TARGET_REJECT", "CONFIG_NETFILTER_XT_TARGET_REJECT",
              "CONFIG_NFT_REJECT"},
             {"xt_REJECT", "nft_reject"}),
        need("xt_MASQUERADE", "natOutgoing",
             {"CONFIG_NETFILTER_XT_TARGET_MASQUERADE", "CONFIG_IP_NF_TARGET_MASQUERADE"},
             {"ipt_MASQUERADE"}),
        need("nf_conntrack_netlink", "conntrack flushes of removed workloads",
             {"CONFIG_NF_CT_NETLINK"}),
        need("nf_tables", "the nftables dataplane (nftablesMode: Enabled)", {"CONFIG_NF_TABLES"}),
        need("nft_fib_inet", "nftables anti-spoofing and local-address matches",
             {"CONFIG_NFT_FIB_INET"}),
        need("ipip", "the IPIP tunnel tunl0", {"CONFIG_NET_IPIP"}),
    };
    m[1].optional = true;             // ip6_tables: IPv6 is optional
    m[m.size() - 3].optional = true;  // nf_tables, nft_fib_inet: only for the nftables dataplane
    m[m.size() - 2].optional = true;
    m.back().ipipOnly = true;  // ipip: only for pools with IPIP
    return m;
  }();
  return modules;
}

KernelFacts readKernelFacts(os::CommandRunner& runner) {
  KernelFacts f;
  struct utsname u {};
  if (::uname(&u) == 0) f.release = u.release;
  f.procModules = readFile("/proc/modules");
  f.modulesBuiltin = readFile("/lib/modules/" + f.release + "/modules.builtin");
  f.modulesDep = readFile("/lib/modules/" + f.release + "/modules.dep");
  if (std::filesystem::exists("/proc/config.gz")) {
    auto out = runner.run(os::Command({"gzip", "-dc", "/proc/config.gz"}));
    if (out && out->exitCode == 0) f.kernelConfig = out->out;
  }
  if (f.kernelConfig.empty()) f.kernelConfig = readFile("/boot/config-" + f.release);
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/sys/module", ec)) {
    f.sysModule.insert(e.path().filename().string());
  }
  return f;
}

const char* moduleStateName(ModuleState state) {
  switch (state) {
    case ModuleState::kLoaded:
      return "loaded";
    case ModuleState::kBuiltin:
      return "built in";
    case ModuleState::kLoadable:
      return "loadable";
    case ModuleState::kMissing:
      return "missing";
  }
  return "missing";
}

ModuleState moduleState(const KernelModule& module, const KernelFacts& facts) {
  std::vector<std::string> names = {canonical(module.name)};
  for (const auto& a : module.alternatives) names.push_back(canonical(a));
  ModuleState best = ModuleState::kMissing;
  for (const auto& n : names) {
    if (inProcModules(facts.procModules, n) || facts.sysModule.count(n)) {
      return ModuleState::kLoaded;
    }
    if (listsModule(facts.modulesBuiltin, n)) best = std::min(best, ModuleState::kBuiltin);
    if (listsModule(facts.modulesDep, n)) best = std::min(best, ModuleState::kLoadable);
  }
  for (const auto& option : module.configOptions) {
    const char v = configValue(facts.kernelConfig, option);
    if (v == 'y') best = std::min(best, ModuleState::kBuiltin);
    if (v == 'm') best = std::min(best, ModuleState::kLoadable);
  }
  return best;
}

std::vector<ModuleCheck> checkModules(os::CommandRunner& runner, const KernelFacts& facts,
                                      bool load) {
  std::vector<ModuleCheck> checks;
  for (const auto& m : kernelModules()) {
    ModuleCheck c{&m, moduleState(m, facts), ""};
    if (load && c.state == ModuleState::kLoadable) {
      auto out = runner.run(os::Command({"modprobe", m.name}));
      if (out && out->exitCode == 0) {
        c.state = ModuleState::kLoaded;
      } else {
        c.state = ModuleState::kMissing;
        c.note = "modprobe " + m.name +
                 " failed: " + (out ? trim(out->err.empty() ? out->out : out->err) : out.message());
      }
    }
    checks.push_back(std::move(c));
  }
  return checks;
}

bool isFailure(const ModuleCheck& check, bool ipipNeeded) {
  if (check.state != ModuleState::kMissing || check.module->optional) return false;
  return !check.module->ipipOnly || ipipNeeded;
}

}  // namespace brindle::node
