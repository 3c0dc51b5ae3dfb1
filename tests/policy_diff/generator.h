// Seeded generator of random valid Calico v3 states for the differential policy test, over the
// lab's fixed workloads (two namespaces) and outside hosts. Every resource is checked with the
// project's own validation (model::decodeResources, what brindlectl runs) and redrawn if refused.
#pragma once

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "policy_diff/reference_model.h"
#include "policy_diff/state.h"

namespace brindle::policydiff {

// A place traffic starts or ends: a workload of the lab, or an outside host (no endpoint).
struct LabHost {
  std::string name;  // w1..w6, x1, x2
  std::string ns;    // Kubernetes namespace for workloads, "" for outside hosts
  std::string iface;
  std::string ip;
  bool workload() const { return !ns.empty(); }
};
const std::vector<LabHost>& labHosts();

// Ports the lab's servers listen on.
const std::vector<int>& tcpPorts();
const std::vector<int>& udpPorts();

// Renderer bugs a run can keep its states away from while their fix is pending
// (POLICY_DIFF_AVOID=name,... or POLICY_DIFF_AVOID_KNOWN_BUGS=1 for all). The first three are
// issue 18's; the test is meant to run with none avoided.
//   ipset-zero      0.0.0.0/0 among two or more nets, or in a network set (goes into an ipset)
//   nets-notnets    nets and notNets on the same rule side
//   ns-notselector  a NetworkPolicy rule side with a notSelector and no selector or
//                   namespaceSelector
//   proto-notproto  protocol and notProtocol on the same rule
//   notnets-zero    notNets of just 0.0.0.0/0 (`! -s 0.0.0.0/0`, which iptables-nft refuses)
const std::vector<std::string>& knownBugs();

struct GeneratorOptions {
  std::set<std::string> avoid;  // names from knownBugs()
  bool avoids(const std::string& bug) const { return avoid.count(bug) > 0; }
};

class Generator {
 public:
  Generator(uint64_t seed, GeneratorOptions options);

  // A random state; `refused` counts resources the validation refused and that were redrawn.
  State state();
  // Random probes between the lab's hosts (no outside-to-outside pairs), without repeats.
  std::vector<Packet> probes(size_t count);
  int refused() const { return refused_; }

 private:
  size_t pick(size_t n);
  bool chance(double p);
  template <class T>
  const T& oneOf(const std::vector<T>& v) {
    return v[pick(v.size())];
  }

  LabelMap endpointLabels();
  Sel leaf(bool namespaceKeys);
  Sel selector(int depth);
  Sel namespaceSelector();
  std::vector<std::string> nets();
  std::vector<PortRange> ports();
  Side side(bool destination, bool namespaced, const std::string& protocol);
  Rule rule(bool inProfile, bool namespaced);
  std::vector<Rule> rules(bool inProfile, bool namespaced, size_t max);
  Policy policy(size_t index, const std::vector<Policy>& earlier);
  Profile profile(size_t index);
  NetSet netSet(size_t index);
  // Redraws `make()` until model::decodeResources accepts its JSON (at most 50 tries).
  template <class T, class F>
  T valid(F make);

  std::mt19937_64 rng_;
  GeneratorOptions options_;
  int refused_ = 0;
};

}  // namespace brindle::policydiff
