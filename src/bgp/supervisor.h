// Runs BIRD for one node: renders its configuration from the datastore (one BIRD per address
// family the node has, as Calico's bird and bird6), applies a changed text with `birdc
// configure` after `bird -p` accepted it, and restarts a BIRD that died, with back-off. Each node
// has its own run directory (<runDir>/<node>/: bird.conf, bird.ctl, bird.pid, bird.log and the
// same with bird6), so nodes in network namespaces of one machine never collide. It also applies
// IPIP (ipip_tunnel.h) from the same reading of the datastore.
//
// Make-before-break: BIRD restarts a BGP session whose protocol is removed, renamed or changed
// (`rr client` added, as in a switch from the full mesh to route reflectors), and both ends then
// drop its routes until a new session has brought them back: seconds without routes (Calico
// issue #3819). So a change that would reset sessions goes in three configurations:
//   1. hold: the running configuration plus `protocol static brindle_hold`, a copy of every route
//      the kernel has from BIRD, at a preference below BGP's, so it only ever serves a prefix
//      that BGP lost; no session changes yet. The node's peers read the same datastore change
//      and hold too; holdSettle gives them the time to;
//   2. switch: the new configuration plus the hold: old sessions go, new ones come up, and
//      while they do the held copies keep the kernel's routes in place (BIRD replaces a route
//      with an equal one, which the kernel does not notice);
//   3. release: the new configuration alone, once every new session is Established and no
//      held route is in use (BGP brought every prefix back), or after holdLimit.
// Changes that reset no session (a new block, a workload's /32) are applied at once.
//
// BIRD runs in its own session: when the supervisor (the agent) stops, BIRD and its routes stay,
// and the next supervisor adopts it through the pid file. teardown() stops BIRD, which tells its
// peers to withdraw, and flushes the routes it left in the kernel.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "bgp/config.h"
#include "bgp/ipip_tunnel.h"
#include "datastore/client.h"
#include "os/process.h"

namespace brindle::bgp {

inline constexpr const char* kDefaultRunDir = "/var/run/brindle";

struct SupervisorOptions {
  std::string node;
  std::string runDir = kDefaultRunDir;  // the node's files go to <runDir>/<node>/
  std::string secretsDir = "/etc/brindle/secrets";
  std::string netns;  // run BIRD and `ip route` in this named namespace (tests); "" = own
  std::chrono::milliseconds restartBackoffInitial{500};
  std::chrono::milliseconds restartBackoffMax{30000};
  std::chrono::milliseconds holdSettle{2000};  // hold before sessions change (covers the poll skew)
  std::chrono::milliseconds holdLimit{60000};  // longest hold, should new sessions never come up
  int ipipMtu = 0;  // tunl0's MTU when a pool needs IPIP; 0: the uplink's - 20
};

// What the supervisor did, for metrics.
struct SupervisorCounters {
  uint64_t reconfigures = 0;  // birdc configure with a new text
  uint64_t rejected = 0;      // a rendered text `bird -p` refused (the old one kept running)
  uint64_t restarts = 0;      // BIRD (re)started after it was found dead
};

class Supervisor {
 public:
  Supervisor(datastore::Client& client, SupervisorOptions options);

  // One round: read the datastore, render, apply what changed, keep BIRD running.
  void step();
  // "" when every BIRD runs the current configuration; else why not (readiness reason).
  std::string problem() const;
  SupervisorCounters counters() const;
  // The node's files for a family: "<dir>/bird.conf" ... "<dir>/bird6.log".
  std::string path(int family, const std::string& suffix) const;
  // Stops BIRD (its peers withdraw its routes) and flushes the routes it left in the kernel;
  // step() does nothing afterwards.
  void teardown();

 private:
  struct Instance {
    int family = 4;
    pid_t pid = -1;
    bool child = false;       // started by us (reaped with waitpid), else adopted
    std::string runningText;  // the configuration BIRD runs
    std::chrono::steady_clock::time_point nextStart{};
    std::chrono::milliseconds backoff{0};
    std::chrono::steady_clock::time_point startedAt{};
    // A make-before-break change under way (see above).
    enum class Phase { kNone, kHold, kSwitch } phase = Phase::kNone;
    std::string base;  // the configuration under the hold: the old one (kHold), the new (kSwitch)
    std::string hold;  // renderHold's text
    std::chrono::steady_clock::time_point phaseSince{};
  };

  void stepFamily(Instance& inst, const Inputs& inputs, std::vector<std::string>& problems);
  // The text BIRD should run now for the datastore's text `target`, stepping a make-before-break
  // change forward.
  std::string nextText(Instance& inst, const std::string& target);
  std::string holdKernelRoutes(int family);
  // `ip -o -4|-6 route show proto bird` in the node's namespace: the kernel's routes of BIRD's.
  os::CommandOutput kernelBirdRoutes(int family);
  bool released(const Instance& inst, const std::string& target);
  bool alive(Instance& inst);
  bool start(Instance& inst, std::vector<std::string>& problems);
  void adopt(Instance& inst);
  os::CommandOutput run(const std::vector<std::string>& argv, bool inNetns = false);

  datastore::Client& client_;
  SupervisorOptions options_;
  std::string dir_;
  std::vector<Instance> instances_;
  IpipTunnel ipip_;  // tunl0 and the tunnel routes, from the same inputs as BIRD's text
  mutable std::mutex mu_;
  std::string problem_;
  SupervisorCounters counters_;
  bool tornDown_ = false;
};

// Whether going from BIRD configuration `from` to `to` resets (or removes) a running BGP
// session, and so goes through make-before-break: a changed router id, BGP template or
// `protocol bgp` block other than its channel filters.
bool resetsSessions(const std::string& from, const std::string& to);

// brindle-agent's BGP loop: steps `supervisor` as soon as the datastore changes (a watch on
// /calico/: blocks, endpoints, peers; a new block reaches BIRD without waiting out a poll), and
// at least every `interval` (a BIRD that died), never twice within 100 ms; `afterStep` after each
// step (readiness, metrics). `client` is the one the supervisor reads. Returns once `stop` is set.
void runSupervisor(Supervisor& supervisor, datastore::Client& client,
                   std::chrono::milliseconds interval, const std::atomic<bool>& stop,
                   const std::function<void()>& afterStep);

}  // namespace brindle::bgp
