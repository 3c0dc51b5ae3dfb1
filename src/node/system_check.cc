// The system check: kernel release, the modules of kernel.h, the sysctls `node run` relies on and
// the programs the agent and BIRD supervisor run.
#include "node/system_check.h"

#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "os/sysctl.h"

namespace brindle::node {
namespace {

struct Program {
  const char* name;
  const char* fix;  // Debian 12's package
  bool optional;
  const char* why;
};

constexpr Program kPrograms[] = {
    {"bird", "apt-get install bird2", false, "BGP daemon"},
    {"birdc", "apt-get install bird2", false, "BIRD's control client"},
    {"iptables-restore", "apt-get install iptables", false, "writes IPv4 rules"},
    {"iptables-save", "apt-get install iptables", false, "reads IPv4 rules"},
    {"ip6tables-restore", "apt-get install iptables", false, "writes IPv6 rules"},
    {"ip6tables-save", "apt-get install iptables", false, "reads IPv6 rules"},
    {"ipset", "apt-get install ipset", false, "writes ipsets"},
    {"nft", "apt-get install nftables", true, "reads the nftables dataplane's table (diags)"},
    {"ip", "apt-get install iproute2", false, "routes and BIRD's kernel routes"},
    {"modprobe", "apt-get install kmod", true, "loads kernel modules (not needed when built in)"},
};

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> dirs;
  std::string dir;
  std::istringstream in(path);
  // An empty entry means the current directory (POSIX).
  while (std::getline(in, dir, ':')) dirs.push_back(dir.empty() ? "." : dir);
  if (!path.empty() && path.back() == ':') dirs.push_back(".");
  return dirs;
}

std::vector<long> leadingNumbers(const std::string& release) {
  std::vector<long> parts;
  size_t i = 0;
  while (i < release.size() && std::isdigit(static_cast<unsigned char>(release[i]))) {
    size_t end = i;
    parts.push_back(std::stol(release.substr(i), &end));
    i += end;
    if (i >= release.size() || release[i] != '.') break;
    ++i;
  }
  return parts;
}

void checkKernel(const std::string& release, std::vector<CheckLine>& out) {
  if (release.empty()) {
    out.push_back({CheckLevel::kFail, "kernel", "release unknown (uname failed)"});
  } else if (compareKernelVersions(release, kMinKernelVersion) < 0) {
    out.push_back({CheckLevel::kFail, "kernel " + release,
                   std::string("older than ") + kMinKernelVersion + ": upgrade the kernel"});
  } else {
    out.push_back(
        {CheckLevel::kOk, "kernel " + release, std::string(kMinKernelVersion) + " or later"});
  }
}

void checkKernelModules(const SystemInputs& in, os::CommandRunner& runner,
                        std::vector<CheckLine>& out) {
  const bool ipipNeeded = in.ipipNeeded.value_or(false);
  for (const auto& check : checkModules(runner, in.kernel, /*load=*/false)) {
    const KernelModule& m = *check.module;
    const std::string what = "module " + m.name;
    if (check.state != ModuleState::kMissing) {
      std::string detail = moduleStateName(check.state);
      if (check.state == ModuleState::kLoadable) detail += " (node run loads it)";
      out.push_back({CheckLevel::kOk, what, detail});
      continue;
    }
    std::string options;
    for (const auto& o : m.configOptions) options += (options.empty() ? "" : " or ") + o;
    std::string detail = "missing (" + m.why + "): needs a kernel with " + options + "=y or =m";
    if (isFailure(check, ipipNeeded)) {
      out.push_back({CheckLevel::kFail, what, detail});
    } else if (m.ipipOnly) {
      out.push_back({CheckLevel::kWarn, what,
                     detail + "; needed only when a pool uses IPIP, " +
                         (in.ipipNeeded ? "and none does"
                                        : "and the pools could not be read: " + in.poolsError)});
    } else {
      out.push_back({CheckLevel::kWarn, what, detail + " (optional)"});
    }
  }
}

// Forwarding off is only a warning: `node run` turns it on; it should also stay on across
// reboots, which is the administrator's file to write.
void checkForwarding(const std::string& procSys, const std::string& key, const std::string& name,
                     bool optional, std::vector<CheckLine>& out) {
  const std::string value = os::readSysctl(key, procSys);
  const std::string what = "sysctl " + name;
  if (value == "1") {
    out.push_back({CheckLevel::kOk, what, "1"});
  } else if (value.empty()) {
    out.push_back({optional ? CheckLevel::kWarn : CheckLevel::kFail, what,
                   "not found under " + procSys +
                       (optional ? " (IPv6 disabled: IPv6 pools will not route)" : "")});
  } else {
    out.push_back({CheckLevel::kWarn, what,
                   value + ": node run sets it to 1; to keep it after a reboot add \"" + name +
                       " = 1\" to /etc/sysctl.d/90-brindle.conf"});
  }
}

void checkSysctls(const std::string& procSys, std::vector<CheckLine>& out) {
  checkForwarding(procSys, "net/ipv4/ip_forward", "net.ipv4.ip_forward", false, out);
  checkForwarding(procSys, "net/ipv6/conf/all/forwarding", "net.ipv6.conf.all.forwarding", true,
                  out);
  const std::string max = os::readSysctl("net/netfilter/nf_conntrack_max", procSys);
  if (max.empty()) {
    out.push_back({CheckLevel::kWarn, "sysctl net.netfilter.nf_conntrack_max",
                   "not present until conntrack is loaded; node run sets it then"});
  } else {
    out.push_back({CheckLevel::kOk, "sysctl net.netfilter.nf_conntrack_max", max});
  }
}

void checkPrograms(const std::string& path, std::vector<CheckLine>& out) {
  for (const auto& p : kPrograms) {
    const std::string found = findOnPath(p.name, path);
    if (!found.empty()) {
      out.push_back({CheckLevel::kOk, p.name, found});
      continue;
    }
    out.push_back({p.optional ? CheckLevel::kWarn : CheckLevel::kFail, p.name,
                   std::string("not found on PATH (") + p.why + "): " + p.fix});
  }
}

}  // namespace

