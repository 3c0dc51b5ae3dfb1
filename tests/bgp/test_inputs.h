// Builders of BGP test inputs from YAML resources, shared by the decision and renderer tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "bgp/config.h"
#include "model/codec.h"

namespace brindle::bgp {

inline Inputs inputsFrom(const std::string& yaml) {
  auto decoded = model::decodeResources(yaml, "test.yaml");
  EXPECT_TRUE(decoded.isOk()) << (decoded ? std::string() : decoded.message());
  Inputs in;
  if (!decoded) return in;
  for (auto& r : decoded->resources) {
    switch (r.kind) {
      case model::Kind::kNode:
        in.nodes.push_back(r);
        break;
      case model::Kind::kBGPPeer:
        in.peers.push_back(r);
        break;
      case model::Kind::kBGPConfiguration:
        in.configs.push_back(r);
        break;
      case model::Kind::kIPPool:
        in.pools.push_back(r);
        break;
      case model::Kind::kBGPFilter:
        in.filters.push_back(r);
        break;
      default:
        ADD_FAILURE() << "unexpected kind";
    }
  }
  return in;
}

inline std::string node(const std::string& name, const std::string& v4,
                        const std::string& extra = "", const std::string& labels = "") {
  return "kind: Node\napiVersion: projectcalico.org/v3\nmetadata:\n  name: " + name +
         (labels.empty() ? "" : "\n  labels: {" + labels + "}") + "\nspec:\n  bgp:\n" +
         (v4.empty() ? "" : "    ipv4Address: " + v4 + "\n") + extra + "---\n";
}

inline std::string bgpConfig(const std::string& name, const std::string& spec) {
  return "kind: BGPConfiguration\napiVersion: projectcalico.org/v3\nmetadata:\n  name: " + name +
         "\nspec:\n" + spec + "\n---\n";
}

inline std::string peer(const std::string& name, const std::string& spec) {
  return "kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata:\n  name: " + name +
         "\nspec:\n" + spec + "\n---\n";
}

inline std::string bgpFilter(const std::string& name, const std::string& spec) {
  return "kind: BGPFilter\napiVersion: projectcalico.org/v3\nmetadata:\n  name: " + name +
         "\nspec:\n" + spec + "\n---\n";
}

inline const std::string kPool =
    "kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata:\n  name: pool1\nspec:\n"
    "  cidr: 192.168.0.0/16\n---\n";

}  // namespace brindle::bgp
