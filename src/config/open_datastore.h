// Opens the datastore a DatastoreConfig names: the embedded local store or etcd v3.
#pragma once

#include "common/result.h"
#include "config/datastore_config.h"
#include "datastore/client.h"

namespace brindle::config {

Result<datastore::ClientPtr> openDatastore(const DatastoreConfig& config);

}  // namespace brindle::config
