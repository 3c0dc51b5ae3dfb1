// Agent configuration: one parameter table drives every source (file, environment,
// FelixConfiguration), so a name means the same thing wherever it is set.
#include "agent/config.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "common/strings.h"

namespace brindle::agent {

namespace {

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, ',')) {
    cur = trim(cur);
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

Result<bool> parseBool(const std::string& v) {
  std::string l = toLower(trim(v));
  if (l == "true" || l == "1" || l == "yes" || l == "on") return true;
  if (l == "false" || l == "0" || l == "no" || l == "off") return false;
  return makeError(ErrorCode::kInvalid, "not a boolean: '" + v + "'");
}

Result<int64_t> parseInt(const std::string& v, int64_t min, int64_t max) {
  std::string t = trim(v);
  try {
    size_t used = 0;
    int64_t n = std::stoll(t, &used, 0);  // base 0: "0x7000000" works for the mark mask
    if (used != t.size() || n < min || n > max) throw std::out_of_range("range");
    return n;
  } catch (const std::exception&) {
    return makeError(ErrorCode::kInvalid, "not an integer in [" + std::to_string(min) + ", " +
                                              std::to_string(max) + "]: '" + v + "'");
  }
}

Result<std::vector<rules::FailsafePort>> parsePorts(const std::string& v) {
  std::vector<rules::FailsafePort> out;
  if (toLower(trim(v)) == "none") return out;
  for (const auto& item : splitList(v)) {
    auto colon = item.find(':');
    std::string proto = colon == std::string::npos ? "tcp" : toLower(item.substr(0, colon));
    std::string port = colon == std::string::npos ? item : item.substr(colon + 1);
    if (proto != "tcp" && proto != "udp") {
      return makeError(ErrorCode::kInvalid, "failsafe protocol must be tcp or udp: '" + item + "'");
    }
    // Felix takes 0 too, and renders it like any other port (`--dports 0`).
    auto n = parseInt(port, 0, 65535);
    if (!n) return n.error();
    out.push_back({proto, static_cast<uint16_t>(*n)});
  }
  return out;
}

// One parameter: its canonical (Felix) name and how a text value sets the field.
struct Param {
  const char* name;
  std::function<Status(AgentConfig&, const std::string&)> set;
};

// A parameter whose value is parsed straight into one field.
template <typename T>
Param field(const char* name, T AgentConfig::*f, Result<T> (*parse)(const std::string&)) {
  return {name, [f, parse](AgentConfig& c, const std::string& v) -> Status {
            auto r = parse(v);
            if (!r) return r.error();
            c.*f = std::move(*r);
            return Status::ok();
          }};
}

Result<std::string> parseText(const std::string& v) { return trim(v); }

template <int64_t kMin, int64_t kMax>
Result<int> parseIntIn(const std::string& v) {
  auto n = parseInt(v, kMin, kMax);
  if (!n) return n.error();
  return static_cast<int>(*n);
}

const std::vector<Param>& params() {
  using C = AgentConfig;
  static const std::vector<Param> table = {
      field("Nodename", &C::nodename, parseText),
      field("IptablesRefreshInterval", &C::iptablesRefreshInterval, parseDuration),
      field("IpsetsRefreshInterval", &C::ipsetsRefreshInterval, parseDuration),
      field("RouteRefreshInterval", &C::routeRefreshInterval, parseDuration),
      {"ChainInsertMode",
       [](AgentConfig& c, const std::string& v) -> Status {
         std::string l = toLower(trim(v));
         if (l != "insert" && l != "append") {
           return makeError(ErrorCode::kInvalid, "must be Insert or Append: '" + v + "'");
         }
         c.chainInsertAtTop = l == "insert";
         return Status::ok();
       }},
      {"IptablesMarkMask",
       [](AgentConfig& c, const std::string& v) -> Status {
         auto n = parseInt(v, 0, 0xffffffffLL);
         if (!n) return n.error();
         if (__builtin_popcount(static_cast<uint32_t>(*n)) < 3) {
           return makeError(ErrorCode::kInvalid, "needs at least 3 bits set: '" + v + "'");
         }
         c.iptablesMarkMask = static_cast<uint32_t>(*n);
         return Status::ok();
       }},
      field("FailsafeInboundHostPorts", &C::failsafeInbound, parsePorts),
      field("FailsafeOutboundHostPorts", &C::failsafeOutbound, parsePorts),
      {"DefaultEndpointToHostAction",
       [](AgentConfig& c, const std::string& v) -> Status {
         std::string l = toLower(trim(v));
         if (l == "drop") {
           c.defaultEndpointToHostAction = rules::EndpointToHostAction::kDrop;
         } else if (l == "return") {
           c.defaultEndpointToHostAction = rules::EndpointToHostAction::kReturn;
         } else if (l == "accept") {
           c.defaultEndpointToHostAction = rules::EndpointToHostAction::kAccept;
         } else {
           return makeError(ErrorCode::kInvalid, "must be Drop, Return or Accept: '" + v + "'");
         }
         return Status::ok();
       }},
      field("Ipv6Support", &C::ipv6Support, parseBool),
      field("RouteProtocol", &C::routeProtocol, parseIntIn<1, 255>),
      {"InterfacePrefix",
       [](AgentConfig& c, const std::string& v) -> Status {
         auto list = splitList(v);
         if (list.empty()) return makeError(ErrorCode::kInvalid, "empty interface prefix");
         c.interfacePrefixes = list;
         return Status::ok();
       }},
      field("LogPrefix", &C::logPrefix, parseText),
      {"NetworkingBackend",
       [](AgentConfig& c, const std::string& v) -> Status {
         const std::string l = toLower(trim(v));
         if (l != "bird" && l != "none") {
           return makeError(ErrorCode::kInvalid, "must be bird or none: '" + v + "'");
         }
         c.networkingBackend = l;
         return Status::ok();
       }},
      // Felix's config-file/env name and the FelixConfiguration field (ipipMTU).
      field("IpInIpMtu", &C::ipipMtu, parseIntIn<0, 65535>),
      field("IpipMTU", &C::ipipMtu, parseIntIn<0, 65535>),
      field("BgpRunDir", &C::bgpRunDir, parseText),
      field("BgpSecretsDir", &C::bgpSecretsDir, parseText),
      field("BgpRefreshInterval", &C::bgpRefreshInterval, parseDuration),
      {"LogSeverityScreen",
       [](AgentConfig& c, const std::string& v) -> Status {
         static const std::vector<std::string> levels = {"Trace",   "Debug", "Info",
                                                         "Warning", "Error", "Fatal"};
         for (const auto& l : levels) {
           if (toLower(l) == toLower(trim(v))) {
             c.logSeverityScreen = l;
             return Status::ok();
           }
         }
         return makeError(ErrorCode::kInvalid, "unknown log level: '" + v + "'");
       }},
      field("HealthEnabled", &C::healthEnabled, parseBool),
      field("HealthHost", &C::healthHost, parseText),
      field("HealthPort", &C::healthPort, parseIntIn<0, 65535>),
      field("PrometheusMetricsEnabled", &C::prometheusMetricsEnabled, parseBool),
      field("PrometheusMetricsHost", &C::prometheusMetricsHost, parseText),
      field("PrometheusMetricsPort", &C::prometheusMetricsPort, parseIntIn<0, 65535>),
      field("ApplyRetryInitial", &C::applyRetryInitial, parseDuration),
      field("ApplyRetryMax", &C::applyRetryMax, parseDuration),
      field("DatastoreReadinessTimeout", &C::datastoreReadinessTimeout, parseDuration),
  };
  return table;
}

const Param* findParam(const std::string& name) {
  std::string l = toLower(name);
  for (const auto& p : params()) {
    if (toLower(p.name) == l) return &p;
  }
  return nullptr;
}

// FelixConfiguration JSON value -> the text form the parsers read.
std::string jsonText(const model::Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_array()) {
    std::string out;
    for (const auto& item : v) {
      if (!out.empty()) out += ",";
      if (item.is_object()) {  // host ports: {protocol, port}
        out += item.value("protocol", std::string("tcp")) + ":" +
               std::to_string(item.value("port", 0));
      } else {
        out += jsonText(item);
      }
    }
    return out.empty() ? "none" : out;
  }
  return v.dump();
}

