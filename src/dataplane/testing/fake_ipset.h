// FakeIpset: a simulator of `ipset` (restore, save, list -o save and one-shot commands) with the
// real tool's line-by-line (non-transactional) restore, type checks on swap, in-use checks on
// destroy and failure injection.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>

#include "dataplane/testing/call_history.h"
#include "os/process.h"

namespace brindle::dataplane::testing {

class FakeIpset : public os::CommandRunner, public CallHistory {
 public:
  Result<os::CommandOutput> run(const os::Command& command) override;

  void failNextRestore(int count = 1) { failRestores_ = count; }
  // A set for which this returns true cannot be destroyed (iptables rules use it).
  void setInUse(std::function<bool(const std::string&)> inUse) { inUse_ = std::move(inUse); }

  struct Set {
    std::string type;
    std::string family;  // "inet" or "inet6"
    std::set<std::string> members;
  };
  bool has(const std::string& name) const {
    std::lock_guard lock(simulatorMutex());
    return sets_.count(name) > 0;
  }
  const Set& set(const std::string& name) const {
    std::lock_guard lock(simulatorMutex());
    return sets_.at(name);
  }
  std::set<std::string> names() const;

 private:
  std::string apply(const std::vector<std::string>& tokens, bool exist);
  std::string save() const;

  std::map<std::string, Set> sets_;
  int failRestores_ = 0;
  std::function<bool(const std::string&)> inUse_;
};

}  // namespace brindle::dataplane::testing
