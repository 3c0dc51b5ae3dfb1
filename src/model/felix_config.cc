// The agent's settings: one parameter table drives every source (file, environment,
// FelixConfiguration) and validation, so a name means the same thing wherever it is set.
#include "model/felix_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <sstream>
#include <tuple>

#include "common/strings.h"

namespace brindle::model {

namespace {

// The trimmed, non-empty pieces of `s` between `separator`s.
std::vector<std::string> splitList(const std::string& s, char separator = ',') {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, separator)) {
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

// Felix's forms: "<port>", "<protocol>:<port>", "<protocol>:<net>:<port>", an IPv6 net in
// brackets ("udp:[fd00::/8]:53"); the net a CIDR or an address.
Result<std::vector<FailsafePort>> parsePorts(const std::string& v) {
  std::vector<FailsafePort> out;
  if (toLower(trim(v)) == "none") return out;
  for (const auto& item : splitList(v)) {
    std::string rest = item;
    std::string net;
    if (auto open = rest.find('['); open != std::string::npos) {
      const auto close = rest.find("]:", open);
      if (close == std::string::npos) {
        return makeError(ErrorCode::kInvalid, "failsafe port: unclosed '[': '" + item + "'");
      }
      net = rest.substr(open + 1, close - open - 1);
      rest = rest.substr(0, open) + rest.substr(close + 2);
    }
    const std::vector<std::string> parts = splitList(rest, ':');
    if (parts.size() > 3 || (parts.size() == 3 && !net.empty())) {
      return makeError(ErrorCode::kInvalid,
                       "failsafe port must be <protocol>:<net>:<port>, <protocol>:<port> or "
                       "<port>: '" +
                           item + "'");
    }
    if (parts.empty()) return makeError(ErrorCode::kInvalid, "failsafe port: '" + item + "'");
    const std::string proto = parts.size() > 1 ? toLower(parts[0]) : "tcp";
    if (parts.size() == 3) net = parts[1];
    // Calico's validator takes SCTP too (Felix's own reader then drops such a setting); iptables'
    // multiport match handles it like tcp and udp, so Brindle applies it.
    if (proto != "tcp" && proto != "udp" && proto != "sctp") {
      return makeError(ErrorCode::kInvalid,
                       "failsafe protocol must be tcp, udp or sctp: '" + item + "'");
    }
    // Felix takes 0 too, and renders it like any other port (`--dports 0`).
    BRINDLE_ASSIGN_OR_RETURN(auto n, parseInt(parts.back(), 0, 65535));
    FailsafePort port{proto, static_cast<uint16_t>(n), std::nullopt};
    if (!net.empty()) {
      auto cidr = Cidr::parse(net);
      if (!cidr) {
        return makeError(ErrorCode::kInvalid,
                         "failsafe port: not a CIDR or address: '" + item + "'");
      }
      port.net = *cidr;
    }
    out.push_back(std::move(port));
  }
  return out;
}

// One of `choices` (any case) -> the value paired with it.
template <typename T>
Result<T> oneOf(const std::string& v, std::initializer_list<std::pair<const char*, T>> choices,
                const char* expected) {
  for (const auto& [name, value] : choices) {
    if (equalsIgnoreCase(trim(v), name)) return value;
  }
  return makeError(ErrorCode::kInvalid, std::string(expected) + ": '" + v + "'");
}

// One parameter: its canonical (Felix) name and how a text value sets the field.
struct Param {
  const char* name;
  std::function<Status(FelixConfig&, const std::string&)> set;
};

// A parameter whose value is parsed straight into one field.
template <typename T, typename Parse>
Param field(const char* name, T FelixConfig::*f, Parse parse) {
  return {name, [f, parse](FelixConfig& c, const std::string& v) -> Status {
            BRINDLE_ASSIGN_OR_RETURN(auto r, parse(v));
            c.*f = std::move(r);
            return Status::ok();
          }};
}

Result<std::string> parseText(const std::string& v) { return trim(v); }

template <int64_t kMin, int64_t kMax>
Result<int> parseIntIn(const std::string& v) {
  BRINDLE_ASSIGN_OR_RETURN(auto n, parseInt(v, kMin, kMax));
  return static_cast<int>(n);
}

Result<uint32_t> parseMarkMask(const std::string& v) {
  BRINDLE_ASSIGN_OR_RETURN(auto n, parseInt(v, 0, 0xffffffffLL));
  if (__builtin_popcount(static_cast<uint32_t>(n)) < 3) {
    return makeError(ErrorCode::kInvalid, "needs at least 3 bits set: '" + v + "'");
  }
  return static_cast<uint32_t>(n);
}

Result<std::vector<std::string>> parsePrefixes(const std::string& v) {
  auto list = splitList(v);
  if (list.empty()) return makeError(ErrorCode::kInvalid, "empty interface prefix");
  return list;
}

Result<std::string> parseLogLevel(const std::string& v) {
  for (const char* level : {"Trace", "Debug", "Info", "Warning", "Error", "Fatal"}) {
    if (equalsIgnoreCase(trim(v), level)) return std::string(level);
  }
  return makeError(ErrorCode::kInvalid, "unknown log level: '" + v + "'");
}

const std::vector<Param>& params() {
  using C = FelixConfig;
  using A = EndpointToHostAction;
  static const std::vector<Param> table = {
      field("Nodename", &C::nodename, parseText),
      field("IptablesRefreshInterval", &C::iptablesRefreshInterval, parseDuration),
      field("IpsetsRefreshInterval", &C::ipsetsRefreshInterval, parseDuration),
      field("RouteRefreshInterval", &C::routeRefreshInterval, parseDuration),
      field("ChainInsertMode", &C::chainInsertAtTop,
            [](const std::string& v) {
              return oneOf<bool>(v, {{"insert", true}, {"append", false}},
                                 "must be Insert or Append");
            }),
      field("NFTablesMode", &C::nftablesEnabled,
            [](const std::string& v) {
              return oneOf<bool>(v, {{"enabled", true}, {"disabled", false}, {"auto", false}},
                                 "must be Enabled, Disabled or Auto");
            }),
      field("IptablesMarkMask", &C::iptablesMarkMask, parseMarkMask),
      field("FailsafeInboundHostPorts", &C::failsafeInbound, parsePorts),
      field("FailsafeOutboundHostPorts", &C::failsafeOutbound, parsePorts),
      field("DefaultEndpointToHostAction", &C::defaultEndpointToHostAction,
            [](const std::string& v) {
              return oneOf<A>(v,
                              {{"drop", A::kDrop}, {"return", A::kReturn}, {"accept", A::kAccept}},
                              "must be Drop, Return or Accept");
            }),
      field("Ipv6Support", &C::ipv6Support, parseBool),
      field("RouteProtocol", &C::routeProtocol, parseIntIn<1, 255>),
      field("InterfacePrefix", &C::interfacePrefixes, parsePrefixes),
      field("LogPrefix", &C::logPrefix, parseText),
      field("NetworkingBackend", &C::networkingBackend,
            [](const std::string& v) {
              return oneOf<std::string>(v, {{"bird", "bird"}, {"none", "none"}},
                                        "must be bird or none");
            }),
      // Felix's config-file/env name and the FelixConfiguration field (ipipMTU).
      field("IpInIpMtu", &C::ipipMtu, parseIntIn<0, 65535>),
      field("IpipMTU", &C::ipipMtu, parseIntIn<0, 65535>),
      field("BgpRunDir", &C::bgpRunDir, parseText),
      field("BgpSecretsDir", &C::bgpSecretsDir, parseText),
      field("BgpRefreshInterval", &C::bgpRefreshInterval, parseDuration),
      field("LogSeverityScreen", &C::logSeverityScreen, parseLogLevel),
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

const Param* findParam(std::string_view name) {
  for (const auto& p : params()) {
    if (equalsIgnoreCase(p.name, name)) return &p;
  }
  return nullptr;
}

// FelixConfiguration JSON value -> the text form the parsers read.
std::string jsonText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_array()) {
    std::string out;
    for (const auto& item : v) {
      if (!out.empty()) out += ",";
      if (item.is_object()) {  // host ports: {protocol, net, port}
        out += item.value("protocol", std::string("tcp")) + ":";
        if (const std::string net = item.value("net", std::string()); !net.empty()) {
          out += net.find(':') == std::string::npos ? net + ":" : "[" + net + "]:";
        }
        out += std::to_string(item.value("port", 0));
      } else {
        out += jsonText(item);
      }
    }
    return out.empty() ? "none" : out;
  }
  return v.dump();
}

}  // namespace

std::vector<FailsafePort> defaultFailsafeInbound() {
  return {{"tcp", 22},   {"udp", 68},   {"tcp", 179}, {"tcp", 2379},
          {"tcp", 2380}, {"tcp", 5473}, {"tcp", 6443}};
}

std::vector<FailsafePort> defaultFailsafeOutbound() {
  return {{"udp", 53},   {"udp", 67},   {"tcp", 179}, {"tcp", 2379},
          {"tcp", 2380}, {"tcp", 5473}, {"tcp", 6443}};
}

const char* felixParamName(std::string_view name) {
  const Param* p = findParam(name);
  return p ? p->name : nullptr;
}

Status setFelixParam(FelixConfig& config, std::string_view name, const std::string& text) {
  const Param* p = findParam(name);
  if (!p) return makeError(ErrorCode::kInvalid, "unknown setting " + std::string(name));
  return p->set(config, text);
}

std::map<std::string, std::string> felixConfigurationSettings(const Json& spec) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : spec.items()) {
    if (const Param* p = findParam(k)) out[p->name] = jsonText(v);
  }
  return out;
}

