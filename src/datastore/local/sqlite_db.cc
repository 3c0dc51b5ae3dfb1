// A thin RAII layer over one SQLite connection: opening, pragmas, statement cache, error mapping.
#include "datastore/local/sqlite_db.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace brindle::datastore::local {

namespace {

// Pointer SQLite can bind for empty text/blobs: a null pointer would bind SQL NULL instead.
constexpr char kEmpty[] = "";

}  // namespace

Statement::~Statement() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

void Statement::bindText(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.empty() ? kEmpty : text.data(),
                    static_cast<int>(text.size()), SQLITE_STATIC);
}

void Statement::bindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.empty() ? kEmpty : bytes.data(),
                    static_cast<int>(bytes.size()), SQLITE_STATIC);
}

std::string Statement::columnString(int index) {
  const void* data = sqlite3_column_blob(stmt_, index);
  int size = sqlite3_column_bytes(stmt_, index);
  if (data == nullptr || size <= 0) return std::string();
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

ErrorCode errorCodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOTADB:
    case SQLITE_PROTOCOL:
      return ErrorCode::kUnavailable;
    default:
      return ErrorCode::kInternal;
  }
}

Db::Db(sqlite3* db, std::string path, const DbOptions& options)
    : db_(db),
      path_(std::move(path)),
      options_(options),
      jitter_(reinterpret_cast<uintptr_t>(this) ^
              static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Result<std::unique_ptr<Db>> Db::open(const std::string& path, const DbOptions& options) {
  sqlite3* handle = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &handle,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = fmt::format("cannot open datastore {}: {}", path,
                                      handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc));
    sqlite3_close_v2(handle);
    return makeError(ErrorCode::kUnavailable, std::move(message));
  }
  std::unique_ptr<Db> db(new Db(handle, path, options));
  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_handler(handle, &Db::busyHandler, db.get());

  // WAL lets readers (watchers in other processes) run while one writer commits, and makes
  // PRAGMA data_version a cheap cross-process change signal. The mode is persistent in the file.
  // Switching a fresh file to WAL needs an exclusive lock, and SQLite answers SQLITE_BUSY at once
  // (without the busy handler) when another opener holds a lock: retry until busyTimeout.
  const auto deadline = std::chrono::steady_clock::now() + options.busyTimeout;
  std::string got;
  for (int attempt = 0;; ++attempt) {
    BRINDLE_ASSIGN_OR_RETURN(auto mode, db->statement("PRAGMA journal_mode=WAL"));
    rc = mode.step();
    if (rc == SQLITE_ROW) {
      got = mode.columnString(0);
      break;
    }
    const int primary = rc & 0xff;
    if ((primary == SQLITE_BUSY || primary == SQLITE_LOCKED) &&
        std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(200 + 100 * (attempt % 10)));
      continue;
    }
    // The file is only really opened here: report a directory, a non-database, a permission
    // problem as "cannot open" with the path.
    return makeError(ErrorCode::kUnavailable,
                     fmt::format("cannot open datastore {}: {}", path, sqlite3_errmsg(handle)));
  }
  if (got != "wal" && path != ":memory:") {
    return makeError(
        ErrorCode::kUnavailable,
        fmt::format("cannot open datastore {}: journal mode is {}, want wal", path, got));
  }
  // NORMAL in WAL mode: a commit survives a process crash; only an OS crash or power loss can
  // lose the last commits (the file stays consistent). FULL fsyncs every commit.
  if (Status s = db->run(options.syncEveryCommit ? "PRAGMA synchronous=FULL"
                                                 : "PRAGMA synchronous=NORMAL");
      !s) {
    return s.error();
  }
  // Truncate the WAL after checkpoints so a burst of writes doesn't leave a larger file behind.
  if (Status s = db->run("PRAGMA journal_size_limit=16777216"); !s) return s.error();
  // Checkpoints fsync the WAL and the database; one per 4000 pages (16 MB) instead of SQLite's
  // 1000 doubles single-commit throughput here (~6.5k -> ~13k creates/s) at the cost of a
  // bigger WAL.
  if (Status s = db->run("PRAGMA wal_autocheckpoint=4000"); !s) return s.error();
  return db;
}

Result<Statement> Db::statement(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Statement(it->second);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return error(rc, fmt::format("prepare \"{}\"", sql));
  cache_.emplace(std::string(sql), stmt);
  return Statement(stmt);
}

Status Db::run(std::string_view sql) {
  BRINDLE_ASSIGN_OR_RETURN(auto stmt, statement(sql));
  int rc;
  while ((rc = stmt.step()) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return error(rc, sql);
  return Status::ok();
}

Error Db::error(int rc, std::string_view what) const {
  const char* detail = (sqlite3_errcode(db_) == rc) ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  if ((rc & 0xff) == SQLITE_BUSY) {
    return makeError(ErrorCode::kUnavailable,
                     fmt::format("datastore {} busy: {} (another process held the write lock "
                                 "longer than {} ms)",
                                 path_, what, options_.busyTimeout.count()));
  }
  return makeError(errorCodeFor(rc), fmt::format("datastore {}: {}: {}", path_, what, detail));
}

int Db::busyHandler(void* arg, int count) {
  auto* self = static_cast<Db*>(arg);
  auto now = std::chrono::steady_clock::now();
  if (count == 0) self->busySince_ = now;
  if (now - self->busySince_ >= self->options_.busyTimeout) return 0;
  // A commit takes tens of microseconds, so SQLite's default back-off (1, 2, 5, 10... ms) would
  // leave the lock idle most of the time under contention: retry sooner, with jitter so that
  // waiting processes don't wake in lock-step.
  int64_t base = std::min<int64_t>(1000, int64_t{20} << std::min(count, 6));
  self->jitter_ = self->jitter_ * 6364136223846793005ULL + 1442695040888963407ULL;
  int64_t sleepUs =
      base / 2 + static_cast<int64_t>((self->jitter_ >> 33) % static_cast<uint64_t>(base));
  std::this_thread::sleep_for(std::chrono::microseconds(sleepUs));
  return 1;
}

}  // namespace brindle::datastore::local
