// A thin RAII layer over one SQLite connection for the embedded store: opening with the store's
// pragmas, a per-connection cache of prepared statements, and SQLite codes mapped to brindle
// errors.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"

namespace brindle::datastore::local {

struct DbOptions {
  std::chrono::milliseconds busyTimeout{10000};
  bool syncEveryCommit = false;
};

// A prepared statement borrowed from a Db's cache. Reset (and unbound) when it goes out of scope,
// so the cached statement can be reused and never holds a read snapshot open by accident.
// Text and blob bindings are not copied: the bound memory must outlive the Statement.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  void bindInt(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  void bindText(int index, std::string_view text);
  void bindBlob(int index, std::string_view bytes);

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }

  int64_t columnInt(int index) { return sqlite3_column_int64(stmt_, index); }
  std::string columnString(int index);

 private:
  sqlite3_stmt* stmt_;
};

class Db {
 public:
  // Opens (creating if needed) the database file at `path`; its parent directory must exist.
  static Result<std::unique_ptr<Db>> open(const std::string& path, const DbOptions& options);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // `sql` is prepared once per connection and cached.
  Result<Statement> statement(std::string_view sql);

  // Runs a statement that returns no rows we care about (e.g. BEGIN, COMMIT).
  Status run(std::string_view sql);

  // A brindle error for SQLite code `rc`, saying what we were doing and naming the file.
  Error error(int rc, std::string_view what) const;

  // Frees the page cache's unused pages (read again from the file, i.e. the OS cache, when
  // needed).
  void releaseCache() { sqlite3_db_release_memory(db_); }

  const std::string& path() const { return path_; }

 private:
  Db(sqlite3* db, std::string path, const DbOptions& options);
  static int busyHandler(void* self, int count);

  sqlite3* db_;
  std::string path_;
  DbOptions options_;
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> cache_;
  std::chrono::steady_clock::time_point busySince_;
  uint64_t jitter_;
};

// Maps an SQLite primary result code to a brindle error code: lock timeouts and I/O trouble are
// kUnavailable (may succeed later), anything else kInternal.
ErrorCode errorCodeFor(int rc);

}  // namespace brindle::datastore::local
