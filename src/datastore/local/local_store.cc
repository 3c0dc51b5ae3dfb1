// The embedded SQLite datastore: schema, the revisioned write path with history pruning, reads,
// and polling watchers. See local_store.h for the design and thread-safety notes.
#include "datastore/local/local_store.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_set>
#include <utility>

#include "datastore/local/sqlite_db.h"

namespace brindle::datastore {

namespace {

using local::Db;
using local::DbOptions;
using local::Statement;

constexpr int64_t kSchemaVersion = 1;

// Keys are TEXT compared with the BINARY collation (memcmp), so a prefix is the half-open range
// [prefix, prefixEnd(prefix)) and list/watch use the primary-key index.
constexpr const char* kSchema[] = {
    "CREATE TABLE IF NOT EXISTS kv ("
    " key TEXT PRIMARY KEY NOT NULL,"
    " value BLOB NOT NULL,"
    " create_rev INTEGER NOT NULL,"
    " mod_rev INTEGER NOT NULL) WITHOUT ROWID",
    // One row per changed key per revision; seq orders the ops of one transaction.
    "CREATE TABLE IF NOT EXISTS events ("
    " rev INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " key TEXT NOT NULL,"
    " type INTEGER NOT NULL,"
    " value BLOB NOT NULL,"
    " prev_value BLOB NOT NULL,"
    " PRIMARY KEY (rev, seq)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS meta ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " revision INTEGER NOT NULL,"
    " compacted INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO meta (id, revision, compacted) VALUES (1, 0, 0)",
    "PRAGMA user_version = 1",
};

constexpr const char* kSqlReadMeta = "SELECT revision, compacted FROM meta WHERE id = 1";
constexpr const char* kSqlWriteMeta = "UPDATE meta SET revision = ?1, compacted = ?2 WHERE id = 1";
constexpr const char* kSqlGet = "SELECT value, create_rev, mod_rev FROM kv WHERE key = ?1";
constexpr const char* kSqlInsert =
    "INSERT INTO kv (key, value, create_rev, mod_rev) VALUES (?1, ?2, ?3, ?3)";
constexpr const char* kSqlUpdate = "UPDATE kv SET value = ?2, mod_rev = ?3 WHERE key = ?1";
constexpr const char* kSqlDelete = "DELETE FROM kv WHERE key = ?1";
constexpr const char* kSqlInsertEvent =
    "INSERT INTO events (rev, seq, key, type, value, prev_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* kSqlPrune = "DELETE FROM events WHERE rev <= ?1";
constexpr const char* kSqlListRange =
    "SELECT key, value, create_rev, mod_rev FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key";
constexpr const char* kSqlListFrom =
    "SELECT key, value, create_rev, mod_rev FROM kv WHERE key >= ?1 ORDER BY key";
constexpr const char* kSqlEventsRange =
    "SELECT rev, key, type, value, prev_value FROM events WHERE rev > ?1 AND rev <= ?2"
    " AND key >= ?3 AND key < ?4 ORDER BY rev, seq";
constexpr const char* kSqlEventsFrom =
    "SELECT rev, key, type, value, prev_value FROM events WHERE rev > ?1 AND rev <= ?2"
    " AND key >= ?3 ORDER BY rev, seq";

// Stored event types (persisted: never renumber).
constexpr int64_t kStoredAdded = 0;
constexpr int64_t kStoredUpdated = 1;
constexpr int64_t kStoredDeleted = 2;

EventType eventTypeOf(int64_t stored) {
  switch (stored) {
    case kStoredAdded:
      return EventType::kAdded;
    case kStoredUpdated:
      return EventType::kUpdated;
    default:
      return EventType::kDeleted;
  }
}

// The smallest string greater than every string starting with `prefix`; none if the prefix is
// empty or all 0xff bytes (then the range is unbounded above).
std::optional<std::string> prefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::nullopt;
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

// mkdir -p with mode 0700 for the directories above `path`.
Status makeParentDirs(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return Status::ok();
  std::filesystem::path current;
  for (const auto& part : parent) {
    current /= part;
    if (::mkdir(current.c_str(), 0700) != 0 && errno != EEXIST) {
      return makeError(ErrorCode::kUnavailable,
                       fmt::format("cannot open datastore {}: cannot create directory {}: {}", path,
                                   current.string(), std::strerror(errno)));
    }
  }
  return Status::ok();
}

// Rolls back an open transaction unless commit() succeeded.
class TxnGuard {
 public:
  explicit TxnGuard(Db& db) : db_(db) {}
  ~TxnGuard() {
    if (!done_) (void)db_.run("ROLLBACK");
  }
  Status commit() {
    Status s = db_.run("COMMIT");
    done_ = s.isOk();
    return s;
  }

