// Resource lookup by name or v1 identity.
#include "cli/lookup.h"

#include "common/ip.h"

namespace brindle::cli {

using model::Kind;
using model::Resource;

Result<Kind> parseKind(const std::string& typed) {
  auto kind = model::lookupKind(typed);
  if (!kind) {
    return makeError(ErrorCode::kInvalid, "resource type '" + typed + "' is not supported");
  }
  return *kind;
}

Result<Resource> findResource(resources::ResourceStore& store, Kind kind, const std::string& ns,
                              const std::string& name) {
  auto direct = store.get(kind, ns, name);
  if (direct || direct.code() != ErrorCode::kNotFound) return direct;
  BRINDLE_ASSIGN_OR_RETURN(auto all, store.list(kind, model::kindInfo(kind).namespaced ? ns : ""));
  std::string cidr;
  if (auto c = Cidr::parse(name, /*allowBareIp=*/false)) cidr = c->toString();
  std::vector<const Resource*> matches;
  for (const auto& r : all) {
    const bool hit = (kind == Kind::kWorkloadEndpoint && r.spec.value("endpoint", "") == name) ||
                     (kind == Kind::kIPPool && !cidr.empty() && r.spec.value("cidr", "") == cidr) ||
                     (kind == Kind::kBGPPeer && r.spec.value("peerIP", "") == name &&
                      !r.spec.contains("node")) ||
                     (kind == Kind::kGlobalNetworkPolicy && r.name() == "default." + name);
    if (hit) matches.push_back(&r);
  }
  if (matches.size() == 1) return *matches.front();
  if (matches.size() > 1) {
    return makeError(ErrorCode::kInvalid, "\"" + name + "\" names " +
                                              std::to_string(matches.size()) +
                                              " resources; give the full name (see -o yaml)");
  }
  return direct;
}

std::string batchKindName(const std::vector<Resource>& batch) {
  if (batch.empty()) return "";
  for (const auto& r : batch) {
    if (r.kind != batch.front().kind) return "";
  }
  return std::string(model::kindInfo(batch.front().kind).name);
}

}  // namespace brindle::cli
