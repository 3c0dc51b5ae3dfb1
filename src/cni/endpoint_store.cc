// WorkloadEndpoints through the ResourceStore (one transaction per write).
#include "cni/endpoint_store.h"

namespace brindle::cni {
namespace {

class ResourceEndpointStore : public EndpointStore {
 public:
  explicit ResourceEndpointStore(resources::ResourceStore& store) : store_(store) {}

  Status put(const model::Resource& endpoint) override {
    return store_.write(resources::WriteMode::kApply, {endpoint}).status();
  }

  Result<model::Resource> get(const std::string& ns, const std::string& name) override {
    return store_.get(model::Kind::kWorkloadEndpoint, ns, name);
  }

  Status remove(const std::string& ns, const std::string& name) override {
    model::Resource r;
    r.kind = model::Kind::kWorkloadEndpoint;
    r.metadata = {{"name", name}, {"namespace", ns}};
    return store_.write(resources::WriteMode::kDelete, {r}).status();
  }

 private:
  resources::ResourceStore& store_;
};

}  // namespace

EndpointStorePtr makeResourceEndpointStore(resources::ResourceStore& store) {
  return std::make_unique<ResourceEndpointStore>(store);
}

}  // namespace brindle::cni