 private:
  Db& db_;
  bool done_ = false;
};

struct Meta {
  int64_t revision = 0;
  int64_t compacted = 0;
};

Result<Meta> readMeta(Db& db) {
  BRINDLE_ASSIGN_OR_RETURN(auto stmt, db.statement(kSqlReadMeta));
  int rc = stmt.step();
  if (rc != SQLITE_ROW) {
    if (rc == SQLITE_DONE) {
      return makeError(ErrorCode::kInternal,
                       fmt::format("datastore {}: meta row missing", db.path()));
    }
    return db.error(rc, "read revision");
  }
  return Meta{stmt.columnInt(0), stmt.columnInt(1)};
}

DbOptions dbOptions(const LocalStoreOptions& options) {
  return DbOptions{options.busyTimeout, options.syncEveryCommit};
}

Status initSchema(Db& db) {
  auto version = [&db]() -> Result<int64_t> {
    BRINDLE_ASSIGN_OR_RETURN(auto stmt, db.statement("PRAGMA user_version"));
    int rc = stmt.step();
    if (rc != SQLITE_ROW) return db.error(rc, "read schema version");
    return stmt.columnInt(0);
  };
  auto current = version();
  if (!current) return current.error();
  if (*current == kSchemaVersion) return Status::ok();
  if (*current == 0) {
    // Another process may be creating the schema right now: decide under the write lock.
    if (Status s = db.run("BEGIN IMMEDIATE"); !s) return s;
    TxnGuard guard(db);
    current = version();
    if (!current) return current.error();
    if (*current == 0) {
      for (const char* sql : kSchema) {
        if (Status s = db.run(sql); !s) return s;
      }
    }
    if (Status s = guard.commit(); !s) return s;
    current = version();
    if (!current) return current.error();
  }
  if (*current != kSchemaVersion) {
    return makeError(ErrorCode::kUnavailable,
                     fmt::format("cannot open datastore {}: schema version {}, this build knows {}",
                                 db.path(), *current, kSchemaVersion));
  }
  return Status::ok();
}

class LocalWatcher final : public Watcher {
 public:
  LocalWatcher(std::unique_ptr<Db> db, std::string prefix, int64_t afterRevision,
               const LocalStoreOptions& options)
      : db_(std::move(db)),
        prefix_(std::move(prefix)),
        prefixEnd_(prefixEnd(prefix_)),
        options_(options),
        scanned_(afterRevision),
        revision_(afterRevision) {}

