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
  // Set when the stored value could not be decoded: why. The update is then a delete (of the
  // last good value if there was one; no resource or block if not), so a broken value fails
  // closed.
  std::string badValue;
};

}  // namespace brindle::calc
