// The kernel features a Brindle node needs (iptables matches, ipsets, conntrack, IPIP), and how
// to tell whether each is there: loaded, built in, loadable, or enabled in the kernel's config.
// Shared by `node run` (loads what it can, says what is missing) and `node checksystem`.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "os/process.h"

namespace brindle::node {

struct KernelModule {
  std::string name;                        // as modprobe and /proc/modules name it
  std::vector<std::string> alternatives;   // other modules giving the same feature
  std::vector<std::string> configOptions;  // CONFIG_* symbols, any =y or =m will do
  bool optional = false;                   // a warning when missing, never a failure
  bool ipipOnly = false;                   // needed only when a pool uses IPIP
  std::string why;                         // what Brindle uses it for
};

// The modules Brindle's agent and BIRD need, in the order they are checked.
const std::vector<KernelModule>& kernelModules();

// What the system says about modules; read once by readKernelFacts(), or made up in tests.
struct KernelFacts {
  std::string release;              // uname -r
  std::string procModules;          // /proc/modules ("" where the kernel has no module support)
  std::string modulesBuiltin;       // /lib/modules/<release>/modules.builtin
  std::string modulesDep;           // /lib/modules/<release>/modules.dep (loadable ones)
  std::string kernelConfig;         // /proc/config.gz or /boot/config-<release>, uncompressed
  std::set<std::string> sysModule;  // names under /sys/module (loaded or built in)
};
KernelFacts readKernelFacts(os::CommandRunner& runner);

enum class ModuleState {
  kLoaded,    // in /proc/modules or /sys/module
  kBuiltin,   // in modules.builtin or =y in the kernel config
  kLoadable,  // in modules.dep or =m, not loaded yet (modprobe would load it)
  kMissing,
};
const char* moduleStateName(ModuleState state);

// The state of `module` (or one of its alternatives) as `facts` show it.
ModuleState moduleState(const KernelModule& module, const KernelFacts& facts);

struct ModuleCheck {
  const KernelModule* module = nullptr;
  ModuleState state = ModuleState::kMissing;
  std::string note;  // what modprobe said when loading failed
};

// Checks every module of kernelModules() and, when `load`, modprobes the loadable ones; one
// modprobe refused (no privilege, a container, no module support) is kMissing with its note.
std::vector<ModuleCheck> checkModules(os::CommandRunner& runner, const KernelFacts& facts,
                                      bool load);

// A missing module that is not optional fails the check; a missing ipip only when `ipipNeeded`
// (a pool uses IPIP), else it is a warning.
bool isFailure(const ModuleCheck& check, bool ipipNeeded);

}  // namespace brindle::node
