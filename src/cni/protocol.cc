// CNI environment, network configuration, result and error JSON.
#include "cni/protocol.h"

#include <algorithm>
#include <limits>
#include <type_traits>

namespace brindle::cni {

const std::vector<std::string>& supportedVersions() {
  static const std::vector<std::string> versions = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"};
  return versions;
}

bool isSupportedVersion(const std::string& version) {
  const auto& v = supportedVersions();
  return std::find(v.begin(), v.end(), version) != v.end();
}

std::string errorJson(const CniError& error, const std::string& cniVersion) {
  Json j = {{"cniVersion", cniVersion.empty() ? kLatestVersion : cniVersion},
            {"code", static_cast<int>(error.code)},
            {"msg", error.msg}};
  if (!error.details.empty()) j["details"] = error.details;
  return j.dump();
}

CniError fromError(const Error& error, const std::string& what) {
  CniError e;
  e.msg = what;
  e.details = error.message;
  switch (error.code) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kConflict:
      e.code = ErrCode::kTryAgainLater;  // a datastore hiccup: the runtime may retry
      break;
    case ErrorCode::kInvalid:
      e.code = ErrCode::kInvalidConfig;
      break;
    default:
      e.code = ErrCode::kOther;
  }
  return e;
}

std::string CniEnv::arg(const std::string& key) const {
  for (const auto& [k, v] : args) {
    if (k == key) return v;
  }
  return "";
}

std::optional<CniEnv> readEnv(const std::map<std::string, std::string>& env, CniError* error) {
  auto get = [&](const char* name) {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  CniEnv e;
  e.command = get("CNI_COMMAND");
  e.containerId = get("CNI_CONTAINERID");
  e.netns = get("CNI_NETNS");
  e.ifName = get("CNI_IFNAME");
  e.path = get("CNI_PATH");
  auto fail = [&](const std::string& msg) -> std::optional<CniEnv> {
    *error = CniError{ErrCode::kInvalidEnv, msg, ""};
    return std::nullopt;
  };
  if (e.command.empty()) return fail("CNI_COMMAND is not set (ADD, DEL, CHECK or VERSION)");
  if (e.command != "ADD" && e.command != "DEL" && e.command != "CHECK" && e.command != "VERSION") {
    return fail("CNI_COMMAND=" + e.command + " is not one of ADD, DEL, CHECK, VERSION");
  }
  if (e.command == "VERSION") return e;
  if (e.containerId.empty()) return fail("CNI_CONTAINERID is not set");
  if (e.ifName.empty()) return fail("CNI_IFNAME is not set");
  if (e.ifName.size() > 15) return fail("CNI_IFNAME=" + e.ifName + " is longer than 15 characters");
  // DEL may come without a namespace (the sandbox is gone); ADD and CHECK need one.
  if (e.netns.empty() && e.command != "DEL") return fail("CNI_NETNS is not set");
  std::string args = get("CNI_ARGS");
  size_t pos = 0;
  while (pos <= args.size() && !args.empty()) {
    size_t end = args.find(';', pos);
    if (end == std::string::npos) end = args.size();
    std::string kv = args.substr(pos, end - pos);
    if (!kv.empty()) {
      auto eq = kv.find('=');
      if (eq == std::string::npos) return fail("CNI_ARGS entry \"" + kv + "\" is not KEY=VALUE");
      e.args.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    pos = end + 1;
  }
  return e;
}

namespace {

// Reads an optional field of an expected JSON type; a wrong type is a config error.
template <typename T>
bool field(const Json& obj, const char* key, T* out, CniError* error, const char* where = "") {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  try {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      // get<int>() of a float or of an integer out of range is undefined behaviour in
      // nlohmann (fuzz/cni_config_fuzz.cc found "mtu": 68E62): only integers that fit.
      const bool fits =
          (it->is_number_integer() &&
           it->get<int64_t>() >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
           it->get<int64_t>() <= static_cast<int64_t>(std::numeric_limits<T>::max())) ||
          (it->is_number_unsigned() &&
           it->get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max()));
      if (!fits) throw Json::type_error::create(302, "not an integer in range", nullptr);
    }
    *out = it->get<T>();
    return true;
  } catch (const Json::exception&) {
    *error = CniError{ErrCode::kInvalidConfig,
                      std::string("network config field ") + where + key + " has the wrong type",
                      it->dump()};
    return false;
  }
}

bool readLabels(const Json& obj, std::map<std::string, std::string>* labels, CniError* error) {
  if (!obj.is_object()) return true;
  for (const auto& [k, v] : obj.items()) {
    if (!v.is_string()) {
      *error = CniError{ErrCode::kInvalidConfig, "label " + k + " must be a string", v.dump()};
      return false;
    }
    (*labels)[k] = v.get<std::string>();
  }
  return true;
}

}  // namespace