  Result<std::vector<WatchEvent>> next(std::chrono::milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      // data_version changes only when another connection commits; reading it first and the
      // events second means a commit in between is read now and signalled again next time.
      BRINDLE_ASSIGN_OR_RETURN(auto version, dataVersion());
      if (!primed_ || version != dataVersion_ || behind_) {
        auto events = readEvents();
        // On failure stay unprimed, so the next call reads again even if nothing new commits.
        if (!events) return events.error();
        primed_ = true;
        dataVersion_ = version;
        if (!events->empty()) return events;
        if (behind_) continue;
      }
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return std::vector<WatchEvent>{};
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          options_.watchPollInterval, deadline - now));
    }
  }

  int64_t revision() const override { return revision_; }

 private:
  Result<int64_t> dataVersion() {
    BRINDLE_ASSIGN_OR_RETURN(auto stmt, db_->statement("PRAGMA data_version"));
    int rc = stmt.step();
    if (rc != SQLITE_ROW) return db_->error(rc, "watch: read data_version");
    return stmt.columnInt(0);
  }

  // Reads, in one snapshot, the events after scanned_ (at most watchBatchRevisions revisions).
  Result<std::vector<WatchEvent>> readEvents() {
    if (Status s = db_->run("BEGIN"); !s) return s.error();
    TxnGuard guard(*db_);
    BRINDLE_ASSIGN_OR_RETURN(auto meta, readMeta(*db_));
    if (meta.compacted > scanned_) {
      return makeError(ErrorCode::kCompacted,
                       fmt::format("watch {}: needs history after revision {} but the store "
                                   "kept only revisions after {}; list again and watch from the "
                                   "list's revision",
                                   prefix_, scanned_, meta.compacted));
    }
    int64_t upper = std::min(meta.revision, scanned_ + options_.watchBatchRevisions);
    std::vector<WatchEvent> events;
    if (upper > scanned_) {
      BRINDLE_ASSIGN_OR_RETURN(auto stmt,
                               db_->statement(prefixEnd_ ? kSqlEventsRange : kSqlEventsFrom));
      stmt.bindInt(1, scanned_);
      stmt.bindInt(2, upper);
      stmt.bindText(3, prefix_);
      if (prefixEnd_) stmt.bindText(4, *prefixEnd_);
      int rc;
      while ((rc = stmt.step()) == SQLITE_ROW) {
        WatchEvent& event = events.emplace_back();
        event.revision = stmt.columnInt(0);
        event.key = stmt.columnString(1);
        event.type = eventTypeOf(stmt.columnInt(2));
        event.value = stmt.columnString(3);
        event.prevValue = stmt.columnString(4);
      }
      if (rc != SQLITE_DONE) return db_->error(rc, fmt::format("watch {}: read events", prefix_));
    }
    if (Status s = guard.commit(); !s) return s.error();
    scanned_ = std::max(scanned_, upper);
    behind_ = upper < meta.revision;
    if (!events.empty()) revision_ = events.back().revision;
    return events;
  }

  std::unique_ptr<Db> db_;
  std::string prefix_;
  std::optional<std::string> prefixEnd_;
  LocalStoreOptions options_;
  int64_t scanned_;   // every revision <= scanned_ has been read (matching or not)
  int64_t revision_;  // last delivered event's revision
  int64_t dataVersion_ = 0;
  bool primed_ = false;  // read at least once (data_version alone says nothing the first time)
  bool behind_ = false;  // the last read stopped at the batch limit, more is waiting
};

// One write operation, borrowing its strings.
struct Op {
  TxnOp::Type type;
  std::string_view key;
  std::string_view value;
  int64_t expectedRevision;
};

class LocalClient final : public Client {
 public:
  LocalClient(std::unique_ptr<Db> db, const LocalStoreOptions& options)
      : db_(std::move(db)), options_(options) {}

  Result<KVPair> get(std::string_view key) override {
    std::lock_guard lock(mu_);
    BRINDLE_ASSIGN_OR_RETURN(auto stmt, db_->statement(kSqlGet));
    stmt.bindText(1, key);
    int rc = stmt.step();
    if (rc == SQLITE_DONE) {
      return makeError(ErrorCode::kNotFound, fmt::format("get {}: not found", key));
    }
    if (rc != SQLITE_ROW) return db_->error(rc, fmt::format("get {}", key));
    return KVPair{std::string(key), stmt.columnString(0), stmt.columnInt(2), stmt.columnInt(1)};
  }

  Result<ListResult> list(std::string_view prefix) override {
    std::lock_guard lock(mu_);
    // One read transaction: the items and the revision come from the same snapshot.
    if (Status s = db_->run("BEGIN"); !s) return s.error();
    TxnGuard guard(*db_);
    BRINDLE_ASSIGN_OR_RETURN(auto meta, readMeta(*db_));
    std::optional<std::string> end = prefixEnd(prefix);
    BRINDLE_ASSIGN_OR_RETURN(auto stmt, db_->statement(end ? kSqlListRange : kSqlListFrom));
    stmt.bindText(1, prefix);
    if (end) stmt.bindText(2, *end);
    ListResult result;
    result.revision = meta.revision;
    int rc;
    while ((rc = stmt.step()) == SQLITE_ROW) {
      result.items.push_back(
          KVPair{stmt.columnString(0), stmt.columnString(1), stmt.columnInt(3), stmt.columnInt(2)});
    }
    if (rc != SQLITE_DONE) return db_->error(rc, fmt::format("list {}", prefix));
    if (Status s = guard.commit(); !s) return s.error();
    // A list reads every page of its range once; kept in the page cache, those pages would hold
    // up to its size (2 MB) in every long-lived client (the agent) for no later hit.
    db_->releaseCache();
    return result;
  }