Status checkFelixConfigurationSettings(const Json& spec) {
  FelixConfig scratch;
  for (const auto& [k, v] : spec.items()) {
    const Param* p = findParam(k);
    if (!p) continue;
    if (Status s = p->set(scratch, jsonText(v)); !s) {
      return makeError(ErrorCode::kInvalid, "spec." + k + ": " + s.message());
    }
  }
  return Status::ok();
}

Result<std::chrono::milliseconds> parseDuration(const std::string& text) {
  const std::string t = trim(text);
  auto bad = [&] { return makeError(ErrorCode::kInvalid, "not a duration: '" + text + "'"); };
  const char* p = t.data();
  const char* end = t.data() + t.size();
  double n = 0;
  auto number = [&] {
    auto r = std::from_chars(p, end, n, std::chars_format::fixed);
    if (r.ec != std::errc() || r.ptr == p || n < 0) return false;
    p = r.ptr;
    return true;
  };
  if (!number()) return bad();
  if (p == end) return std::chrono::milliseconds(static_cast<int64_t>(n * 1000 + 0.5));  // seconds
  // Go's form: a sequence of <number><unit>.
  double total = 0;
  for (bool first = true; p != end; first = false) {
    if (!first && !number()) return bad();
    const char* unit = p;
    while (p != end && !std::isdigit(static_cast<unsigned char>(*p)) && *p != '.') ++p;
    // Each unit in milliseconds, as a multiplier and a divisor (exact for both).
    static constexpr std::tuple<std::string_view, double, double> kUnits[] = {
        {"h", 3600000, 1}, {"m", 60000, 1}, {"s", 1000, 1},    {"ms", 1, 1},
        {"us", 1, 1000},   {"µs", 1, 1000}, {"ns", 1, 1000000}};
    const std::string_view u(unit, p - unit);
    const auto* it = std::find_if(std::begin(kUnits), std::end(kUnits),
                                  [&](const auto& k) { return std::get<0>(k) == u; });
    if (it == std::end(kUnits)) return bad();
    total += n * std::get<1>(*it) / std::get<2>(*it);
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total + 0.5));
}

}  // namespace brindle::model
