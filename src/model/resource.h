// Resource: one projectcalico.org/v3 object, the single internal shape of every kind. metadata
// and spec are kept as JSON in exactly the v3 field names, so output and storage round-trip
// without loss; typed views (rules, endpoints) are parsed from spec where logic needs them.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/labels.h"
#include "common/result.h"
#include "model/kinds.h"

namespace brindle::model {

using Json = nlohmann::ordered_json;

struct Resource {
  Kind kind = Kind::kNode;
  Json metadata = Json::object();  // name, namespace, labels, annotations, resourceVersion, ...
  Json spec = Json::object();
  // What a component reports about the resource (CalicoNodeStatus, Tier); null for other kinds.
  Json status;

  std::string name() const { return metadata.value("name", ""); }
  std::string ns() const { return metadata.value("namespace", ""); }
  std::string resourceVersion() const { return metadata.value("resourceVersion", ""); }
  Labels labels() const;  // metadata.labels
  std::string key() const { return resourceKey(kind, ns(), name()); }

  // {"apiVersion":"projectcalico.org/v3","kind":...,"metadata":...,"spec":...[,"status":...]}
  Json toJson() const;
};

// The string members of a label map (metadata.labels, a Profile's labelsToApply).
Labels labelsOf(const Json& map);

// Stored values, read by one path (the agent's syncer, the resource store, the CLI):
// parseStoredJson(text) gives what Json::parse(text) gives, value or exception, at a fraction of
// the cost for the plain JSON the store holds (stored_json.cc: the agent's cold start is mostly
// decoding); resourceFromJson is the inverse of toJson() (the value was validated when written)
// and moves metadata and spec out of `json` (half the allocations of a decode).
Json parseStoredJson(std::string_view text);
Result<Resource> resourceFromJson(Json json);
// Both, for a value read back from the store: kCorrupt "is not valid JSON: <line, column, what>"
// (never the bytes themselves) when it does not parse, kInvalid with resourceFromJson's reason
// when it is not a resource.
Result<Resource> readStoredResource(std::string_view value);

// Kinds whose objects carry a `status` beside their spec.
inline bool hasStatus(Kind kind) { return kind == Kind::kCalicoNodeStatus || kind == Kind::kTier; }

constexpr std::string_view kApiVersionV3 = "projectcalico.org/v3";
constexpr std::string_view kApiVersionV1 = "v1";

}  // namespace brindle::model
