// Syncer: lists, then watches, the datastore prefixes the agent needs (v3 resources and IPAM
// blocks) and turns key/value events into typed Updates. After a compaction it lists again and
// sends the difference, so the consumer always converges to the store's state.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "calc/update.h"
#include "common/result.h"
#include "datastore/client.h"

namespace brindle::calc {

class SyncerCallbacks {
 public:
  virtual ~SyncerCallbacks() = default;
  virtual void onUpdates(const std::vector<Update>& updates) = 0;
  // After the first complete list of every prefix has been delivered (once).
  virtual void onInSync() = 0;
};

class Syncer {
 public:
  // Prefixes watched by default: every v3 resource and the IPAM blocks.
  static std::vector<std::string> defaultPrefixes();

  Syncer(datastore::Client& client, SyncerCallbacks& out,
         std::vector<std::string> prefixes = defaultPrefixes());

  // Lists every prefix and starts the watches; sends the snapshot, then onInSync().
  Status start();
  // Waits up to `timeout` for changes and sends them. kCompacted is handled here (re-list);
  // kUnavailable is returned so the caller can log and call again.
  Status poll(std::chrono::milliseconds timeout);
  // Lists again and sends the difference from what was sent (also used after a compaction).
  Status resync();

  size_t knownKeys() const { return known_.size(); }
  // Values that could not be decoded (logged by the caller, skipped here).
  const std::vector<std::string>& decodeErrors() const { return decodeErrors_; }

 private:
  struct Watch {
    std::string prefix;
    datastore::WatcherPtr watcher;
  };
  Status listAndWatch(size_t index, std::vector<Update>& out);
  void handleEvent(const datastore::WatchEvent& ev, std::vector<Update>& out);
  // Sends the delete of `key` if it was sent before (what an undecodable value also becomes,
  // so a broken value never keeps stale rules alive).
  void handleDelete(const std::string& key, std::vector<Update>& out);
  // Builds the typed update for `key` = `value`; on failure says why in `error`. Pure, so it
  // may run on the helper thread.
  static bool decodeValue(const std::string& key, const std::string& value, UpdateType type,
                          Update& out, std::string& error);

  // What is kept per key instead of the value and its decoded resource (11k keys at the
  // benchmark's scale): a fingerprint to drop no-op updates. A delete is rebuilt from the key
  // (kind, namespace, name); only IPAM blocks, and resources whose key does not say who they
  // are, keep more on the side.
  struct Known {
    uint64_t valueHash = 0;
    uint64_t valueSize = 0;
  };
  struct Identity {
    model::Kind kind;
    std::string name;
    std::string ns;
  };
  // A listed value to decode, and what is kept for it once applied.
  struct Pending {
    datastore::KVPair* item;  // its value is freed once decoded
    Known known;
    UpdateType type;
  };
  struct Decoded {
    const Pending* item = nullptr;
    bool ok = false;
    Update update;
    std::string error;
  };
  // Decodes `pending` in slices on this thread and a helper thread, and calls `apply` on this
  // thread for each slice, in order; what `apply` returns (updates handed on) is destroyed off
  // this thread.
  using ApplySlice = std::function<std::vector<Update>(std::vector<Decoded>&)>;
  static void decodeInSlices(const std::vector<Pending>& pending, const ApplySlice& apply);
  // The listed values that differ from what was sent; every listed key into `present` if given.
  std::vector<Pending> changedItems(std::vector<datastore::KVPair>& items,
                                    std::unordered_set<std::string_view>* present) const;
  // Commits a decoded slice of a list in order, into `out`.
  void applySlice(std::vector<Decoded>& slice, std::vector<Update>& out);
  // Deletes the keys under `prefix` that a list no longer has.
  void sweepGone(const std::string& prefix, const std::unordered_set<std::string_view>& present,
                 std::vector<Update>& out);
  // The fingerprint of `value`, or nullopt if it is what was last sent for `key`; `type`: new?
  std::optional<Known> changed(const std::string& key, const std::string& value,
                               UpdateType& type) const;
  // True if `key` names `r` (kind, namespace, name), so a delete can be rebuilt from the key.
  static bool keyNames(const std::string& key, const model::Resource& r);
  // Records `u` as the last value of `key` and queues it.
  void commit(const std::string& key, Known k, Update u, std::vector<Update>& out);
  static uint64_t hashValue(const std::string& value);
  Update deletionOf(const std::string& key) const;

  datastore::Client& client_;
  SyncerCallbacks& out_;
  std::vector<Watch> watches_;
  std::unordered_map<std::string, Known> known_;  // key -> what was last sent
  std::unordered_map<std::string, BlockUpdate> blocks_;
  std::unordered_map<std::string, Identity> irregular_;
  std::vector<std::string> decodeErrors_;
  bool inSync_ = false;
};

}  // namespace brindle::calc
