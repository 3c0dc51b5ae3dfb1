// Node start and BGP session checks.
#include "lab/nodes.h"

#include <filesystem>
#include <sstream>
#include <thread>

namespace brindle::lab {

namespace {

// Fallback while this brindlectl has no `node run`: what it does, by hand (the Node resource,
// then the agent, which runs BIRD, as a daemon in the node's namespace).
Status startNodeDirect(const Lab& lab, const NodeState& node) {
  auto applied =
      lab.ctl({"apply", "-f", "-"},
              "apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: " + node.name +
                  "\nspec:\n  bgp:\n    ipv4Address: " + node.address + "\n");
  if (!applied) return applied.error();
  std::vector<std::string> env = lab.datastoreEnv();
  env.insert(env.end(), {"FELIX_BGPRUNDIR=" + lab.runDir(), "FELIX_LOGSEVERITYSCREEN=Warning"});
  return lab.daemon(node.name, {lab.tools().agent, "--nodename", node.name}, env,
                    lab.logDir() + "/" + node.name + ".log");
}

bool haveNodeRun(const Lab& lab) {
  auto r = lab.run("", {lab.tools().brindlectl, "node", "--help"});
  return r && r->out.find("\n  run ") != std::string::npos;
}

}  // namespace

Status startNode(const Lab& lab, const NodeState& node) {
  std::filesystem::create_directories(lab.logDir());
  std::filesystem::create_directories(lab.runDir());
  if (!haveNodeRun(lab)) return startNodeDirect(lab, node);
  auto r = lab.check(node.name,
                     {lab.tools().brindlectl, "node", "run", "--name", node.name, "--ip",
                      node.address, "--no-default-ippools", "--backend", "bird", "--run-dir",
                      lab.runDir(), "--log-dir", lab.logDir() + "/" + node.name, "--timeout", "30"},
                     lab.datastoreEnv());
  return r ? Status::ok() : Status(r.error());
}

// Starts every node at once (each node run waits for its own agent) and returns the first error.
Status startNodes(const Lab& lab) {
  std::vector<Status> results(lab.state().nodes.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = startNode(lab, lab.state().nodes[i]); });
  }
  for (auto& t : threads) t.join();
  for (auto& s : results) {
    if (!s) return s;
  }
  return Status::ok();
}

Result<std::string> nodeStatus(const Lab& lab, const std::string& node) {
  auto out = lab.run(
      "", {lab.tools().brindlectl, "node", "status", "--node", node, "--run-dir", lab.runDir()});
  if (!out) return out.error();
  if (out->exitCode != 0) {
    return makeError(ErrorCode::kUnavailable, "node " + node + ": " + out->out + out->err);
  }
  return out->out;
}

int establishedSessions(const std::string& status) {
  int n = 0;
  std::istringstream lines(status);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("Established") != std::string::npos) ++n;
  }
  return n;
}

Status waitForMesh(const Lab& lab, int peers, double seconds) {
  std::string lagging;
  const bool ok = waitFor(seconds, [&] {
    for (const auto& n : lab.state().nodes) {
      auto status = nodeStatus(lab, n.name);
      if (!status || establishedSessions(*status) < peers) {
        lagging = n.name;
        return false;
      }
    }
    return true;
  });
  if (ok) return Status::ok();
  return makeError(ErrorCode::kUnavailable, "node " + lagging + " has not " +
                                                std::to_string(peers) +
                                                " BGP sessions Established after " +
                                                std::to_string(static_cast<int>(seconds)) + " s");
}

}  // namespace brindle::lab
