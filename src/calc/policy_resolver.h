// PolicyResolver: for each local endpoint, the tiers and the ordered policies of each tier per
// direction (tier order, then policy order with missing order last, then name), plus its
// profiles. Endpoints whose answer may have changed are marked dirty and resolved on flush.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "calc/event_sequencer.h"
#include "calc/inputs.h"

namespace brindle::calc {

class PolicyResolver {
 public:
  void updatePolicy(const PolicyInput& policy);  // sort key and types
  void removePolicy(const PolicyId& id);
  void matchStarted(const PolicyId& policy, const std::string& endpointKey);
  void matchStopped(const PolicyId& policy, const std::string& endpointKey);
  void updateEndpoint(const std::string& endpointKey, const EndpointInput& endpoint);
  void removeEndpoint(const std::string& endpointKey);
  bool hasEndpoint(const std::string& endpointKey) const { return endpoints_.count(endpointKey); }

  // Sends every dirty endpoint's resolved state (or its removal) to the sequencer.
  void flush(EventSequencer& out);

  // Tiers sort by name with the default tier last (Brindle has no Tier resource yet; Calico's
  // default tier has the largest order).
  static bool tierBefore(const std::string& a, const std::string& b);

 private:
  struct SortKey {
    std::optional<double> order;
    bool ingress = true;
    bool egress = true;
    bool operator==(const SortKey&) const = default;
  };
  std::vector<TierInfo> resolveTiers(const std::set<PolicyId>& policies) const;

  std::map<PolicyId, SortKey> policies_;
  std::map<PolicyId, std::set<std::string>> endpointsOfPolicy_;
  std::map<std::string, std::set<PolicyId>> policiesOfEndpoint_;
  std::map<std::string, EndpointInput> endpoints_;
  std::set<std::string> dirty_;
};

}  // namespace brindle::calc