int compareKernelVersions(const std::string& a, const std::string& b) {
  auto x = leadingNumbers(a), y = leadingNumbers(b);
  x.resize(std::max(x.size(), y.size()));
  y.resize(x.size());
  return x < y ? -1 : (x == y ? 0 : 1);
}

std::string findOnPath(const std::string& name, const std::string& path) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  for (const auto& dir : splitPath(path)) {
    const std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

std::vector<CheckLine> checkSystem(const SystemInputs& in, os::CommandRunner& runner) {
  std::vector<CheckLine> out;
  checkKernel(in.kernel.release, out);
  checkKernelModules(in, runner, out);
  checkSysctls(in.procSys, out);
  checkPrograms(in.path, out);
  return out;
}

bool anyFailed(const std::vector<CheckLine>& lines) {
  for (const auto& l : lines) {
    if (l.level == CheckLevel::kFail) return true;
  }
  return false;
}

std::string formatChecks(const std::vector<CheckLine>& lines) {
  std::string out;
  int failed = 0;
  for (const auto& l : lines) {
    const char* level = l.level == CheckLevel::kOk     ? "OK  "
                        : l.level == CheckLevel::kWarn ? "WARN"
                                                       : "FAIL";
    failed += l.level == CheckLevel::kFail;
    out += std::string(level) + " " + l.what + ": " + l.detail + "\n";
  }
  out += failed == 0 ? "System meets the requirements of a Brindle node.\n"
                     : std::to_string(failed) +
                           " check(s) failed: fix them before `brindlectl node run`.\n";
  return out;
}

}  // namespace brindle::node
