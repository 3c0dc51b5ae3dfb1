// The datastore interface: a revisioned key/value store with compare-and-swap, all-or-nothing
// transactions and ordered watches. The embedded SQLite backend (local/) and etcd v3 (etcd/)
// implement it; everything above (resources, IPAM, the agent) is written against it alone.
//
// Revisions follow etcd: one store-wide counter that every successful write (or transaction)
// raises by one. Each key remembers the revision of its last modification (modRevision) and of
// its creation (createRevision). Keys are '/'-separated paths as in Calico's etcd layout.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace brindle::datastore {

struct KVPair {
  std::string key;
  std::string value;
  int64_t modRevision = 0;
  int64_t createRevision = 0;
};

struct ListResult {
  std::vector<KVPair> items;  // sorted by key
  int64_t revision = 0;       // the store's revision at which the list was taken
};

// One operation of a transaction.
struct TxnOp {
  enum class Type {
    kCreate,  // fails (kAlreadyExists) if the key exists
    kUpdate,  // fails (kNotFound) if absent; with expectedRevision != 0, kConflict if it moved
    kPut,     // create or overwrite, unconditionally
    kDelete,  // fails (kNotFound) if absent; with expectedRevision != 0, kConflict if it moved
  };
  Type type = Type::kPut;
  std::string key;
  std::string value;             // unused for kDelete
  int64_t expectedRevision = 0;  // modRevision the key must still have; 0 = don't check
};

// "create", "update", "put" or "delete", for messages.
inline const char* txnOpName(TxnOp::Type type) {
  static constexpr const char* kNames[] = {"create", "update", "put", "delete"};  // Type's order
  return kNames[static_cast<int>(type)];
}

struct TxnResult {
  int64_t revision = 0;  // the store revision the transaction committed at
};

enum class EventType { kAdded, kUpdated, kDeleted };

struct WatchEvent {
  EventType type = EventType::kAdded;
  std::string key;
  std::string value;      // new value; empty for kDeleted
  std::string prevValue;  // value before the change; empty for kAdded
  int64_t revision = 0;   // modRevision of this change
};

// A watch on a key prefix. Events come in revision order, each exactly once.
class Watcher {
 public:
  virtual ~Watcher() = default;

  // Waits up to `timeout` for events and returns those available (possibly none on timeout).
  // Errors: kCompacted when the store no longer holds the history the watcher needs (the caller
  // must list again and watch from the list's revision); kUnavailable when the backend is
  // unreachable (the watcher keeps trying; calling next() again resumes where it left off).
  virtual Result<std::vector<WatchEvent>> next(std::chrono::milliseconds timeout) = 0;

  // The revision of the last event delivered (or the start revision if none yet).
  virtual int64_t revision() const = 0;
};
using WatcherPtr = std::unique_ptr<Watcher>;

class Client {
 public:
  virtual ~Client() = default;

  // kNotFound if absent.
  virtual Result<KVPair> get(std::string_view key) = 0;

  // Every key starting with `prefix` (use a trailing '/' for a folder), sorted by key.
  virtual Result<ListResult> list(std::string_view prefix) = 0;

  // Creates `key`; kAlreadyExists if it exists. Returns the new modRevision.
  virtual Result<int64_t> create(std::string_view key, std::string_view value) = 0;

  // Replaces the value of an existing key. expectedRevision != 0: only if the key's modRevision
  // is still that (kConflict otherwise). kNotFound if absent. Returns the new modRevision.
  virtual Result<int64_t> update(std::string_view key, std::string_view value,
                                 int64_t expectedRevision) = 0;

  // Deletes `key`; expectedRevision as for update. kNotFound if absent.
  virtual Status remove(std::string_view key, int64_t expectedRevision) = 0;

  // Applies all operations or none. On failure the error names the first failing operation's
  // key, and its code is that operation's (kAlreadyExists, kNotFound, kConflict).
  // As in etcd, a key may appear at most once per transaction (kInvalid otherwise), and an empty
  // transaction writes nothing (it returns the current revision).
  virtual Result<TxnResult> txn(const std::vector<TxnOp>& ops) = 0;

  // Watches every key under `prefix` for changes with revision > `afterRevision`.
  // Pass the revision of a list() to see every change after that list exactly once.
  virtual Result<WatcherPtr> watch(std::string_view prefix, int64_t afterRevision) = 0;

  // The store's current revision.
  virtual Result<int64_t> currentRevision() = 0;
};
using ClientPtr = std::unique_ptr<Client>;

}  // namespace brindle::datastore
