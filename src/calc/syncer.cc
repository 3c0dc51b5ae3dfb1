// Syncer: list + watch + re-list on compaction; see syncer.h.
#include "calc/syncer.h"

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>

#include "calc/inputs.h"
#include "model/ipam_block.h"
#include "model/kinds.h"
#include "model/resource.h"

namespace brindle::calc {

std::vector<std::string> Syncer::defaultPrefixes() {
  return {std::string(model::kKeyRoot), model::kIpamBlockPrefix};
}

namespace {
constexpr size_t kSnapshotSlice = 256;
}  // namespace

Syncer::Syncer(datastore::Client& client, SyncerCallbacks& out, std::vector<std::string> prefixes)
    : client_(client), out_(out) {
  for (auto& p : prefixes) watches_.push_back(Watch{std::move(p), nullptr});
}

bool Syncer::decodeValue(const std::string& key, const std::string& value, UpdateType type,
                         Update& out, std::string& error) {
  out.type = type;
  out.key = key;
  out.resource.reset();
  out.block.reset();
  if (key.rfind(model::kIpamBlockPrefix, 0) == 0) {
    auto b = model::IpamBlockView::decode(value);
    if (!b) {
      error = b.message();
      return false;
    }
    out.block = BlockUpdate{b->cidr(), b->affinity().value_or("")};
    return true;
  }
  auto r = model::readStoredResource(value);
  if (!r) {
    error = r.message();
    return false;
  }
  if (auto parts = parseResourceKey(key); parts && parts->kind != r->kind) {
    error = "holds a " + std::string(model::kindInfo(r->kind).name) + ", not the " +
            std::string(model::kindInfo(parts->kind).name) + " its key names";
    return false;
  }
  out.resource = std::move(*r);
  return true;
}

namespace {
// The delete of a key nothing was sent for (its value was bad): no resource, no block.
Update bareDelete(const std::string& key) {
  Update u;
  u.type = UpdateType::kDeleted;
  u.key = key;
  return u;
}
}  // namespace

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

std::optional<Syncer::Known> Syncer::changed(const std::string& key, const std::string& value,
                                             UpdateType& type) const {
  const Known k{hashValue(value), value.size()};
  auto same = [&](const auto& map) {
    auto old = map.find(key);
    return old != map.end() && old->second.valueHash == k.valueHash &&
           old->second.valueSize == k.valueSize;
  };
  type = known_.count(key) ? UpdateType::kUpdated : UpdateType::kAdded;
  if (same(known_) || (!bad_.empty() && same(bad_))) return std::nullopt;
  return k;
}

void Syncer::handleDelete(const std::string& key, std::vector<Update>& out) {
  auto last = known_.find(key);
  if (last == known_.end()) {
    // A bad value going away: consumers hear of it (nothing was sent for its key).
    if (!bad_.empty() && bad_.erase(key)) out.push_back(bareDelete(key));
    return;
  }
  out.push_back(deletionOf(key));
  known_.erase(last);
  blocks_.erase(key);
  irregular_.erase(key);
}

void Syncer::handleBad(const std::string& key, Known k, const std::string& why,
                       std::vector<Update>& out) {
  if (known_.count(key)) handleDelete(key, out);
  bad_.insert_or_assign(key, k);
  out_.onBadValue(key, why);
}

void Syncer::handleEvent(const datastore::WatchEvent& ev, std::vector<Update>& out) {
  if (ev.type == datastore::EventType::kDeleted) return handleDelete(ev.key, out);
  UpdateType type;
  auto k = changed(ev.key, ev.value, type);
  if (!k) return;
  Update u;
  std::string error;
  if (!decodeValue(ev.key, ev.value, type, u, error)) {
    return handleBad(ev.key, *k, error, out);
  }
  commit(ev.key, *k, std::move(u), out);
}

namespace {
// The string member `field` of `obj`, or nullopt if absent or not a string.
std::optional<std::string_view> stringField(const model::Json& obj, const char* field) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(field);
  if (it == obj.end() || !it->is_string()) return std::nullopt;
  return std::string_view(it->get_ref<const std::string&>());
}
}  // namespace

bool Syncer::keyNames(const std::string& key, const model::Resource& r) {
  auto parts = parseResourceKey(key);
  if (!parts || parts->kind != r.kind) return false;
  auto name = stringField(r.metadata, "name");
  if (!name || *name != parts->name) return false;
  if (!model::kindInfo(r.kind).namespaced) return true;  // its namespace is not in the key
  auto ns = stringField(r.metadata, "namespace");
  return ns ? *ns == parts->ns : parts->ns.empty() && !r.metadata.contains("namespace");
}

void Syncer::commit(const std::string& key, Known k, Update u, std::vector<Update>& out) {
  if (u.block) {
    blocks_[key] = *u.block;
  } else if (!blocks_.empty()) {
    blocks_.erase(key);
  }
  if (!irregular_.empty()) irregular_.erase(key);
  if (!bad_.empty()) bad_.erase(key);
  if (u.resource && !keyNames(key, *u.resource)) {
    std::string name = u.resource->name(), ns = u.resource->ns();
    if (!model::kindInfo(u.resource->kind).namespaced) ns.clear();
    irregular_[key] = Identity{u.resource->kind, std::move(name), std::move(ns)};
  }
  known_.insert_or_assign(key, k);
  out.push_back(std::move(u));
}

