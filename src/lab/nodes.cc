// Node start and BGP session checks.
#include "lab/nodes.h"

#include <filesystem>
#include <sstream>
#include <thread>

namespace brindle::lab {

Result<std::string> startNode(const Lab& lab, const NodeState& node) {
  std::filesystem::create_directories(lab.logDir());
  std::filesystem::create_directories(lab.runDir());
  // --as "" keeps the global AS.
  auto r = lab.check(
      node.name,
      {lab.tools().brindlectl, "node", "run", "--name", node.name, "--ip", node.address, "--as",
       node.asNumber ? std::to_string(node.asNumber) : "", "--no-default-ippools", "--backend",
       "bird", "--run-dir", lab.runDir(), "--log-dir", lab.logDir(), "--timeout", "30"},
      lab.datastoreEnv());
  if (!r) return r.error();
  // Its last line: "Brindle node started successfully" (or that it was running already).
  std::string out = *r;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out.substr(out.rfind('\n') + 1);
}

// Starts every node at once (each node run waits for its own agent) and returns the first error.
Result<std::vector<std::string>> startNodes(const Lab& lab) {
  std::vector<Result<std::string>> results(lab.state().nodes.size(), std::string());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = startNode(lab, lab.state().nodes[i]); });
  }
  for (auto& t : threads) t.join();
  std::vector<std::string> said;
  for (auto& r : results) {
    if (!r) return r.error();
    said.push_back(*r);
  }
  return said;
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
