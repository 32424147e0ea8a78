// The SQLite journal's read path for readers behind the in-memory tail: its
// own read-only connection, which WAL lets run while the writer commits.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "connection.hpp"
#include "palyra/journal/journal.hpp"

namespace palyra::journal::sqlite {

class Reader {
 public:
  // StorageFailed with the path and SQLite's message.
  static Result<std::unique_ptr<Reader>> open(const std::filesystem::path& path);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Journal::visit_after from disk, straight out of SQLite's row into the
  // visitor. Callers on several threads take turns.
  Result<std::size_t> visit_after(std::uint64_t after, std::size_t max_events,
                                  std::size_t max_bytes, const Journal::EventVisitor& visit);

 private:
  explicit Reader(sqlite3* db) : db_(db) {}

  std::mutex mutex_;  // guards both below
  sqlite3* db_;
  std::optional<Statement> select_after_;  // prepared on first use
};

}  // namespace palyra::journal::sqlite
