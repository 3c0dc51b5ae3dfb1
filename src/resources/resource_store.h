// ResourceStore: v3 resources over the key/value datastore. It turns create/replace/apply/delete
// of a batch into one all-or-nothing transaction with compare-and-swap on every key it read, so a
// concurrent writer makes the batch retry or fail, never half-apply.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "datastore/client.h"
#include "model/resource.h"

namespace brindle::resources {

enum class WriteMode { kCreate, kReplace, kApply, kDelete };

struct WriteOptions {
  bool skipExists = false;     // create: leave resources that already exist alone
  bool skipNotExists = false;  // delete/replace: leave resources that do not exist alone
};

struct WriteOutcome {
  std::vector<model::Resource> written;  // as stored (resourceVersion, uid, timestamps set)
  std::vector<model::Resource> skipped;  // left alone because of skipExists/skipNotExists
};

// "WorkloadEndpoint(default/slave1-k8s-frontend-slave1--frontend1)": how messages name one.
std::string describe(const model::Resource& resource);

class ResourceStore {
 public:
  // `now` returns an RFC 3339 timestamp (injected so tests are deterministic).
  explicit ResourceStore(datastore::Client& client,
                         std::function<std::string()> now = nullptr);

  // kNotFound: "resource does not exist: IPPool(10-1-0-0-16)".
  Result<model::Resource> get(model::Kind kind, const std::string& ns, const std::string& name);

  // All resources of a kind; `ns` empty means every namespace. Sorted by key. Fails naming the
  // first unreadable value (see listReadable()).
  Result<std::vector<model::Resource>> list(model::Kind kind, const std::string& ns = "");
  // The same, but an unreadable value (not JSON, not an object of the kind its key names: another
  // tool or a bad migration wrote it) is reported beside the resources instead of failing the
  // listing, as calicoctl's lists go on past one bad entry.
  struct BadValue {
    std::string key;
    std::string reason;
  };
  struct Listing {
    std::vector<model::Resource> items;
    std::vector<BadValue> bad;
  };
  Result<Listing> listReadable(model::Kind kind, const std::string& ns = "");

  // Writes a batch in one transaction; retries a few times when another writer raced it.
  // Resources are validated already (model::decodeResources); this adds the checks that need
  // the store: existence per mode, resourceVersion preconditions, IPPool overlap.
  Result<WriteOutcome> write(WriteMode mode, std::vector<model::Resource> batch,
                             const WriteOptions& options = {});

 private:
  Result<WriteOutcome> tryWrite(WriteMode mode, const std::vector<model::Resource>& batch,
                                const WriteOptions& options, bool* raced);
  Status checkPools(WriteMode mode, const std::vector<model::Resource>& batch);

  datastore::Client& client_;
  std::function<std::string()> now_;
};

// The JSON stored for a resource (v3 JSON without resourceVersion, which is the key's revision).
std::string encodeForStore(const model::Resource& resource);
Result<model::Resource> decodeFromStore(const datastore::KVPair& kv);

}  // namespace brindle::resources
