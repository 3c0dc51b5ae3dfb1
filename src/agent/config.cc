// Agent configuration: the sources (file, environment, FelixConfiguration) as layers of text
// settings, applied through model::setFelixParam so a name means the same thing wherever it is set.
#include "agent/config.h"

#include <fstream>
#include <sstream>

#include "common/strings.h"

namespace brindle::agent {

namespace {

bool readFile(const std::string& path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

}  // namespace

rules::RendererConfig AgentConfig::rendererConfig() const {
  rules::RendererConfig r;
  std::vector<uint32_t> bits;
  for (int b = 0; b < 32 && bits.size() < 3; ++b) {
    if (iptablesMarkMask & (1u << b)) bits.push_back(1u << b);
  }
  if (bits.size() == 3) {
    r.markAccept = bits[0];
    r.markPass = bits[1];
    r.markEndpoint = bits[2];
    r.markMask = bits[0] | bits[1] | bits[2];
  }
  r.workloadInterfacePrefixes = interfacePrefixes;
  r.defaultEndpointToHostAction = defaultEndpointToHostAction;
  r.failsafeInbound = failsafeInbound;
  r.failsafeOutbound = failsafeOutbound;
  r.insertHooks = chainInsertAtTop;
  r.ipv6Enabled = ipv6Support;
  r.logPrefix = logPrefix;
  r.flatDispatch = nftablesEnabled;  // the verdict map needs no tree
  return r;
}

Result<ConfigLayer> layerFromFile(const std::string& text, const std::string& path) {
  ConfigLayer layer{"file " + path, {}};
  std::istringstream in(text);
  std::string line;
  int lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';' || t[0] == '[') continue;
    auto eq = t.find('=');
    auto where = path + ":" + std::to_string(lineNo) + ": ";
    if (eq == std::string::npos) {
      return makeError(ErrorCode::kInvalid, where + "expected `Name = value`");
    }
    std::string name = trim(t.substr(0, eq));
    const char* canonical = model::felixParamName(name);
    if (!canonical) return makeError(ErrorCode::kInvalid, where + "unknown setting '" + name + "'");
    std::string value = trim(t.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    layer.values[canonical] = value;
  }
  return layer;
}

ConfigLayer layerFromEnvironment(const std::map<std::string, std::string>& env,
                                 std::vector<std::string>* notes) {
  ConfigLayer layer{"environment", {}};
  for (const auto& [k, v] : env) {
    if (k == "CALICO_NETWORKING_BACKEND") layer.values["NetworkingBackend"] = v;
    if (k.rfind("FELIX_", 0) != 0) continue;
    const char* canonical = model::felixParamName(std::string_view(k).substr(6));
    if (!canonical) {
      if (notes) notes->push_back("ignoring unknown environment variable " + k);
      continue;
    }
    layer.values[canonical] = v;
  }
  return layer;
}

ConfigLayer layerFromFelixConfiguration(const model::Resource& resource) {
  return {"FelixConfiguration " + resource.name(),
          model::felixConfigurationSettings(resource.spec)};
}

Result<AgentConfig> buildAgentConfig(const std::vector<ConfigLayer>& layers) {
  AgentConfig c;
  for (const auto& layer : layers) {
    for (const auto& [name, value] : layer.values) {
      const char* canonical = model::felixParamName(name);
      if (Status s = model::setFelixParam(c, name, value); !s) {  // unknown: says so itself
        const std::string param = canonical ? std::string(canonical) + ": " : "";
        return makeError(ErrorCode::kInvalid, layer.source + ": " + param + s.message());
      }
      c.sources[canonical] = layer.source;
    }
  }
  if (c.applyRetryInitial.count() <= 0) c.applyRetryInitial = std::chrono::milliseconds(1);
  if (c.applyRetryMax < c.applyRetryInitial) c.applyRetryMax = c.applyRetryInitial;
  return c;
}

namespace {

struct LocalLayers {
  std::vector<ConfigLayer> layers;  // file, environment, flags (lowest first)
  std::vector<std::string> notes;
  std::string nodename;
  config::DatastoreConfig datastore;
};

Result<LocalLayers> localLayers(const CommandLine& cl,
                                const std::map<std::string, std::string>& env,
                                const std::string& hostname, const std::string& defaultFile) {
  LocalLayers out;
  std::string path = cl.configFile.empty() ? defaultFile : cl.configFile;
  std::string text;
  if (readFile(path, text)) {
    BRINDLE_ASSIGN_OR_RETURN(auto layer, layerFromFile(text, path));
    out.layers.push_back(std::move(layer));
  } else if (!cl.configFile.empty()) {
    return makeError(ErrorCode::kNotFound, "cannot read config file " + path);
  }
  out.layers.push_back(layerFromEnvironment(env, &out.notes));
  ConfigLayer flags{"command line", {}};
  if (!cl.logSeverityScreen.empty()) flags.values["LogSeverityScreen"] = cl.logSeverityScreen;
  if (!cl.nodename.empty()) flags.values["Nodename"] = cl.nodename;
  out.layers.push_back(std::move(flags));

  // Node name: --nodename > NODENAME > a Nodename setting (file or FELIX_NODENAME) > hostname.
  if (!cl.nodename.empty()) {
    out.nodename = cl.nodename;
  } else if (auto it = env.find("NODENAME"); it != env.end() && !it->second.empty()) {
    out.nodename = it->second;
  } else {
    for (const auto& l : out.layers) {
      if (auto it2 = l.values.find("Nodename"); it2 != l.values.end()) out.nodename = it2->second;
    }
    if (out.nodename.empty()) out.nodename = hostname;
  }
  if (out.nodename.empty()) return makeError(ErrorCode::kInvalid, "no node name");

  BRINDLE_ASSIGN_OR_RETURN(out.datastore, config::loadDatastoreConfig(cl.datastoreConfig, env));
  return out;
}

Result<AgentConfig> finish(LocalLayers local, std::vector<ConfigLayer> datastoreLayers) {
  std::vector<ConfigLayer> all = std::move(datastoreLayers);
  for (auto& l : local.layers) all.push_back(std::move(l));
  auto c = buildAgentConfig(all);
  if (!c) return c;
  c->nodename = local.nodename;
  c->datastore = std::move(local.datastore);
  c->sources["Datastore"] = c->datastore.source;
  for (auto& n : local.notes) c->notes.push_back(std::move(n));
  return c;
}

}  // namespace

Result<AgentConfig> loadLocalAgentConfig(const CommandLine& cl,
                                         const std::map<std::string, std::string>& env,
                                         const std::string& hostname,
                                         const std::string& defaultFile) {
  BRINDLE_ASSIGN_OR_RETURN(auto local, localLayers(cl, env, hostname, defaultFile));
  return finish(std::move(local), {});
}

Result<AgentConfig> loadAgentConfig(const CommandLine& cl,
                                    const std::map<std::string, std::string>& env,
                                    const FelixConfigReader& reader, const std::string& hostname,
                                    const std::string& defaultFile) {
  BRINDLE_ASSIGN_OR_RETURN(auto local, localLayers(cl, env, hostname, defaultFile));
  std::vector<ConfigLayer> fromStore;
  if (reader) {
    for (const std::string& name : {std::string("default"), "node." + local.nodename}) {
      BRINDLE_ASSIGN_OR_RETURN(auto r, reader(name));
      if (r) fromStore.push_back(layerFromFelixConfiguration(*r));
    }
  }
  return finish(std::move(local), std::move(fromStore));
}

}  // namespace brindle::agent
