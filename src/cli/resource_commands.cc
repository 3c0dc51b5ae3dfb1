// create / apply / replace / delete / get / patch / label / convert.
#include <algorithm>

#include "cli/columns.h"
#include "cli/commands.h"
#include "cli/input.h"
#include "cli/lookup.h"
#include "model/codec.h"
#include "model/validate.h"

namespace brindle::cli {
namespace {

using model::Json;
using model::Kind;
using model::Resource;
using resources::WriteMode;

// A write mode's verb and its past tense, in WriteMode's order.
constexpr const char* kVerbs[][2] = {
    {"create", "created"}, {"replace", "replaced"}, {"apply", "applied"}, {"delete", "deleted"}};
const char* verb(WriteMode mode) { return kVerbs[static_cast<int>(mode)][0]; }
const char* pastTense(WriteMode mode) { return kVerbs[static_cast<int>(mode)][1]; }

std::string quotedKind(const std::string& kindName) {
  return kindName.empty() ? "" : "'" + kindName + "' ";
}

int fail(Session& s, const std::string& message) {
  s.err() << message << "\n";
  return 1;
}

// The list form calicoctl prints for several resources.
Json listJson(Kind kind, const std::vector<Resource>& items) {
  Json list = Json::object();
  list["apiVersion"] = model::kApiVersionV3;
  list["kind"] = std::string(model::kindInfo(kind).name) + "List";
  list["items"] = Json::array();
  for (const auto& r : items) list["items"].push_back(r.toJson());
  return list;
}

void printStructured(Session& s, const Json& value, const std::string& output) {
  s.out() << (output == "json" ? model::encodeJson(value) : model::encodeYaml(value));
}

bool matchesFilters(const Resource& r, const GetCommand& cmd) {
  auto specIs = [&](const char* field, const std::string& want) {
    return want.empty() || r.spec.value(field, "") == want;
  };
  if (!specIs("node", cmd.node) || !specIs("orchestrator", cmd.orchestrator)) return false;
  if (!cmd.workload.empty() && r.spec.value("workload", "") != cmd.workload &&
      r.spec.value("pod", "") != cmd.workload) {
    return false;
  }
  if (!cmd.scope.empty() && r.kind == Kind::kBGPPeer) {
    const bool nodeScoped = r.spec.contains("node");
    if ((cmd.scope == "node") != nodeScoped) return false;
  }
  return true;
}

// Resolves a Resource named on the command line.
Result<Resource> findTarget(Session& s, const Target& t) {
  BRINDLE_ASSIGN_OR_RETURN(auto store, s.store());
  BRINDLE_ASSIGN_OR_RETURN(auto kind, parseKind(t.kind));
  return findResource(*store, kind, t.ns, t.name);
}

// Validates and writes back a resource edited by patch or label, guarded by its version.
Status writeEdited(Session& s, Resource edited) {
  model::applyDefaults(edited);
  if (Status v = model::validateResource(edited); !v) return v;
  BRINDLE_ASSIGN_OR_RETURN(auto store, s.store());
  auto written = store->write(WriteMode::kReplace, {edited});
  return written.status();
}

// The kind a success message names: as the input spelled it ("workloadEndpoint" for the seed's
// v1 files, as calicoctl v1 printed), or empty for a batch of several kinds.
std::string spelledKind(const std::vector<std::string>& inputKinds) {
  if (inputKinds.empty()) return "";
  for (const auto& k : inputKinds) {
    if (k != inputKinds.front()) return "";
  }
  return inputKinds.front();
}

}  // namespace

int runWrite(Session& s, const WriteCommand& cmd) {
  std::vector<Resource> batch;
  std::string kindName;
  if (!cmd.files.empty()) {
    auto decoded = readResourceFiles(cmd.files, s.in());
    if (!decoded) return fail(s, "Failed to execute command: " + decoded.message());
    s.warn(decoded->warnings);
    batch = std::move(decoded->resources);
    kindName = spelledKind(decoded->inputKinds);
    if (batch.empty()) return fail(s, "Failed to execute command: no resources specified in file");
  } else {
    if (cmd.mode != WriteMode::kDelete || cmd.target.kind.empty() || cmd.target.name.empty()) {
      return fail(s, "Failed to execute command: give -f FILE (or KIND NAME to delete)");
    }
    auto kind = parseKind(cmd.target.kind);
    if (!kind) return fail(s, "Failed to execute command: " + kind.message());
    kindName = model::kindInfo(*kind).name;
    auto found = findTarget(s, cmd.target);
    if (!found && found.code() == ErrorCode::kCorrupt) {
      // An unreadable value is deleted by its key: that is how it gets cleaned up.
      Resource byKey;
      byKey.kind = *kind;
      byKey.metadata["name"] = cmd.target.name;
      if (model::kindInfo(*kind).namespaced) byKey.metadata["namespace"] = cmd.target.ns;
      found = byKey;
    }
    if (!found) {
      if (found.code() == ErrorCode::kNotFound && cmd.skipNotExists) {
        s.out() << "Successfully deleted 0 '" << kindName << "' resource(s)\n";
        return 0;
      }
      return fail(s, std::string("Failed to delete any resources: ") + found.message());
    }
    batch.push_back(*found);
  }
  auto store = s.store();
  if (!store) return fail(s, "Failed to execute command: " + store.message());
  resources::WriteOptions options{cmd.skipExists, cmd.skipNotExists};
  auto outcome = (*store)->write(cmd.mode, batch, options);
  if (!outcome) {
    return fail(s, std::string("Failed to ") + verb(cmd.mode) + " any " + quotedKind(kindName) +
                       "resources: " + outcome.message());
  }
  for (const auto& skipped : outcome->skipped) {
    s.err() << "Skipped " << resources::describe(skipped) << ": "
            << (cmd.mode == WriteMode::kCreate ? "already exists" : "does not exist") << "\n";
  }
  // calicoctl counts skipped resources as handled.
  const size_t count = outcome->written.size() + outcome->skipped.size();
  s.out() << "Successfully " << pastTense(cmd.mode) << " " << count << " " << quotedKind(kindName)
          << "resource(s)\n";
  return 0;
}

int runGet(Session& s, const GetCommand& cmd) {
  if (cmd.output != "ps" && cmd.output != "wide" && cmd.output != "yaml" && cmd.output != "json") {
    return fail(s, "Failed to execute command: unknown output format '" + cmd.output +
                       "' (expected ps, wide, yaml or json)");
  }
  auto store = s.store(Session::Access::kRead);
  if (!store) return fail(s, "Failed to get resources: " + store.message());
  std::vector<Resource> found;
  Kind kind = Kind::kNode;
  bool single = false;
  // Values another tool left unreadable: the listing shows the rest, then names each of them.
  std::vector<resources::ResourceStore::BadValue> unreadable;
  auto done = [&] {
    for (const auto& b : unreadable) s.err() << "Error: " << b.reason << "\n";
    return unreadable.empty() ? 0 : 1;
  };
  if (!cmd.files.empty()) {
    auto decoded = readResourceFiles(cmd.files, s.in());
    if (!decoded) return fail(s, "Failed to execute command: " + decoded.message());
    for (const auto& wanted : decoded->resources) {
      auto r = (*store)->get(wanted.kind, wanted.ns(), wanted.name());
      if (!r) return fail(s, "Failed to get resources: " + r.message());
      found.push_back(*r);
    }
    if (found.empty()) return fail(s, "Failed to execute command: no resources specified in file");
    kind = found.front().kind;
    single = found.size() == 1;
  } else {
    auto parsed = parseKind(cmd.target.kind);
    if (!parsed) return fail(s, "Failed to execute command: " + parsed.message());
    kind = *parsed;
    if (!cmd.target.name.empty()) {
      auto r = findResource(**store, kind, cmd.target.ns, cmd.target.name);
      if (!r) return fail(s, "Failed to get resources: " + r.message());
      found.push_back(*r);
      single = true;
    } else {
      const bool namespaced = model::kindInfo(kind).namespaced;
      auto all =
          (*store)->listReadable(kind, namespaced && !cmd.allNamespaces ? cmd.target.ns : "");
      if (!all) return fail(s, "Failed to get resources: " + all.message());
      for (auto& r : all->items) {
        if (matchesFilters(r, cmd)) found.push_back(std::move(r));
      }
      unreadable = std::move(all->bad);
    }
  }
  if (kind == Kind::kTier) {
    // calicoctl lists tiers in the order they apply.
    std::stable_sort(found.begin(), found.end(), [](const Resource& a, const Resource& b) {
      return a.spec.value("order", 1e6) < b.spec.value("order", 1e6);
    });
  }
  if (cmd.output == "yaml" || cmd.output == "json") {
    const bool sameKind = batchKindName(found) != "" || found.empty();
    if (single) {
      printStructured(s, found.front().toJson(), cmd.output);
    } else if (sameKind) {
      printStructured(s, listJson(kind, found), cmd.output);
    } else {
      for (const auto& r : found) printStructured(s, r.toJson(), cmd.output);
    }
    return done();
  }
  TableContext ctx;
  ctx.allNamespaces = cmd.allNamespaces;
  if (kind == Kind::kNode) {
    if (auto bgp = (*store)->get(Kind::kBGPConfiguration, "", "default");
        bgp && bgp->spec.contains("asNumber")) {
      ctx.globalAsNumber = bgp->spec["asNumber"].dump();
    }
  }
  const bool wide = cmd.output == "wide";
  std::vector<Row> rows;
  for (const auto& r : found) rows.push_back(tableRow(r, wide, ctx));
  printTable(s.out(), tableHeader(kind, wide, ctx), rows);
  return done();
}

int runPatch(Session& s, const PatchCommand& cmd) {
  Json patch = Json::parse(cmd.patch, nullptr, /*allow_exceptions=*/false);
  if (patch.is_discarded() || !patch.is_object()) {
    return fail(s, "Failed to patch resource: the patch is not a JSON object: " + cmd.patch);
  }
  auto current = findTarget(s, cmd.target);
  if (!current) return fail(s, "Failed to patch resource: " + current.message());
  Json merged = current->toJson();
  merged.merge_patch(patch);
  if (merged.value("kind", "") != current->toJson().value("kind", "") ||
      merged["metadata"].value("name", "") != current->name() ||
      merged["metadata"].value("namespace", "") != current->ns()) {
    return fail(s, "Failed to patch resource: a patch cannot change kind, name or namespace");
  }
  auto edited = model::resourceFromJson(std::move(merged));
  if (!edited) return fail(s, "Failed to patch resource: " + edited.message());
  edited->metadata["resourceVersion"] = current->resourceVersion();
  if (Status w = writeEdited(s, *edited); !w) {
    return fail(s, "Failed to patch resource: " + w.message());
  }
  s.out() << "Successfully patched 1 '" << model::kindInfo(current->kind).name << "' resource\n";
  return 0;
}

int runLabel(Session& s, const LabelCommand& cmd) {
  std::string key = cmd.label, value;
  if (auto eq = key.find('='); eq != std::string::npos) {
    value = key.substr(eq + 1);
    key.resize(eq);
  } else if (!cmd.remove) {
    return fail(s, "Failed to execute command: give the label as key=value (or key with --remove)");
  }
  auto current = findTarget(s, cmd.target);
  if (!current) return fail(s, "Failed to update label: " + current.message());
  Resource edited = *current;
  Json& labels = edited.metadata["labels"];
  if (!labels.is_object()) labels = Json::object();
  const std::string what = resources::describe(*current);
  if (cmd.remove) {
    if (!labels.contains(key))
      return fail(s, "Failed to remove label: " + what + " has no label " + key);
    labels.erase(key);
    if (labels.empty()) edited.metadata.erase("labels");
  } else {
    if (labels.contains(key) && !cmd.overwrite) {
      return fail(s, "Failed to set label: " + what + " already has label " + key +
                         " (use --overwrite to change it)");
    }
    labels[key] = value;
  }
  if (Status w = writeEdited(s, edited); !w)
    return fail(s, "Failed to update label: " + w.message());
  if (cmd.remove) {
    s.out() << "Successfully removed label " << key << " from " << what << "\n";
  } else {
    s.out() << "Successfully set label " << key << " on " << what << "\n";
  }
  return 0;
}

int runConvert(Session& s, const ConvertCommand& cmd) {
  if (cmd.output != "yaml" && cmd.output != "json") {
    return fail(s,
                "Failed to execute command: convert writes yaml or json, not '" + cmd.output + "'");
  }
  auto decoded = readResourceFiles(cmd.files, s.in());
  if (!decoded) return fail(s, "Failed to execute command: " + decoded.message());
  s.warn(decoded->warnings);
  const auto& rs = decoded->resources;
  if (rs.size() == 1) {
    printStructured(s, rs.front().toJson(), cmd.output);
  } else if (!rs.empty() && !batchKindName(rs).empty()) {
    printStructured(s, listJson(rs.front().kind, rs), cmd.output);
  } else {
    for (const auto& r : rs) {
      if (cmd.output == "yaml" && &r != &rs.front()) s.out() << "---\n";
      printStructured(s, r.toJson(), cmd.output);
    }
  }
  return 0;
}

}  // namespace brindle::cli
