// `brindlectl node checksystem`: whether this host can run a Brindle node. Each line is one
// requirement (kernel version, kernel module, sysctl, program on PATH) with OK, WARN (optional,
// or fixed by `node run` itself) or FAIL and the fix.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "node/kernel.h"

namespace brindle::node {

// Calico's checksystem minimum; everything else Brindle needs is checked as a module.
inline constexpr const char* kMinKernelVersion = "2.6.24";

enum class CheckLevel { kOk, kWarn, kFail };

struct CheckLine {
  CheckLevel level = CheckLevel::kOk;
  std::string what;    // "kernel 6.1.0", "module xt_set", "sysctl net.ipv4.ip_forward", "bird"
  std::string detail;  // the state when OK; what is wrong and the fix otherwise
};

struct SystemInputs {
  KernelFacts kernel;
  std::string path;  // $PATH, searched for the programs
  std::string procSys = "/proc/sys";
  // Whether an enabled pool uses IPIP; nullopt when the datastore could not tell (then a missing
  // ipip module is a warning that says so, and why: `poolsError`).
  std::optional<bool> ipipNeeded;
  std::string poolsError;
};

std::vector<CheckLine> checkSystem(const SystemInputs& inputs, os::CommandRunner& runner);

// "OK   what: detail" lines, then a summary line.
std::string formatChecks(const std::vector<CheckLine>& lines);
bool anyFailed(const std::vector<CheckLine>& lines);

// The first executable `name` in the colon-separated `path`; "" if none.
std::string findOnPath(const std::string& name, const std::string& path);

// -1, 0 or 1 as release `a` is older than, the same as or newer than `b`, comparing the leading
// dotted numbers ("6.1.0-18-amd64" reads as 6.1.0).
int compareKernelVersions(const std::string& a, const std::string& b);

}  // namespace brindle::node
