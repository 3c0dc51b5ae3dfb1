// The vocabulary shared by the rule builders (src/rules) and the kernel writers (src/dataplane):
// chains of rules whose matches and actions are values (Felix's MatchCriteria / Action), not
// text. Only a dataplane renderer turns them into its kernel's syntax (iptables_render.h), so a
// second dataplane renders the same chains without touching the code that builds them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace brindle::dataplane {

enum class IpVersion { kV4 = 4, kV6 = 6 };

enum class TableName { kRaw, kMangle, kNat, kFilter };
const char* tableNameText(TableName table);  // "raw", "mangle", "nat", "filter"

// The device groups (IFLA_GROUP) Brindle gives workload interfaces for the nftables dispatch
// (rules/endpoints.h): a group in this range on any link is ours, as a route with our protocol
// number is.
inline constexpr uint32_t kWorkloadGroupFirst = 0x10000000;
inline constexpr uint32_t kWorkloadGroupLast = 0x1fffffff;
inline constexpr bool inWorkloadGroupRange(uint32_t group) {
  return group >= kWorkloadGroupFirst && group <= kWorkloadGroupLast;
}

// What a packet must be for a rule to apply: every criterion, in the order added. Builder calls
// chain: Match().protocol("tcp").destPorts("80,443").sourceIpSet("cali40s:...").
class Match {
 public:
  enum class Kind : uint8_t {
    kProtocol,        // text: "tcp", "ipv6-icmp", "47"
    kSourceNet,       // text: a CIDR
    kDestNet,         //
    kSourceIpSet,     // text: the set's name
    kDestIpSet,       //
    kSourcePorts,     // text: a multiport list, "80,8000:8080" (at most 15 slots)
    kDestPorts,       //
    kIcmpType,        // text: "type" or "type/code"
    kIcmp6Type,       //
    kInInterface,     // text: a name or a "cali+" wildcard
    kOutInterface,    //
    kMark,            // value/mask; value 0 is "the mask's bits are clear"
    kConntrackState,  // text: "INVALID", "RELATED,ESTABLISHED"
    kRpfFailed,       // the source would not be routed back out of the incoming interface
    kSourceAddrType,  // text: an address type, "LOCAL"
    kDestAddrType,    //
    kInGroup,         // text: a device group number (IFLA_GROUP, `ip link set .. group`), decimal
    kOutGroup,        //
  };
  struct Criterion {
    Kind kind;
    bool negated = false;
    std::string text;
    uint32_t value = 0, mask = 0;
    bool operator==(const Criterion&) const = default;
  };

  Match& protocol(std::string name) { return add(Kind::kProtocol, false, std::move(name)); }
  Match& notProtocol(std::string name) { return add(Kind::kProtocol, true, std::move(name)); }
  Match& sourceNet(std::string cidr) { return add(Kind::kSourceNet, false, std::move(cidr)); }
  Match& notSourceNet(std::string cidr) { return add(Kind::kSourceNet, true, std::move(cidr)); }
  Match& destNet(std::string cidr) { return add(Kind::kDestNet, false, std::move(cidr)); }
  Match& notDestNet(std::string cidr) { return add(Kind::kDestNet, true, std::move(cidr)); }
  Match& sourceIpSet(std::string set) { return add(Kind::kSourceIpSet, false, std::move(set)); }
  Match& notSourceIpSet(std::string set) { return add(Kind::kSourceIpSet, true, std::move(set)); }
  Match& destIpSet(std::string set) { return add(Kind::kDestIpSet, false, std::move(set)); }
  Match& notDestIpSet(std::string set) { return add(Kind::kDestIpSet, true, std::move(set)); }
  Match& sourcePorts(std::string list) { return add(Kind::kSourcePorts, false, std::move(list)); }
  Match& notSourcePorts(std::string list) { return add(Kind::kSourcePorts, true, std::move(list)); }
  Match& destPorts(std::string list) { return add(Kind::kDestPorts, false, std::move(list)); }
  Match& notDestPorts(std::string list) { return add(Kind::kDestPorts, true, std::move(list)); }
  Match& icmpType(IpVersion v, std::string typeCode, bool negated = false) {
    return add(v == IpVersion::kV4 ? Kind::kIcmpType : Kind::kIcmp6Type, negated,
               std::move(typeCode));
  }
  Match& inInterface(std::string name) { return add(Kind::kInInterface, false, std::move(name)); }
  Match& outInterface(std::string name) { return add(Kind::kOutInterface, false, std::move(name)); }
  Match& inGroup(uint32_t group) { return add(Kind::kInGroup, false, std::to_string(group)); }
  Match& outGroup(uint32_t group) { return add(Kind::kOutGroup, false, std::to_string(group)); }
  Match& mark(uint32_t value, uint32_t mask) {
    criteria_.push_back(Criterion{Kind::kMark, false, {}, value, mask});
    return *this;
  }
  Match& markClear(uint32_t mask) { return mark(0, mask); }
  Match& markSet(uint32_t bits) { return mark(bits, bits); }
  Match& conntrackState(std::string states) {
    return add(Kind::kConntrackState, false, std::move(states));
  }
  Match& rpfFailed() { return add(Kind::kRpfFailed, false, {}); }
  Match& sourceAddrType(std::string type) {
    return add(Kind::kSourceAddrType, false, std::move(type));
  }
  Match& destAddrType(std::string type) { return add(Kind::kDestAddrType, false, std::move(type)); }
  // This match's criteria followed by `other`'s.
  Match& append(const Match& other) {
    criteria_.insert(criteria_.end(), other.criteria_.begin(), other.criteria_.end());
    return *this;
  }

