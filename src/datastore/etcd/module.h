// The etcd backend as a loadable module (libbrindle-etcd.so), so that programs using the embedded
// store - the CNI plugin on every pod start, brindlectl - do not load gRPC, protobuf and abseil
// (about 60 shared libraries, most of a CNI call's start-up time). Only an etcd configuration
// loads it, once per process; it is never unloaded.
#pragma once

#include "common/result.h"
#include "datastore/client.h"
#include "datastore/etcd/etcd_client.h"

namespace brindle::datastore::etcd {

// The module's entry point, exported with C linkage under this name.
using OpenStoreFn = Result<ClientPtr> (*)(const EtcdOptions& options);
inline constexpr const char* kOpenStoreSymbol = "brindle_etcd_open_store";

// Opens an etcd store: with the backend linked into this program (tests and benchmarks that use
// the etcd client directly), through it; otherwise through the module, loaded from
// $BRINDLE_ETCD_MODULE, the build tree, or next to the running program. Never both: the module's
// protobuf descriptors would clash with the linked copy's. kUnavailable naming the paths tried if
// the module cannot be loaded.
Result<ClientPtr> openEtcdStoreViaModule(const EtcdOptions& options);

// Called by the backend itself (a static initialiser in etcd_client.cc) when it is linked in.
void registerLinkedEtcdBackend(OpenStoreFn open);

}  // namespace brindle::datastore::etcd