  Result<int64_t> create(std::string_view key, std::string_view value) override {
    Op op{TxnOp::Type::kCreate, key, value, 0};
    return write(std::span(&op, 1), false);
  }

  Result<int64_t> update(std::string_view key, std::string_view value,
                         int64_t expectedRevision) override {
    Op op{TxnOp::Type::kUpdate, key, value, expectedRevision};
    return write(std::span(&op, 1), false);
  }

  Status remove(std::string_view key, int64_t expectedRevision) override {
    Op op{TxnOp::Type::kDelete, key, {}, expectedRevision};
    return write(std::span(&op, 1), false).status();
  }

  Result<TxnResult> txn(const std::vector<TxnOp>& ops) override {
    if (ops.empty()) {
      // Nothing to apply: no new revision, as in etcd.
      BRINDLE_ASSIGN_OR_RETURN(auto revision, currentRevision());
      return TxnResult{revision};
    }
    std::vector<Op> views;
    views.reserve(ops.size());
    for (const TxnOp& op : ops) views.push_back(Op{op.type, op.key, op.value, op.expectedRevision});
    BRINDLE_ASSIGN_OR_RETURN(auto revision, write(views, true));
    return TxnResult{revision};
  }

  Result<WatcherPtr> watch(std::string_view prefix, int64_t afterRevision) override {
    if (afterRevision < 0) {
      return makeError(ErrorCode::kInvalid,
                       fmt::format("watch {}: negative revision {}", prefix, afterRevision));
    }
    // Watchers poll on their own connection so that this client's commits change the
    // watcher's data_version, and so a watcher can run on another thread.
    BRINDLE_ASSIGN_OR_RETURN(auto db, Db::open(db_->path(), dbOptions(options_)));
    return WatcherPtr(std::make_unique<LocalWatcher>(std::move(db), std::string(prefix),
                                                     afterRevision, options_));
  }

  Result<int64_t> currentRevision() override {
    std::lock_guard lock(mu_);
    BRINDLE_ASSIGN_OR_RETURN(auto meta, readMeta(*db_));
    return meta.revision;
  }

 private:
  static Error opError(ErrorCode code, const Op& op, size_t index, bool inTxn,
                       std::string_view detail) {
    if (inTxn) {
      return makeError(
          code, fmt::format("txn op {} ({} {}): {}", index, txnOpName(op.type), op.key, detail));
    }
    return makeError(code, fmt::format("{} {}: {}", txnOpName(op.type), op.key, detail));
  }

