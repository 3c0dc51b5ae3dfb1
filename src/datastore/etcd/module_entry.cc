// The exported entry point of libbrindle-etcd.so: openEtcdStore() with C linkage.
#include "datastore/etcd/module.h"

// C linkage only gives the symbol a plain name for dlsym(); both sides are C++ built together,
// so returning a C++ type is fine (clang warns about it, gcc does not).
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wreturn-type-c-linkage"
#endif

extern "C" __attribute__((visibility("default"))) brindle::Result<brindle::datastore::ClientPtr>
brindle_etcd_open_store(const brindle::datastore::etcd::EtcdOptions& options) {
  return brindle::datastore::etcd::openEtcdStore(options);
}
