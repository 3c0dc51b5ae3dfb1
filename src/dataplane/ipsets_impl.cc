// The IpSetsImpl writer: member deltas (or temp-set + swap rewrites) in one `ipset restore`,
// mark-and-sweep of our sets from `ipset save`, destruction only in applyDeletions().
#include "dataplane/ipsets_impl.h"

#include "common/ip.h"

namespace brindle::dataplane {
namespace {

constexpr size_t kMaxSetName = 31;

std::string canonicalAddress(const std::string& text, bool allowPrefix, IpVersion version) {
  auto cidr = Cidr::parse(text, true);
  if (!cidr) return "";
  if (cidr->isV4() != (version == IpVersion::kV4)) return "";
  if (cidr->prefixLength() == cidr->address().bits()) return cidr->address().toString();
  if (!allowPrefix || cidr->prefixLength() == 0) return "";
  return cidr->toString();
}

}  // namespace

std::string canonicalMember(const std::string& member, const std::string& type, IpVersion version) {
  if (type == "hash:net") return canonicalAddress(member, true, version);
  if (type == "hash:ip") return canonicalAddress(member, false, version);
  // hash:ip,port and friends: canonicalise the address, keep the rest ("10.0.0.1,tcp:80").
  size_t comma = member.find(',');
  if (comma == std::string::npos) return member;
  std::string ip = canonicalAddress(member.substr(0, comma), type.starts_with("hash:net"), version);
  return ip.empty() ? "" : ip + member.substr(comma);
}

IpSetsImpl::IpSetsImpl(os::CommandRunner& runner, IpSetsOptions options)
    : runner_(runner), options_(std::move(options)) {}

size_t IpSetsImpl::memberCount() const {
  size_t n = 0;
  for (const auto& [name, set] : desired_) n += set.members.size();
  return n;
}

namespace {

// hash:net cannot hold a /0 ("bad member"): it stands for its two /1 halves, as in Felix.
bool isWholeSpace(const std::string& canonicalOrRaw, const std::string& type) {
  if (!type.starts_with("hash:net")) return false;
  auto cidr = Cidr::parse(canonicalOrRaw, true);
  return cidr && cidr->prefixLength() == 0 && canonicalOrRaw.find(',') == std::string::npos;
}

std::pair<std::string, std::string> halves(IpVersion v) {
  return v == IpVersion::kV4 ? std::pair<std::string, std::string>{"0.0.0.0/1", "128.0.0.0/1"}
                             : std::pair<std::string, std::string>{"::/1", "8000::/1"};
}

}  // namespace

bool IpSetsImpl::addMember(SetState& state, const std::string& member) {
  std::string canonical = canonicalMember(member, state.spec.type, state.spec.version);
  if (canonical.empty()) {
    // Only a /0 of the set's family is wanted after all: as its two halves.
    if (!isWholeSpace(member, state.spec.type) ||
        Cidr::parse(member, true)->isV4() != (state.spec.version == IpVersion::kV4)) {
      return state.rejected.insert(member).second;
    }
    auto [low, high] = halves(state.spec.version);
    bool changed = !state.wholeSpace;
    state.wholeSpace = true;
    changed = state.members.insert(low).second || changed;
    changed = state.members.insert(high).second || changed;
    return changed;
  }
  if (canonical.ends_with("/1")) {
    auto [low, high] = halves(state.spec.version);
    if (canonical == low || canonical == high) state.explicitHalves.insert(canonical);
  }
  return state.members.insert(std::move(canonical)).second;
}

bool IpSetsImpl::removeMember(SetState& state, const std::string& member) {
  if (state.rejected.erase(member) > 0) return true;
  std::string canonical = canonicalMember(member, state.spec.type, state.spec.version);
  if (canonical.empty() && isWholeSpace(member, state.spec.type)) {
    if (!state.wholeSpace) return false;
    state.wholeSpace = false;
    // A half also listed on its own stays.
    auto [low, high] = halves(state.spec.version);
    for (const auto& half : {low, high}) {
      if (!state.explicitHalves.count(half)) state.members.erase(half);
    }
    return true;
  }
  if (canonical.ends_with("/1")) {
    auto [low, high] = halves(state.spec.version);
    if (canonical == low || canonical == high) {
      state.explicitHalves.erase(canonical);
      if (state.wholeSpace) return false;  // still wanted as half of the /0
    }
  }
  return state.members.erase(canonical) > 0;
}

void IpSetsImpl::replaceMembers(const IpSetSpec& spec, const std::set<std::string>& members) {
  if (spec.name.size() > kMaxSetName || !spec.name.starts_with(options_.namePrefix)) {
    invalid_.push_back("ipset name " + spec.name + ": must start with " + options_.namePrefix +
                       " and have at most 31 characters");
    return;
  }
  SetState state{spec, {}};
  for (const auto& member : members) addMember(state, member);
  auto it = desired_.find(spec.name);
  if (it != desired_.end() && it->second.members == state.members &&
      it->second.rejected == state.rejected && it->second.spec.type == spec.type &&
      it->second.spec.version == spec.version) {
    it->second.wholeSpace = state.wholeSpace;
    it->second.explicitHalves = std::move(state.explicitHalves);
    return;
  }
  desired_[spec.name] = std::move(state);
  dirty_.insert(spec.name);
  pendingDeletions_.erase(spec.name);
}

void IpSetsImpl::addMembers(const std::string& name, const std::set<std::string>& members) {
  auto it = desired_.find(name);
  if (it == desired_.end()) {
    invalid_.push_back("ipset " + name + ": addMembers to an unknown set");
    return;
  }
  for (const auto& member : members) {
    if (addMember(it->second, member)) dirty_.insert(name);
  }
}

void IpSetsImpl::removeMembers(const std::string& name, const std::set<std::string>& members) {
  auto it = desired_.find(name);
  if (it == desired_.end()) return;
  for (const auto& member : members) {
    if (removeMember(it->second, member)) dirty_.insert(name);
  }
}

void IpSetsImpl::removeSet(const std::string& name) {
  desired_.erase(name);
  dirty_.erase(name);
  pendingDeletions_.insert(name);
}

std::string IpSetsImpl::createLine(const std::string& name, const IpSetSpec& spec) const {
  return "create " + name + " " + spec.type + " family " + familyText(spec.version) + " maxelem " +
         std::to_string(options_.maxElements) + "\n";
}

std::string IpSetsImpl::tempName(IpVersion v) const {
  // Temporary sets carry our prefix, so a crash mid-rewrite leaves something the sweep removes.
  for (int i = 0;; ++i) {
    std::string name =
        options_.namePrefix + (v == IpVersion::kV6 ? "6" : "4") + "-tmp" + std::to_string(i);
    if (!kernel_.count(name) && !desired_.count(name)) return name;
  }
}

Status IpSetsImpl::readKernel() {
  ++stats_.saves;
  BRINDLE_ASSIGN_OR_RETURN(auto out, runner_.run({{options_.command, "save"}, ""}));
  if (out.exitCode != 0) {
    return makeError(ErrorCode::kUnavailable, options_.command + " save failed: " + out.err);
  }
  kernel_.clear();
  std::string_view text = out.out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    bool create = line.starts_with("create ");
    if (!create && !line.starts_with("add ")) continue;
    line.remove_prefix(create ? 7 : 4);
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    std::string name(line.substr(0, sp));
    if (!name.starts_with(options_.namePrefix)) continue;
    std::string_view rest = line.substr(sp + 1);
    if (create) {
      SetState& state = kernel_[name];
      size_t sp2 = rest.find(' ');
      state.spec.name = name;
      state.spec.type = std::string(rest.substr(0, sp2));
      state.spec.version =
          rest.find("family inet6") != std::string_view::npos ? IpVersion::kV6 : IpVersion::kV4;
    } else {
      auto it = kernel_.find(name);
      if (it == kernel_.end()) continue;
      std::string member(rest.substr(0, rest.find(' ')));  // drop options such as timeouts
      std::string canonical =
          canonicalMember(member, it->second.spec.type, it->second.spec.version);
      it->second.members.insert(canonical.empty() ? member : canonical);
    }
  }
  return Status::ok();
}

