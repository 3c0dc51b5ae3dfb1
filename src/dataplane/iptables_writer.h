// IptablesWriter: applies the IptablesTables of one IP version with at most one iptables-save
// and one iptables-restore --noflush run: every table's early sections first, then every table's
// final section, whose first COMMIT is written only once the caller's `beforeFinal` step (filling
// ipsets) has succeeded.
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
  // iptables-restore is already parsing the early sections; when it fails nothing final is
  // written and its error is returned.
  Status apply(const std::function<Status()>& beforeFinal = nullptr);

  struct Stats {
    int saves = 0;
    int restores = 0;
    int restoreErrors = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  std::vector<IptablesTable*> tables_;
  Stats stats_;
};

}  // namespace brindle::dataplane
