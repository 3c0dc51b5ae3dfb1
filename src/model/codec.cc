// decodeResources(): text -> documents -> (v1 conversion) -> defaults -> validation, all or
// nothing; encodeYaml()/encodeJson() for output.
#include "model/codec.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <utility>

#include "common/strings.h"
#include "model/v1_convert.h"
#include "model/validate.h"
#include "model/yaml_json.h"

namespace brindle::model {
namespace {

// One resource document of the request, numbered from 1 (list items count as documents).
struct Document {
  const Json* value;
  int number;
};

std::string inQuotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string prefix(std::string_view source, int number) {
  return std::string(source) + ", document " + std::to_string(number) + ": ";
}

// A Kubernetes-style list: `kind: List`, or `<Kind>List` as calicoctl prints for `get -o yaml`.
bool isListDocument(const Json& doc) {
  if (!doc.is_object()) return false;
  auto kind = doc.find("kind");
  if (kind == doc.end() || !kind->is_string()) return false;
  const std::string& k = kind->get_ref<const std::string&>();
  if (k == "List") return true;
  return std::ranges::any_of(
      allKinds(), [&](const auto& info) { return k == std::string(info.name) + "List"; });
}

// Flattens top-level sequences (the seed's endpoints.yaml) and Lists into single documents.
Status flatten(const Json& value, std::string_view source, int& counter,
               std::vector<Document>& out) {
  if (value.is_array()) {
    for (const auto& item : value) {
      if (auto s = flatten(item, source, counter, out); !s) return s;
    }
    return Status::ok();
  }
  if (isListDocument(value)) {
    auto items = value.find("items");
    if (items == value.end() || items->is_null()) return Status::ok();  // an empty List
    if (!items->is_array()) {
      return makeError(ErrorCode::kInvalid,
                       prefix(source, counter + 1) + "items: expected a list of resources");
    }
    for (const auto& item : *items) {
      if (item.is_array() || isListDocument(item)) {
        return makeError(ErrorCode::kInvalid,
                         prefix(source, counter + 1) + "items: a List cannot hold another list");
      }
      out.push_back(Document{&item, ++counter});
    }
    return Status::ok();
  }
  out.push_back(Document{&value, ++counter});
  return Status::ok();
}

std::string kindProblem(std::string_view kind, bool v1) {
  if (v1 && kind == "calicoApiConfig") {
    return inQuotes(kind) + " is calicoctl's client configuration, not a resource";
  }
  for (const auto& info : allKinds()) {
    if (v1 && !info.v1Name.empty() && equalsIgnoreCase(kind, info.v1Name)) {
      return inQuotes(kind) + " is not a v1 kind; did you mean " + inQuotes(info.v1Name) + "?";
    }
    if (!v1 && equalsIgnoreCase(kind, info.name)) {
      return inQuotes(kind) + " is not a projectcalico.org/v3 kind; did you mean " +
             inQuotes(info.name) + "?";
    }
  }
  for (const auto& info : allKinds()) {
    if (v1 && equalsIgnoreCase(kind, info.name)) {
      return inQuotes(kind) +
             " is a projectcalico.org/v3 kind; use apiVersion: " + std::string(kApiVersionV3);
    }
    if (!v1 && !info.v1Name.empty() && kind == info.v1Name) {
      return inQuotes(kind) + " is a v1 kind; use apiVersion: v1, or kind " + inQuotes(info.name) +
             " with " + std::string(kApiVersionV3);
    }
  }
  std::string known;
  for (const auto& info : allKinds()) {
    const std::string_view name = v1 ? info.v1Name : info.name;
    if (name.empty()) continue;
    known += known.empty() ? "" : ", ";
    known += name;
  }
  return inQuotes(kind) + " is not a " + (v1 ? "v1" : "projectcalico.org/v3") + " kind (" + known +
         ")";
}

bool isV1Kind(std::string_view name) {
  return std::any_of(allKinds().begin(), allKinds().end(), [&](const KindInfo& info) {
    return !info.v1Name.empty() && info.v1Name == name;
  });
}

Result<Resource> readV3(const Json& doc, Kind kind) {
  for (const auto& [key, value] : doc.items()) {
    if (key != "apiVersion" && key != "kind" && key != "metadata" && key != "spec" &&
        !(key == "status" && hasStatus(kind))) {
      return makeError(ErrorCode::kInvalid, key + ": unknown field");
    }
  }
  Resource r;
  r.kind = kind;
  if (auto m = doc.find("metadata"); m != doc.end() && !m->is_null()) {
    if (!m->is_object()) return makeError(ErrorCode::kInvalid, "metadata: expected a mapping");
    r.metadata = *m;
  }
  if (auto s = doc.find("spec"); s != doc.end() && !s->is_null()) {
    if (!s->is_object()) return makeError(ErrorCode::kInvalid, "spec: expected a mapping");
    r.spec = *s;
  }
  if (auto s = doc.find("status"); s != doc.end() && !s->is_null()) {
    if (!s->is_object()) return makeError(ErrorCode::kInvalid, "status: expected a mapping");
    r.status = *s;
  }
  if (auto s = normalizeRulePorts(r.spec); !s) return s;
  return r;
}

// Reads one document into a v3 resource (converting v1), without defaults or validation.
// Errors are "<path>: <what>"; warnings are appended unprefixed.
Result<Resource> readDocument(const Json& doc, std::vector<std::string>& warnings) {
  if (!doc.is_object()) {
    return makeError(ErrorCode::kInvalid,
                     "expected a resource (a mapping with apiVersion, kind, metadata and spec)");
  }
  auto api = doc.find("apiVersion");
  if (api == doc.end() || api->is_null()) {
    return makeError(ErrorCode::kInvalid, "apiVersion: required field missing");
  }
  auto kind = doc.find("kind");
  if (kind == doc.end() || kind->is_null()) {
    return makeError(ErrorCode::kInvalid, "kind: required field missing");
  }
  if (!kind->is_string()) return makeError(ErrorCode::kInvalid, "kind: expected a string");
  const std::string& kindName = kind->get_ref<const std::string&>();
  const std::string apiVersion = api->is_string() ? api->get<std::string>() : api->dump();
  if (apiVersion == kApiVersionV1) {
    if (!isV1Kind(kindName))
      return makeError(ErrorCode::kInvalid, "kind: " + kindProblem(kindName, true));
    BRINDLE_ASSIGN_OR_RETURN(auto converted, convertV1(doc));
    for (auto& w : converted.warnings) warnings.push_back(std::move(w));
    return std::move(converted.resource);
  }
  if (apiVersion == kApiVersionV3) {
    auto k = v3Kind(kindName);
    if (!k) return makeError(ErrorCode::kInvalid, "kind: " + kindProblem(kindName, false));
    return readV3(doc, *k);
  }
  return makeError(ErrorCode::kInvalid, "apiVersion: " + inQuotes(apiVersion) +
                                            " is not supported (use " + std::string(kApiVersionV3) +
                                            ", or v1 for the seed's resources)");
}

std::string describeResource(const Resource& r) {
  std::string out = std::string(kindInfo(r.kind).name) + " " + inQuotes(r.name());
  if (kindInfo(r.kind).namespaced) out += " in namespace " + inQuotes(r.ns());
  return out;
}

}  // namespace

Result<DecodedResources> decodeResources(std::string_view text, std::string_view sourceName) {
  BRINDLE_ASSIGN_OR_RETURN(auto parsed, parseDocuments(text, sourceName));

  std::vector<Document> docs;
  int counter = 0;
  for (const auto& value : parsed) {
    if (auto s = flatten(value, sourceName, counter, docs); !s) return s;
  }

  DecodedResources out;
  std::map<std::string, int> seen;  // resource key -> document that defined it
  for (const auto& doc : docs) {
    const std::string where = prefix(sourceName, doc.number);
    std::vector<std::string> warnings;
    auto read = readDocument(*doc.value, warnings);
    if (!read) return makeError(ErrorCode::kInvalid, where + read.message());
    Resource r = std::move(read).value();
    applyDefaults(r);
    // readDocument took it, so apiVersion is a string.
    const bool v1 = doc.value->value("apiVersion", std::string()) == kApiVersionV1;
    auto lint = checkResource(r, v1 ? InputApi::kV1 : InputApi::kV3);
    if (!lint) return makeError(ErrorCode::kInvalid, where + lint.message());
    for (auto& w : *lint) warnings.push_back(std::move(w));

    // Two documents naming one resource: the later would silently replace the earlier.
    const std::string key = r.key();
    if (auto [it, inserted] = seen.emplace(key, doc.number); !inserted) {
      return makeError(ErrorCode::kInvalid, where + "metadata.name: " + describeResource(r) +
                                                " is already defined in document " +
                                                std::to_string(it->second));
    }
    for (auto& w : warnings) out.warnings.push_back(where + w);
    out.resources.push_back(std::move(r));
    out.inputKinds.push_back(doc.value->value("kind", ""));
  }
  return out;
}

std::string encodeYaml(const Json& value) { return writeYaml(value); }

std::string encodeJson(const Json& value) {
  // Replace rather than throw on invalid UTF-8: output must never fail.
  return value.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace brindle::model
