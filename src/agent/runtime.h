// The brindle-agent process as a library: configuration, datastore, kernel writers, driver,
// status servers and the run loop wired together. The binary only parses flags, installs signal
// handlers and re-executes itself when asked to.
#pragma once

#include <atomic>

#include "agent/config.h"

namespace brindle::agent {

// Exit codes of runAgent().
inline constexpr int kExitStopped = 0;
inline constexpr int kExitFailed = 1;     // datastore or netlink unusable
inline constexpr int kExitBadConfig = 2;  // configuration invalid
inline constexpr int kExitRestart = 129;  // a FelixConfiguration changed: start again in place

// Runs the agent until `stop` becomes true (or its configuration changes). Logs through spdlog's
// default logger; never cleans the kernel up, so a restarted agent takes over in place.
int runAgent(const CommandLine& commandLine, const std::atomic<bool>& stop);
// --bgp-teardown: stops this node's BIRD (its peers withdraw its routes) and flushes the routes
// it left in the kernel. A plain stop leaves BIRD running instead (docs/bgp.md).
int teardownBgp(const CommandLine& commandLine);
// --cleanup: removes what the agent programmed in this namespace (cali chains and the rules
// jumping to them, cali ipsets, its routes), as a sweep with nothing desired (node stop --remove).
int cleanupDataplane(const CommandLine& commandLine);

}  // namespace brindle::agent
