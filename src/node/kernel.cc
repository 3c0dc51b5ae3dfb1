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
  static const std::vector<KernelModule> modules = {
      {"ip_tables", {}, {"CONFIG_IP_NF_IPTABLES"}, false, false, "iptables (IPv4 rules)"},
      {"ip6_tables", {}, {"CONFIG_IP6_NF_IPTABLES"}, true, false, "ip6tables (IPv6 rules)"},
      {"ip_set", {}, {"CONFIG_IP_SET"}, false, false, "ipsets (selector and CIDR sets)"},
      {"xt_set", {"ipt_set"}, {"CONFIG_NETFILTER_XT_SET"}, false, false, "rules matching ipsets"},
      {"xt_conntrack",
       {},
       {"CONFIG_NETFILTER_XT_MATCH_CONNTRACK"},
       false,
       false,
       "connection state matches"},
      {"xt_mark",
       {},
       {"CONFIG_NETFILTER_XT_MARK", "CONFIG_NETFILTER_XT_TARGET_MARK"},
       false,
       false,
       "policy marks"},
      {"xt_multiport",
       {},
       {"CONFIG_NETFILTER_XT_MATCH_MULTIPORT"},
       false,
       false,
       "rules with port lists"},
      {"xt_addrtype",
       {},
       {"CONFIG_NETFILTER_XT_MATCH_ADDRTYPE"},
       false,
       false,
       "local-address matches (natOutgoing, host endpoints)"},
      {"xt_rpfilter",
       {"ipt_rpfilter"},
       {"CONFIG_NETFILTER_XT_MATCH_RPFILTER", "CONFIG_IP_NF_MATCH_RPFILTER"},
       false,
       false,
       "workload anti-spoofing"},
      {"ipt_REJECT",
       {"xt_REJECT", "nft_reject"},
       {"CONFIG_IP_NF_TARGET_REJECT", "CONFIG_NETFILTER_XT_TARGET_REJECT", "CONFIG_NFT_REJECT"},
       false,
       false,
       "REJECT actions"},
      {"xt_MASQUERADE",
       {"ipt_MASQUERADE"},
       {"CONFIG_NETFILTER_XT_TARGET_MASQUERADE", "CONFIG_IP_NF_TARGET_MASQUERADE"},
       false,
       false,
       "natOutgoing"},
      {"nf_conntrack_netlink",
       {},
       {"CONFIG_NF_CT_NETLINK"},
       false,
       false,
       "conntrack flushes of removed workloads"},
      {"ipip", {}, {"CONFIG_NET_IPIP"}, false, true, "the IPIP tunnel tunl0"},
  };
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
    if (inProcModules(facts.procModules, n) || facts.sysModule.count(n))
      return ModuleState::kLoaded;
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
