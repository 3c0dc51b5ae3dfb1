// The CNI protocol as a plugin sees it (spec 1.0.0, also 0.3.0/0.3.1/0.4.0): the runtime's
// environment, the network configuration on stdin, and the result and error JSON on stdout.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ip.h"
#include "common/result.h"
#include "model/yaml_json.h"

namespace brindle::cni {

using Json = nlohmann::json;

constexpr const char* kLatestVersion = "1.0.0";
const std::vector<std::string>& supportedVersions();  // "0.3.0" ... "1.0.0"
bool isSupportedVersion(const std::string& version);

// Error codes of the CNI spec (section "Error"); 100+ would be ours, 999 is "other".
enum class ErrCode : int {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnv = 4,
  kIoFailure = 5,
  kDecodeFailure = 6,
  kInvalidConfig = 7,
  kTryAgainLater = 11,
  kOther = 999,
};

struct CniError {
  ErrCode code = ErrCode::kOther;
  std::string msg;      // short, says what went wrong and what to do
  std::string details;  // the underlying cause (kernel, datastore, child plugin)
};

// {"cniVersion", "code", "msg", "details"} as the spec's error shape.
std::string errorJson(const CniError& error, const std::string& cniVersion);

// Maps a Brindle error from a lower layer to a CNI error with a leading message.
CniError fromError(const Error& error, const std::string& what);

// What the runtime passes in the environment.
struct CniEnv {
  std::string command;                                    // ADD, DEL, CHECK, VERSION
  std::string containerId;                                // CNI_CONTAINERID
  std::string netns;                                      // CNI_NETNS (a path)
  std::string ifName;                                     // CNI_IFNAME
  std::string path;                                       // CNI_PATH (':'-separated)
  std::vector<std::pair<std::string, std::string>> args;  // CNI_ARGS, "K=V;K=V"

  std::string arg(const std::string& key) const;  // "" if absent
};

// Reads and checks the CNI_* variables for `command` (VERSION needs none).
std::optional<CniEnv> readEnv(const std::map<std::string, std::string>& env, CniError* error);

struct IpamConf {
  std::string type = "brindle-ipam";
  bool assignIpv4 = true;
  bool assignIpv6 = false;
  std::vector<std::string> ipv4Pools;
  std::vector<std::string> ipv6Pools;
};

// The network configuration (one plugin's entry of a conflist, as libcni hands it over).
struct NetConf {
  std::string cniVersion = "0.3.1";
  std::string name;
  std::string type;
  int mtu = 1500;
  std::string nodename;
  std::string logLevel;
  // Datastore fields as Calico's CNI config names them; empty = take from the environment.
  std::string datastoreType;
  std::string etcdEndpoints;
  std::string etcdUsername;
  std::string etcdPassword;
  std::string etcdKeyFile;
  std::string etcdCertFile;
  std::string etcdCaCertFile;
  std::string storePath;  // ours: the local store's file
  IpamConf ipam;
  std::map<std::string, std::string> labels;  // runtimeConfig.labels and args.cni.labels
  Json dns;                                   // passed through into the result
  std::optional<Json> prevResult;
  Json raw;  // the whole document, for delegating to an IPAM plugin
};

// What the plugin reads from stdin at most: a network config (with its prevResult) is a few
// KiB; anything near these limits is hostile or broken (issue 12).
inline const model::ParseLimits kConfigLimits{.maxBytes = 1 << 20, .maxDepth = 32};

// Parses stdin. Decode failures are code 6, bad values 7, unsupported versions 1.
Result<NetConf> parseNetConf(const std::string& text, CniError* error);

struct IpConfig {
  IpAddr ip;              // the workload's address
  int prefixLength = 32;  // as the IPAM answered (ours: /32 or /128)
  std::optional<IpAddr> gateway;
  int interfaceIndex = -1;  // into CniResult::interfaces, -1 = none
};

struct Interface {
  std::string name;
  std::string mac;
  std::string sandbox;  // empty for host-side interfaces
};

struct Route {
  Cidr dst;
  std::optional<IpAddr> gw;
};

struct CniResult {
  std::vector<Interface> interfaces;
  std::vector<IpConfig> ips;
  std::vector<Route> routes;
  Json dns = Json::object();
};

// The result in the shape of `version` (0.3.x/0.4.0 carry "version" per IP; 1.0.0 does not).
Json resultToJson(const CniResult& result, const std::string& version);
// Reads a result of any supported version (prevResult, or a delegated IPAM plugin's answer).
Result<CniResult> resultFromJson(const Json& json);

// {"cniVersion", "supportedVersions"} for the VERSION command.
std::string versionJson(const std::string& cniVersion);

}  // namespace brindle::cni
