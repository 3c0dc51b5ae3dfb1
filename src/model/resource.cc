// Resource <-> v3 JSON.
#include "model/resource.h"

namespace brindle::model {

Labels labelsOf(const Json& map) {
  Labels out;
  if (!map.is_object()) return out;
  for (const auto& [k, v] : map.items()) {
    if (v.is_string()) out.emplace(k, v.get<std::string>());
  }
  return out;
}

Labels Resource::labels() const {
  auto it = metadata.find("labels");
  return it == metadata.end() ? Labels() : labelsOf(*it);
}

Json Resource::toJson() const {
  Json out = Json::object();
  out["apiVersion"] = kApiVersionV3;
  out["kind"] = kindInfo(kind).name;
  out["metadata"] = metadata;
  out["spec"] = spec;
  if (!status.is_null()) out["status"] = status;
  return out;
}

Result<Resource> resourceFromJson(Json json) {
  if (!json.is_object()) return makeError(ErrorCode::kInvalid, "resource is not a JSON object");
  const std::string kindName = json.value("kind", "");
  std::optional<Kind> kind = v3Kind(kindName);
  if (!kind) return makeError(ErrorCode::kInvalid, "unknown kind \"" + kindName + "\"");
  Resource r;
  r.kind = *kind;
  if (auto it = json.find("metadata"); it != json.end() && it->is_object()) {
    r.metadata = std::move(*it);
  }
  if (auto it = json.find("spec"); it != json.end() && it->is_object()) r.spec = std::move(*it);
  if (auto it = json.find("status"); hasStatus(r.kind) && it != json.end() && it->is_object()) {
    r.status = std::move(*it);
  }
  return r;
}

}  // namespace brindle::model
