// Helpers for calc tests: resources from YAML text or the examples, fed to a graph as updates.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "calc/calc_graph.h"
#include "calc/dataplane_state.h"
#include "model/codec.h"

namespace brindle::calc::testing {

inline std::vector<model::Resource> decode(const std::string& text) {
  auto r = model::decodeResources(text, "test");
  if (!r) ADD_FAILURE() << r.message();
  return r ? r->resources : std::vector<model::Resource>{};
}

inline std::vector<model::Resource> loadExample(const std::string& relPath) {
  std::ifstream in(std::string(BRINDLE_EXAMPLES_DIR) + "/" + relPath);
  std::stringstream ss;
  ss << in.rdbuf();
  return decode(ss.str());
}

// The seed's S17 lab: nodes, pool, three endpoints, policy namespace-default, profile-database.
inline std::vector<model::Resource> seedLab() {
  std::vector<model::Resource> all;
  for (const char* f : {"lab/nodes.yaml", "lab/ippool.yaml", "seed-lab/endpoints.yaml",
                        "seed-lab/policy.yaml", "seed-lab/profile.yaml"}) {
    auto r = loadExample(f);
    all.insert(all.end(), r.begin(), r.end());
  }
  return all;
}

inline Update added(const model::Resource& r) {
  return Update{UpdateType::kAdded, r.key(), r, std::nullopt};
}
inline Update deleted(const model::Resource& r) {
  return Update{UpdateType::kDeleted, r.key(), r, std::nullopt};
}

// Runs `updates` through a fresh graph for `node` (flushing after each one when `flushEach`).
inline DataplaneState run(const std::string& node, const std::vector<Update>& updates,
                          bool flushEach = false) {
  DataplaneState state;
  CalcGraph graph(node, state);
  for (const auto& u : updates) {
    graph.onUpdate(u);
    if (flushEach) graph.flush();
  }
  graph.onInSync();
  return state;
}

}  // namespace brindle::calc::testing
