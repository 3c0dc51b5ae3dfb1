// ADD, DEL and CHECK of the brindle-cni network plugin over its three collaborators (kernel,
// IPAM, endpoint store). A failed ADD undoes its finished steps in reverse order, so it leaves
// no allocation, veth or endpoint behind; DEL tolerates every piece being already gone.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cni/dataplane.h"
#include "cni/endpoint_store.h"
#include "cni/ipam_driver.h"
#include "cni/naming.h"
#include "cni/protocol.h"

namespace brindle::cni {

struct PluginDeps {
  Dataplane& dataplane;
  IpamDriver& ipam;
  EndpointStore& endpoints;
  // Called at named points of ADD ("after-ipam", "after-veth", "after-dataplane"); tests use it
  // to pause or kill the plugin mid-way.
  std::function<void(const std::string& point)> hook;
};

// Steps to undo, run newest first. Each step's failure is collected, not fatal: undo goes on.
class Undo {
 public:
  void push(std::string what, std::function<Status()> step);
  // Runs every step in reverse; returns "what: message" for each that failed.
  std::vector<std::string> run();
  void clear() { steps_.clear(); }

 private:
  std::vector<std::pair<std::string, std::function<Status()>>> steps_;
};

class Plugin {
 public:
  explicit Plugin(PluginDeps deps) : deps_(std::move(deps)) {}

  // On success fills `result`; on failure returns the CNI error and has undone everything.
  std::optional<CniError> add(const NetConf& conf, const CniEnv& env, const std::string& node,
                              CniResult* result);
  std::optional<CniError> del(const NetConf& conf, const CniEnv& env, const std::string& node);
  std::optional<CniError> check(const NetConf& conf, const CniEnv& env, const std::string& node);

  // The WorkloadEndpoint ADD writes (defaults applied, validated by the caller).
  static model::Resource buildEndpoint(const NetConf& conf, const CniEnv& env,
                                       const WorkloadIds& ids, const std::string& hostIf,
                                       const std::string& mac, const std::vector<IpConfig>& ips);

 private:
  IpamRequest ipamRequest(const NetConf& conf, const WorkloadIds& ids) const;
  void hook(const std::string& point) {
    if (deps_.hook) deps_.hook(point);
  }
  PluginDeps deps_;
};

}  // namespace brindle::cni
