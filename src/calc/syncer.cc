// Syncer: list + watch + re-list on compaction; see syncer.h.
#include "calc/syncer.h"

#include <algorithm>
#include <functional>
#include <string_view>
#include <unordered_set>

#include "calc/inputs.h"
#include "ipam/block.h"
#include "model/kinds.h"

namespace brindle::calc {

std::vector<std::string> Syncer::defaultPrefixes() {
  return {std::string(model::kKeyRoot), ipam::kBlockPrefix};
}

namespace {
constexpr size_t kSnapshotSlice = 256;
}  // namespace

Syncer::Syncer(datastore::Client& client, SyncerCallbacks& out, std::vector<std::string> prefixes)
    : client_(client), out_(out) {
  for (auto& p : prefixes) watches_.push_back(Watch{std::move(p), nullptr});
}

bool Syncer::decode(const std::string& key, const std::string& value, UpdateType type,
                    Update& out) {
  out.type = type;
  out.key = key;
  out.resource.reset();
  out.block.reset();
  if (key.rfind(ipam::kBlockPrefix, 0) == 0) {
    auto b = ipam::Block::decode(value);
    if (!b) {
      decodeErrors_.push_back(key + ": " + b.message());
      return false;
    }
    out.block = BlockUpdate{b->cidr(), b->affinity().value_or("")};
    return true;
  }
  try {
    auto r = model::resourceFromJson(model::Json::parse(value));
    if (!r) {
      decodeErrors_.push_back(key + ": " + r.message());
      return false;
    }
    out.resource = std::move(*r);
    return true;
  } catch (const std::exception& e) {
    decodeErrors_.push_back(key + ": " + e.what());
    return false;
  }
}

uint64_t Syncer::hashValue(const std::string& value) {
  return std::hash<std::string_view>{}(value);
}

Update Syncer::deletionOf(const std::string& key) const {
  // The last known value as far as consumers use it on a delete: the kind and the name.
  Update u;
  u.type = UpdateType::kDeleted;
  u.key = key;
  if (auto b = blocks_.find(key); b != blocks_.end()) {
    u.block = b->second;
    return u;
  }
  model::Resource r;
  if (auto i = irregular_.find(key); i != irregular_.end()) {
    r.kind = i->second.kind;
    r.metadata["name"] = i->second.name;
    if (!i->second.ns.empty()) r.metadata["namespace"] = i->second.ns;
  } else if (auto parts = parseResourceKey(key)) {
    r.kind = parts->kind;
    r.metadata["name"] = std::string(parts->name);
    if (!parts->ns.empty()) r.metadata["namespace"] = std::string(parts->ns);
  }
  u.resource = std::move(r);
  return u;
}

void Syncer::handleEvent(const datastore::WatchEvent& ev, std::vector<Update>& out) {
  if (ev.type == datastore::EventType::kDeleted) {
    auto last = known_.find(ev.key);
    if (last == known_.end()) return;
    out.push_back(deletionOf(ev.key));
    known_.erase(last);
    blocks_.erase(ev.key);
    irregular_.erase(ev.key);
    return;
  }
  const uint64_t hash = hashValue(ev.value);
  auto old = known_.find(ev.key);
  if (old != known_.end() && old->second.valueHash == hash &&
      old->second.valueSize == ev.value.size()) {
    return;
  }
  Update u;
  UpdateType type = old == known_.end() ? UpdateType::kAdded : UpdateType::kUpdated;
  if (!decode(ev.key, ev.value, type, u)) {
    // Undecodable: behave as deleted, so a broken value never keeps stale rules alive.
    datastore::WatchEvent del{datastore::EventType::kDeleted, ev.key, "", "", ev.revision};
    handleEvent(del, out);
    return;
  }
  Known k{hash, ev.value.size()};
  if (u.block) {
    blocks_[ev.key] = *u.block;
  } else {
    blocks_.erase(ev.key);
  }
  irregular_.erase(ev.key);
  if (u.resource) {
    auto parts = parseResourceKey(ev.key);
    std::string name = u.resource->name(), ns = u.resource->ns();
    if (!model::kindInfo(u.resource->kind).namespaced) ns.clear();
    if (!parts || parts->kind != u.resource->kind || parts->name != name || parts->ns != ns) {
      irregular_[ev.key] = Identity{u.resource->kind, std::move(name), std::move(ns)};
    }
  }
  if (old != known_.end()) {
    old->second = k;
  } else {
    known_.emplace(ev.key, k);
  }
  out.push_back(std::move(u));
}

Status Syncer::listAndWatch(size_t index, std::vector<Update>& out) {
  Watch& w = watches_[index];
  auto list = client_.list(w.prefix);
  if (!list) return list.status();
  std::unordered_set<std::string_view> present;  // views of list->items' keys
  present.reserve(list->items.size());
  for (auto& kv : list->items) {
    present.insert(kv.key);
    handleEvent(datastore::WatchEvent{datastore::EventType::kAdded, kv.key, std::move(kv.value), "",
                                      kv.modRevision},
                out);
    // Hand the snapshot on in slices: decoded resources are large and short-lived, and a whole
    // snapshot of them at once fragments the heap under the long-lived state (RSS stays high).
    if (out.size() >= kSnapshotSlice) {
      out_.onUpdates(out);
      out.clear();
    }
  }
  // Keys under this prefix that vanished while we were not watching.
  std::vector<std::string> gone;
  for (const auto& [key, k] : known_) {
    if (key.rfind(w.prefix, 0) == 0 && !present.count(key)) gone.push_back(key);
  }
  std::sort(gone.begin(), gone.end());
  for (const auto& key : gone) {
    handleEvent(datastore::WatchEvent{datastore::EventType::kDeleted, key, "", "", 0}, out);
  }
  auto watcher = client_.watch(w.prefix, list->revision);
  if (!watcher) return watcher.status();
  w.watcher = std::move(*watcher);
  return Status::ok();
}

Status Syncer::start() { return resync(); }

Status Syncer::resync() {
  std::vector<Update> updates;
  for (size_t i = 0; i < watches_.size(); ++i) {
    if (Status s = listAndWatch(i, updates); !s) {
      if (!updates.empty()) out_.onUpdates(updates);
      return s;
    }
  }
  if (!updates.empty()) out_.onUpdates(updates);
  if (!inSync_) {
    inSync_ = true;
    out_.onInSync();
  }
  return Status::ok();
}

Status Syncer::poll(std::chrono::milliseconds timeout) {
  std::vector<Update> updates;
  // The first watch waits; the others are drained without waiting.
  for (size_t i = 0; i < watches_.size(); ++i) {
    if (!watches_[i].watcher) {
      if (Status s = listAndWatch(i, updates); !s) return s;
      continue;
    }
    auto events = watches_[i].watcher->next(i == 0 ? timeout : std::chrono::milliseconds(0));
    if (!events) {
      if (events.code() == ErrorCode::kCompacted) {
        if (Status s = listAndWatch(i, updates); !s) return s;
        continue;
      }
      if (!updates.empty()) out_.onUpdates(updates);
      return events.status();
    }
    for (const auto& ev : *events) handleEvent(ev, updates);
  }
  if (!updates.empty()) out_.onUpdates(updates);
  return Status::ok();
}

}  // namespace brindle::calc
