// The node's agent as a daemon: started detached (own session, log file, outlives brindlectl),
// found again through its pid file, probed on its readiness endpoint, stopped with a bound.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"

namespace brindle::node {

// Where a node's files go: <runDir>/<node>/ (agent.pid beside BIRD's files, the agent's
// BgpRunDir being runDir) and <logDir>/<node>/agent.log.
struct NodePaths {
  std::string node;
  std::string runDir = "/var/run/brindle";
  std::string logDir = "/var/log/brindle";
  std::string dir() const { return runDir + "/" + node; }
  std::string pidFile() const { return dir() + "/agent.pid"; }
  std::string logFile() const { return logDir + "/" + node + "/agent.log"; }
};

// True while `pid` runs (a zombie does not count).
bool processAlive(pid_t pid);
// The pid `pidFile` names when that process is alive and its arguments include `args` in a row
// (so a pid reused by another program after a crash does not count); 0 otherwise.
pid_t livePid(const std::string& pidFile, const std::vector<std::string>& args = {});
Status writePidFile(const std::string& pidFile, pid_t pid);

struct Launch {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::vector<std::string> env;   // "KEY=value", the whole environment
  std::string logFile;            // stdout and stderr, appended
};
// Starts the program detached: a new session (own process group, no terminal), stdin from
// /dev/null, and not our child (double fork), so it outlives us and is never our zombie.
// Returns its pid, or why it could not be executed.
Result<pid_t> startDetached(const Launch& launch);
// Replaces this process with the program (stdout and stderr kept: an init system logs them).
// Returns only on failure.
Status execForeground(const Launch& launch);

struct Readiness {
  bool reachable = false;  // something answered HTTP
  bool ready = false;      // 200
  std::string reason;      // the body's lines after "not ready", joined with "; "
};
Readiness probeReadiness(const std::string& host, int port,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(500));

// SIGTERM, up to `grace` for it to exit, then SIGKILL. True when it is gone.
bool stopProcess(pid_t pid, std::chrono::milliseconds grace);

// The last `lines` lines of a file ("" if unreadable).
std::string fileTail(const std::string& path, size_t lines);

}  // namespace brindle::node
