// Backend selection.
#include "config/open_datastore.h"

#include "datastore/local/local_store.h"

namespace brindle::config {

Result<datastore::ClientPtr> openDatastore(const DatastoreConfig& config) {
  switch (config.type) {
    case DatastoreType::kLocal:
      return datastore::openLocalStore(config.storePath);
    case DatastoreType::kEtcdV3:
      return makeError(ErrorCode::kUnavailable,
                       "the etcdv3 datastore is not available in this build yet (configured by " +
                           config.source + "); use the local datastore");
  }
  return makeError(ErrorCode::kInternal, "unknown datastore type");
}

}  // namespace brindle::config
