#include "bgp/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "bgp/inputs.h"
#include "bgp/render.h"

namespace brindle::bgp {
namespace {

using Clock = std::chrono::steady_clock;

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool writeText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return static_cast<bool>(out.flush());
}

std::string firstLines(const std::string& text) {
  std::string out = text.substr(0, 400);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// A `protocol bgp` block without its channel filters, white space folded. BIRD applies a changed
// import or export filter on `configure` by re-exporting and asking the peer for a route refresh,
// with the session kept (docs/bgp.md), so a BGPFilter added to or removed from a peer needs no
// hold.
std::string withoutChannelFilters(const std::string& block) {
  static const std::regex filter(R"((import|export) filter (\{[^}]*\}|[A-Za-z_0-9]+);)");
  static const std::regex emptyChannel(R"(ipv[46]\s*\{\s*\};)");
  static const std::regex space(R"(\s+)");
  std::string text = std::regex_replace(block, filter, "");
  text = std::regex_replace(text, emptyChannel, "");
  return std::regex_replace(text, space, " ");
}

// The parts of a configuration whose change makes BIRD reset BGP sessions: the router id, the
// BGP template and each `protocol bgp` block, keyed by their first words.
std::map<std::string, std::string> sessionParts(const std::string& text) {
  std::map<std::string, std::string> parts;
  std::istringstream lines(text);
  std::string key;
  for (std::string line; std::getline(lines, line);) {
    if (!key.empty()) {
      parts[key] += line + "\n";
      if (line == "}") key.clear();
    } else if (line.rfind("router id ", 0) == 0) {
      parts["router id"] = line;
    } else if (line.rfind("protocol bgp ", 0) == 0 || line.rfind("template bgp ", 0) == 0) {
      key = line.substr(0, line.find(' ', 13));
      parts[key] = line + "\n";
    }
  }
  for (auto& [key, block] : parts) block = withoutChannelFilters(block);
  return parts;
}

}  // namespace

bool resetsSessions(const std::string& from, const std::string& to) {
  if (from == to) return false;  // the common step: nothing changed, no parsing
  const auto before = sessionParts(from);
  const auto after = sessionParts(to);
  for (const auto& [key, text] : before) {
    const auto it = after.find(key);
    if (it == after.end() || it->second != text) return true;
  }
  return false;
}

Supervisor::Supervisor(datastore::Client& client, SupervisorOptions options)
    : client_(client),
      options_(std::move(options)),
      dir_(options_.runDir + "/" + options_.node),
      ipip_(client, IpipOptions{options_.node, options_.netns, options_.ipipMtu}) {
  for (int family : {4, 6}) {
    Instance inst;
    inst.family = family;
    adopt(inst);
    instances_.push_back(inst);
  }
}

std::string Supervisor::path(int family, const std::string& suffix) const {
  return dir_ + (family == 4 ? "/bird" : "/bird6") + suffix;
}

os::CommandOutput Supervisor::run(const std::vector<std::string>& argv, bool inNetns) {
  os::ProcessRunner runner(inNetns ? options_.netns : "");
  auto out = runner.run(os::Command(argv));
  if (!out) return os::CommandOutput{127, "", out.message()};
  return *out;
}

// A BIRD left running by an earlier supervisor (the agent restarted) is taken over as it is.
void Supervisor::adopt(Instance& inst) {
  const std::string pidText = readText(path(inst.family, ".pid"));
  if (pidText.empty()) return;
  const pid_t pid = static_cast<pid_t>(std::atoi(pidText.c_str()));
  if (pid <= 0 || ::kill(pid, 0) != 0) return;
  const std::string comm = readText("/proc/" + std::to_string(pid) + "/comm");
  if (comm.rfind("bird", 0) != 0) return;
  inst.pid = pid;
  inst.child = false;
  inst.runningText = readText(path(inst.family, ".conf"));
  inst.startedAt = Clock::now();
  // The earlier supervisor stopped in the middle of a switch: carry on from its last step.
  if (const auto at = inst.runningText.find(kHoldStart); at != std::string::npos) {
    inst.phase = Instance::Phase::kSwitch;
    inst.base = inst.runningText.substr(0, at);
    inst.hold = inst.runningText.substr(at);
    inst.phaseSince = inst.startedAt;
  }
}

bool Supervisor::alive(Instance& inst) {
  if (inst.pid <= 0) return false;
  if (inst.child) {
    if (::waitpid(inst.pid, nullptr, WNOHANG) == 0) return true;
  } else if (::kill(inst.pid, 0) == 0) {
    return true;
  }
  inst.pid = -1;
  return false;
}

bool Supervisor::start(Instance& inst, std::vector<std::string>& problems) {
  const std::string conf = path(inst.family, ".conf");
  const std::string ctl = path(inst.family, ".ctl");
  std::vector<std::string> argv;
  if (!options_.netns.empty()) argv = {"ip", "netns", "exec", options_.netns};
  for (const char* a : {"bird", "-f", "-c"}) argv.push_back(a);
  argv.insert(argv.end(), {conf, "-s", ctl, "-P", path(inst.family, ".pid")});
  // A BIRD that died left its routes in the kernel (`persist`). Started with -R it recovers
  // gracefully: the kernel protocol (`graceful restart`) syncs only once the BGP sessions have
  // converged (End-of-RIB from each peer, or BIRD's `graceful restart wait`, 240 s) instead of
  // pruning every learned route at once and adding it back as the sessions return, and its
  // peers see the restart flag. Calico starts BIRD with -R always; a node with no route of
  // BIRD's yet starts without it, so its first routes are not held back behind a peer that is
  // down.
  const auto persisted = kernelBirdRoutes(inst.family);
  if (persisted.exitCode == 0 && !persisted.out.empty()) argv.push_back("-R");
  const std::string log = path(inst.family, ".log");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();  // BIRD outlives the agent, and the agent's signals are not BIRD's
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  if (pid < 0) {
    problems.push_back("cannot start BIRD: fork failed");
    return false;
  }
  inst.pid = pid;
  inst.child = true;
  inst.startedAt = Clock::now();
  // Wait until its control socket answers, so a `configure` right after reaches it.
  for (int i = 0; i < 100 && alive(inst); ++i) {
    if (run({"birdc", "-s", ctl, "show", "status"}).exitCode == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  problems.push_back("BIRD (IPv" + std::to_string(inst.family) + ") did not come up; see " + log);
  return false;
}

// `ip -o route show proto bird` as BIRD static routes, blackholes left out (they are our own
// blocks, which BIRD keeps anyway): "10.66.0.0/26 via 10.88.0.4 dev eth0 ..." is
// "10.66.0.0/26 via 10.88.0.4%eth0", each next hop of an ECMP route the same way.
os::CommandOutput Supervisor::kernelBirdRoutes(int family) {
  return run({"ip", "-o", family == 4 ? "-4" : "-6", "route", "show", "proto", "bird"}, true);
}

std::string Supervisor::holdKernelRoutes(int family) {
  auto out = kernelBirdRoutes(family);
  if (out.exitCode != 0) return "";
  std::vector<std::string> routes;
  std::istringstream lines(out.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string net, word, gateway, route;
    words >> net;
    while (words >> word) {
      if (word == "via") {
        words >> gateway;
      } else if (word == "dev" && !gateway.empty()) {
        words >> word;
        route += " via " + gateway + "%" + word;
        gateway.clear();
      } else if (word == "onlink" && !route.empty()) {
        route += " onlink";
      }
    }
    if (!route.empty()) routes.push_back(net + route);
  }
  return routes.empty() ? "" : renderHold(family, routes);
}

// The hold may go: every session of the new configuration is Established, and no held route is
// in use (BIRD's primary route of every held prefix comes from BGP again).
bool Supervisor::released(const Instance& inst, const std::string& target) {
  const std::string ctl = path(inst.family, ".ctl");
  const auto protocols = run({"birdc", "-s", ctl, "show", "protocols"});
  if (protocols.exitCode != 0) return false;
  for (const auto& part : sessionParts(target)) {
    if (part.first.rfind("protocol bgp ", 0) != 0) continue;
    const std::string name = part.first.substr(13);
    std::istringstream lines(protocols.out);
    bool established = false;
    for (std::string line; std::getline(lines, line) && !established;) {
      established = line.rfind(name + " ", 0) == 0 && line.find("Established") != std::string::npos;
    }
    if (!established) return false;
  }
  const auto held =
      run({"birdc", "-s", ctl, "show", "route", "primary", "protocol", "brindle_hold"});
  return held.exitCode == 0 && held.out.find("[brindle_hold") == std::string::npos;
}

std::string Supervisor::nextText(Instance& inst, const std::string& target) {
  using Phase = Instance::Phase;
  const auto now = Clock::now();
  if (inst.phase == Phase::kSwitch && target != inst.base) {
    if (resetsSessions(inst.base, target)) {
      // Sessions change again before the last change settled: hold what the kernel has now
      // (held routes included) and start over.
      if (std::string hold = holdKernelRoutes(inst.family); !hold.empty()) inst.hold = hold;
      inst.phase = Phase::kHold;
      inst.phaseSince = now;
      return inst.base + inst.hold;
    }
    inst.base = target;
  }
  switch (inst.phase) {
    case Phase::kNone:
      if (!resetsSessions(inst.runningText, target)) return target;
      inst.hold = holdKernelRoutes(inst.family);
      if (inst.hold.empty()) return target;  // no route to lose
      inst.base = inst.runningText;
      inst.phase = Phase::kHold;
      inst.phaseSince = now;
      return inst.base + inst.hold;
    case Phase::kHold:
      if (now - inst.phaseSince < options_.holdSettle) return inst.base + inst.hold;
      inst.base = target;
      inst.phase = Phase::kSwitch;
      inst.phaseSince = now;
      return target + inst.hold;
    case Phase::kSwitch:
      if (now - inst.phaseSince < options_.holdLimit && !released(inst, target)) {
        return target + inst.hold;
      }
      break;
  }
  inst.phase = Phase::kNone;
  inst.base.clear();
  inst.hold.clear();
  return target;
}

void Supervisor::stepFamily(Instance& inst, const Inputs& inputs,
                            std::vector<std::string>& problems) {
  const std::string fam = "IPv" + std::to_string(inst.family);
  auto config = computeNodeConfig(inputs, options_.node, inst.family);
  // No Node resource (a policy-only node): nothing to announce, as a node without an address.
  if (!config && config.code() == ErrorCode::kNotFound) return;
  if (!config) {
    problems.push_back(fam + " BGP configuration: " + config.message());
    return;
  }
  const bool wanted = config->address.has_value();
  const bool running = alive(inst);
  if (!wanted && !running) return;  // no address in this family: no BIRD for it
  if (!running) inst.phase = Instance::Phase::kNone;
  const std::string text = running ? nextText(inst, renderBird(*config)) : renderBird(*config);

  if (text != inst.runningText) {
    const std::string candidate = path(inst.family, ".conf.new");
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);  // only once a node needs BIRD
    if (!writeText(candidate, text)) {
      problems.push_back(fam + ": cannot write " + candidate);
      return;
    }
    auto check = run({"bird", "-p", "-c", candidate});
    if (check.exitCode != 0) {
      std::lock_guard lock(mu_);
      ++counters_.rejected;
      problems.push_back(fam + ": BIRD rejects the new configuration, the previous one stays: " +
                         firstLines(check.out + check.err));
      return;
    }
    std::filesystem::rename(candidate, path(inst.family, ".conf"));
    if (running) {
      auto out = run({"birdc", "-s", path(inst.family, ".ctl"), "configure"});
      if (out.exitCode != 0 || out.out.find("Reconfigur") == std::string::npos) {
        problems.push_back(fam + ": birdc configure failed: " + firstLines(out.out + out.err));
        return;
      }
      std::lock_guard lock(mu_);
      ++counters_.reconfigures;
    }
    inst.runningText = text;
  }
  if (alive(inst)) {
    if (Clock::now() - inst.startedAt > options_.restartBackoffMax) inst.backoff = {};
    return;
  }
  // Not running: start it, or after a crash wait out the back-off first.
  if (Clock::now() < inst.nextStart) {
    problems.push_back(fam + ": BIRD is not running; restarting with back-off");
    return;
  }
  const bool restart = inst.backoff.count() > 0 || inst.startedAt != Clock::time_point{};
  inst.backoff = inst.backoff.count() == 0 ? options_.restartBackoffInitial
                                           : std::min(inst.backoff * 2, options_.restartBackoffMax);
  inst.nextStart = Clock::now() + inst.backoff;
  if (restart) {
    std::lock_guard lock(mu_);
    ++counters_.restarts;
  }
  start(inst, problems);
}

void Supervisor::step() {
  // A datastore outage keeps BIRD as it is; the agent's datastore watchdog reports the outage.
  if (tornDown_) return;
  auto inputs = readInputs(client_, options_.secretsDir);
  if (!inputs) return;
  std::vector<std::string> problems;
  for (auto& inst : instances_) stepFamily(inst, *inputs, problems);
  ipip_.step(*inputs, problems);  // after BIRD took the text that leaves these routes to us
  std::string joined;
  for (const auto& p : problems) joined += (joined.empty() ? "" : "; ") + p;
  std::lock_guard lock(mu_);
  problem_ = joined;
}

std::string Supervisor::problem() const {
  std::lock_guard lock(mu_);
  return problem_;
}

SupervisorCounters Supervisor::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

void Supervisor::teardown() {
  tornDown_ = true;
  ipip_.withdraw();
  for (auto& inst : instances_) {
    if (alive(inst)) {
      run({"birdc", "-s", path(inst.family, ".ctl"), "down"});
      for (int i = 0; i < 100 && alive(inst); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (alive(inst)) {
        ::kill(inst.pid, SIGKILL);
        if (inst.child) ::waitpid(inst.pid, nullptr, 0);
        inst.pid = -1;
      }
    }
    // `persist` kept BIRD's routes in the kernel; with BIRD gone they are stale.
    auto flushed =
        run({"ip", inst.family == 4 ? "-4" : "-6", "route", "flush", "proto", "bird"}, true);
    if (flushed.exitCode != 0) {
      std::lock_guard lock(mu_);
      problem_ = "cannot flush BIRD's routes: " + firstLines(flushed.out + flushed.err);
    }
    inst.runningText.clear();
    std::error_code ec;
    std::filesystem::remove(path(inst.family, ".pid"), ec);
  }
}

void runSupervisor(Supervisor& supervisor, datastore::Client& client,
                   std::chrono::milliseconds interval, const std::atomic<bool>& stop,
                   const std::function<void()>& afterStep) {
  constexpr auto kSlice = std::chrono::milliseconds(50);  // how soon `stop` is seen
  // A step reads the whole BGP input (every IPAM block); under continuous workload churn this
  // bounds its cost to 10 reads a second, and a new block waits at most this much more.
  constexpr auto kMinGap = std::chrono::milliseconds(100);
  datastore::WatcherPtr watcher;
  while (!stop) {
    const auto started = Clock::now();
    if (!watcher) {  // opened before the step reads, so no change falls in between
      auto revision = client.currentRevision();
      auto opened = revision ? client.watch("/calico/", *revision) : revision.error();
      if (opened) watcher = std::move(*opened);
    }
    supervisor.step();
    afterStep();
    const auto due = started + interval;
    bool changed = false;
    while (!stop && !changed && Clock::now() < due) {
      const auto slice = std::min<Clock::duration>(kSlice, due - Clock::now());
      if (!watcher) {
        std::this_thread::sleep_for(slice);
        continue;
      }
      auto events = watcher->next(std::chrono::duration_cast<std::chrono::milliseconds>(slice));
      if (!events) watcher.reset();  // compacted or unreachable: reopened before the next step
      changed = events && std::any_of(events->begin(), events->end(),
                                      [](const auto& e) { return isInputKey(e.key); });
    }
    if (changed) std::this_thread::sleep_until(started + kMinGap);
  }
}

}  // namespace brindle::bgp
