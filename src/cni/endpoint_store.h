// The plugin's view of WorkloadEndpoints in the datastore: put, get, remove. A seam so the
// undo logic can be tested with a store that fails on demand.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "model/resource.h"
#include "resources/resource_store.h"

namespace brindle::cni {

class EndpointStore {
 public:
  virtual ~EndpointStore() = default;
  virtual Status put(const model::Resource& endpoint) = 0;  // create or replace
  virtual Result<model::Resource> get(const std::string& ns, const std::string& name) = 0;
  virtual Status remove(const std::string& ns, const std::string& name) = 0;  // kNotFound if absent
};
using EndpointStorePtr = std::unique_ptr<EndpointStore>;

EndpointStorePtr makeResourceEndpointStore(resources::ResourceStore& store);

}  // namespace brindle::cni
