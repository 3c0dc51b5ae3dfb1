// The resource kinds Brindle stores (Calico's projectcalico.org/v3 kinds), their names as users
// type them (v3 and the seed's v1 names, singular or plural, any case), and their datastore keys.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace brindle::model {

enum class Kind {
  kNode,
  kBGPPeer,
  kBGPConfiguration,
  kIPPool,
  kGlobalNetworkPolicy,
  kNetworkPolicy,
  kProfile,
  kWorkloadEndpoint,
  kHostEndpoint,
  kGlobalNetworkSet,
  kNetworkSet,
  kIPReservation,
  kFelixConfiguration,
  kClusterInformation,
  kTier,
  kStagedGlobalNetworkPolicy,
  kStagedNetworkPolicy,
  kBGPFilter,
  kCalicoNodeStatus,
};

struct KindInfo {
  Kind kind;
  std::string_view name;    // v3 kind, e.g. "WorkloadEndpoint"
  std::string_view plural;  // plural used in keys as Calico spells it, e.g. "workloadendpoints"
  std::string_view v1Name;  // the seed's v1 kind ("workloadEndpoint"), empty if none
  bool namespaced;          // NetworkPolicy, WorkloadEndpoint, NetworkSet
};

const KindInfo& kindInfo(Kind kind);
const std::vector<KindInfo>& allKinds();

// Resolves what a user typed ("workloadEndpoints", "wep", "policy", "GlobalNetworkPolicy",
// "ippools", ...). v1 names map to the v3 kind they convert to ("policy" -> GlobalNetworkPolicy).
std::optional<Kind> lookupKind(std::string_view typed);
// The v3 kind spelled exactly `name` ("WorkloadEndpoint"), as a resource's `kind` field names it.
std::optional<Kind> v3Kind(std::string_view name);

constexpr std::string_view kKeyRoot = "/calico/resources/v3/projectcalico.org/";

// "/calico/resources/v3/projectcalico.org/<plural>/" (+ "<namespace>/" when given).
std::string kindPrefix(Kind kind, std::string_view ns = {});
// The key of one resource; `ns` is ignored for kinds that are not namespaced.
std::string resourceKey(Kind kind, std::string_view ns, std::string_view name);

}  // namespace brindle::model
