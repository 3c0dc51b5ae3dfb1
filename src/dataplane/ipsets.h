// IpSets: the desired members of our ipsets (names start with "cali"), written with
// `ipset restore`: new sets are created and filled before any rule refers to them, changed sets
// get member deltas (or a full rewrite into a temporary set and `swap`), and sets no longer wanted
// are destroyed only when the caller says the last rule using them is gone.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "common/result.h"
#include "dataplane/chain.h"

namespace brindle::dataplane {

struct IpSetSpec {
  std::string name;               // e.g. "cali40s:Uh1Ln4ztYwBJ2T_JJzf4kPX" (<= 31 chars)
  std::string type = "hash:net";  // or "hash:ip", "hash:ip,port"
  IpVersion version = IpVersion::kV4;
};

class IpSets {
 public:
  virtual ~IpSets() = default;
  virtual void replaceMembers(const IpSetSpec& spec, const std::set<std::string>& members) = 0;
  virtual void addMembers(const std::string& name, const std::set<std::string>& members) = 0;
  virtual void removeMembers(const std::string& name, const std::set<std::string>& members) = 0;
  virtual void removeSet(const std::string& name) = 0;

  // Optionally first: creates (empty) the sets the kernel does not have yet, so that rules naming
  // them can be parsed while applyUpdates() fills them; rules that make them reachable must wait
  // for applyUpdates() to succeed.
  // `created` (optional) tells whether any set was created, i.e. whether anything must wait for
  // applyUpdates() before referring to it.
  virtual Status applyCreations(bool* created = nullptr) {
    if (created) *created = false;
    return Status::ok();
  }
  // Creates/fills sets (call before the tables' apply) ...
  virtual Status applyUpdates() = 0;
  // ... and destroys removed sets (call after the tables' apply).
  virtual Status applyDeletions() = 0;
};
using IpSetsPtr = std::unique_ptr<IpSets>;

}  // namespace brindle::dataplane
