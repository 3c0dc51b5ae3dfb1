// The one place IPAM tests get their datastore from: the embedded store in the test's directory,
// or, with BRINDLE_TEST_DATASTORE=etcdv3, the etcd at ETCD_ENDPOINTS (ctest's ipam_test_etcd entry
// starts one). Every IPAM test, the multi-process one included, runs against either.
#pragma once

#include <cstdlib>
#include <sstream>
#include <string>

#include "datastore/client.h"
#include "datastore/etcd/etcd_client.h"
#include "datastore/local/local_store.h"

namespace brindle::ipam::test {

inline bool usingEtcd() {
  const char* type = std::getenv("BRINDLE_TEST_DATASTORE");
  return type != nullptr && std::string(type) == "etcdv3";
}

// `location`: a directory the test owns; workers get the same string and open their own client.
// `fresh`: the test's own first open; on etcd it empties /calico/ so tests don't see each other
// (a local store in a new directory starts empty anyway). Workers pass false.
inline Result<datastore::ClientPtr> openBackend(const std::string& location, bool fresh = false) {
  if (!usingEtcd()) return datastore::openLocalStore(location + "/store.db");
  const char* list = std::getenv("ETCD_ENDPOINTS");
  datastore::etcd::EtcdOptions options;
  std::stringstream in(list ? list : "");
  for (std::string ep; std::getline(in, ep, ',');) {
    if (!ep.empty()) options.endpoints.push_back(ep);
  }
  auto client = datastore::etcd::openEtcdClient(options);
  if (!client) return client.error();
  if (fresh) {
    if (auto wiped = (*client)->deletePrefix("/calico/"); !wiped) return wiped.error();
  }
  return datastore::ClientPtr(std::move(*client));
}

}  // namespace brindle::ipam::test
