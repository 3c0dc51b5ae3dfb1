// Wiring of the CNI entry point; everything it decides is delegated to Plugin.
#include "cni/command.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <iterator>
#include <thread>

#include "cni/plugin.h"
#include "config/datastore_config.h"
#include "config/open_datastore.h"
#include "resources/resource_store.h"

namespace brindle::cni {
namespace {

std::string envOr(const std::map<std::string, std::string>& env, const char* key) {
  auto it = env.find(key);
  return it == env.end() ? "" : it->second;
}

// The node a workload lives on: config `nodename`, else NODENAME, else the host name.
std::string nodeName(const NetConf& conf, const std::map<std::string, std::string>& env) {
  if (!conf.nodename.empty()) return conf.nodename;
  if (auto n = envOr(env, "NODENAME"); !n.empty()) return n;
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// The CNI config's datastore fields win over the environment, field by field; with none set the
// plugin reads the datastore config exactly as brindlectl does (file, then environment).
Result<config::DatastoreConfig> datastoreConfig(const NetConf& c,
                                                std::map<std::string, std::string> env) {
  const std::pair<const char*, const std::string*> fields[] = {
      {"DATASTORE_TYPE", &c.datastoreType},     {"ETCD_ENDPOINTS", &c.etcdEndpoints},
      {"ETCD_USERNAME", &c.etcdUsername},       {"ETCD_PASSWORD", &c.etcdPassword},
      {"ETCD_KEY_FILE", &c.etcdKeyFile},        {"ETCD_CERT_FILE", &c.etcdCertFile},
      {"ETCD_CA_CERT_FILE", &c.etcdCaCertFile}, {"BRINDLE_STORE_PATH", &c.storePath}};
  bool any = false;
  for (const auto& [key, value] : fields) {
    if (!value->empty()) {
      env[key] = *value;
      any = true;
    }
  }
  if (any) return config::configFromEnvironment(env);
  return config::loadDatastoreConfig("", env);
}

// Test hook: BRINDLE_CNI_TEST_PAUSE=<point> makes the plugin touch BRINDLE_CNI_TEST_PAUSE_MARK
// and sleep there (up to a minute), so a test can kill it mid-ADD.
std::function<void(const std::string&)> testHook(const std::map<std::string, std::string>& env) {
  const std::string point = envOr(env, "BRINDLE_CNI_TEST_PAUSE");
  if (point.empty()) return nullptr;
  const std::string mark = envOr(env, "BRINDLE_CNI_TEST_PAUSE_MARK");
  return [point, mark](const std::string& at) {
    if (at != point) return;
    if (!mark.empty()) close(open(mark.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    std::this_thread::sleep_for(std::chrono::seconds(60));
  };
}

// The opened datastore and IPAM, created only when a command needs them.
struct Backend {
  datastore::ClientPtr client;
  std::unique_ptr<resources::ResourceStore> store;
  ipam::IpamPtr ipam;
};

Result<Backend> openBackend(const NetConf& conf, const std::map<std::string, std::string>& env,
                            bool needIpam) {
  BRINDLE_ASSIGN_OR_RETURN(auto cfg, datastoreConfig(conf, env));
  BRINDLE_ASSIGN_OR_RETURN(auto client, config::openDatastore(cfg));
  Backend b;
  b.client = std::move(client);
  b.store = std::make_unique<resources::ResourceStore>(*b.client);
  if (needIpam) b.ipam = ipam::makeIpam(*b.client);
  return b;
}

int printError(std::ostream& out, const CniError& e, const std::string& version) {
  out << errorJson(e, version) << std::endl;
  return 1;
}

// brindle-ipam: the IPAM plugin half, for other network plugins (ptp, bridge...) to delegate to.
int runIpam(const NetConf& conf, const CniEnv& cniEnv,
            const std::map<std::string, std::string>& env, std::ostream& out) {
  auto backend = openBackend(conf, env, true);
  if (!backend) {
    return printError(out, fromError(backend.error(), "cannot open the datastore"),
                      conf.cniVersion);
  }
  auto driver = makeInProcessIpam(*backend->ipam, conf.ipam);
  const std::string node = nodeName(conf, env);
  IpamRequest req;
  req.handle = ipamHandle(conf.name, cniEnv.containerId);
  req.node = node;
  req.attributes = {{"node", node}, {"containerID", cniEnv.containerId}};
  if (auto pod = cniEnv.arg("K8S_POD_NAME"); !pod.empty()) {
    req.attributes["pod"] = pod;
    req.attributes["namespace"] = cniEnv.arg("K8S_POD_NAMESPACE");
  }
  if (cniEnv.command == "ADD") {
    auto ips = driver->assign(req);
    if (!ips)
      return printError(out, fromError(ips.error(), "IPAM could not assign an address"),
                        conf.cniVersion);
    CniResult r;
    r.ips = *ips;
    out << resultToJson(r, conf.cniVersion).dump() << std::endl;
    return 0;
  }
  if (cniEnv.command == "DEL") {
    if (Status s = driver->release(req); !s) {
      return printError(out, fromError(s.error(), "IPAM could not release"), conf.cniVersion);
    }
    return 0;
  }
  // CHECK: the prevResult's addresses must be held by this container's handle.
  std::vector<IpAddr> ips;
  if (conf.prevResult) {
    if (auto prev = resultFromJson(*conf.prevResult)) {
      for (const auto& ip : prev->ips) ips.push_back(ip.ip);
    }
  }
  if (Status s = driver->check(req, ips); !s) {
    return printError(out, CniError{ErrCode::kOther, "IPAM check failed", s.message()},
                      conf.cniVersion);
  }
  return 0;
}

}  // namespace

int runCommand(const std::string& argv0, const std::map<std::string, std::string>& env,
               std::istream& in, std::ostream& out, std::ostream& err) {
  CniError error;
  auto cniEnv = readEnv(env, &error);
  auto stdinRead = model::readLimited(in, "network config on stdin", kConfigLimits.maxBytes);
  if (!stdinRead) {
    return printError(out, CniError{ErrCode::kDecodeFailure, stdinRead.message(), ""}, "");
  }
  const std::string& stdinText = *stdinRead;
  if (!cniEnv) return printError(out, error, "");
  if (cniEnv->command == "VERSION") {
    std::string version = kLatestVersion;
    try {
      auto j = Json::parse(stdinText);
      if (j.is_object() && j.contains("cniVersion") && j["cniVersion"].is_string()) {
        version = j["cniVersion"].get<std::string>();
      }
    } catch (const Json::exception&) {
      // VERSION may come with no config at all.
    }
    out << versionJson(version) << std::endl;
    return 0;
  }
  auto conf = parseNetConf(stdinText, &error);
  if (!conf) {
    std::string version;
    try {
      version = Json::parse(stdinText).value("cniVersion", "");
    } catch (const Json::exception&) {
    }
    return printError(out, error, version);
  }
  const bool debug = conf->logLevel == "debug" || conf->logLevel == "DEBUG";
  const auto started = std::chrono::steady_clock::now();
  const bool ipamRole =
      argv0.size() >= 12 && argv0.compare(argv0.size() - 12, 12, "brindle-ipam") == 0;
  if (ipamRole) return runIpam(*conf, *cniEnv, env, out);

  const bool inProcess = conf->ipam.type == "brindle-ipam";
  auto backend = openBackend(*conf, env, inProcess);
  if (!backend) {
    return printError(out, fromError(backend.error(), "cannot open the datastore"),
                      conf->cniVersion);
  }
  IpamDriverPtr ipamDriver = inProcess ? makeInProcessIpam(*backend->ipam, conf->ipam)
                                       : makeDelegatedIpam(*conf, *cniEnv, env, realPluginExec());
  DataplanePtr dataplane = makeNetlinkDataplane();
  EndpointStorePtr endpoints = makeResourceEndpointStore(*backend->store);
  Plugin plugin(PluginDeps{*dataplane, *ipamDriver, *endpoints, testHook(env)});
  const std::string node = nodeName(*conf, env);

  std::optional<CniError> failure;
  if (cniEnv->command == "ADD") {
    CniResult result;
    failure = plugin.add(*conf, *cniEnv, node, &result);
    if (!failure) out << resultToJson(result, conf->cniVersion).dump() << std::endl;
  } else if (cniEnv->command == "DEL") {
    failure = plugin.del(*conf, *cniEnv, node);
  } else {
    failure = plugin.check(*conf, *cniEnv, node);
  }
  if (debug) {
    err << "brindle-cni " << cniEnv->command << " " << cniEnv->containerId << ": "
        << std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 started)
               .count()
        << " us" << (failure ? " (failed: " + failure->msg + ")" : "") << std::endl;
  }
  if (failure) return printError(out, *failure, conf->cniVersion);
  return 0;
}

}  // namespace brindle::cni
