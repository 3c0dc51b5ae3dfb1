// Reading datastore configuration from files and the environment.
#include "config/datastore_config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "common/strings.h"

extern char** environ;

namespace brindle::config {
namespace {

std::vector<std::string> splitEndpoints(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Sets cfg.type from a datastoreType value; `where` names the field in messages.
Status setType(DatastoreConfig& cfg, const std::string& value, const std::string& where) {
  const std::string v = toLower(value);
  if (v.empty() || v == "local") {
    cfg.type = DatastoreType::kLocal;
  } else if (v == "etcdv3") {
    cfg.type = DatastoreType::kEtcdV3;
  } else if (v == "etcdv2") {
    cfg.type = DatastoreType::kEtcdV3;
    cfg.notes.push_back(where + ": etcdv2 is read as a request for etcd; Brindle speaks the etcd v3 API");
  } else {
    return makeError(ErrorCode::kInvalid, where + ": unsupported datastore type \"" + value +
                                              "\" (expected local or etcdv3)");
  }
  return Status::ok();
}

void finishEtcd(DatastoreConfig& cfg) {
  if (cfg.type == DatastoreType::kEtcdV3 && cfg.etcdEndpoints.empty()) {
    cfg.etcdEndpoints = splitEndpoints(kDefaultEtcdEndpoints);
  }
}

}  // namespace

Result<DatastoreConfig> parseConfigFile(const std::string& text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return makeError(ErrorCode::kInvalid, path + ": not valid YAML: " + e.what());
  }
  if (!root.IsMap()) return makeError(ErrorCode::kInvalid, path + ": expected a YAML mapping");
  const std::string kind = root["kind"] ? root["kind"].as<std::string>("") : "";
  const std::string apiVersion = root["apiVersion"] ? root["apiVersion"].as<std::string>("") : "";
  if (toLower(kind) != "calicoapiconfig" && toLower(kind) != "brindleapiconfig") {
    return makeError(ErrorCode::kInvalid,
                     path + ": kind: expected calicoApiConfig (v1) or CalicoAPIConfig (v3), got \"" +
                         kind + "\"");
  }
  if (apiVersion != "v1" && apiVersion != "projectcalico.org/v3" && !apiVersion.empty()) {
    return makeError(ErrorCode::kInvalid, path + ": apiVersion: unsupported \"" + apiVersion + "\"");
  }
  DatastoreConfig cfg;
  cfg.source = path;
  YAML::Node spec = root["spec"];
  if (!spec || spec.IsNull()) {
    return cfg;
  }
  if (!spec.IsMap()) return makeError(ErrorCode::kInvalid, path + ": spec: expected a mapping");
  for (const auto& item : spec) {
    const std::string key = item.first.as<std::string>();
    if (!item.second.IsScalar() && !item.second.IsNull()) {
      return makeError(ErrorCode::kInvalid, path + ": spec." + key + ": expected a string");
    }
    const std::string value = item.second.IsNull() ? "" : item.second.as<std::string>();
    if (key == "datastoreType") {
      if (Status s = setType(cfg, value, path + ": spec.datastoreType"); !s) return s.error();
    } else if (key == "storePath") {
      cfg.storePath = value;
    } else if (key == "etcdEndpoints") {
      cfg.etcdEndpoints = splitEndpoints(value);
    } else if (key == "etcdUsername") {
      cfg.etcdUsername = value;
    } else if (key == "etcdPassword") {
      cfg.etcdPassword = value;
    } else if (key == "etcdKeyFile") {
      cfg.etcdKeyFile = value;
    } else if (key == "etcdCertFile") {
      cfg.etcdCertFile = value;
    } else if (key == "etcdCACertFile") {
      cfg.etcdCACertFile = value;
    } else {
      return makeError(ErrorCode::kInvalid, path + ": spec." + key + ": unknown field");
    }
  }
  // A Calico file that names etcd endpoints but no type means etcd (calicoctl's default).
  if (!spec["datastoreType"] && spec["etcdEndpoints"]) cfg.type = DatastoreType::kEtcdV3;
  finishEtcd(cfg);
  return cfg;
}

Result<DatastoreConfig> configFromEnvironment(const std::map<std::string, std::string>& env) {
  DatastoreConfig cfg;
  cfg.source = "environment";
  auto get = [&](const char* name) -> std::string {
    auto it = env.find(name);
    return it == env.end() ? "" : it->second;
  };
  if (Status s = setType(cfg, get("DATASTORE_TYPE"), "DATASTORE_TYPE"); !s) return s.error();
  if (!get("BRINDLE_STORE_PATH").empty()) cfg.storePath = get("BRINDLE_STORE_PATH");
  cfg.etcdEndpoints = splitEndpoints(get("ETCD_ENDPOINTS"));
  cfg.etcdUsername = get("ETCD_USERNAME");
  cfg.etcdPassword = get("ETCD_PASSWORD");
  cfg.etcdKeyFile = get("ETCD_KEY_FILE");
  cfg.etcdCertFile = get("ETCD_CERT_FILE");
  cfg.etcdCACertFile = get("ETCD_CA_CERT_FILE");
  finishEtcd(cfg);
  return cfg;
}

Result<DatastoreConfig> loadDatastoreConfig(const std::string& explicitPath,
                                            const std::map<std::string, std::string>& env,
                                            const std::string& defaultPath) {
  const std::string path = explicitPath.empty() ? defaultPath : explicitPath;
  std::ifstream in(path);
  if (!in) {
    if (!explicitPath.empty()) {
      return makeError(ErrorCode::kInvalid, "config file " + explicitPath + " cannot be read");
    }
    return configFromEnvironment(env);
  }
  std::stringstream text;
  text << in.rdbuf();
  return parseConfigFile(text.str(), path);
}

std::map<std::string, std::string> processEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos) env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

}  // namespace brindle::config
