// `config get|set` of the seed's global settings (S10): asNumber, nodeToNodeMesh, logLevel and
// ipip, kept in the default BGPConfiguration and FelixConfiguration as Calico v3 keeps them.
#include <algorithm>

#include "cli/commands.h"
#include "common/strings.h"
#include "model/bgp_views.h"
#include "model/validate.h"

namespace brindle::cli {
namespace {

using model::Json;
using model::Kind;
using model::Resource;

int fail(Session& s, const std::string& message) {
  s.err() << message << "\n";
  return 1;
}

// The seed's four settings: where each lives and how it reads.
struct Setting {
  const char* name;  // as documented (the key is matched case-insensitively)
  Kind kind;         // BGPConfiguration or FelixConfiguration
  const char* field;
};

const Setting* findSetting(const std::string& key) {
  static const Setting settings[] = {
      {"asNumber", Kind::kBGPConfiguration, "asNumber"},
      {"nodeToNodeMesh", Kind::kBGPConfiguration, "nodeToNodeMeshEnabled"},
      {"logLevel", Kind::kFelixConfiguration, "logSeverityScreen"},
      {"ipip", Kind::kFelixConfiguration, "ipipEnabled"},
  };
  for (const auto& s : settings) {
    if (toLower(s.name) == toLower(key)) return &s;
  }
  return nullptr;
}

std::string unknownKey(const std::string& key) {
  return "Failed to execute command: unknown config key '" + key +
         "' (expected asNumber, nodeToNodeMesh, logLevel or ipip)";
}

// The configuration resource a setting lives in: "default", or "node.<name>" for --node.
std::string resourceName(const std::string& node) { return node.empty() ? "default" : "node." + node; }

// Reads the resource holding `setting`, or a fresh one if absent.
Result<Resource> loadHolder(resources::ResourceStore& store, const Setting& setting,
                            const std::string& node) {
  auto r = store.get(setting.kind, "", resourceName(node));
  if (r || r.code() != ErrorCode::kNotFound) return r;
  Resource fresh;
  fresh.kind = setting.kind;
  fresh.metadata["name"] = resourceName(node);
  return fresh;
}

Result<bool> parseOnOff(const std::string& text) {
  const std::string v = toLower(text);
  if (v == "on" || v == "true") return true;
  if (v == "off" || v == "false") return false;
  return makeError(ErrorCode::kInvalid, "\"" + text + "\" is not on or off");
}

Result<std::string> parseLogLevel(const std::string& text) {
  static const char* levels[] = {"none", "debug", "info", "warning", "error", "fatal"};
  const std::string v = toLower(text);
  for (const char* l : levels) {
    if (v == l) {
      std::string out = l;
      out[0] = static_cast<char>(std::toupper(out[0]));
      return out;  // Calico's spelling: "Info"
    }
  }
  return makeError(
      ErrorCode::kInvalid,
      "\"" + text + "\" is not a log level (none, debug, info, warning, error, fatal)");
}

}  // namespace

int runConfigGet(Session& s, const std::string& key, const std::string& node) {
  const Setting* setting = findSetting(key);
  if (!setting) return fail(s, unknownKey(key));
  auto store = s.store();
  if (!store) return fail(s, "Failed to execute command: " + store.message());
  auto holder = loadHolder(**store, *setting, node);
  if (!holder) return fail(s, "Failed to execute command: " + holder.message());
  const Json& v = holder->spec.contains(setting->field) ? holder->spec[setting->field] : Json();
  const std::string name = setting->name;
  if (name == "asNumber") {
    s.out() << (v.is_null() ? "64512" : v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
  } else if (name == "nodeToNodeMesh") {
    s.out() << (v.is_boolean() && !v.get<bool>() ? "off" : "on") << "\n";
  } else if (name == "logLevel") {
    s.out() << (v.is_string() ? toLower(v.get<std::string>()) : "info") << "\n";
  } else {
    s.out() << (v.is_boolean() && v.get<bool>() ? "on" : "off") << "\n";
  }
  return 0;
}

int runConfigSet(Session& s, const std::string& key, const std::string& value,
                 const std::string& node) {
  const Setting* setting = findSetting(key);
  if (!setting) return fail(s, unknownKey(key));
  const std::string name = setting->name;
  Json parsed;
  if (name == "asNumber") {
    auto asn = model::parseAsNumber(value);  // "1.10" (asdot) -> 65546
    if (!asn) return fail(s, "Failed to execute command: \"" + value + "\" is not an AS number");
    parsed = *asn;
  } else if (name == "logLevel") {
    auto level = parseLogLevel(value);
    if (!level) return fail(s, "Failed to execute command: " + level.message());
    parsed = *level;
  } else {
    auto on = parseOnOff(value);
    if (!on) return fail(s, "Failed to execute command: " + on.message());
    parsed = *on;
  }
  auto store = s.store();
  if (!store) return fail(s, "Failed to execute command: " + store.message());
  auto holder = loadHolder(**store, *setting, node);
  if (!holder) return fail(s, "Failed to execute command: " + holder.message());
  holder->spec[setting->field] = parsed;
  model::applyDefaults(*holder);
  if (Status v = model::validateResource(*holder); !v) {
    return fail(s, "Failed to execute command: " + v.message());
  }
  // apply with the version read: a concurrent change makes this fail instead of being lost.
  auto written = (*store)->write(resources::WriteMode::kApply, {*holder});
  if (!written) return fail(s, "Failed to execute command: " + written.message());
  return 0;
}

int runVersion(Session& s) {
  s.out() << "Client Version:    v" << BRINDLE_VERSION << "\n";
  auto store = s.store();
  if (!store) {
    s.out() << "Cluster Version:   unknown (" << store.message() << ")\n";
    return 0;
  }
  auto info = (*store)->get(Kind::kClusterInformation, "", "default");
  s.out() << "Cluster Version:   "
          << (info ? info->spec.value("calicoVersion", "unknown") : std::string("unknown")) << "\n";
  s.out() << "Cluster Type:      "
          << (info ? info->spec.value("clusterType", "unknown") : std::string("unknown")) << "\n";
  return 0;
}

}  // namespace brindle::cli
