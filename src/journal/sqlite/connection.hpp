// A thin layer over SQLite's C API for the journal: connections and prepared
// statements that close themselves, and errors that carry the statement and
// SQLite's text.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "palyra/common/result.hpp"

namespace palyra::journal::sqlite {

// StorageFailed: "<what> (<path>): <sqlite message> (code N)".
Error error(sqlite3* db, std::string_view what);

// Opens `path` with `flags` (SQLITE_OPEN_*); the handle is closed on failure.
Result<sqlite3*> open(const std::filesystem::path& path, int flags);
// Runs one or more statements that return no rows.
Status exec(sqlite3* db, const char* sql);

// Closes a connection unless released: opening has several ways to fail.
class ConnectionGuard {
 public:
  explicit ConnectionGuard(sqlite3* db = nullptr) : db_(db) {}
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;
  ~ConnectionGuard() { sqlite3_close_v2(db_); }
  sqlite3* get() const { return db_; }
  sqlite3* release() { return std::exchange(db_, nullptr); }

 private:
  sqlite3* db_;
};

class Statement {
 public:
  static Result<Statement> prepare(sqlite3* db, std::string_view sql);
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
  }
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  void bind(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  // The text must outlive step(): SQLITE_STATIC, no copy.
  void bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  }
  // True with a row, false when done; StorageFailed otherwise.
  Result<bool> step();
  // Ready for new bindings.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  bool column_is_null(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }
  std::int64_t column_int(int index) const { return sqlite3_column_int64(stmt_, index); }
  // Valid until the next step() or reset().
  std::string_view column_view(int index) const {
    const auto* text = sqlite3_column_text(stmt_, index);
    return text ? std::string_view(reinterpret_cast<const char*>(text),
                                   static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)))
                : std::string_view();
  }
  std::string column_text(int index) const {
    const auto* text = sqlite3_column_text(stmt_, index);
    return text ? std::string(reinterpret_cast<const char*>(text),
                              static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)))
                : std::string();
  }

 private:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// The first column of the first row, or `if_null` without a row or for NULL.
Result<std::int64_t> query_int(sqlite3* db, std::string_view sql, std::int64_t if_null);

}  // namespace palyra::journal::sqlite
