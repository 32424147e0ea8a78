#include "reader.hpp"

#include <algorithm>

namespace palyra::journal::sqlite {

Result<std::unique_ptr<Reader>> Reader::open(const std::filesystem::path& path) {
  auto db = sqlite::open(path, SQLITE_OPEN_READONLY);
  if (!db) return std::move(db).error();
  ConnectionGuard guard(*db);
  PALYRA_TRY(exec(guard.get(), "PRAGMA busy_timeout=5000;"));
  return std::unique_ptr<Reader>(new Reader(guard.release()));
}

Reader::~Reader() {
  select_after_.reset();  // a statement is finalized before its connection closes
  sqlite3_close_v2(db_);
}

Result<std::size_t> Reader::visit_after(std::uint64_t after, std::size_t max_events,
                                        std::size_t max_bytes, const Journal::EventVisitor& visit) {
  std::lock_guard lock(mutex_);
  if (!select_after_) {
    auto select =
        Statement::prepare(db_,
                           "SELECT seq, name, payload, device_id, published_at_unix_ms FROM events"
                           " WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    if (!select) return std::move(select).error();
    select_after_.emplace(std::move(*select));
  }
  Statement& select = *select_after_;
  select.reset();
  select.bind(1, static_cast<std::int64_t>(after));
  select.bind(2, static_cast<std::int64_t>(std::min<std::size_t>(max_events, 1u << 20)));
  std::size_t visited = 0;
  std::size_t bytes = 0;
  while (visited < max_events && (visited == 0 || bytes < max_bytes)) {
    auto row = select.step();
    if (!row) {
      select.reset();
      return std::move(row).error();
    }
    if (!*row) break;
    EventView event{static_cast<std::uint64_t>(select.column_int(0)), select.column_view(1),
                    select.column_view(2), select.column_view(3), select.column_int(4)};
    bytes += approximate_bytes(event);
    ++visited;
    if (!visit(event)) break;
  }
  select.reset();  // ends the read transaction: the WAL may be checkpointed
  return visited;
}

}  // namespace palyra::journal::sqlite
