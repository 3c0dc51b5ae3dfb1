// The differential policy test's own picture of a Calico v3 state: endpoints, profiles, network
// sets and policies as plain structs. The generator builds them, toJson() writes the v3 resources
// the agent reads, and the reference model evaluates the same structs. Selectors are kept as a
// tree (not text) so the model evaluates them without the project's selector library.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace brindle::policydiff {

using Json = nlohmann::ordered_json;
using LabelMap = std::map<std::string, std::string>;

// A selector expression of Calico's language: every operator of the brief.
struct Sel {
  enum class Op { kAll, kGlobal, kEq, kNe, kIn, kNotIn, kHas, kNotHas, kAnd, kOr, kNot };
  Op op = Op::kAll;
  std::string key;
  std::vector<std::string> values;  // one for == and !=, a set for in / not in
  std::vector<Sel> kids;            // two for && and ||, one for !

  std::string text() const;
  // Calico's label semantics: != and `not in` also match when the key is absent.
  bool matches(const LabelMap& labels) const;
};

struct PortRange {
  int first = 0;
  int last = 0;
  std::string text() const;
};

// One side of a rule (source or destination).
struct Side {
  std::vector<std::string> nets, notNets;  // IPv4 CIDRs as written
  std::optional<Sel> selector, notSelector, namespaceSelector;
  std::vector<PortRange> ports, notPorts;
  bool empty() const;
  Json toJson() const;
};

struct Icmp {
  int type = 0;
  std::optional<int> code;
};

struct Rule {
  std::string action;                                // Allow, Deny, Pass, Log
  std::optional<std::string> protocol, notProtocol;  // TCP, UDP, ICMP, SCTP
  std::optional<Icmp> icmp, notICMP;
  Side source, destination;
  Json toJson() const;
};

struct Policy {
  bool global = true;  // GlobalNetworkPolicy, else NetworkPolicy in `ns`
  std::string name, ns;
  std::optional<double> order;
  Sel selector;
  std::optional<std::vector<std::string>> types;  // unset: Calico's defaulting decides
  std::vector<Rule> ingress, egress;
  std::string id() const { return global ? name : ns + "/" + name; }
  Json toJson() const;
};

struct Profile {
  std::string name;
  LabelMap labelsToApply;
  std::vector<Rule> ingress, egress;
  Json toJson() const;
};

struct Endpoint {
  std::string name, ns, workload, iface, ip;  // ip: one IPv4 address (/32)
  LabelMap labels;
  std::vector<std::string> profiles;
  std::string id() const { return ns + "/" + name; }
  Json toJson(const std::string& node) const;
};

struct NetSet {
  bool global = true;  // GlobalNetworkSet, else NetworkSet in `ns`
  std::string name, ns;
  LabelMap labels;
  std::vector<std::string> nets;
  Json toJson() const;
};

struct State {
  std::vector<Endpoint> endpoints;
  std::vector<Profile> profiles;
  std::vector<NetSet> netSets;
  std::vector<Policy> policies;

  // Every resource as v3 JSON, in an order the store accepts; keyed "Kind/ns/name" so two states
  // can be diffed resource by resource.
  std::map<std::string, Json> resources(const std::string& node) const;
  std::string yaml(const std::string& node) const;  // the whole state, for mismatch reports
};

}  // namespace brindle::policydiff
