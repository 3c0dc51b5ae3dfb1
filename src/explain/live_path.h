// The kernel's answer: one packet walked through a node's real iptables-save and ipset contents,
// chain by chain from cali-FORWARD, citing each rule's `cali:<id>` and the ipset lookups it made.
// It knows every match and target the renderer writes (dataplane/iptables_render.cc) and says
// "cannot evaluate" at a rule holding anything else rather than guess.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "explain/model_path.h"

namespace brindle::explain {

struct KernelRule {
  int index = 0;                  // 1-based in its chain
  std::vector<std::string> args;  // after "-A <chain>", quotes removed
  std::string hash;               // "cali:<id>" comment's id, "" if none
  std::string line;               // as saved
};

// One node's kernel state as iptables-save and `ipset save` (or `ipset list`) print it.
struct KernelState {
  std::map<std::string, std::map<std::string, std::vector<KernelRule>>> tables;  // table, chain
  std::map<std::string, std::string> policies;  // built-in chain policy of the filter table
  std::map<std::string, std::vector<Cidr>> ipSets;

  // kInvalid naming the line when the text is not iptables-save / ipset output.
  static Result<KernelState> parse(std::string_view iptablesSave, std::string_view ipsets);
  // From DIR/<node>/ (or DIR itself): iptables-save.txt, then ipset.txt or ipset-list.txt
  // (`brindlectl node diags` names), ip6tables-save.txt for IPv6.
  static Result<KernelState> fromDump(const std::string& dir, const std::string& node, bool v6);
  // iptables-save and ipset save run inside network namespace `netns` (src/os).
  static Result<KernelState> fromNetns(const std::string& netns, bool v6);
};

// The packet as the walk sees it on one node.
struct LivePacket {
  IpAddr source, destination;
  Packet packet;
  std::string inInterface, outInterface;
};

struct LiveStep {
  std::string chain;
  int index = 0;
  std::string hash;
  std::string line;
  bool matched = false;
  std::string note;  // ipset lookups, the first criterion that failed, "cannot evaluate: ..."
  int depth = 0;
};

// The rule that ended a side in the kernel: a DROP, or the accept mark set in a policy chain.
struct LiveDecision {
  bool found = false;
  bool allowed = false;
  std::string chain;
  int index = 0;
  std::string hash;
  std::string line;
};

struct LiveWalk {
  std::string node;
  enum class Verdict { kAccept, kDrop, kCannotEvaluate } verdict = Verdict::kAccept;
  std::string reason;
  std::vector<LiveStep> steps;
  LiveDecision egress, ingress;  // from cali-fw-* / cali-tw-* chains
};

LiveWalk walkKernel(const KernelState& state, const LivePacket& packet);

// Both answers for one packet, and where they disagree.
struct LivePath {
  std::vector<LiveWalk> walks;
  bool allowed = true;
  bool cannotEvaluate = false;
  std::vector<std::string> mismatches;  // "egress: model ... kernel ... (chain X rule N cali:h)"
  std::vector<std::string> notes;
};

// Walks the packet of `model` through the kernel of the node(s) involved; `stateOf` gives a
// node's kernel state.
using StateSource = std::function<Result<KernelState>(const std::string& node, bool v6)>;
Result<LivePath> explainLive(const ModelPath& model, const StateSource& stateOf);

}  // namespace brindle::explain