Status IpSetsImpl::runRestore(const std::string& input) {
  ++stats_.restores;
  lastRestoreInput_ = input;
  auto out = runner_.run({{options_.command, "restore", "-exist"}, input});
  Status failed;
  if (!out) {
    failed = out.status();
  } else if (out->exitCode != 0) {
    failed = makeError(ErrorCode::kUnavailable, options_.command + " restore failed: " + out->err);
  }
  if (!failed.isOk()) {
    // ipset restore stops at the failing line with the earlier ones applied: re-read next time.
    ++stats_.restoreErrors;
    needRead_ = true;
  }
  return failed;
}

Status IpSetsImpl::readKernelIfNeeded() {
  if (!needRead_) return Status::ok();
  if (Status read = readKernel(); !read) return read;
  for (const auto& [name, set] : desired_) dirty_.insert(name);
  for (const auto& [name, set] : kernel_) {
    if (!desired_.count(name)) pendingDeletions_.insert(name);
  }
  fresh_.clear();
  needRead_ = false;  // a failed restore sets it again
  return Status::ok();
}

Status IpSetsImpl::applyCreations(bool* created) {
  if (created) *created = false;
  if (Status read = readKernelIfNeeded(); !read) return read;
  std::string input;
  std::vector<std::string> made;
  for (const auto& name : dirty_) {
    if (kernel_.count(name)) continue;
    input += createLine(name, desired_.at(name).spec);
    made.push_back(name);
  }
  if (input.empty()) return Status::ok();
  if (Status restored = runRestore(input); !restored) return restored;
  stats_.linesWritten += made.size();
  for (const auto& name : made) {
    kernel_[name] = SetState{desired_.at(name).spec, {}};
    fresh_.insert(name);
  }
  if (created) *created = true;
  return Status::ok();
}

