// What the fakes record of the save/restore calls made to them, for tests to assert on.
#pragma once

#include <string>
#include <vector>

namespace brindle::dataplane::testing {

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
