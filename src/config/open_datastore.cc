// Backend selection.
#include "config/open_datastore.h"

#include "datastore/etcd/module.h"
#include "datastore/local/local_store.h"

namespace brindle::config {

Result<datastore::ClientPtr> openDatastore(const DatastoreConfig& config, OpenMode mode) {
  switch (config.type) {
    case DatastoreType::kLocal: {
      datastore::LocalStoreOptions options;
      options.createIfMissing = mode == OpenMode::kCreateIfMissing;
      return datastore::openLocalStore(config.storePath, options);
    }
    case DatastoreType::kEtcdV3: {
      datastore::etcd::EtcdOptions options;
      options.endpoints = config.etcdEndpoints;
      options.username = config.etcdUsername;
      options.password = config.etcdPassword;
      options.caFile = config.etcdCACertFile;
      options.certFile = config.etcdCertFile;
      options.keyFile = config.etcdKeyFile;
      auto client = datastore::etcd::openEtcdStoreViaModule(options);
      if (!client.isOk()) {
        return makeError(client.code(),
                         client.message() + " (etcd configured by " + config.source + ")");
      }
      return client;
    }
  }
  return makeError(ErrorCode::kInternal, "unknown datastore type");
}

}  // namespace brindle::config
