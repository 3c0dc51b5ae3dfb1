// The embedded datastore: a brindle::datastore::Client over a local SQLite file that several
// processes can read, write and watch at once, with etcd-like revisions and no server.
//
// Design:
// - Tables: kv(key, value, create_rev, mod_rev), events(rev, seq, key, type, value, prev_value)
//   holding the recent history watchers read, and one meta row with the store's revision and the
//   compacted revision (every event with rev <= compacted has been pruned).
// - WAL mode; every write is one BEGIN IMMEDIATE transaction, so writers in different processes
//   serialise on SQLite's write lock (waiting up to busyTimeout) while readers never block.
// - Each successful create/update/remove/txn raises the revision by exactly one; a transaction's
//   events all carry its revision, in op order. Failed writes change nothing.
// - Watchers own a separate connection and poll PRAGMA data_version (a few microseconds) every
//   watchPollInterval; only when another connection committed do they read events newer than
//   their position. A watcher whose next revision was pruned gets kCompacted.
//
// Thread safety: a Client may be shared between threads (its calls serialise on an internal
// mutex); for parallel throughput give each thread its own Client. A Watcher is used by one
// thread at a time; it has its own connection and may outlive the Client that made it. Neither
// may be used in a child process after fork(): open a new one there.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/result.h"
#include "datastore/client.h"

namespace brindle::datastore {

struct LocalStoreOptions {
  // Revisions of history kept for watchers (at least this many; pruning runs in the write path
  // once an eighth more has accumulated, so the cost is amortised). A watcher further behind gets
  // kCompacted. Applies to writes made through this client.
  int64_t historyRevisions = 10000;
  // How long a write waits for another process's write lock before failing with kUnavailable.
  std::chrono::milliseconds busyTimeout{10000};
  // How often a waiting Watcher checks for commits by other connections.
  std::chrono::milliseconds watchPollInterval{2};
  // Most revisions a Watcher reads per next() call, to bound the memory of a catching-up watcher.
  int64_t watchBatchRevisions = 1000;
  // fsync every commit (PRAGMA synchronous=FULL). Off: commits survive a process crash but the
  // last ones may be lost on power failure; the file is consistent either way.
  bool syncEveryCommit = false;
  // Off: a missing file opens as an empty store in memory instead of a new file, for readers
  // that must not leave a store behind where they only looked (writes to it are not kept).
  bool createIfMissing = true;
};

// Opens (creating if missing, with its parent directories, mode 0700, unless
// options.createIfMissing is off) the store at `path`.
// kUnavailable naming the path if the file cannot be opened or is not a store; kInvalid for bad
// options.
Result<ClientPtr> openLocalStore(const std::string& path, LocalStoreOptions options = {});

}  // namespace brindle::datastore