bool readFile(const std::string& path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

}  // namespace

Result<std::chrono::milliseconds> parseDuration(const std::string& text) {
  std::string t = trim(text);
  auto bad = [&] { return makeError(ErrorCode::kInvalid, "not a duration: '" + text + "'"); };
  if (t.empty()) return bad();
  // Plain seconds (Felix's env/file form).
  try {
    size_t used = 0;
    double secs = std::stod(t, &used);
    if (used == t.size()) {
      if (secs < 0) return bad();
      return std::chrono::milliseconds(static_cast<int64_t>(secs * 1000 + 0.5));
    }
  } catch (const std::exception&) {
    return bad();
  }
  // Go-style: sequence of <number><unit>, unit in h, m, s, ms.
  double total = 0;
  size_t i = 0;
  while (i < t.size()) {
    size_t start = i;
    while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
    if (i == start) return bad();
    double n = std::stod(t.substr(start, i - start));
    size_t ustart = i;
    while (i < t.size() && std::isalpha(static_cast<unsigned char>(t[i]))) ++i;
    std::string unit = t.substr(ustart, i - ustart);
    if (unit == "h") {
      total += n * 3600000;
    } else if (unit == "m") {
      total += n * 60000;
    } else if (unit == "s") {
      total += n * 1000;
    } else if (unit == "ms") {
      total += n;
    } else {
      return bad();
    }
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total + 0.5));
}

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
    const Param* p = findParam(name);
    if (!p) return makeError(ErrorCode::kInvalid, where + "unknown setting '" + name + "'");
    std::string value = trim(t.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    layer.values[p->name] = value;
  }
  return layer;
}

