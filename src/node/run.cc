// node run / node stop (see run.h): one function per step, runNode() and stopNode() in order.
#include "node/run.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "ipam/ipam.h"
#include "model/validate.h"
#include "node/autodetect.h"
#include "node/kernel.h"
#include "os/process.h"
#include "os/sysctl.h"
#include "resources/resource_store.h"

namespace brindle::node {
namespace {

using model::Json;
namespace fs = std::filesystem;

// Calico's default pools (calico/node startup as `calicoctl node run` starts it: no
// CALICO_IPV4POOL_IPIP, so ipipMode Never), created only when the store has no pool of that
// family; IPv6 only for a node with an IPv6 address. natOutgoing on both, as S6 asks.
constexpr const char* kDefaultPool6 = "fd80:24e2:f998:72d6::/64";

int fail(std::ostream& err, const std::string& message) {
  err << "Error: " << message << "\n";
  return 1;
}

std::string bgpAddress(const model::Resource* node, const char* field) {
  if (node == nullptr) return "";
  auto bgp = node->spec.find("bgp");
  if (bgp == node->spec.end() || !bgp->is_object()) return "";
  return bgp->value(field, "");
}

// ADDR or ADDR/PREFIX of the family; a bare address takes its prefix from the interface that
// has it (as Calico), else /32 (/128).
Result<std::string> explicitAddress(const std::string& text, int family, const std::string& flag) {
  const size_t slash = text.find('/');
  auto ip = IpAddr::parse(text.substr(0, slash));
  if (!ip || ip->isV4() != (family == 4)) {
    return makeError(ErrorCode::kInvalid, flag + " " + text + ": not an IPv" +
                                              std::to_string(family) +
                                              " address (ADDR/PREFIX, autodetect or none)");
  }
  if (slash != std::string::npos) {
    auto cidr = Cidr::parse(text, false);
    if (!cidr) return makeError(ErrorCode::kInvalid, flag + " " + text + ": " + cidr.message());
    return ip->toString() + "/" + std::to_string(cidr->prefixLength());
  }
  if (auto ifaces = listHostInterfaces()) {
    for (const auto& i : *ifaces) {
      for (const auto& a : i.addresses) {
        if (a.ip == *ip) return a.text();
      }
    }
  }
  return ip->toString() + "/" + std::to_string(ip->bits());
}

// The address the Node gets for one family, with a line saying where it came from.
Result<std::string> resolveAddress(int family, const std::string& value, const std::string& method,
                                   const std::string& existing, std::ostream& out) {
  const std::string v = "IPv" + std::to_string(family);
  const std::string flag = family == 4 ? "--ip" : "--ip6";
  const std::string methodFlag =
      family == 4 ? "--ip-autodetection-method" : "--ip6-autodetection-method";
  if (value == "none") {
    out << v << " address: none (" << flag << " none)\n";
    return std::string();
  }
  const bool autodetect =
      value == "autodetect" || (value.empty() && family == 4 && existing.empty());
  if (!autodetect && value.empty()) {
    if (!existing.empty()) {
      out << "Using " << v << " address " << existing << " of the Node resource\n";
    }
    return existing;
  }
  if (!autodetect) {
    auto addr = explicitAddress(value, family, flag);
    if (addr) out << "Using " << v << " address " << *addr << " (" << flag << ")\n";
    return addr;
  }
  auto parsed = parseAutodetectMethod(method, methodFlag);
  if (!parsed) return parsed.error();
  auto interfaces = listHostInterfaces();
  if (!interfaces) {
    return makeError(interfaces.code(), "listing interfaces: " + interfaces.message());
  }
  auto picked = pickAddress(*parsed, family, *interfaces, kernelSourceAddress);
  if (!picked) {
    return makeError(picked.code(), "cannot autodetect an " + v + " address: " + picked.message() +
                                        "; choose another " + methodFlag + " or give " + flag +
                                        " ADDR/PREFIX");
  }
  out << "Autodetected " << v << " address " << picked->address.text() << " on interface "
      << picked->interface << "\n  why: " << picked->reason << "\n";
  return picked->address.text();
}

// Another node already using one of our addresses (Calico refuses to start then too).
Status checkConflicts(const std::vector<model::Resource>& nodes, const std::string& name,
                      const std::string& v4, const std::string& v6) {
  auto ipOf = [](const std::string& cidr) { return cidr.substr(0, cidr.find('/')); };
  for (const auto& n : nodes) {
    if (n.name() == name) continue;
    for (const auto& [mine, field] : {std::pair{v4, "ipv4Address"}, std::pair{v6, "ipv6Address"}}) {
      const std::string theirs = bgpAddress(&n, field);
      if (!mine.empty() && !theirs.empty() && ipOf(mine) == ipOf(theirs)) {
        return makeError(ErrorCode::kAlreadyExists,
                         "address " + ipOf(mine) + " is already used by node " + n.name());
      }
    }
  }
  return Status::ok();
}

model::Resource defaultPool(int family, const std::string& cidr4) {
  model::Resource pool;
  pool.kind = model::Kind::kIPPool;
  pool.metadata = {{"name", family == 4 ? "default-ipv4-ippool" : "default-ipv6-ippool"}};
  pool.spec = {{"cidr", family == 4 ? cidr4 : kDefaultPool6},
               {"blockSize", family == 4 ? 26 : 122},
               {"ipipMode", "Never"},
               {"vxlanMode", "Never"},
               {"natOutgoing", true},
               {"nodeSelector", "all()"}};
  return pool;
}

bool usesIpip(const model::Resource& pool) {
  const std::string mode = pool.spec.value("ipipMode", "Never");
  return pool.spec.value("cidr", "").find(':') == std::string::npos && !mode.empty() &&
         mode != "Never";
}

// Loads what it can; a missing module is a warning, or an error when the node cannot work
// without it (ipip only when a pool uses IPIP).
// `ipipPools`: the pools (existing or about to be created) that use IPIP.
Status checkKernel(const std::string& ipipPools, std::ostream& out) {
  const bool ipipNeeded = !ipipPools.empty();
  os::ProcessRunner runner;
  const KernelFacts facts = readKernelFacts(runner);
  std::vector<std::string> failures;
  int missing = 0;
  for (const auto& c : checkModules(runner, facts, true)) {
    if (c.state != ModuleState::kMissing) continue;
    ++missing;
    const bool failure = isFailure(c, ipipNeeded);
    out << (failure ? "Error" : "Warning") << ": kernel module " << c.module->name
        << " is missing (" << c.module->why << ")" << (c.note.empty() ? "" : ": " + c.note)
        << (c.module->ipipOnly && failure ? "; pools using IPIP: " + ipipPools +
                                                " (use ipipMode Never, or --no-default-ippools)"
                                          : "")
        << "\n";
    if (failure) failures.push_back(c.module->name);
  }
  if (missing == 0) out << "Kernel modules: all present (kernel " << facts.release << ")\n";
  if (failures.empty()) return Status::ok();
  std::string names;
  for (const auto& f : failures) names += (names.empty() ? "" : ", ") + f;
  return makeError(ErrorCode::kUnavailable, "missing kernel modules: " + names);
}

// Forwarding on (an error when refused), the conntrack table raised where this namespace may.
Status setSysctls(bool ipv6, std::ostream& out) {
  os::ProcSysctlWriter writer;
  std::vector<os::SysctlSetting> forwarding = {{"net/ipv4/ip_forward", "1", false}};
  if (ipv6) forwarding.push_back({"net/ipv6/conf/all/forwarding", "1", false});
  if (Status s = writer.write(forwarding); !s) return s;
  out << "Forwarding enabled (net.ipv4.ip_forward" << (ipv6 ? ", net.ipv6.conf.all.forwarding" : "")
      << ")\n";
  // kube-proxy's rule: 32768 entries a CPU, at least 131072; only ever raised.
  const char* key = "net/netfilter/nf_conntrack_max";
  const std::string text = os::readSysctl(key);
  if (text.empty()) {
    out << "nf_conntrack_max: not there (no connection tracking in this kernel yet)\n";
    return Status::ok();
  }
  const long current = std::atol(text.c_str());
  const long wanted =
      std::max<long>(131072, 32768L * std::max(1u, std::thread::hardware_concurrency()));
  if (current >= wanted) {
    out << "nf_conntrack_max is " << current << " (enough)\n";
  } else if (::access(("/proc/sys/" + std::string(key)).c_str(), W_OK) != 0 ||
             !writer.write({{key, std::to_string(wanted), false}})) {
    out << "nf_conntrack_max stays " << current
        << ": read-only here (a network namespace other than the host's uses the host's "
           "limit)\n";
  } else {
    out << "nf_conntrack_max raised from " << current << " to " << wanted << "\n";
  }
  return Status::ok();
}

// The Node as it should be: addresses and AS set, every other field kept.
model::Resource desiredNode(const std::optional<model::Resource>& existing, const std::string& name,
                            const std::string& v4, const std::string& v6,
                            const std::string& asNumber) {
  model::Resource node;
  if (existing) {
    node = *existing;
  } else {
    node.kind = model::Kind::kNode;
    node.metadata = {{"name", name}};
  }
  Json bgp =
      node.spec.contains("bgp") && node.spec["bgp"].is_object() ? node.spec["bgp"] : Json::object();
  auto set = [&bgp](const char* field, const std::string& value) {
    if (value.empty()) {
      bgp.erase(field);
    } else {
      bgp[field] = value;
    }
  };
  set("ipv4Address", v4);
  set("ipv6Address", v6);
  if (!asNumber.empty()) {
    const bool digits = asNumber.find_first_not_of("0123456789") == std::string::npos;
    bgp["asNumber"] = digits ? Json(std::stoull(asNumber)) : Json(asNumber);
  }
  if (bgp.empty()) {
    node.spec.erase("bgp");
  } else {
    node.spec["bgp"] = bgp;
  }
  return node;
}

// The environment it inherits, plus what names the node and its run directory (BIRD's files),
// plus `extra`.
std::vector<std::string> agentEnv(const AgentSetup& agent, const NodePaths& paths,
                                  const std::map<std::string, std::string>& extra = {}) {
  auto env = agent.env;
  env["NODENAME"] = paths.node;
  env["FELIX_BGPRUNDIR"] = paths.runDir;
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::vector<std::string> agentArgv(const AgentSetup& agent, const std::string& node,
                                   const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {agentBinary(agent.binary), "--nodename", node};
  if (!agent.datastoreConfig.empty()) {
    argv.insert(argv.end(), {"--datastore-config", agent.datastoreConfig});
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// BIRD of the node, told to stop for a graceful restart: its peers keep its routes for the
// restart time and the kernel keeps the routes BIRD put there (`persist`).
void stopBird(const NodePaths& paths, std::ostream& out) {
  os::ProcessRunner runner;
  for (const std::string bird : {"bird", "bird6"}) {
    const std::string pidFile = paths.dir() + "/" + bird + ".pid";
    const pid_t pid = livePid(pidFile, {"-P", pidFile});
    if (pid == 0) continue;
    (void)runner.run(
        os::Command({"birdc", "-s", paths.dir() + "/" + bird + ".ctl", "graceful", "restart"}));
    for (int i = 0; i < 250 && processAlive(pid); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (processAlive(pid)) ::kill(pid, SIGKILL);  // closes its sessions without a notification
    out << "Stopped " << bird << " (pid " << pid << "); its routes stay in the kernel\n";
  }
}

// The agent started, then ready or not within the timeout; on failure stops what it started.
int startAgent(const RunOptions& o, std::ostream& out, std::ostream& err) {
  Launch launch{
      agentArgv(o.agent, o.paths.node),
      agentEnv(o.agent, o.paths,
               {{"CALICO_NETWORKING_BACKEND", o.backend}, {"FELIX_HEALTHENABLED", "true"}}),
      o.paths.logFile()};
  if (o.initSystem) {
    if (Status s = writePidFile(o.paths.pidFile(), ::getpid()); !s) return fail(err, s.message());
    out << "Running the agent in the foreground (pid " << ::getpid() << ")\n";
    out.flush();
    err.flush();
    std::cout.flush();
    Status s = execForeground(launch);
    std::error_code ec;
    fs::remove(o.paths.pidFile(), ec);
    return fail(err, s.message());
  }
  auto pid = startDetached(launch);
  if (!pid) return fail(err, pid.message());
  if (Status s = writePidFile(o.paths.pidFile(), *pid); !s) {
    stopProcess(*pid, std::chrono::seconds(5));
    return fail(err, s.message());
  }
  out << "Started the agent (pid " << *pid << ", log " << o.paths.logFile() << ")\n";
  const auto [host, port] = healthEndpoint(o.agent.env);
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  Readiness last;
  std::string why;
  while (true) {
    if (!processAlive(*pid)) {
      why = "the agent exited before it was ready";
      break;
    }
    last = probeReadiness(host, port);
    if (last.ready) {
      out << "Brindle node started successfully\n";
      return 0;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      why = "the agent was not ready after " + std::to_string(o.timeout.count()) + "s (" +
            (last.reachable
                 ? "not ready: " + last.reason
                 : "no answer on http://" + host + ":" + std::to_string(port) + "/readiness") +
            ")";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  stopProcess(*pid, std::chrono::seconds(5));
  stopBird(o.paths, out);
  std::error_code ec;
  fs::remove(o.paths.pidFile(), ec);
  err << "Error: " << why << "; nothing of it left running. Last lines of " << o.paths.logFile()
      << ":\n"
      << fileTail(o.paths.logFile(), 20);
  return 1;
}

// Runs `brindle-agent <flags> <mode>` to completion, its output to `out`.
Status runAgentMode(const AgentSetup& agent, const NodePaths& paths, const std::string& mode,
                    std::ostream& out) {
  os::Command cmd(agentArgv(agent, paths.node, {mode}));
  cmd.env = agentEnv(agent, paths);
  cmd.timeout = std::chrono::seconds(60);
  auto res = os::ProcessRunner().run(cmd);
  if (!res) return res.error();
  out << res->out << res->err;
  if (res->exitCode != 0) {
    return makeError(ErrorCode::kInternal,
                     "brindle-agent " + mode + " exited with " + std::to_string(res->exitCode));
  }
  return Status::ok();
}

}  // namespace

std::string agentBinary(const std::string& given) {
  if (!given.empty()) return given;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const fs::path& p :
         {self.parent_path() / "brindle-agent",
          self.parent_path().parent_path() / "brindle-agent" / "brindle-agent"}) {
      if (fs::exists(p, ec)) return p.string();
    }
  }
  return "brindle-agent";
}

std::pair<std::string, int> healthEndpoint(const std::map<std::string, std::string>& env) {
  std::string host = "127.0.0.1";
  int port = 9099;
  if (auto it = env.find("FELIX_HEALTHHOST");
      it != env.end() && !it->second.empty() && it->second != "0.0.0.0" && it->second != "::") {
    host = it->second;
  }
  if (auto it = env.find("FELIX_HEALTHPORT"); it != env.end()) {
    if (int p = std::atoi(it->second.c_str()); p > 0) port = p;
  }
  return {host, port};
}

int runNode(const RunOptions& o, const DatastoreOpener& datastore, std::ostream& out,
            std::ostream& err) {
  const std::string& name = o.paths.node;
  if (const pid_t pid = livePid(o.paths.pidFile(), {"--nodename", o.paths.node})) {
    out << "Brindle node " << name << " is already running (pid " << pid << ")\n";
    return 0;
  }
  if (o.backend != "bird" && o.backend != "none") {
    return fail(err, "--backend " + o.backend + ": must be bird or none");
  }
  auto client = datastore();
  if (!client) return fail(err, "datastore: " + client.message());
  resources::ResourceStore store(**client);
  auto nodes = store.list(model::Kind::kNode);
  if (!nodes) return fail(err, "reading nodes: " + nodes.message());
  std::optional<model::Resource> existing;
  for (const auto& n : *nodes) {
    if (n.name() == name) existing = n;
  }
  const model::Resource* current = existing ? &*existing : nullptr;
  auto v4 = resolveAddress(4, o.ip, o.ipMethod, bgpAddress(current, "ipv4Address"), out);
  if (!v4) return fail(err, v4.message());
  auto v6 = resolveAddress(6, o.ip6, o.ip6Method, bgpAddress(current, "ipv6Address"), out);
  if (!v6) return fail(err, v6.message());
  if (o.backend == "bird" && v4->empty() && v6->empty()) {
    return fail(err, "the bird backend needs an address: give --ip or --ip6");
  }
  if (Status s = checkConflicts(*nodes, name, *v4, *v6); !s) return fail(err, s.message());

  auto pools = store.list(model::Kind::kIPPool);
  if (!pools) return fail(err, "reading pools: " + pools.message());
  std::vector<model::Resource> newPools;
  if (!o.noDefaultPools) {
    bool have4 = false, have6 = false;
    for (const auto& p : *pools) {
      (p.spec.value("cidr", "").find(':') == std::string::npos ? have4 : have6) = true;
    }
    if (!have4) {
      auto host = listHostInterfaces();
      if (!host) return fail(err, "listing the host's addresses: " + host.message());
      newPools.push_back(defaultPool(4, defaultIpv4PoolCidr(*host)));
    }
    if (!have6 && !v6->empty()) newPools.push_back(defaultPool(6, ""));
  }
  std::string ipipPools;
  for (const auto* list : {&*pools, &newPools}) {
    for (const auto& p : *list) {
      if (usesIpip(p)) ipipPools += (ipipPools.empty() ? "" : ", ") + p.name();
    }
  }
  if (Status s = checkKernel(ipipPools, out); !s) return fail(err, s.message());
  if (Status s = setSysctls(!v6->empty(), out); !s) return fail(err, s.message());

  model::Resource node = desiredNode(existing, name, *v4, *v6, o.asNumber);
  if (Status s = model::validateResource(node); !s) {
    return fail(err, "Node " + name + ": " + s.message());
  }
  if (!existing || node.spec != existing->spec) {
    auto written = store.write(
        existing ? resources::WriteMode::kReplace : resources::WriteMode::kCreate, {node});
    if (!written) return fail(err, "writing Node " + name + ": " + written.message());
    out << (existing ? "Updated" : "Created") << " Node " << name << "\n";
  } else {
    out << "Node " << name << " is up to date\n";
  }
  for (auto& pool : newPools) {
    if (Status s = model::validateResource(pool); !s) return fail(err, s.message());
    auto written = store.write(resources::WriteMode::kCreate, {pool}, {true, false});
    if (!written) return fail(err, "creating IPPool " + pool.name() + ": " + written.message());
    out << "Created default IPPool " << pool.name() << " (" << pool.spec["cidr"].get<std::string>()
        << ", natOutgoing)\n";
  }
  return startAgent(o, out, err);
}

int stopNode(const StopOptions& o, const DatastoreOpener& datastore, std::ostream& out,
             std::ostream& err) {
  const std::string& name = o.paths.node;
  if (const pid_t pid = livePid(o.paths.pidFile(), {"--nodename", o.paths.node})) {
    if (!stopProcess(pid, o.grace)) {
      return fail(err, "agent pid " + std::to_string(pid) + " did not exit");
    }
    out << "Stopped the agent (pid " << pid << ")\n";
  } else {
    out << "Brindle node " << name << " has no running agent\n";
  }
  std::error_code ec;
  fs::remove(o.paths.pidFile(), ec);
  if (!o.remove) {
    stopBird(o.paths, out);
    out << "Brindle node " << name << " stopped; its rules and routes stay in place\n";
    return 0;
  }
  // BIRD told to go down (peers withdraw), its routes flushed, tunl0's address removed; then
  // everything else the agent programmed.
  if (Status s = runAgentMode(o.agent, o.paths, "--bgp-teardown", out); !s) {
    return fail(err, s.message());
  }
  if (Status s = runAgentMode(o.agent, o.paths, "--cleanup", out); !s) {
    return fail(err, s.message());
  }
  auto client = datastore();
  if (!client) return fail(err, "datastore: " + client.message());
  resources::ResourceStore store(**client);
  auto node = store.get(model::Kind::kNode, "", name);
  if (node) {
    auto deleted = store.write(resources::WriteMode::kDelete, {*node}, {false, true});
    if (!deleted) return fail(err, "deleting Node " + name + ": " + deleted.message());
    out << "Deleted Node " << name << "\n";
  } else if (node.code() != ErrorCode::kNotFound) {
    return fail(err, "reading Node " + name + ": " + node.message());
  }
  auto released = ipam::makeIpam(**client)->releaseHostAffinities(name);
  if (!released) return fail(err, "releasing block affinities: " + released.message());
  if (!released->empty()) out << "Released " << released->size() << " IPAM block affinities\n";
  fs::remove_all(o.paths.dir(), ec);
  out << "Brindle node " << name << " removed\n";
  return 0;
}

}  // namespace brindle::node
