// The lab's nodes: started with `brindlectl node run` inside their namespaces against the lab's
// datastore, and their BGP sessions read back with `brindlectl node status`.
#pragma once

#include <string>
#include <vector>

#include "lab/lab.h"

namespace brindle::lab {

// Starts the node (its namespace made and wired) and waits until node run reports it ready;
// what node run said last.
Result<std::string> startNode(const Lab& lab, const NodeState& node);

// Starts every node of the lab at once (each node run waits for its own agent).
Result<std::vector<std::string>> startNodes(const Lab& lab);

// `brindlectl node status` of the node ("" and a false Result when BIRD does not answer).
Result<std::string> nodeStatus(const Lab& lab, const std::string& node);

// Established sessions in a node status text.
int establishedSessions(const std::string& status);

// Waits until every node has `peers` sessions Established (the full mesh: nodes - 1).
Status waitForMesh(const Lab& lab, int peers, double seconds);

}  // namespace brindle::lab