  static Status validate(std::span<const Op> ops, bool inTxn) {
    std::unordered_set<std::string_view> seen;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].key.empty()) return opError(ErrorCode::kInvalid, ops[i], i, inTxn, "empty key");
      // As in etcd: a key appears at most once per transaction.
      if (ops.size() > 1 && !seen.insert(ops[i].key).second) {
        return opError(ErrorCode::kInvalid, ops[i], i, inTxn, "key repeated in transaction");
      }
    }
    return Status::ok();
  }

  // Applies `ops` in one SQLite transaction at one new revision, or nothing. Returns the revision.
  Result<int64_t> write(std::span<const Op> ops, bool inTxn) {
    if (Status s = validate(ops, inTxn); !s) return s.error();
    std::lock_guard lock(mu_);
    if (Status s = db_->run("BEGIN IMMEDIATE"); !s) return s.error();
    TxnGuard guard(*db_);
    BRINDLE_ASSIGN_OR_RETURN(auto meta, readMeta(*db_));
    const int64_t revision = meta.revision + 1;

    for (size_t i = 0; i < ops.size(); ++i) {
      const Op& op = ops[i];
      bool exists = false;
      int64_t modRevision = 0;
      std::string prevValue;
      {
        BRINDLE_ASSIGN_OR_RETURN(auto stmt, db_->statement(kSqlGet));
        stmt.bindText(1, op.key);
        int rc = stmt.step();
        if (rc == SQLITE_ROW) {
          exists = true;
          prevValue = stmt.columnString(0);
          modRevision = stmt.columnInt(2);
        } else if (rc != SQLITE_DONE) {
          return db_->error(rc, fmt::format("{} {}", txnOpName(op.type), op.key));
        }
      }
      switch (op.type) {
        case TxnOp::Type::kCreate:
          if (exists) return opError(ErrorCode::kAlreadyExists, op, i, inTxn, "already exists");
          break;
        case TxnOp::Type::kUpdate:
        case TxnOp::Type::kDelete:
          if (!exists) return opError(ErrorCode::kNotFound, op, i, inTxn, "not found");
          if (op.expectedRevision != 0 && modRevision != op.expectedRevision) {
            return opError(
                ErrorCode::kConflict, op, i, inTxn,
                fmt::format("modRevision is {}, expected {}", modRevision, op.expectedRevision));
          }
          break;
        case TxnOp::Type::kPut:
          break;
      }
      if (Status s = apply(op, i, exists, prevValue, revision); !s) return s.error();
    }

    int64_t compacted = meta.compacted;
    const int64_t history = options_.historyRevisions;
    if (revision - history - compacted >= std::max<int64_t>(1, history / 8)) {
      compacted = revision - history;
      auto prune = db_->statement(kSqlPrune);
      if (!prune) return prune.error();
      prune->bindInt(1, compacted);
      if (int rc = prune->step(); rc != SQLITE_DONE) return db_->error(rc, "prune history");
    }
    {
      BRINDLE_ASSIGN_OR_RETURN(auto stmt, db_->statement(kSqlWriteMeta));
      stmt.bindInt(1, revision);
      stmt.bindInt(2, compacted);
      if (int rc = stmt.step(); rc != SQLITE_DONE) return db_->error(rc, "write revision");
    }
    if (Status s = guard.commit(); !s) return s.error();
    return revision;
  }

  // Changes kv for one checked op and records its event.
  Status apply(const Op& op, size_t seq, bool exists, const std::string& prevValue,
               int64_t revision) {
    int64_t type;
    {
      const char* sql;
      if (op.type == TxnOp::Type::kDelete) {
        sql = kSqlDelete;
        type = kStoredDeleted;
      } else if (exists) {
        sql = kSqlUpdate;
        type = kStoredUpdated;
      } else {
        sql = kSqlInsert;
        type = kStoredAdded;
      }
      BRINDLE_ASSIGN_OR_RETURN(auto stmt, db_->statement(sql));
      stmt.bindText(1, op.key);
      if (op.type != TxnOp::Type::kDelete) {
        stmt.bindBlob(2, op.value);
        stmt.bindInt(3, revision);
      }
      if (int rc = stmt.step(); rc != SQLITE_DONE) {
        return db_->error(rc, fmt::format("{} {}", txnOpName(op.type), op.key));
      }
    }
    auto event = db_->statement(kSqlInsertEvent);
    if (!event) return event.error();
    event->bindInt(1, revision);
    event->bindInt(2, static_cast<int64_t>(seq));
    event->bindText(3, op.key);
    event->bindInt(4, type);
    event->bindBlob(5, op.type == TxnOp::Type::kDelete ? std::string_view() : op.value);
    event->bindBlob(6, prevValue);
    if (int rc = event->step(); rc != SQLITE_DONE) {
      return db_->error(rc, fmt::format("{} {}: record event", txnOpName(op.type), op.key));
    }
    return Status::ok();
  }

  std::mutex mu_;
  std::unique_ptr<Db> db_;
  LocalStoreOptions options_;
};

}  // namespace

Result<ClientPtr> openLocalStore(const std::string& path, LocalStoreOptions options) {
  if (path.empty() || path == ":memory:" || path.starts_with("file:")) {
    return makeError(ErrorCode::kInvalid,
                     fmt::format("datastore path \"{}\": want a file path", path));
  }
  if (options.historyRevisions < 1 || options.watchBatchRevisions < 1 ||
      options.busyTimeout.count() < 0 || options.watchPollInterval.count() < 1) {
    return makeError(ErrorCode::kInvalid,
                     fmt::format("datastore {}: historyRevisions and watchBatchRevisions must "
                                 "be >= 1, watchPollInterval >= 1 ms, busyTimeout >= 0",
                                 path));
  }
  const bool inMemory = !options.createIfMissing && !std::filesystem::exists(path);
  if (!inMemory) {
    if (Status s = makeParentDirs(path); !s) return s.error();
  }
  BRINDLE_ASSIGN_OR_RETURN(auto db, Db::open(inMemory ? ":memory:" : path, dbOptions(options)));
  if (Status s = initSchema(*db); !s) return s.error();
  return ClientPtr(std::make_unique<LocalClient>(std::move(db), options));
}

}  // namespace brindle::datastore
