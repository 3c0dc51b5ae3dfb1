// Opens the datastore a DatastoreConfig names: the embedded local store or etcd v3.
#pragma once

#include "common/result.h"
#include "config/datastore_config.h"
#include "datastore/client.h"

namespace brindle::config {

// kReadOnly: an embedded store that does not exist yet reads as empty and is not created (for
// commands that only read).
enum class OpenMode { kCreateIfMissing, kReadOnly };
Result<datastore::ClientPtr> openDatastore(const DatastoreConfig& config,
                                           OpenMode mode = OpenMode::kCreateIfMissing);

}  // namespace brindle::config
