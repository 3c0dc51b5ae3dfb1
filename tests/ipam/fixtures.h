// Helpers of the IPAM tests: write pools, reservations and nodes through the resource layer,
// exactly as brindlectl would.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "model/resource.h"
#include "model/validate.h"
#include "resources/resource_store.h"

namespace brindle::ipam::test {

inline void createResource(datastore::Client& client, model::Kind kind, const std::string& name,
                           model::Json spec, model::Json labels = model::Json::object()) {
  model::Resource r;
  r.kind = kind;
  r.metadata["name"] = name;
  if (!labels.empty()) r.metadata["labels"] = labels;
  r.spec = std::move(spec);
  model::applyDefaults(r);
  Status valid = model::validateResource(r);
  ASSERT_TRUE(valid.isOk()) << valid.message();
  resources::ResourceStore store(client);
  auto w = store.write(resources::WriteMode::kApply, {r});
  ASSERT_TRUE(w.isOk()) << w.message();
}

inline void createPool(datastore::Client& client, const std::string& name, const std::string& cidr,
                       model::Json extra = model::Json::object()) {
  model::Json spec = extra;
  spec["cidr"] = cidr;
  createResource(client, model::Kind::kIPPool, name, spec);
}

}  // namespace brindle::ipam::test
