// Kind table and name resolution.
#include "model/kinds.h"

#include <algorithm>
#include <string>

#include "common/check.h"
#include "common/strings.h"

namespace brindle::model {
namespace {

const std::vector<KindInfo>& table() {
  static const std::vector<KindInfo> kinds = {
      {Kind::kNode, "Node", "nodes", "node", false},
      {Kind::kBGPPeer, "BGPPeer", "bgppeers", "bgpPeer", false},
      {Kind::kBGPConfiguration, "BGPConfiguration", "bgpconfigurations", "", false},
      {Kind::kIPPool, "IPPool", "ippools", "ipPool", false},
      {Kind::kGlobalNetworkPolicy, "GlobalNetworkPolicy", "globalnetworkpolicies", "policy", false},
      {Kind::kNetworkPolicy, "NetworkPolicy", "networkpolicies", "", true},
      {Kind::kProfile, "Profile", "profiles", "profile", false},
      {Kind::kWorkloadEndpoint, "WorkloadEndpoint", "workloadendpoints", "workloadEndpoint", true},
      {Kind::kHostEndpoint, "HostEndpoint", "hostendpoints", "hostEndpoint", false},
      {Kind::kGlobalNetworkSet, "GlobalNetworkSet", "globalnetworksets", "", false},
      {Kind::kNetworkSet, "NetworkSet", "networksets", "", true},
      {Kind::kIPReservation, "IPReservation", "ipreservations", "", false},
      {Kind::kFelixConfiguration, "FelixConfiguration", "felixconfigurations", "", false},
      {Kind::kClusterInformation, "ClusterInformation", "clusterinformations", "", false},
      {Kind::kTier, "Tier", "tiers", "", false},
      {Kind::kStagedGlobalNetworkPolicy, "StagedGlobalNetworkPolicy", "stagedglobalnetworkpolicies",
       "", false},
      {Kind::kStagedNetworkPolicy, "StagedNetworkPolicy", "stagednetworkpolicies", "", true},
      // Calico's etcd layout spells this one with capitals.
      {Kind::kBGPFilter, "BGPFilter", "BGPFilters", "", false},
      {Kind::kCalicoNodeStatus, "CalicoNodeStatus", "caliconodestatuses", "", false},
  };
  return kinds;
}

}  // namespace

const std::vector<KindInfo>& allKinds() { return table(); }

std::optional<Kind> v3Kind(std::string_view name) {
  for (const auto& info : allKinds()) {
    if (info.name == name) return info.kind;
  }
  return std::nullopt;
}

const KindInfo& kindInfo(Kind kind) {
  const auto& kinds = table();
  auto it = std::ranges::find(kinds, kind, &KindInfo::kind);
  BRINDLE_CHECK(it != kinds.end(), "unknown kind " + std::to_string(static_cast<int>(kind)));
  return *it;
}

std::optional<Kind> lookupKind(std::string_view typed) {
  const std::string t = toLower(typed);
  // Short names calicoctl users know.
  static const std::vector<std::pair<std::string_view, Kind>> aliases = {
      {"policy", Kind::kGlobalNetworkPolicy},
      {"policies", Kind::kGlobalNetworkPolicy},
      {"gnp", Kind::kGlobalNetworkPolicy},
      {"np", Kind::kNetworkPolicy},
      {"netpol", Kind::kNetworkPolicy},
      {"wep", Kind::kWorkloadEndpoint},
      {"weps", Kind::kWorkloadEndpoint},
      {"hep", Kind::kHostEndpoint},
      {"heps", Kind::kHostEndpoint},
      {"pool", Kind::kIPPool},
      {"pools", Kind::kIPPool},
      {"ipp", Kind::kIPPool},
      {"bgpconfig", Kind::kBGPConfiguration},
      {"bgpconfigs", Kind::kBGPConfiguration},
      {"felixconfig", Kind::kFelixConfiguration},
      {"felixconfigs", Kind::kFelixConfiguration},
      {"clusterinfo", Kind::kClusterInformation},
      {"gns", Kind::kGlobalNetworkSet},
      {"netset", Kind::kNetworkSet},
      {"netsets", Kind::kNetworkSet},
      {"ipreservation", Kind::kIPReservation},
      {"ipres", Kind::kIPReservation},
      {"sgnp", Kind::kStagedGlobalNetworkPolicy},
      {"sgnps", Kind::kStagedGlobalNetworkPolicy},
      {"snp", Kind::kStagedNetworkPolicy},
      {"stagedpolicy", Kind::kStagedNetworkPolicy},
      {"stagedpolicies", Kind::kStagedNetworkPolicy},
      {"spol", Kind::kStagedNetworkPolicy},
      {"spols", Kind::kStagedNetworkPolicy},
      {"bgpf", Kind::kBGPFilter},
      {"bgpfs", Kind::kBGPFilter},
      {"bf", Kind::kBGPFilter},
      {"bfs", Kind::kBGPFilter},
      {"nodestatus", Kind::kCalicoNodeStatus},
      {"nodestatuses", Kind::kCalicoNodeStatus},
  };
  for (const auto& [alias, kind] : aliases) {
    if (t == alias) return kind;
  }
  for (const auto& info : table()) {
    const std::string singular = toLower(info.name);
    if (t == singular || t == info.plural || t == singular + "s" ||
        (!info.v1Name.empty() && (t == toLower(info.v1Name) || t == toLower(info.v1Name) + "s"))) {
      return info.kind;
    }
  }
  return std::nullopt;
}

std::string kindPrefix(Kind kind, std::string_view ns) {
  const KindInfo& info = kindInfo(kind);
  std::string key(kKeyRoot);
  key += info.plural;
  key += '/';
  if (info.namespaced && !ns.empty()) {
    key += ns;
    key += '/';
  }
  return key;
}

std::string resourceKey(Kind kind, std::string_view ns, std::string_view name) {
  std::string key = kindPrefix(kind, kindInfo(kind).namespaced ? ns : std::string_view{});
  key += name;
  return key;
}

}  // namespace brindle::model
