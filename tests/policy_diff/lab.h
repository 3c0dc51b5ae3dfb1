// The differential test's lab: one node network namespace running the real brindle-agent on a
// local store, the six workloads of labHosts() in their own namespaces behind cali veths (wired
// by testutil::addCaliWorkload as Calico does: /32, the 169.254.1.1 gateway with a permanent
// neighbour) and two outside hosts on plain veths, each host running agent_probe servers. Probes
// are made in-process, many at once, from threads that entered the source namespace. The agent
// runs on the dataplane backend BRINDLE_TEST_DATAPLANE names (ctest runs both). Root only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "policy_diff/reference_model.h"
#include "policy_diff/state.h"
#include "testutil/dataplane_view.h"

namespace brindle::policydiff {

class Lab {
 public:
  // Builds the namespaces and starts the servers; throws std::runtime_error on failure (the
  // destructor still removes what was made).
  Lab(std::string agentBinary, std::string probeBinary);
  ~Lab();
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  static constexpr const char* kNode = "node1";

  // Starts the agent and waits for /readiness; false if it did not become ready in time.
  bool startAgent(std::chrono::milliseconds timeout);
  void stopAgent();  // SIGTERM and reap: the kernel state stays as the agent left it
  // "" while the agent runs (or was stopped by us), else how it ended, e.g. "killed by signal 11".
  std::string agentDeath();
  // Removes every rule, set and route a previous agent left in the node namespace (cold start).
  void wipeKernel();
  // "" if the backend under test holds our rules and the other backend nothing of ours, else
  // what is wrong (a probe that passed through the wrong backend proves nothing).
  std::string backendProblem();
  testutil::Dataplane dataplane() const { return view_.dataplane(); }
  void clearStore();  // agent stopped: an empty store

  // Applies `target` to the store, deleting what `current` has and `target` has not, writing only
  // resources that differ. Returns the number of resources written or deleted.
  size_t switchState(const std::map<std::string, Json>& current,
                     const std::map<std::string, Json>& target);
  // Waits until the agent saw `updates` more datastore updates than `before` and applied them all.
  bool waitApplied(double before, size_t updates, std::chrono::milliseconds timeout);
  double metric(const std::string& name);
  // The series of a metric family with a non-zero value, e.g. the agent's refused rules.
  std::vector<std::string> nonZeroSeries(const std::string& family);

  // One verdict per packet (true: the packet got through and was answered), all probed at once.
  std::vector<bool> probe(const std::vector<Packet>& packets, std::chrono::milliseconds timeout);

  std::string agentLogTail(int lines);

 private:
  void build();
  bool agentAlive();  // reaps an agent that died and records how in death_
  void cleanUp();     // kills the agent and servers, deletes our namespaces and files
  void addWorkload(const std::string& name, const std::string& iface, const std::string& ip);
  void addOutside(const std::string& name, const std::string& iface, const std::string& nodeIp,
                  const std::string& ip);
  std::string nsOfIp(const std::string& ip) const;
  std::string metricsText();  // the agent's /metrics, "" if it does not answer

  std::string agentBinary_, probeBinary_;
  std::string prefix_, node_, dir_;
  int port_ = 0;
  pid_t agent_ = -1;
  std::string death_;
  std::vector<pid_t> servers_;
  std::map<std::string, std::string> nsByIp_;
  testutil::DataplaneView view_{"", testutil::Dataplane::kIptables};
};

}  // namespace brindle::policydiff
