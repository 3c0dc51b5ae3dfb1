// The facts the calculation graph needs from each resource kind, read once from the v3 JSON
// (model::Resource) into plain structs so the graph never touches JSON.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "calc/types.h"
#include "common/labels.h"
#include "common/result.h"
#include "model/resource.h"
#include "model/rule.h"
#include "model/views.h"
#include "selector/ast.h"
#include "selector/selector.h"

namespace brindle::calc {

// Labels Calico adds to every namespaced endpoint / network set.
inline constexpr std::string_view kNamespaceLabel = "projectcalico.org/namespace";
inline constexpr std::string_view kOrchestratorLabel = "projectcalico.org/orchestrator";
// Namespace-selector labels live under this prefix (Calico's "pcns."): a rule's
// namespaceSelector `a == 'x'` is evaluated as `pcns.a == 'x'` against endpoint labels.
// Endpoints get `pcns.projectcalico.org/name: <namespace>` since namespaces themselves are not
// stored in Brindle.
inline constexpr std::string_view kNamespaceSelectorPrefix = "pcns.";

struct EndpointInput {
  bool host = false;  // HostEndpoint, else WorkloadEndpoint
  std::string id;     // workload: "<namespace>/<name>"; host: name
  std::string node;
  std::string interfaceName;
  Labels labels;  // own labels plus the implicit ones above
  std::vector<std::string> profiles;
  std::vector<Cidr> addresses;  // ipNetworks / expectedIPs
  std::vector<IpNat> ipNats;
};

struct PolicyInput : model::RuleLists {
  PolicyId id;
  std::string ns;  // namespace of a NetworkPolicy, "" for global
  selector::Selector selector;
  std::optional<double> order;  // missing = after every ordered policy
  bool appliesIngress = true;
  bool appliesEgress = true;
};

// A Tier resource: its order (missing or null: kDefaultTierOrder) and its default action.
struct TierInput {
  std::string name;
  double order = kDefaultTierOrder;
  model::Action defaultAction = model::Action::kDeny;
};

struct ProfileInput : model::ProfileView {
  std::string name;
};

struct NetworkSetInput : model::NetworkSetView {  // labels: own plus the implicit ones above
  std::string id;                                 // "<namespace>/<name>" or name
};

// What a v3 resource key says: "<root><plural>/[<namespace>/]<name>". Lets the syncer and the
// graph keep nothing per key that the key already holds.
struct KeyParts {
  model::Kind kind;
  std::string_view ns;  // "" for kinds that are not namespaced
  std::string_view name;
};
std::optional<KeyParts> parseResourceKey(std::string_view key);

Result<EndpointInput> endpointInput(const model::Resource& r);
// withRules = false: leaves ingress/egress empty (the caller scans them, e.g. RuleCache); the
// default types still count the egress rules.
Result<PolicyInput> policyInput(const model::Resource& r, bool withRules = true);
Result<TierInput> tierInput(const model::Resource& r);
Result<ProfileInput> profileInput(const model::Resource& r);
Result<NetworkSetInput> networkSetInput(const model::Resource& r);
Result<IpPool> ipPoolInput(const model::Resource& r);

// `projectcalico.org/namespace == "<ns>"`: what limits a selector to one namespace.
selector::NodePtr inNamespace(std::string_view ns);

}  // namespace brindle::calc