ConfigLayer layerFromEnvironment(const std::map<std::string, std::string>& env,
                                 std::vector<std::string>* notes) {
  ConfigLayer layer{"environment", {}};
  for (const auto& [k, v] : env) {
    if (k == "CALICO_NETWORKING_BACKEND") layer.values["NetworkingBackend"] = v;
    if (k.rfind("FELIX_", 0) != 0) continue;
    const Param* p = findParam(k.substr(6));
    if (!p) {
      if (notes) notes->push_back("ignoring unknown environment variable " + k);
      continue;
    }
    layer.values[p->name] = v;
  }
  return layer;
}

ConfigLayer layerFromFelixConfiguration(const model::Resource& resource) {
  ConfigLayer layer{"FelixConfiguration " + resource.name(), {}};
  for (const auto& [k, v] : resource.spec.items()) {
    if (const Param* p = findParam(k)) layer.values[p->name] = jsonText(v);
  }
  return layer;
}

Result<AgentConfig> buildAgentConfig(const std::vector<ConfigLayer>& layers) {
  AgentConfig c;
  for (const auto& layer : layers) {
    for (const auto& [name, value] : layer.values) {
      const Param* p = findParam(name);
      if (!p) return makeError(ErrorCode::kInvalid, layer.source + ": unknown setting " + name);
      if (Status s = p->set(c, value); !s) {
        return makeError(ErrorCode::kInvalid, layer.source + ": " + p->name + ": " + s.message());
      }
      c.sources[p->name] = layer.source;
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
    auto layer = layerFromFile(text, path);
    if (!layer) return layer.error();
    out.layers.push_back(std::move(*layer));
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

  auto ds = config::loadDatastoreConfig(cl.datastoreConfig, env);
  if (!ds) return ds.error();
  out.datastore = std::move(*ds);
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
  auto local = localLayers(cl, env, hostname, defaultFile);
  if (!local) return local.error();
  return finish(std::move(*local), {});
}

Result<AgentConfig> loadAgentConfig(const CommandLine& cl,
                                    const std::map<std::string, std::string>& env,
                                    const FelixConfigReader& reader, const std::string& hostname,
                                    const std::string& defaultFile) {
  auto local = localLayers(cl, env, hostname, defaultFile);
  if (!local) return local.error();
  std::vector<ConfigLayer> fromStore;
  if (reader) {
    for (const std::string& name : {std::string("default"), "node." + local->nodename}) {
      auto r = reader(name);
      if (!r) return r.error();
      if (*r) fromStore.push_back(layerFromFelixConfiguration(**r));
    }
  }
  return finish(std::move(*local), std::move(fromStore));
}

}  // namespace brindle::agent