Result<NetConf> parseNetConf(const std::string& text, CniError* error) {
  auto fail = [&](ErrCode code, std::string msg, std::string details = "") -> Result<NetConf> {
    *error = CniError{code, msg, details};
    return makeError(ErrorCode::kInvalid, msg);
  };
  auto parsed = model::parseJson(text, "network config on stdin", kConfigLimits);
  if (!parsed) {
    return fail(ErrCode::kDecodeFailure, "network config on stdin is not valid JSON",
                parsed.message());
  }
  Json j = std::move(*parsed);
  if (!j.is_object()) return fail(ErrCode::kDecodeFailure, "network config is not a JSON object");
  NetConf c;
  c.raw = j;
  if (!field(j, "cniVersion", &c.cniVersion, error) || !field(j, "name", &c.name, error) ||
      !field(j, "type", &c.type, error) || !field(j, "mtu", &c.mtu, error) ||
      !field(j, "nodename", &c.nodename, error) || !field(j, "log_level", &c.logLevel, error) ||
      !field(j, "datastore_type", &c.datastoreType, error) ||
      !field(j, "etcd_username", &c.etcdUsername, error) ||
      !field(j, "etcd_password", &c.etcdPassword, error) ||
      !field(j, "etcd_key_file", &c.etcdKeyFile, error) ||
      !field(j, "etcd_cert_file", &c.etcdCertFile, error) ||
      !field(j, "etcd_ca_cert_file", &c.etcdCaCertFile, error) ||
      !field(j, "store_path", &c.storePath, error)) {
    return makeError(ErrorCode::kInvalid, error->msg);
  }
  // etcd_endpoints: "a,b" as Calico writes it, or a list.
  if (auto it = j.find("etcd_endpoints"); it != j.end() && !it->is_null()) {
    if (it->is_string()) {
      c.etcdEndpoints = it->get<std::string>();
    } else if (it->is_array()) {
      for (const auto& e : *it) {
        if (!e.is_string()) return fail(ErrCode::kInvalidConfig, "etcd_endpoints: not a string");
        c.etcdEndpoints += (c.etcdEndpoints.empty() ? "" : ",") + e.get<std::string>();
      }
    } else {
      return fail(ErrCode::kInvalidConfig, "etcd_endpoints must be a string or a list");
    }
  }
  if (!isSupportedVersion(c.cniVersion)) {
    return fail(ErrCode::kIncompatibleVersion, "cniVersion " + c.cniVersion +
                                                   " is not supported (supported: 0.3.0, 0.3.1, "
                                                   "0.4.0, 1.0.0)");
  }
  if (c.name.empty()) return fail(ErrCode::kInvalidConfig, "network config has no \"name\"");
  if (c.mtu < 68 || c.mtu > 65535) {
    return fail(ErrCode::kInvalidConfig, "mtu " + std::to_string(c.mtu) + " is out of 68-65535");
  }
  if (auto it = j.find("ipam"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return fail(ErrCode::kInvalidConfig, "ipam must be an object");
    IpamConf& ip = c.ipam;
    // Calico spells the booleans as strings ("true"); accept both.
    auto boolish = [&](const char* key, bool* out) {
      auto b = it->find(key);
      if (b == it->end() || b->is_null()) return true;
      if (b->is_boolean()) {
        *out = b->get<bool>();
        return true;
      }
      if (b->is_string() && (*b == "true" || *b == "false")) {
        *out = *b == "true";
        return true;
      }
      *error = CniError{ErrCode::kInvalidConfig,
                        std::string("ipam.") + key + " must be true or false", b->dump()};
      return false;
    };
    if (!field(*it, "type", &ip.type, error, "ipam.") || !boolish("assign_ipv4", &ip.assignIpv4) ||
        !boolish("assign_ipv6", &ip.assignIpv6) ||
        !field(*it, "ipv4_pools", &ip.ipv4Pools, error, "ipam.") ||
        !field(*it, "ipv6_pools", &ip.ipv6Pools, error, "ipam.")) {
      return makeError(ErrorCode::kInvalid, error->msg);
    }
    if (ip.type.empty()) return fail(ErrCode::kInvalidConfig, "ipam.type is empty");
    if (!ip.assignIpv4 && !ip.assignIpv6 && ip.type == "brindle-ipam") {
      return fail(ErrCode::kInvalidConfig, "ipam assigns neither IPv4 nor IPv6");
    }
  }
  if (auto rc = j.find("runtimeConfig"); rc != j.end() && rc->is_object()) {
    if (auto l = rc->find("labels"); l != rc->end() && !readLabels(*l, &c.labels, error)) {
      return makeError(ErrorCode::kInvalid, error->msg);
    }
  }
  // The CNI conventions' args.cni.labels: [{"key": k, "value": v}].
  if (auto a = j.find("args"); a != j.end() && a->is_object()) {
    auto cniArgs = a->find("cni");
    if (cniArgs != a->end() && cniArgs->is_object()) {
      auto l = cniArgs->find("labels");
      if (l != cniArgs->end() && l->is_array()) {
        for (const auto& kv : *l) {
          if (!kv.is_object() || !kv.contains("key") || !kv["key"].is_string() ||
              !kv.value("value", Json()).is_string()) {
            return fail(ErrCode::kInvalidConfig, "args.cni.labels entries are {key, value}",
                        kv.dump());
          }
          c.labels[kv["key"].get<std::string>()] = kv["value"].get<std::string>();
        }
      }
    }
  }
  if (auto d = j.find("dns"); d != j.end() && d->is_object()) c.dns = *d;
  if (auto p = j.find("prevResult"); p != j.end() && !p->is_null()) c.prevResult = *p;
  return c;
}

Json resultToJson(const CniResult& result, const std::string& version) {
  const bool v1 = version.rfind("0.", 0) != 0;  // 1.x: no per-IP "version"
  Json j = {{"cniVersion", version}};
  Json ifs = Json::array();
  for (const auto& i : result.interfaces) {
    Json o = {{"name", i.name}};
    if (!i.mac.empty()) o["mac"] = i.mac;
    if (!i.sandbox.empty()) o["sandbox"] = i.sandbox;
    ifs.push_back(o);
  }
  if (!ifs.empty()) j["interfaces"] = ifs;
  Json ips = Json::array();
  for (const auto& ip : result.ips) {
    Json o;
    if (!v1) o["version"] = ip.ip.isV4() ? "4" : "6";
    o["address"] = ip.ip.toString() + "/" + std::to_string(ip.prefixLength);
    if (ip.gateway) o["gateway"] = ip.gateway->toString();
    if (ip.interfaceIndex >= 0) o["interface"] = ip.interfaceIndex;
    ips.push_back(o);
  }
  if (!ips.empty()) j["ips"] = ips;
  Json routes = Json::array();
  for (const auto& r : result.routes) {
    Json o = {{"dst", r.dst.toString()}};
    if (r.gw) o["gw"] = r.gw->toString();
    routes.push_back(o);
  }
  if (!routes.empty()) j["routes"] = routes;
  j["dns"] = result.dns.is_object() ? result.dns : Json::object();
  return j;
}

Result<CniResult> resultFromJson(const Json& json) {
  auto bad = [](const std::string& msg) -> Result<CniResult> {
    return makeError(ErrorCode::kInvalid, "CNI result: " + msg);
  };
  if (!json.is_object()) return bad("not an object");
  CniResult r;
  try {
    for (const auto& i : json.value("interfaces", Json::array())) {
      r.interfaces.push_back({i.value("name", ""), i.value("mac", ""), i.value("sandbox", "")});
    }
    for (const auto& ip : json.value("ips", Json::array())) {
      // The address keeps its host bits: parse the IP and the prefix separately.
      std::string text = ip.at("address").get<std::string>();
      auto slash = text.find('/');
      if (slash == std::string::npos) return bad("address " + text + " has no prefix");
      auto addr = IpAddr::parse(text.substr(0, slash));
      auto net = Cidr::parse(text);
      if (!addr || !net) return bad("address " + text + " is not a CIDR");
      IpConfig c;
      c.ip = *addr;
      c.prefixLength = net->prefixLength();
      if (ip.contains("gateway")) {
        auto gw = IpAddr::parse(ip["gateway"].get<std::string>());
        if (!gw) return bad("gateway is not an IP");
        c.gateway = *gw;
      }
      c.interfaceIndex = ip.value("interface", -1);
      r.ips.push_back(c);
    }
    for (const auto& rt : json.value("routes", Json::array())) {
      auto dst = Cidr::parse(rt.at("dst").get<std::string>(), false);
      if (!dst) return bad("route dst is not a CIDR");
      Route route{*dst, std::nullopt};
      if (rt.contains("gw")) {
        auto gw = IpAddr::parse(rt["gw"].get<std::string>());
        if (!gw) return bad("route gw is not an IP");
        route.gw = *gw;
      }
      r.routes.push_back(route);
    }
    if (json.contains("dns") && json["dns"].is_object()) r.dns = json["dns"];
  } catch (const Json::exception& e) {
    return bad(e.what());
  }
  return r;
}

std::string versionJson(const std::string& cniVersion) {
  return Json({{"cniVersion", cniVersion.empty() ? kLatestVersion : cniVersion},
               {"supportedVersions", supportedVersions()}})
      .dump();
}

}  // namespace brindle::cni
