// ResourceStore: batches of resource writes as single compare-and-swap transactions.
#include "resources/resource_store.h"

#include <chrono>
#include <ctime>
#include <map>
#include <random>

#include "model/validate.h"

namespace brindle::resources {
namespace {

using model::Json;
using model::Kind;
using model::Resource;

constexpr int kMaxAttempts = 5;

std::string rfc3339Now() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string newUid() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

}  // namespace

std::string describe(const Resource& r) {
  const auto& info = model::kindInfo(r.kind);
  std::string id = info.namespaced ? r.ns() + "/" + r.name() : r.name();
  return std::string(info.name) + "(" + id + ")";
}

std::string encodeForStore(const Resource& resource) {
  Json j = resource.toJson();
  j["metadata"].erase("resourceVersion");
  return j.dump();
}

Result<Resource> decodeFromStore(const datastore::KVPair& kv) {
  auto bad = [&](const std::string& why) {
    return makeError(ErrorCode::kCorrupt, "stored value of " + kv.key + " " + why);
  };
  auto r = model::readStoredResource(kv.value);
  if (!r)
    return bad(r.code() == ErrorCode::kCorrupt ? r.message() : "is not a resource: " + r.message());
  if (model::resourceKey(r->kind, r->ns(), r->name()) != kv.key) {
    return bad("holds " + describe(*r) + ", which belongs at another key");
  }
  r->metadata["resourceVersion"] = std::to_string(kv.modRevision);
  return r;
}

ResourceStore::ResourceStore(datastore::Client& client, std::function<std::string()> now)
    : client_(client), now_(now ? std::move(now) : rfc3339Now) {}

Result<Resource> ResourceStore::get(Kind kind, const std::string& ns, const std::string& name) {
  auto kv = client_.get(model::resourceKey(kind, ns, name));
  if (!kv) {
    if (kv.code() == ErrorCode::kNotFound) {
      Resource probe;
      probe.kind = kind;
      probe.metadata["name"] = name;
      if (model::kindInfo(kind).namespaced) probe.metadata["namespace"] = ns;
      return makeError(ErrorCode::kNotFound, "resource does not exist: " + describe(probe));
    }
    return kv.error();
  }
  return decodeFromStore(*kv);
}

Result<std::vector<Resource>> ResourceStore::list(Kind kind, const std::string& ns) {
  BRINDLE_ASSIGN_OR_RETURN(auto listed, listReadable(kind, ns));
  if (!listed.bad.empty()) {
    const auto& first = listed.bad.front();
    return makeError(ErrorCode::kCorrupt, first.reason);
  }
  return std::move(listed.items);
}

Result<ResourceStore::Listing> ResourceStore::listReadable(Kind kind, const std::string& ns) {
  BRINDLE_ASSIGN_OR_RETURN(auto listed, client_.list(model::kindPrefix(kind, ns)));
  Listing out;
  out.items.reserve(listed.items.size());
  for (const auto& kv : listed.items) {
    auto r = decodeFromStore(kv);
    if (r) {
      out.items.push_back(std::move(*r));
    } else {
      out.bad.push_back({kv.key, r.message()});
    }
  }
  return out;
}

Status ResourceStore::checkPools(WriteMode mode, const std::vector<Resource>& batch) {
  if (mode == WriteMode::kDelete) return Status::ok();
  bool anyPool = false;
  for (const auto& r : batch) anyPool = anyPool || r.kind == Kind::kIPPool;
  if (!anyPool) return Status::ok();
  BRINDLE_ASSIGN_OR_RETURN(auto existing, list(Kind::kIPPool));
  // The pools as they will be: stored ones not replaced by the batch, plus the batch's.
  std::map<std::string, Resource> pools;
  for (auto& p : existing) pools[p.name()] = p;
  for (const auto& r : batch) {
    if (r.kind == Kind::kIPPool) pools[r.name()] = r;
  }
  std::vector<Resource> all;
  for (auto& [name, p] : pools) all.push_back(p);
  for (const auto& r : batch) {
    if (r.kind != Kind::kIPPool) continue;
    if (Status s = model::checkPoolOverlap(r, all); !s) return s;
  }
  return Status::ok();
}

Result<WriteOutcome> ResourceStore::write(WriteMode mode, std::vector<Resource> batch,
                                          const WriteOptions& options) {
  if (Status s = checkPools(mode, batch); !s) return s.error();
  Result<WriteOutcome> last = makeError(ErrorCode::kInternal, "no attempt made");
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    // A transaction that failed on a key we had just read means another writer got there
    // between our read and our commit: read again and retry. The caller's own mistakes (a
    // stale resourceVersion, a missing resource) are final.
    bool raced = false;
    last = tryWrite(mode, batch, options, &raced);
    if (last || !raced) return last;
  }
  return last;
}

