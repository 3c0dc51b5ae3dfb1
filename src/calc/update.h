// Update: one change the syncer saw in the datastore, typed: a v3 resource (with its last known
// value on delete) or an IPAM block (its CIDR and affinity).
#pragma once

#include <optional>
#include <string>

#include "common/ip.h"
#include "model/resource.h"

namespace brindle::calc {

enum class UpdateType { kAdded, kUpdated, kDeleted };

struct BlockUpdate {
  Cidr cidr;
  std::string affinity;  // "host:<node>" or ""
};

struct Update {
  UpdateType type = UpdateType::kAdded;
  std::string key;
  std::optional<model::Resource> resource;  // for resource keys
  std::optional<BlockUpdate> block;         // for IPAM block keys
};

}  // namespace brindle::calc
