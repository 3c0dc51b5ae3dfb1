// The model's answer: one packet through the egress policy of FROM and the ingress policy of TO,
// evaluated as the agent renders it (the resolver's tier and policy order, the scanner's rules,
// selector ipsets as the label index fills them), with why each rule did or did not match.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "explain/cluster.h"
#include "model/rule.h"

namespace brindle::explain {

struct RuleTrial {
  size_t index = 0;  // spec.ingress[index] / spec.egress[index]
  std::string text;  // model::Rule::describe()
  model::Action action = model::Action::kAllow;
  bool matched = false;
  std::string reason;  // what matched, or the first criterion that failed
  std::string dead;    // lint's finding when an earlier rule shadows it, else ""
};

// A policy or profile met on the way, and what became of the packet in it.
struct Step {
  bool profile = false;
  std::string name;  // policy: "<namespace>/<name>" or name; profile: name
  std::string tier;  // "" for a profile
  std::string chain;
  std::vector<RuleTrial> rules;
  std::string outcome;  // "Allow (rule 1)", "no rule matched", "Pass (rule 0)"
};

// What decided a side.
struct Decision {
  enum class Kind { kRule, kEndOfTier, kNoProfile, kNotPoliced };
  Kind kind = Kind::kNotPoliced;
  bool allowed = true;
  std::string policy;  // policy or profile name (kRule), tier (kEndOfTier)
  std::string tier;
  bool profile = false;
  int rule = -1;  // rule index in the resource
  model::Action action = model::Action::kAllow;
  std::string chain;  // the kernel chain holding the deciding rule
  // The kernel rules of that chain rendered from the deciding rule: [first, first + count),
  // 1-based (an Allow is its mark rule; a long port list splits into several).
  int kernelFirst = 0, kernelCount = 0;
  std::string text() const;  // "policy default/db-deny (tier default) rule 0: Deny"
};

struct Side {
  bool ingress = false;
  bool evaluated = false;  // false: not one of our endpoints (why in `skipped`)
  std::string skipped;
  std::string endpoint;  // Peer::text()
  std::string node;
  std::string interfaceName;
  std::vector<Step> steps;
  Decision decision;
};

struct ModelPath {
  std::string from, to;
  std::optional<IpAddr> source, destination;
  Packet packet;
  Side egress, ingress;
  bool allowed = true;
  // To or from the node itself (INPUT/OUTPUT), not forwarded: --live does not walk it.
  bool hostLocal = false;
  std::vector<std::string> notes;
};

ModelPath explainModel(const Cluster& cluster, const Peer& from, const Peer& to,
                       const Packet& packet);

}  // namespace brindle::explain
