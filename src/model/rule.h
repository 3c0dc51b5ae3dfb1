// A typed view of a Calico v3 policy rule (spec.ingress[i] / spec.egress[i]), parsed and checked
// from its JSON form; used by validation, lint and the policy engine.
#pragma once

#include <climits>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "model/resource.h"
#include "selector/selector.h"

namespace brindle::model {

enum class Action { kAllow, kDeny, kLog, kPass };

std::string_view actionName(Action action);  // "Allow", "Deny", "Log", "Pass"
// Log only records the packet and lets the next rule see it; the others end rule evaluation.
inline bool isTerminal(Action action) { return action != Action::kLog; }

// An IP protocol. Compared by number, so "TCP" and 6 are the same protocol; `named` remembers
// whether the user wrote a name so the canonical text round-trips.
struct Protocol {
  uint8_t number = 0;
  bool named = false;

  // "TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite" when named, else the number as text.
  std::string text() const;
  // Calico lets only TCP, UDP and SCTP carry port matches.
  bool supportsPorts() const { return number == 6 || number == 17 || number == 132; }
  bool operator==(const Protocol& other) const { return number == other.number; }
};

// Parses a protocol name as Calico spells it (TCP, ICMPv6, ...) or a number 1-255 (JSON number
// or numeric string).
Result<Protocol> parseProtocol(const Json& value, const std::string& path);

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
  bool operator==(const PortRange&) const = default;
};

// A list of ports as written: numbers and ranges, plus named ports (resolved per endpoint).
struct PortSet {
  std::vector<PortRange> ranges;
  std::vector<std::string> names;

  bool empty() const { return ranges.empty() && names.empty(); }
  // True if every port in `other` is certainly in this set (named ports only by equal name).
  bool covers(const PortSet& other) const;
  std::string text() const;  // "80,1000:2000,http"
  bool operator==(const PortSet&) const = default;
};

struct ServiceAccountMatch {
  std::vector<std::string> names;
  std::optional<selector::Selector> selector;
  bool operator==(const ServiceAccountMatch&) const = default;
};

struct ServiceMatch {
  std::string name;
  std::string ns;
  bool operator==(const ServiceMatch&) const = default;
};

// One side (source or destination) of a rule. Every set field must match.
struct EntityRule {
  std::vector<Cidr> nets;
  std::vector<Cidr> notNets;
  std::optional<selector::Selector> selector;
  std::optional<selector::Selector> notSelector;
  std::optional<selector::Selector> namespaceSelector;
  std::optional<ServiceAccountMatch> serviceAccounts;
  std::optional<ServiceMatch> services;
  PortSet ports;
  PortSet notPorts;

  bool hasConditions() const;
  std::string text() const;  // "selector role == \"db\" ports 3306", "" when unconditional
};

struct IcmpMatch {
  std::optional<int> type;  // 0-254
  std::optional<int> code;  // 0-255, only with a type
  bool operator==(const IcmpMatch&) const = default;
};

struct Rule {
  Action action = Action::kAllow;
  std::optional<Protocol> protocol;
  std::optional<Protocol> notProtocol;
  std::optional<int> ipVersion;  // 4 or 6
  std::optional<IcmpMatch> icmp;
  std::optional<IcmpMatch> notICMP;
  EntityRule source;
  EntityRule destination;
  std::optional<Json> http;                        // application-layer match, kept as written
  std::map<std::string, std::string> annotations;  // metadata.annotations

  bool hasConditions() const;
  // A one-line human summary for messages, e.g. "Allow TCP to ports 3306 from selector ...".
  std::string describe() const;
};

// Parses and checks one rule at `path` (e.g. "spec.ingress[1]"). Errors (kInvalid) name the
// offending field: `spec.ingress[1].destination.ports[0]: "70000" is not a port or port range`.
// Enforces Calico's cross-field rules: ports only with TCP/UDP/SCTP, icmp only with
// ICMP/ICMPv6, an ICMP code needs a type, IP version consistent with nets and protocol.
Result<Rule> parseRule(const Json& json, const std::string& path);

// One direction of a policy or profile (spec.ingress or spec.egress; absent or not a list: no
// rules), each rule parsed once for validation, lint and the agent alike: the rule, or why it
// does not parse (paths as parseRule's, "spec.ingress[1]...").
std::vector<Result<Rule>> parseRules(const Json& spec, const char* direction);

// Field paths in messages: join("spec", "ingress") is "spec.ingress" (just the field for an empty
// path), indexed("spec.ingress", 1) is "spec.ingress[1]"; invalid() is kInvalid "<path>: <what>".
std::string join(const std::string& path, std::string_view field);
std::string indexed(const std::string& path, size_t i);
Error invalid(const std::string& path, const std::string& what);

// Calico wants networks strictly masked ("10.0.0.1/8" is more likely a typo): kInvalid
// `<path>: "10.0.0.1/8" has host bits set (did you mean "10.0.0.0/8"?)` if `value`, read as
// `cidr`, has bits set below its prefix.
Status checkMasked(const Json& value, const Cidr& cidr, const std::string& path);

// The value as it appears in messages: `"text"` for strings, `"70000"` for other JSON.
std::string quoteJson(const Json& value);

// A JSON integer in [lo, hi], or nullopt (not an integer, or out of range).
std::optional<long long> jsonInt(const Json& v, long long lo = LLONG_MIN, long long hi = LLONG_MAX);

// Checks a selector string, prefixing parse errors with `path`.
Result<selector::Selector> parseSelectorAt(const Json& value, const std::string& path);

// True if every packet `later` matches is also matched by `earlier` (conservative: false when
// unsure). Actions are not compared.
bool ruleCovers(const Rule& earlier, const Rule& later);

}  // namespace brindle::model
