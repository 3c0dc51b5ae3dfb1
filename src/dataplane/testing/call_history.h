// What the fakes record of the save/restore calls made to them, for tests to assert on.
#pragma once

#include <mutex>
#include <string>
#include <vector>

namespace brindle::dataplane::testing {

// One lock for every simulator: the agent runs ipset and iptables-restore on different threads,
// and the simulators call each other (set existence, sets in use), so one recursive lock rules
// out lock-order deadlocks.
inline std::recursive_mutex& simulatorMutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

class CallHistory {
 public:
  int restoreCalls() const { return restoreCalls_; }
  int saveCalls() const { return saveCalls_; }
  const std::vector<std::string>& restoreInputs() const { return restoreInputs_; }
  void clearHistory() {
    restoreInputs_.clear();
    restoreCalls_ = saveCalls_ = 0;
  }

 protected:
  void recordSave() { ++saveCalls_; }
  void recordRestore(const std::string& input) {
    ++restoreCalls_;
    restoreInputs_.push_back(input);
  }

 private:
  int restoreCalls_ = 0;
  int saveCalls_ = 0;
  std::vector<std::string> restoreInputs_;
};

}  // namespace brindle::dataplane::testing
