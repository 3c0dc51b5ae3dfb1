// The reference model: Calico's policy semantics as its documentation states them (NetworkPolicy,
// GlobalNetworkPolicy, Rule, EntityRule, Profile, selectors, automatic labels), written for this
// test and independent of src/calc. It decides one packet against a State and says which policy
// or profile rule decided, so a mismatch can be read without running anything.
#pragma once

#include <string>

#include "policy_diff/state.h"

namespace brindle::policydiff {

struct Packet {
  std::string srcIp, dstIp;
  std::string proto;  // "tcp", "udp", "icmp" (an echo request: type 8, code 0)
  int port = 0;       // destination port for tcp/udp
  std::string text() const;
};

// Where the documentation leaves room for two readings, the model is run under each and a probe
// counts only where they agree (the others are reported as ambiguous, not as mismatches).
struct Reading {
  // A notSelector excludes only peers inside the side's namespace scope (the policy's namespace,
  // or the namespaceSelector's namespaces) rather than every peer it selects.
  bool scopedNotSelector = false;
  // A namespaceSelector is also evaluated for non-namespaced peers (global network sets), against
  // an empty set of namespace labels, so that `all()`, `!=`, `not in`, `!has` select them too.
  // The documentation says namespaceSelector selects namespaces; evaluating its labels with a
  // prefix on every peer would do the above.
  bool namespaceSelectorOnGlobals = false;
};

struct Verdict {
  bool allowed = false;
  std::string reason;  // e.g. "egress default/w1: policy gnp-2 egress[1] Deny; ..."
};

Verdict decide(const State& state, const Packet& packet, const Reading& reading);

// The verdict under every Reading; `ambiguous` when they disagree on allowed.
struct ModelAnswer {
  Verdict verdict;  // under the default Reading
  bool ambiguous = false;
};
ModelAnswer decideAllReadings(const State& state, const Packet& packet);

}  // namespace brindle::policydiff