Result<WriteOutcome> ResourceStore::tryWrite(WriteMode mode, const std::vector<Resource>& batch,
                                             const WriteOptions& options, bool* raced) {
  WriteOutcome outcome;
  std::vector<datastore::TxnOp> ops;
  std::vector<Resource> pending;
  for (const Resource& input : batch) {
    Resource r = input;
    const std::string key = r.key();
    auto current = client_.get(key);
    if (!current && current.code() != ErrorCode::kNotFound) return current.error();
    const bool exists = current.isOk();
    const std::string wantedVersion = r.resourceVersion();
    if (exists && !wantedVersion.empty() && wantedVersion != std::to_string(current->modRevision) &&
        mode != WriteMode::kCreate) {
      return makeError(ErrorCode::kConflict,
                       "update conflict: " + describe(r) + " has resourceVersion " +
                           std::to_string(current->modRevision) + ", not " + wantedVersion);
    }
    datastore::TxnOp op;
    op.key = key;
    if (mode == WriteMode::kDelete) {
      if (!exists) {
        if (options.skipNotExists) {
          outcome.skipped.push_back(r);
          continue;
        }
        return makeError(ErrorCode::kNotFound, "resource does not exist: " + describe(r));
      }
      op.type = datastore::TxnOp::Type::kDelete;
      op.expectedRevision = current->modRevision;
      auto stored = decodeFromStore(*current);
      if (stored) r = *stored;
    } else if (exists && mode == WriteMode::kCreate) {
      if (options.skipExists) {
        outcome.skipped.push_back(r);
        continue;
      }
      return makeError(ErrorCode::kAlreadyExists, "resource already exists: " + describe(r));
    } else if (!exists && mode == WriteMode::kReplace) {
      if (options.skipNotExists) {
        outcome.skipped.push_back(r);
        continue;
      }
      return makeError(ErrorCode::kNotFound, "resource does not exist: " + describe(r));
    } else if (exists) {  // replace, or apply over an existing resource
      BRINDLE_ASSIGN_OR_RETURN(auto stored, decodeFromStore(*current));
      for (const char* keep : {"uid", "creationTimestamp"}) {
        if (stored.metadata.contains(keep)) r.metadata[keep] = stored.metadata[keep];
      }
      op.type = datastore::TxnOp::Type::kUpdate;
      op.expectedRevision = current->modRevision;
    } else {  // create, or apply of a new resource
      r.metadata["uid"] = newUid();
      r.metadata["creationTimestamp"] = now_();
      op.type = datastore::TxnOp::Type::kCreate;
    }
    r.metadata.erase("resourceVersion");
    if (op.type != datastore::TxnOp::Type::kDelete) op.value = encodeForStore(r);
    ops.push_back(std::move(op));
    pending.push_back(std::move(r));
  }
  if (ops.empty()) return outcome;
  auto committed = client_.txn(ops);
  if (!committed) {
    const ErrorCode c = committed.code();
    *raced =
        c == ErrorCode::kConflict || c == ErrorCode::kAlreadyExists || c == ErrorCode::kNotFound;
    return committed.error();
  }
  for (auto& r : pending) {
    if (mode != WriteMode::kDelete) {
      r.metadata["resourceVersion"] = std::to_string(committed->revision);
    }
    outcome.written.push_back(std::move(r));
  }
  return outcome;
}

}  // namespace brindle::resources