void Syncer::decodeInSlices(const std::vector<Pending>& pending, const ApplySlice& apply) {
  const size_t slices = (pending.size() + kSnapshotSlice - 1) / kSnapshotSlice;
  std::vector<std::vector<Decoded>> decoded(slices);
  auto decodeSlice = [&](size_t s) {
    const size_t end = std::min(pending.size(), (s + 1) * kSnapshotSlice);
    decoded[s].reserve(end - s * kSnapshotSlice);
    for (size_t i = s * kSnapshotSlice; i < end; ++i) {
      Decoded d;
      d.item = &pending[i];
      d.ok = decodeValue(pending[i].item->key, pending[i].item->value, pending[i].type, d.update,
                         d.error);
      std::string().swap(pending[i].item->value);
      decoded[s].push_back(std::move(d));
    }
  };
  if (slices < 2) {
    for (size_t s = 0; s < slices; ++s) {
      decodeSlice(s);
      apply(decoded[s]);
    }
    return;
  }
  // Slices are claimed in order by whichever thread gets there first; the helper stays at most
  // kDecodeAhead slices ahead of the one being applied, bounding what is held decoded. It also
  // destroys what was handed on (freeing decoded values is a good part of their cost).
  constexpr size_t kDecodeAhead = 2;
  std::mutex mu;
  std::condition_variable cv;
  size_t nextClaim = 0, applying = 0;
  std::vector<char> done(slices, 0);
  std::vector<std::vector<Update>> retired;
  std::thread helper([&] {
    std::unique_lock lock(mu);
    while (true) {
      cv.wait(lock, [&] {
        return !retired.empty() || applying >= slices ||
               (nextClaim < slices && nextClaim < applying + kDecodeAhead);
      });
      if (!retired.empty()) {
        std::vector<std::vector<Update>> batch = std::move(retired);
        retired.clear();
        lock.unlock();
        batch.clear();
        lock.lock();
        continue;
      }
      if (nextClaim >= slices) {
        if (applying >= slices) return;
        continue;
      }
      const size_t s = nextClaim++;
      lock.unlock();
      decodeSlice(s);
      lock.lock();
      done[s] = 1;
      cv.notify_all();
    }
  });
  for (size_t s = 0; s < slices; ++s) {
    {
      std::unique_lock lock(mu);
      applying = s;
      if (nextClaim <= s) {
        nextClaim = s + 1;
        lock.unlock();
        decodeSlice(s);
        lock.lock();
        done[s] = 1;
      } else {
        cv.wait(lock, [&] { return done[s] != 0; });
      }
      cv.notify_all();
    }
    std::vector<Update> handedOn = apply(decoded[s]);
    if (!handedOn.empty()) {
      std::unique_lock lock(mu);
      if (retired.size() < kDecodeAhead) {  // else the helper lags: keep nothing piling up
        retired.push_back(std::move(handedOn));
        cv.notify_all();
      }
      lock.unlock();
      handedOn.clear();
    }
  }
  {
    std::lock_guard lock(mu);
    applying = slices;
  }
  cv.notify_all();
  helper.join();
}

std::vector<Syncer::Pending> Syncer::changedItems(
    std::vector<datastore::KVPair>& items, std::unordered_set<std::string_view>* present) const {
  if (present) present->reserve(items.size());
  std::vector<Pending> pending;
  pending.reserve(items.size());
  for (auto& kv : items) {
    if (present) present->insert(kv.key);
    UpdateType type;
    if (auto k = changed(kv.key, kv.value, type)) pending.push_back(Pending{&kv, *k, type});
  }
  return pending;
}

void Syncer::applySlice(std::vector<Decoded>& slice, std::vector<Update>& out) {
  for (auto& d : slice) {
    const std::string& key = d.item->item->key;
    if (d.ok) {
      commit(key, d.item->known, std::move(d.update), out);
    } else {
      handleBad(key, d.item->known, d.error, out);
    }
  }
  slice.clear();
}

void Syncer::sweepGone(const std::string& prefix,
                       const std::unordered_set<std::string_view>& present,
                       std::vector<Update>& out) {
  std::vector<std::string> gone;
  for (const auto* keys : {&known_, &bad_}) {
    for (const auto& [key, k] : *keys) {
      if (key.rfind(prefix, 0) == 0 && !present.count(key)) gone.push_back(key);
    }
  }
  std::sort(gone.begin(), gone.end());
  for (const auto& key : gone) handleDelete(key, out);
}

Status Syncer::listAndWatch(size_t index, std::vector<Update>& out) {
  Watch& w = watches_[index];
  auto list = client_.list(w.prefix);
  if (!list) return list.status();
  // Keys known from before that this list no longer has are deleted below; the first list of a
  // syncer knows nothing yet, so it need not remember what it saw.
  const bool mayHaveGone = !known_.empty() || !bad_.empty();
  std::unordered_set<std::string_view> present;  // views of list->items' keys
  known_.reserve(known_.size() + list->items.size());
  std::vector<Pending> pending = changedItems(list->items, mayHaveGone ? &present : nullptr);
  // Decode them in slices, a helper thread working ahead of this one, which applies each slice
  // in order and hands it on (the consumer sees the same calls, on this thread, as if serial).
  // Slices: decoded resources are large and short-lived, and a whole snapshot of them at once
  // fragments the heap under the long-lived state (RSS stays high).
  decodeInSlices(pending, [&](std::vector<Decoded>& slice) -> std::vector<Update> {
    applySlice(slice, out);
    if (out.size() < kSnapshotSlice) return {};
    out_.onUpdates(out);
    return std::exchange(out, std::vector<Update>());
  });
  if (mayHaveGone) sweepGone(w.prefix, present, out);
  BRINDLE_ASSIGN_OR_RETURN(w.watcher, client_.watch(w.prefix, list->revision));
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
