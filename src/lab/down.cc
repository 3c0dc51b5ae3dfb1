// down: every process in the lab's namespaces (agents, BIRDs, etcd, a half-done node run) is
// stopped, then the namespaces (and with them every veth, bridge and route) and the state dir
// go. Driven by the state file alone, so it works after the lab was killed with SIGKILL, and
// twice in a row.
#include <signal.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "lab/commands.h"

namespace brindle::lab {
namespace {

std::vector<int> pidsIn(const Lab& lab, const std::string& ns) {
  std::vector<int> pids;
  auto out = lab.run("", {"ip", "netns", "pids", ns});
  if (!out || out->exitCode != 0) return pids;
  std::istringstream words(out->out);
  for (int pid; words >> pid;) pids.push_back(pid);
  return pids;
}

// Sends `sig` to everything in the namespaces; true when nothing was left to signal.
bool signalAll(const Lab& lab, int sig) {
  bool none = true;
  for (const auto& ns : lab.state().namespaces) {
    for (int pid : pidsIn(lab, ns)) {
      none = false;
      ::kill(pid, sig);
    }
  }
  return none;
}

}  // namespace

int runDown(Lab& lab) {
  if (lab.state().namespaces.empty() && !std::filesystem::exists(lab.dir())) {
    std::cout << "lab " << lab.name() << " is not up\n";
    return 0;
  }
  // SIGTERM first (BIRD and the agents exit cleanly), SIGKILL for what is left after 5 s.
  if (!signalAll(lab, SIGTERM) && !waitFor(5, [&] { return signalAll(lab, 0); })) {
    signalAll(lab, SIGKILL);
    waitFor(5, [&] { return signalAll(lab, 0); });
  }
  int failed = 0;
  for (const auto& ns : lab.state().namespaces) {
    if (!std::filesystem::exists("/var/run/netns/" + ns)) continue;
    auto r = lab.run("", {"ip", "netns", "delete", ns});
    if (!r || r->exitCode != 0) {
      std::cerr << "brindle-lab: cannot delete namespace " << ns << ": "
                << (r ? r->err : r.message()) << "\n";
      ++failed;
    }
  }
  if (failed > 0) return 1;
  std::error_code ec;
  std::filesystem::remove_all(lab.dir(), ec);
  std::filesystem::remove(kStateRoot, ec);  // only when no other lab is up (it is then empty)
  std::cout << "lab " << lab.name() << " removed (" << lab.state().namespaces.size()
            << " namespaces)\n";
  return 0;
}

int failAndRemove(Lab& lab, const Status& why) {
  std::cerr << "brindle-lab: " << why.message() << "\nremoving what was made:\n";
  runDown(lab);
  return 1;
}

}  // namespace brindle::lab
