// AgentConfig: every setting of brindle-agent in one documented struct, and the loader that
// merges its sources in the documented precedence (docs/agent.md): flags > FELIX_* environment >
// config file > FelixConfiguration node.<name> > FelixConfiguration default > built-in defaults.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/datastore_config.h"
#include "model/felix_config.h"
#include "model/resource.h"
#include "rules/config.h"

namespace brindle::agent {

constexpr const char* kDefaultAgentConfigPath = "/etc/brindle/agent.cfg";

// The settings (model::FelixConfig: the fields, their defaults and parsers) and where the agent
// found its datastore.
struct AgentConfig : model::FelixConfig {
  // The datastore, found exactly as brindlectl finds it (docs/configuration.md): --datastore-config
  // FILE, else /etc/brindle/brindlectl.cfg, else DATASTORE_TYPE/BRINDLE_STORE_PATH/ETCD_*.
  config::DatastoreConfig datastore;

  // Where each setting came from, for the start-up log ("IptablesRefreshInterval" ->
  // "environment FELIX_IPTABLESREFRESHINTERVAL").
  std::map<std::string, std::string> sources;
  // Things worth a warning (unknown FELIX_ variables, ignored settings).
  std::vector<std::string> notes;

  // The renderer's configuration derived from the fields above.
  rules::RendererConfig rendererConfig() const;
};

// One source of settings: parameter name (any case; Felix's names) -> text value.
struct ConfigLayer {
  std::string source;  // "file /etc/brindle/agent.cfg", "FelixConfiguration default", ...
  std::map<std::string, std::string> values;
};

// The config file: `Name = value` lines (Felix's names, any case), `#` or `;` comments, blank
// lines, and optional `[section]` headers (ignored, so Felix's `[global]` files read as is).
// An unknown name is an error: a typo must not silently fall back to a default.
Result<ConfigLayer> layerFromFile(const std::string& text, const std::string& path);
// FELIX_<NAME> variables (any FELIX_ name that is not a parameter becomes a note).
ConfigLayer layerFromEnvironment(const std::map<std::string, std::string>& env,
                                 std::vector<std::string>* notes = nullptr);
// A FelixConfiguration resource's spec (lowerCamel Felix names; lists and objects flattened to
// the text forms above). Fields the agent does not implement are ignored.
ConfigLayer layerFromFelixConfiguration(const model::Resource& resource);

// Applies layers lowest precedence first over the defaults.
Result<AgentConfig> buildAgentConfig(const std::vector<ConfigLayer>& layers);

// Command-line settings that take part in loading.
struct CommandLine {
  std::string nodename;           // --nodename
  std::string configFile;         // --config-file (empty: /etc/brindle/agent.cfg if present)
  std::string datastoreConfig;    // --datastore-config (brindlectl's --config)
  std::string logSeverityScreen;  // --log-level
};

// Reads a FelixConfiguration by name: nullopt if absent, an Error if the store cannot answer.
using FelixConfigReader = std::function<Result<std::optional<model::Resource>>(const std::string&)>;

// The whole precedence: flags, environment, file, then FelixConfiguration `node.<nodename>` and
// `default` read through `reader` (nullptr: no datastore layer). `hostname` is the fallback name.
Result<AgentConfig> loadAgentConfig(const CommandLine& cl,
                                    const std::map<std::string, std::string>& env,
                                    const FelixConfigReader& reader, const std::string& hostname,
                                    const std::string& defaultFile = kDefaultAgentConfigPath);

// The local part (flags, environment, file) without the datastore layers, with the node name
// and the datastore resolved: the agent needs both before it can read FelixConfiguration.
Result<AgentConfig> loadLocalAgentConfig(const CommandLine& cl,
                                         const std::map<std::string, std::string>& env,
                                         const std::string& hostname,
                                         const std::string& defaultFile = kDefaultAgentConfigPath);

using model::parseDuration;

}  // namespace brindle::agent