Status IpSetsImpl::applyUpdates() {
  if (Status read = readKernelIfNeeded(); !read) return read;
  std::string input;
  size_t lines = 0;
  std::map<std::string, SetState> written;
  for (const auto& name : dirty_) {
    const SetState& want = desired_.at(name);
    auto have = kernel_.find(name);
    bool sameKind = have != kernel_.end() && have->second.spec.type == want.spec.type &&
                    have->second.spec.version == want.spec.version;
    if (have != kernel_.end() && !sameKind) {
      // A set cannot be swapped with one of another type: destroy (fails while rules use it).
      input += "destroy " + name + "\n";
      ++lines;
      have = kernel_.end();
    }
    if (have == kernel_.end()) {
      input += createLine(name, want.spec);
      for (const auto& m : want.members) input += "add " + name + " " + m + "\n";
      lines += 1 + want.members.size();
      written[name] = want;
      continue;
    }
    std::vector<const std::string*> toAdd, toDel;
    for (const auto& m : want.members) {
      if (!have->second.members.count(m)) toAdd.push_back(&m);
    }
    for (const auto& m : have->second.members) {
      if (!want.members.count(m)) toDel.push_back(&m);
    }
    if (toAdd.empty() && toDel.empty()) continue;
    size_t delta = toAdd.size() + toDel.size();
    // A set made empty by applyCreations() is not in use yet: filled in place, no swap needed.
    if (!fresh_.count(name) && delta > 16 &&
        delta > options_.rewriteFraction * static_cast<double>(want.members.size())) {
      // Full rewrite: the rules see the old members until the swap, then all the new ones.
      std::string tmp = tempName(want.spec.version);
      input += createLine(tmp, want.spec) + "flush " + tmp + "\n";
      for (const auto& m : want.members) input += "add " + tmp + " " + m + "\n";
      input += "swap " + tmp + " " + name + "\ndestroy " + tmp + "\n";
      lines += 4 + want.members.size();
      ++stats_.rewrites;
    } else {
      for (const auto* m : toDel) input += "del " + name + " " + *m + "\n";
      for (const auto* m : toAdd) input += "add " + name + " " + *m + "\n";
      lines += delta;
    }
    written[name] = want;
  }
  if (!input.empty()) {
    if (Status restored = runRestore(input); !restored) return restored;
    stats_.linesWritten += lines;
  }
  for (auto& [name, set] : written) kernel_[name] = std::move(set);
  dirty_.clear();
  fresh_.clear();
  // A member the kernel cannot hold fails every apply until the set no longer asks for it: the
  // apply must not report success while the kernel holds less than the desired state.
  std::string message;
  for (const auto& problem : invalid_) message += (message.empty() ? "" : "; ") + problem;
  invalid_.clear();
  for (const auto& [name, set] : desired_) {
    for (const auto& member : set.rejected) {
      message += (message.empty() ? "" : "; ") + ("ipset " + name + ": bad member " + member);
    }
  }
  if (!message.empty()) return makeError(ErrorCode::kInvalid, message);
  return Status::ok();
}

Status IpSetsImpl::applyDeletions() {
  if (needRead_) return Status::ok();  // nothing known to sweep until an applyUpdates() read
  std::string input;
  std::vector<std::string> victims;
  for (const auto& name : pendingDeletions_) {
    if (desired_.count(name) || !kernel_.count(name)) continue;
    input += "destroy " + name + "\n";
    victims.push_back(name);
  }
  if (!input.empty()) {
    if (Status restored = runRestore(input); !restored) return restored;
    stats_.linesWritten += victims.size();
  }
  for (const auto& name : victims) kernel_.erase(name);
  pendingDeletions_.clear();
  return Status::ok();
}

}  // namespace brindle::dataplane
