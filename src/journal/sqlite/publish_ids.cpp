#include "publish_ids.hpp"

namespace palyra::journal::sqlite {

Result<PublishIds> PublishIds::prepare(sqlite3* db) {
  auto find =
      Statement::prepare(db,
                         "SELECT seq FROM publish_ids WHERE device_id = ?1 AND publish_id = ?2"
                         " AND published_at_unix_ms >= ?3");
  if (!find) return std::move(find).error();
  auto record = Statement::prepare(
      db,
      "INSERT OR REPLACE INTO publish_ids (device_id, publish_id, seq, published_at_unix_ms)"
      " VALUES (?1, ?2, ?3, ?4)");
  if (!record) return std::move(record).error();
  return PublishIds(std::move(*find), std::move(*record));
}

Result<std::optional<std::uint64_t>> PublishIds::find(std::string_view device_id,
                                                      std::string_view publish_id,
                                                      std::int64_t since_unix_ms) {
  find_.reset();
  find_.bind(1, device_id);
  find_.bind(2, publish_id);
  find_.bind(3, since_unix_ms);
  auto row = find_.step();
  if (!row) return std::move(row).error();
  std::optional<std::uint64_t> seq;
  if (*row) seq = static_cast<std::uint64_t>(find_.column_int(0));
  find_.reset();
  return seq;
}

Status PublishIds::record(std::string_view device_id, std::string_view publish_id,
                          std::uint64_t seq, std::int64_t published_at_unix_ms) {
  record_.reset();
  record_.bind(1, device_id);
  record_.bind(2, publish_id);
  record_.bind(3, static_cast<std::int64_t>(seq));
  record_.bind(4, published_at_unix_ms);
  auto done = record_.step();
  record_.reset();
  if (!done) return std::move(done).error();
  return {};
}

Result<std::uint64_t> forget_publish_ids_before(sqlite3* db, std::int64_t before_unix_ms) {
  // The index on the time answers this without a write: an idle journal
  // does not commit (and fsync) every interval.
  auto oldest = query_int(db, "SELECT MIN(published_at_unix_ms) FROM publish_ids", before_unix_ms);
  if (!oldest) return std::move(oldest).error();
  if (*oldest >= before_unix_ms) return std::uint64_t{0};
  auto remove = Statement::prepare(db, "DELETE FROM publish_ids WHERE published_at_unix_ms < ?1");
  if (!remove) return std::move(remove).error();
  remove->bind(1, before_unix_ms);
  auto done = remove->step();
  if (!done) return std::move(done).error();
  return static_cast<std::uint64_t>(sqlite3_changes(db));
}

}  // namespace palyra::journal::sqlite
