// In-process and delegated IPAM for the CNI plugin.
#include "cni/ipam_driver.h"

#include <unistd.h>

#include <cstdio>

#include "os/process.h"

namespace brindle::cni {
namespace {

class InProcessIpam : public IpamDriver {
 public:
  InProcessIpam(ipam::Ipam& ipam, const IpamConf& conf) : ipam_(ipam), conf_(conf) {}

  Result<std::vector<IpConfig>> assign(const IpamRequest& request) override {
    ipam::AssignArgs args;
    args.handle = request.handle;
    args.node = request.node;
    args.num4 = conf_.assignIpv4 ? 1 : 0;
    args.num6 = conf_.assignIpv6 ? 1 : 0;
    args.attributes = request.attributes;
    args.ipv4Pools = conf_.ipv4Pools;
    args.ipv6Pools = conf_.ipv6Pools;
    BRINDLE_ASSIGN_OR_RETURN(auto r, ipam_.autoAssign(args));
    std::vector<IpConfig> out;
    for (const auto* list : {&r.ipv4, &r.ipv6}) {
      for (const auto& c : *list) out.push_back(IpConfig{c.address(), c.address().bits(), {}, -1});
    }
    if (out.size() != static_cast<size_t>(args.num4 + args.num6)) {
      // The IPAM gave fewer than asked: hand back what it gave so nothing leaks.
      (void)ipam_.releaseByHandle(request.handle);
      return makeError(ErrorCode::kUnavailable, "IPAM returned fewer addresses than requested");
    }
    return out;
  }

  Status release(const IpamRequest& request) override {
    return ipam_.releaseByHandle(request.handle).status();
  }

  Status check(const IpamRequest& request, const std::vector<IpAddr>& ips) override {
    for (const auto& ip : ips) {
      auto a = ipam_.getAllocation(ip);
      if (!a) return makeError(a.code(), ip.toString() + " is not allocated: " + a.message());
      if (a->handle != request.handle) {
        return makeError(ErrorCode::kNotFound, ip.toString() + " is allocated to handle " +
                                                   a->handle + ", not " + request.handle);
      }
    }
    return Status::ok();
  }

 private:
  ipam::Ipam& ipam_;
  IpamConf conf_;
};

class DelegatedIpam : public IpamDriver {
 public:
  DelegatedIpam(const NetConf& conf, const CniEnv& cniEnv, std::map<std::string, std::string> env,
                PluginExec exec)
      : conf_(conf), cniEnv_(cniEnv), env_(std::move(env)), exec_(std::move(exec)) {}

  Result<std::vector<IpConfig>> assign(const IpamRequest&) override {
    BRINDLE_ASSIGN_OR_RETURN(auto out, run("ADD", conf_.raw));
    BRINDLE_ASSIGN_OR_RETURN(auto res, resultFromJson(out));
    if (res.ips.empty()) {
      (void)run("DEL", conf_.raw);
      return makeError(ErrorCode::kUnavailable,
                       "IPAM plugin " + conf_.ipam.type + " returned no addresses");
    }
    for (auto& ip : res.ips) ip.interfaceIndex = -1;
    return res.ips;
  }

  Status release(const IpamRequest&) override { return run("DEL", conf_.raw).status(); }

  Status check(const IpamRequest&, const std::vector<IpAddr>&) override {
    // CHECK hands the plugin the same prevResult we got.
    if (conf_.cniVersion.rfind("0.3", 0) == 0) return Status::ok();  // no CHECK before 0.4.0
    return run("CHECK", conf_.raw).status();
  }

 private:
  Result<Json> run(const std::string& command, const Json& config) {
    BRINDLE_ASSIGN_OR_RETURN(auto bin, findPlugin(conf_.ipam.type, cniEnv_.path));
    auto env = env_;
    env["CNI_COMMAND"] = command;
    BRINDLE_ASSIGN_OR_RETURN(auto r, exec_(bin, env, config.dump()));
    Json j;
    if (!r.out.empty()) {
      try {
        j = Json::parse(r.out);
      } catch (const Json::exception&) {
        return makeError(ErrorCode::kInternal,
                         "IPAM plugin " + conf_.ipam.type + " " + command +
                             " printed something that is not JSON: " + r.out.substr(0, 200));
      }
    }
    if (r.exitCode != 0) {
      std::string msg = j.is_object() ? j.value("msg", "") : "";
      std::string details = j.is_object() ? j.value("details", "") : "";
      return makeError(ErrorCode::kUnavailable, "IPAM plugin " + conf_.ipam.type + " " + command +
                                                    " failed (exit " + std::to_string(r.exitCode) +
                                                    "): " + msg +
                                                    (details.empty() ? "" : " (" + details + ")"));
    }
    return j;
  }

  NetConf conf_;
  CniEnv cniEnv_;
  std::map<std::string, std::string> env_;
  PluginExec exec_;
};

}  // namespace

IpamDriverPtr makeInProcessIpam(ipam::Ipam& ipam, const IpamConf& conf) {
  return std::make_unique<InProcessIpam>(ipam, conf);
}

IpamDriverPtr makeDelegatedIpam(const NetConf& conf, const CniEnv& cniEnv,
                                std::map<std::string, std::string> env, PluginExec exec) {
  return std::make_unique<DelegatedIpam>(conf, cniEnv, std::move(env), std::move(exec));
}

Result<std::string> findPlugin(const std::string& type, const std::string& cniPath) {
  if (type.find('/') != std::string::npos) {
    return makeError(ErrorCode::kInvalid, "plugin type " + type + " must be a bare name");
  }
  size_t pos = 0;
  while (pos <= cniPath.size()) {
    size_t end = cniPath.find(':', pos);
    if (end == std::string::npos) end = cniPath.size();
    std::string dir = cniPath.substr(pos, end - pos);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + type;
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    pos = end + 1;
  }
  return makeError(ErrorCode::kNotFound, "plugin " + type + " not found in CNI_PATH=" + cniPath);
}

PluginExec realPluginExec() {
  return [](const std::string& binary, const std::map<std::string, std::string>& env,
            const std::string& stdinText) -> Result<ExecResult> {
    os::Command command({binary}, stdinText);
    for (const auto& [key, value] : env) command.env.push_back(key + "=" + value);
    BRINDLE_ASSIGN_OR_RETURN(auto out, os::ProcessRunner().run(command));
    std::fputs(out.err.c_str(), stderr);  // the plugin's own diagnostics go where ours go
    return ExecResult{out.exitCode, out.out};
  };
}

}  // namespace brindle::cni
