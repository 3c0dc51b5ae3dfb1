// PolicyResolver: for each local endpoint, the tiers and the ordered policies of each tier per
// direction (tier order, then policy order with missing order last, then name) with each tier's
// default action, plus its profiles. Endpoints whose answer may have changed are marked dirty and
// resolved on flush.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "calc/event_sequencer.h"
#include "calc/inputs.h"

namespace brindle::calc {

class PolicyResolver {
 public:
  // A tier without a Tier resource (the default tier is seldom stored; Calico refuses policies
  // in other missing tiers, but a store may hold them) sorts and acts like Calico's default
  // tier: order kDefaultTierOrder, Deny.
  void updateTier(const TierInput& tier);
  void removeTier(const std::string& name);
  void updatePolicy(const PolicyInput& policy);  // sort key and types
  void removePolicy(const PolicyId& id);
  // Matches name policies known through updatePolicy().
  void matchStarted(const PolicyId& policy, const std::string& endpointKey);
  void matchStopped(const PolicyId& policy, const std::string& endpointKey);
  void updateEndpoint(const std::string& endpointKey, const EndpointInput& endpoint);
  void removeEndpoint(const std::string& endpointKey);
  bool hasEndpoint(const std::string& endpointKey) const { return endpoints_.count(endpointKey); }

  // Sends every dirty endpoint's resolved state (or its removal) to the sequencer.
  void flush(EventSequencer& out);

  // Tiers sort by order, then by name (as Felix's TierLess for tiers that exist).
  bool tierBefore(const std::string& a, const std::string& b) const;

 private:
  struct TierSettings {
    double order = kDefaultTierOrder;
    model::Action defaultAction = model::Action::kDeny;
    bool operator==(const TierSettings&) const = default;
  };
  TierSettings tierSettings(const std::string& name) const;
  void markTierDirty(const std::string& name);
  struct SortKey {
    std::optional<double> order;
    bool ingress = true;
    bool egress = true;
    bool operator==(const SortKey&) const = default;
  };
  using Policy = std::pair<const PolicyId, SortKey>;  // an entry of policies_ (stable address)
  // What an endpoint's resolved state is made of (its labels are not needed here).
  struct Endpoint {
    bool host = false;
    std::string id;
    std::string interfaceName;
    std::vector<Cidr> addresses;
    std::vector<IpNat> ipNats;
    std::vector<std::string> profiles;
  };
  std::vector<TierInfo> resolveTiers(const std::vector<const Policy*>& policies) const;

  std::map<std::string, TierSettings> tiers_;  // by name; only tiers with a Tier resource
  std::map<PolicyId, SortKey> policies_;
  // Per endpoint, the policies selecting it (pointers into policies_, dropped with the policy).
  std::unordered_map<std::string, std::vector<const Policy*>> policiesOfEndpoint_;
  std::unordered_map<std::string, Endpoint> endpoints_;
  std::set<std::string> dirty_;
};

}  // namespace brindle::calc
