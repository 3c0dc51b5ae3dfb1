// One save and one restore for several tables; see iptables_writer.h.
#include "dataplane/iptables_writer.h"

#include <algorithm>
#include <string_view>

namespace brindle::dataplane {

IptablesWriter::IptablesWriter(std::vector<IptablesTable*> tables) : tables_(std::move(tables)) {}

Status IptablesWriter::apply(const std::function<Status()>& beforeFinal) {
  bool gateCalled = false;
  Status gateStatus = Status::ok();
  auto gate = [&]() {
    gateCalled = true;
    if (beforeFinal) gateStatus = beforeFinal();
    return gateStatus.isOk();
  };
  auto finish = [&](Status s) {
    if (!gateCalled) gate();
    if (!gateStatus) return gateStatus;
    return s;
  };
  if (tables_.empty()) return finish(Status::ok());
  IptablesTable& first = *tables_.front();

  bool read = false;
  for (auto* t : tables_) read = read || t->needsRead();
  if (read) {
    ++stats_.saves;
    auto out = first.runner().run({{first.saveCommand()}, ""});
    if (!out) return finish(out.status());
    if (out->exitCode != 0) {
      return finish(makeError(
          ErrorCode::kUnavailable,
          first.saveCommand() + " failed (" + std::to_string(out->exitCode) + "): " + out->err));
    }
    for (auto* t : tables_) {
      if (t->needsRead()) t->loadKernel(out->out);
    }
  }

  std::vector<RestorePlan> plans;
  for (auto* t : tables_) plans.push_back(t->plan());
  // Early sections of different tables are independent, so the largest (a cold start's
  // megabytes) becomes the input buffer itself: no second copy at the agent's peak memory.
  Command restore{{first.restoreCommand(), "--noflush"}, ""};
  auto largest = std::max_element(plans.begin(), plans.end(), [](const auto& a, const auto& b) {
    return a.early.size() < b.early.size();
  });
  restore.input = std::move(largest->early);
  for (auto& p : plans) {
    if (&p != &*largest) restore.input += p.early;
  }
  // The gate holds the first final COMMIT, not the final text: iptables-restore sends nothing to
  // the kernel before a COMMIT, so it may parse the final section while the gate's work runs.
  restore.gateAt = restore.input.size();
  static constexpr std::string_view kCommit = "COMMIT\n";
  bool gatePlaced = false;
  for (const auto& p : plans) {
    restore.input += p.final;
    if (!gatePlaced && p.final.ends_with(kCommit)) {
      restore.gateAt = restore.input.size() - kCommit.size();
      gatePlaced = true;
    }
  }
  if (restore.input.empty()) {
    if (!gate()) return gateStatus;
    for (auto* t : tables_) t->planApplied();
    return Status::ok();
  }
  restore.gate = gate;

  ++stats_.restores;
  auto out = first.runner().run(restore);
  Status failed;
  if (!out) {
    failed = out.status();
  } else if (out->exitCode != 0) {
    failed =
        makeError(ErrorCode::kUnavailable, first.restoreCommand() + " failed (" +
                                               std::to_string(out->exitCode) + "): " + out->err);
  }
  failed = finish(failed);
  if (!failed.isOk()) {
    ++stats_.restoreErrors;
    for (auto* t : tables_) t->planFailed();
    return failed;
  }
  for (auto* t : tables_) t->planApplied();
  return Status::ok();
}

}  // namespace brindle::dataplane