  const std::vector<Criterion>& criteria() const { return criteria_; }
  bool empty() const { return criteria_.empty(); }
  bool operator==(const Match&) const = default;

 private:
  Match& add(Kind kind, bool negated, std::string text) {
    criteria_.push_back(Criterion{kind, negated, std::move(text), 0, 0});
    return *this;
  }
  std::vector<Criterion> criteria_;
};

// What a rule does with a packet it matches.
struct Action {
  enum class Kind : uint8_t {
    kNone,        // nothing (the rule only counts)
    kAccept,      //
    kDrop,        //
    kReturn,      //
    kJump,        // target: a chain; comes back
    kGoto,        // target: a chain; does not come back
    kSetMark,     // value/mask; value 0 clears the mask's bits
    kLog,         // target: the prefix, ": " is added
    kMasquerade,  //
    kDnat,        // target: the new destination address
    kSnat,        // target: the new source address
  };
  Kind kind = Kind::kNone;
  std::string target;
  uint32_t value = 0, mask = 0;

  static Action none() { return {}; }
  static Action accept() { return of(Kind::kAccept); }
  static Action drop() { return of(Kind::kDrop); }
  static Action ret() { return of(Kind::kReturn); }
  static Action jump(std::string chain) { return of(Kind::kJump, std::move(chain)); }
  static Action goTo(std::string chain) { return of(Kind::kGoto, std::move(chain)); }
  static Action setMark(uint32_t value, uint32_t mask) {
    return of(Kind::kSetMark, {}, value, mask);
  }
  static Action clearMark(uint32_t mask) { return setMark(0, mask); }
  static Action log(std::string prefix) { return of(Kind::kLog, std::move(prefix)); }
  static Action masquerade() { return of(Kind::kMasquerade); }
  static Action dnat(std::string address) { return of(Kind::kDnat, std::move(address)); }
  static Action snat(std::string address) { return of(Kind::kSnat, std::move(address)); }

  // The chain a jump or goto leads to, else "".
  std::string_view chain() const {
    return kind == Kind::kJump || kind == Kind::kGoto ? std::string_view(target) : "";
  }
  bool operator==(const Action&) const = default;

 private:
  static Action of(Kind kind, std::string target = {}, uint32_t value = 0, uint32_t mask = 0) {
    Action a;
    a.kind = kind;
    a.target = std::move(target);
    a.value = value;
    a.mask = mask;
    return a;
  }
};

struct Rule {
  Match match;
  Action action;
  std::string comment;  // human text, written after the rule's `cali:` hash comment

  bool operator==(const Rule&) const = default;
};

struct Chain {
  std::string name;  // <= 28 characters, starts with "cali-" for ours
  std::vector<Rule> rules;

  bool operator==(const Chain&) const = default;
};

}  // namespace brindle::dataplane
