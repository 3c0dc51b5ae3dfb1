// Which datastore a client (brindlectl, the agent, the CNI plugin) talks to and how, read from a
// config file, the environment or defaults. Precedence (as calicoctl, see docs/configuration.md):
//   1. the file named by --config (it must exist);
//   2. else /etc/brindle/brindlectl.cfg if it exists;
//   3. else the environment (DATASTORE_TYPE, BRINDLE_STORE_PATH, ETCD_*);
//   4. else the defaults (local store at /var/lib/brindle/store.db).
// A file is used whole: the environment does not override it (calicoctl behaves the same way).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace brindle::config {

enum class DatastoreType { kLocal, kEtcdV3 };

constexpr const char* kDefaultConfigPath = "/etc/brindle/brindlectl.cfg";
constexpr const char* kDefaultStorePath = "/var/lib/brindle/store.db";
constexpr const char* kDefaultEtcdEndpoints = "http://127.0.0.1:2379";

struct DatastoreConfig {
  DatastoreType type = DatastoreType::kLocal;
  std::string storePath = kDefaultStorePath;  // local store file
  std::vector<std::string> etcdEndpoints;     // etcdv3: one URL each
  std::string etcdUsername;
  std::string etcdPassword;
  std::string etcdKeyFile;
  std::string etcdCertFile;
  std::string etcdCACertFile;
  std::string source;              // where this came from, for messages ("/etc/...", "environment")
  std::vector<std::string> notes;  // e.g. "etcdv2 is read as etcdv3: Brindle speaks the v3 API"
};

// Parses a config file's text: Calico's calicoApiConfig (apiVersion v1) or CalicoAPIConfig
// (projectcalico.org/v3), plus Brindle's `storePath` spec field.
Result<DatastoreConfig> parseConfigFile(const std::string& text, const std::string& path);

// Builds a config from environment variables (looked up through `env`).
Result<DatastoreConfig> configFromEnvironment(const std::map<std::string, std::string>& env);

// Applies the precedence above. `explicitPath` is --config (empty if not given).
Result<DatastoreConfig> loadDatastoreConfig(const std::string& explicitPath,
                                            const std::map<std::string, std::string>& env,
                                            const std::string& defaultPath = kDefaultConfigPath);

// The process environment as a map.
std::map<std::string, std::string> processEnvironment();

}  // namespace brindle::config
