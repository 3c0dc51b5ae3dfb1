// IptablesWriter: applies the IptablesTables of one IP version with at most one iptables-save
// and, usually, one iptables-restore --noflush run with every table's final section, whose first
// COMMIT is written only once the caller's `beforeFinal` step (filling ipsets) has succeeded.
// Many new chains (a cold start) first go in early waves (see RestorePlan), the lanes of a wave
// in concurrent iptables-restore runs.
#pragma once

#include <functional>
#include <vector>

#include "common/result.h"
#include "dataplane/iptables_table.h"

namespace brindle::dataplane {

class IptablesWriter {
 public:
  // `tables` share one IP version and one runner; the order is the order of the sections.
  explicit IptablesWriter(std::vector<IptablesTable*> tables);

  // `beforeFinal` runs exactly once per apply, also when nothing is written, while
  // iptables-restore parses the final sections; when it fails nothing final is written and its
  // error is returned.
  Status apply(const std::function<Status()>& beforeFinal = nullptr);

  struct Stats {
    int saves = 0;
    int restores = 0;  // programs run
    int restoreErrors = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  Status runRestore(IptablesTable& first, const os::Command& restore);
  // One wave of early sections: its lanes in at most maxConcurrentRestores_ programs at once.
  Status runLanes(IptablesTable& first, std::vector<std::string> lanes);

  std::vector<IptablesTable*> tables_;
  size_t maxConcurrentRestores_;
  Stats stats_;
};

}  // namespace brindle::dataplane
