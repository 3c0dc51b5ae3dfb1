// One save and as few restores as possible for several tables; see iptables_writer.h.
#include "dataplane/iptables_writer.h"

#include <algorithm>
#include <string_view>
#include <thread>

namespace brindle::dataplane {

IptablesWriter::IptablesWriter(std::vector<IptablesTable*> tables)
    : tables_(std::move(tables)),
      maxConcurrentRestores_(std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 2)) {}

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
  auto failAll = [&](Status s) {
    ++stats_.restoreErrors;
    for (auto* t : tables_) t->planFailed();
    return finish(std::move(s));
  };

  // Early waves: wave k of every table together (tables never refer to each other), the lanes
  // of a wave restored concurrently, one wave after the other. They only create chains nothing
  // refers to yet, so they need not wait for `beforeFinal`.
  size_t waveCount = 0;
  for (const auto& p : plans) waveCount = std::max(waveCount, p.waves.size());
  for (size_t k = 0; k < waveCount; ++k) {
    std::vector<std::string> lanes;
    for (auto& p : plans) {
      if (k >= p.waves.size()) continue;
      for (auto& lane : p.waves[k]) lanes.push_back(std::move(lane));
    }
    if (Status s = runLanes(first, std::move(lanes)); !s) return failAll(s);
  }

  // The final sections in one program. The gate holds the first final COMMIT, not the final
  // text: iptables-restore sends nothing to the kernel before a COMMIT, so it parses the final
  // sections while the gate's work runs.
  os::Command restore{{first.restoreCommand(), "--noflush"}, ""};
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
    // Nothing was written: a failed gate is not a restore error, and the kernel need not be
    // read again (the tables stay dirty until a later apply succeeds).
    if (!gate()) return gateStatus;
    for (auto* t : tables_) t->planApplied();
    return Status::ok();
  }
  restore.gate = gate;
  ++stats_.restores;
  if (Status s = runRestore(first, restore); !s) return failAll(s);
  if (Status s = finish(Status::ok()); !s) return failAll(s);
  for (auto* t : tables_) t->planApplied();
  return Status::ok();
}

Status IptablesWriter::runRestore(IptablesTable& first, const os::Command& restore) {
  BRINDLE_ASSIGN_OR_RETURN(auto out, first.runner().run(restore));
  if (out.exitCode != 0) {
    return makeError(ErrorCode::kUnavailable, first.restoreCommand() + " failed (" +
                                                  std::to_string(out.exitCode) + "): " + out.err);
  }
  return Status::ok();
}

Status IptablesWriter::runLanes(IptablesTable& first, std::vector<std::string> lanes) {
  lanes.erase(std::remove_if(lanes.begin(), lanes.end(), [](auto& l) { return l.empty(); }),
              lanes.end());
  if (lanes.empty()) return Status::ok();
  // More lanes than programs: lanes concatenated (a lane only needs its own order kept).
  size_t programs = std::min(lanes.size(), maxConcurrentRestores_);
  for (size_t i = programs; i < lanes.size(); ++i) {
    lanes[i % programs] += lanes[i];
    std::string().swap(lanes[i]);
  }
  lanes.resize(programs);
  stats_.restores += static_cast<int>(programs);
  std::vector<Status> results(programs, Status::ok());
  auto run = [&](size_t i) {
    results[i] =
        runRestore(first, os::Command({first.restoreCommand(), "--noflush"}, std::move(lanes[i])));
  };
  std::vector<std::thread> others;
  for (size_t i = 1; i < programs; ++i) others.emplace_back(run, i);
  run(0);
  for (auto& t : others) t.join();
  for (auto& r : results) {
    if (!r) return r;
  }
  return Status::ok();
}

}  // namespace brindle::dataplane
