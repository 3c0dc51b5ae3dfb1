// IpSetsImpl: IpSets written with `ipset restore` (one call per apply), read back with
// `ipset save` for mark-and-sweep of our `cali` sets; v4 (family inet) and v6 (family inet6).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "dataplane/ipsets.h"
#include "os/process.h"

namespace brindle::dataplane {

struct IpSetsOptions {
  std::string namePrefix = "cali";  // sets we own (and sweep)
  std::string command = "ipset";
  int maxElements = 1048576;  // maxelem of the sets we create
  // A changed set is rewritten through a temporary set and `swap` (atomic for the rules using it)
  // when the delta is larger than this fraction of its size; otherwise add/del lines are written.
  double rewriteFraction = 0.5;
};

// Member text as `ipset save` prints it: hash:ip/hash:net addresses canonical, host prefixes
// (/32, /128) dropped; other types unchanged. "" if the member is not valid for the type/family.
std::string canonicalMember(const std::string& member, const std::string& type, IpVersion version);

class IpSetsImpl : public IpSets {
 public:
  IpSetsImpl(os::CommandRunner& runner, IpSetsOptions options = {});

  void replaceMembers(const IpSetSpec& spec, const std::set<std::string>& members) override;
  void addMembers(const std::string& name, const std::set<std::string>& members) override;
  void removeMembers(const std::string& name, const std::set<std::string>& members) override;
  void removeSet(const std::string& name) override;
  Status applyCreations(bool* created = nullptr) override;
  Status applyUpdates() override;
  Status applyDeletions() override;
  // Makes the next applyUpdates() re-read the kernel and repair drift.
  void requestResync() { needRead_ = true; }

  struct Stats {
    int saves = 0;
    int restores = 0;
    int restoreErrors = 0;
    size_t linesWritten = 0;
    int rewrites = 0;  // full rewrites through a temporary set
  };
  const Stats& stats() const { return stats_; }
  const std::string& lastRestoreInput() const { return lastRestoreInput_; }
  bool dirty() const { return needRead_ || !dirty_.empty() || !pendingDeletions_.empty(); }
  size_t memberCount() const;

 private:
  struct SetState {
    IpSetSpec spec;
    std::set<std::string> members;     // canonical text, as written to the kernel
    std::set<std::string> rejected{};  // asked for but not valid for the set: fails every apply
    bool wholeSpace = false;           // a /0 was asked for (members hold its two /1 halves)
    std::set<std::string> explicitHalves{};  // /1 halves asked for on their own
  };
  // Adds/removes one asked-for member; true if the kernel's members or the rejects changed.
  static bool addMember(SetState& state, const std::string& member);
  static bool removeMember(SetState& state, const std::string& member);
  Status readKernel();
  Status readKernelIfNeeded();
  Status runRestore(const std::string& input);
  std::string familyText(IpVersion v) const { return v == IpVersion::kV6 ? "inet6" : "inet"; }
  std::string createLine(const std::string& name, const IpSetSpec& spec) const;
  std::string tempName(IpVersion v) const;

  os::CommandRunner& runner_;
  IpSetsOptions options_;
  std::map<std::string, SetState> desired_;
  std::set<std::string> dirty_;
  std::set<std::string> pendingDeletions_;  // wanted gone: destroyed in applyDeletions()
  std::vector<std::string> invalid_;        // problems found in the desired state, reported once

  bool needRead_ = true;
  std::map<std::string, SetState> kernel_;  // our sets as last read or written
  std::set<std::string> fresh_;  // created empty by applyCreations(): filled without a swap
  Stats stats_;
  std::string lastRestoreInput_;
};

}  // namespace brindle::dataplane
