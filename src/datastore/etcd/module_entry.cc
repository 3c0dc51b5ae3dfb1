// The exported entry point of libbrindle-etcd.so: openEtcdStore() with C linkage.
#include "datastore/etcd/module.h"

extern "C" __attribute__((visibility("default"))) brindle::Result<brindle::datastore::ClientPtr>
brindle_etcd_open_store(const brindle::datastore::etcd::EtcdOptions& options) {
  return brindle::datastore::etcd::openEtcdStore(options);
}
