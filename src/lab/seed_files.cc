// Reading the seed's YAML with yaml-cpp; the variants are edits of the parsed documents, emitted
// again as YAML for `brindlectl apply -f -`.
#include "lab/seed_files.h"

#include <yaml-cpp/yaml.h>

#include <variant>

namespace brindle::lab {
namespace {

Result<YAML::Node> load(const std::string& file) {
  try {
    return YAML::LoadFile(file);
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalid, file + ": " + e.what());
  }
}

std::string str(const YAML::Node& n) { return n && n.IsScalar() ? n.as<std::string>() : ""; }

// The scalar at `path` (a list index as a number), "" when any step is missing (yaml-cpp throws
// on a step past a missing key).
std::string field(YAML::Node n, std::initializer_list<std::variant<const char*, int>> path) {
  for (const auto& step : path) {
    if (!n || !(n.IsMap() || n.IsSequence())) return "";
    // reset rebinds; operator= would overwrite the node it refers to.
    n.reset(std::holds_alternative<int>(step) ? n[std::get<int>(step)]
                                              : n[std::get<const char*>(step)]);
  }
  return str(n);
}

}  // namespace

Result<SeedFiles> readSeedFiles(const std::string& examples) {
  if (examples.empty()) {
    return makeError(ErrorCode::kNotFound,
                     "the seed's examples folder was not found (neither in the source tree nor "
                     "under share/brindle/examples)");
  }
  SeedFiles f{examples + "/lab/nodes.yaml",
              examples + "/lab/ippool.yaml",
              examples + "/seed-lab/endpoints.yaml",
              examples + "/seed-lab/policy.yaml",
              examples + "/seed-lab/profile.yaml",
              {},
              {}};
  auto nodes = load(f.nodes);
  if (!nodes) return nodes.error();
  if (!nodes->IsSequence()) return makeError(ErrorCode::kInvalid, f.nodes + ": expected a list");
  for (size_t i = 0; i < nodes->size(); ++i) {
    const auto& doc = (*nodes)[i];
    NodeState n{field(doc, {"metadata", "name"}), field(doc, {"spec", "bgp", "ipv4Address"}), "",
                1};
    if (n.name.empty() || n.address.empty()) {
      return makeError(ErrorCode::kInvalid, f.nodes + ": document " + std::to_string(i + 1) +
                                                ": needs metadata.name and spec.bgp.ipv4Address");
    }
    f.nodeList.push_back(n);
  }
  auto endpoints = load(f.endpoints);
  if (!endpoints) return endpoints.error();
  if (!endpoints->IsSequence()) {
    return makeError(ErrorCode::kInvalid, f.endpoints + ": expected a list");
  }
  for (size_t i = 0; i < endpoints->size(); ++i) {
    const auto& doc = (*endpoints)[i];
    SeedEndpoint e;
    e.workload.name = field(doc, {"metadata", "name"});
    e.workload.node = field(doc, {"metadata", "node"});
    e.workload.iface = field(doc, {"spec", "interfaceName"});
    e.workload.address = field(doc, {"spec", "ipNetworks", 0});
    e.workload.address = e.workload.address.substr(0, e.workload.address.find('/'));
    e.mac = field(doc, {"spec", "mac"});
    if (e.workload.name.empty() || e.workload.node.empty() || e.workload.iface.empty() ||
        e.workload.address.empty() || e.mac.empty()) {
      return makeError(ErrorCode::kInvalid,
                       f.endpoints + ": document " + std::to_string(i + 1) +
                           ": needs metadata.name, metadata.node, spec.interfaceName, spec.mac "
                           "and spec.ipNetworks");
    }
    f.endpointList.push_back(e);
  }
  return f;
}

Result<std::string> policyWithoutDatabase(const std::string& policyFile) {
  auto doc = load(policyFile);
  if (!doc) return doc.error();
  const std::string selector = field(*doc, {"spec", "selector"});
  if (selector.empty())
    return makeError(ErrorCode::kInvalid, policyFile + ": spec.selector missing");
  (*doc)["spec"]["selector"] = selector + " && service != 'database'";
  return std::string(YAML::Dump(*doc)) + "\n";
}

Result<std::string> profileWithoutFirstDeny(const std::string& profileFile) {
  auto doc = load(profileFile);
  if (!doc) return doc.error();
  if (!doc->IsMap() || !(*doc)["spec"].IsMap() || !(*doc)["spec"]["ingress"].IsSequence()) {
    return makeError(ErrorCode::kInvalid, profileFile + ": spec.ingress is not a list");
  }
  YAML::Node ingress = (*doc)["spec"]["ingress"];
  YAML::Node kept(YAML::NodeType::Sequence);
  bool dropped = false;
  for (const auto& rule : ingress) {
    const bool bareDeny = rule.IsMap() && rule.size() == 1 && field(rule, {"action"}) == "deny";
    if (bareDeny && !dropped) {
      dropped = true;
      continue;
    }
    kept.push_back(rule);
  }
  if (!dropped) {
    return makeError(ErrorCode::kInvalid, profileFile + ": spec.ingress has no bare deny to drop");
  }
  (*doc)["spec"]["ingress"] = kept;
  return std::string(YAML::Dump(*doc)) + "\n";
}

}  // namespace brindle::lab
