// One lab: its name, state dir and state, the programs it drives, and how it runs them (inside
// a member's network namespace, with the lab's datastore in the environment). Every part of
// brindle-lab works through this object.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "lab/state.h"
#include "lab/tools.h"
#include "os/process.h"

namespace brindle::lab {

inline constexpr const char* kStateRoot = "/var/run/brindle-lab";

class Lab {
 public:
  // Loads the lab's state when it exists (a new lab starts empty). Without needTools a missing
  // brindlectl or brindle-cni is no error (down needs neither).
  static Result<Lab> open(const std::string& name, bool needTools = true);

  const std::string& name() const { return name_; }
  std::string dir() const { return std::string(kStateRoot) + "/" + name_; }
  std::string runDir() const { return dir() + "/run"; }  // node run's --run-dir
  std::string logDir() const { return dir() + "/log"; }
  std::string storePath() const { return dir() + "/store.db"; }
  // The namespace of a node, workload or service of this lab: bl-<lab>-<member>.
  std::string netns(const std::string& member) const { return "bl-" + name_ + "-" + member; }
  const Tools& tools() const { return tools_; }
  // "brindle-lab [--lab NAME] down", for messages.
  std::string downCommand() const;

  LabState& state() { return state_; }
  const LabState& state() const { return state_; }
  Status save() const;
  // Records the namespace in the state file, then creates it with loopback up.
  Status addNetns(const std::string& member);

  // DATASTORE_TYPE and BRINDLE_STORE_PATH or ETCD_ENDPOINTS of this lab.
  std::vector<std::string> datastoreEnv() const;

  // Runs argv in the member's namespace ("" = the host's) with our environment plus `env`.
  Result<os::CommandOutput> run(const std::string& member, std::vector<std::string> argv,
                                const std::vector<std::string>& env = {},
                                const std::string& input = "",
                                std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  // As run, but a non-zero exit is an Error carrying what the program printed.
  Result<std::string> check(const std::string& member, std::vector<std::string> argv,
                            const std::vector<std::string>& env = {},
                            const std::string& input = "") const;
  // check() of each argv in turn, up to the first failure.
  Status checkAll(const std::string& member,
                  const std::vector<std::vector<std::string>>& argvs) const;
  // brindlectl with the lab's datastore, where it can reach it.
  Result<std::string> ctl(std::vector<std::string> args, const std::string& input = "") const;
  // Starts argv as a daemon in the member's namespace (its own session, output to `log`); it is
  // found and stopped later through the namespace (down).
  Status daemon(const std::string& member, const std::vector<std::string>& argv,
                const std::vector<std::string>& env, const std::string& log) const;

 private:
  Lab(std::string name, Tools tools) : name_(std::move(name)), tools_(std::move(tools)) {}

  std::string name_;
  Tools tools_;
  LabState state_;
};

// Polls check() every 100 ms until it is true or `seconds` pass; false on timeout.
bool waitFor(double seconds, const std::function<bool()>& check);

// Lab and workload names are short DNS labels (they become part of namespace names); `what`
// names the kind in the error.
Status validateName(const std::string& what, const std::string& name);

}  // namespace brindle::lab
