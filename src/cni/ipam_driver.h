// Where the plugin's addresses come from: Brindle's IPAM called in-process (the default,
// `ipam.type: brindle-ipam`), or any other CNI IPAM plugin executed from CNI_PATH (host-local...).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cni/protocol.h"
#include "ipam/ipam.h"

namespace brindle::cni {

struct IpamRequest {
  std::string handle;  // "<network>.<containerID>"
  std::string node;
  std::map<std::string, std::string> attributes;
};

class IpamDriver {
 public:
  virtual ~IpamDriver() = default;
  // Allocates the configured addresses. On error nothing is left allocated.
  virtual Result<std::vector<IpConfig>> assign(const IpamRequest& request) = 0;
  // Releases everything the handle holds; succeeds when it holds nothing.
  virtual Status release(const IpamRequest& request) = 0;
  // kNotFound naming the address if one of `ips` is not held by the handle.
  virtual Status check(const IpamRequest& request, const std::vector<IpAddr>& ips) = 0;
};
using IpamDriverPtr = std::unique_ptr<IpamDriver>;

// In-process: brindle::ipam with the pools and families of `conf.ipam`.
IpamDriverPtr makeInProcessIpam(ipam::Ipam& ipam, const IpamConf& conf);

// Runs a plugin binary: `path` (CNI_PATH), the environment to pass, stdin; returns stdout and
// the exit status. Injected so tests can stand in for the child.
struct ExecResult {
  int exitCode = 0;
  std::string out;
};
using PluginExec = std::function<Result<ExecResult>(const std::string& binary,
                                                    const std::map<std::string, std::string>& env,
                                                    const std::string& stdinText)>;
PluginExec realPluginExec();

// Delegating: runs `conf.ipam.type` from CNI_PATH with CNI_COMMAND ADD/DEL/CHECK and the same
// config, as CNI's IPAM delegation does. `env` is the plugin's own environment.
IpamDriverPtr makeDelegatedIpam(const NetConf& conf, const CniEnv& cniEnv,
                                std::map<std::string, std::string> env, PluginExec exec);

// Finds `type` in the ':'-separated CNI_PATH (kNotFound naming the folders searched).
Result<std::string> findPlugin(const std::string& type, const std::string& cniPath);

}  // namespace brindle::cni
