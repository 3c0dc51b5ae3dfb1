// The one place IPAM tests get their datastore from: the embedded store in a directory today;
// when the etcd backend lands, switch here (e.g. on an environment variable) and every IPAM test,
// the multi-process one included, runs against it.
#pragma once

#include <string>

#include "datastore/client.h"
#include "datastore/local/local_store.h"

namespace brindle::ipam::test {

// `location`: a directory the test owns. Workers get the same string and open their own client.
inline Result<datastore::ClientPtr> openBackend(const std::string& location) {
  return datastore::openLocalStore(location + "/store.db");
}

}  // namespace brindle::ipam::test
