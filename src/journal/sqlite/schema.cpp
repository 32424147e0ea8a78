#include "schema.hpp"

#include <algorithm>
#include <string>

namespace palyra::journal::sqlite {
namespace {

// PRAGMA user_version of the schema below. 1: events and journal_meta.
// 2: publish_ids, the deduplication index (a version 1 journal gains it on
// open; a build that knows only version 1 refuses the file afterwards).
constexpr std::int64_t kSchemaVersion = 2;

}  // namespace

Status configure_writer(sqlite3* db) {
  auto mode = Statement::prepare(db, "PRAGMA journal_mode=WAL");
  if (!mode) return std::move(mode).error();
  auto row = mode->step();
  if (!row) return std::move(row).error();
  if (!*row || mode->column_text(0) != "wal") {
    return error(db, "switching to WAL mode (the file system may not support it)");
  }
  return exec(db, "PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;");
}

Status migrate(sqlite3* db) {
  auto version = query_int(db, "PRAGMA user_version", 0);
  if (!version) return std::move(version).error();
  if (*version > kSchemaVersion) {
    return Error(Errc::StorageFailed, "journal schema version " + std::to_string(*version) +
                                          " is newer than this build understands (" +
                                          std::to_string(kSchemaVersion) +
                                          "); refusing to touch it");
  }
  // Every statement is idempotent, so one script creates a new journal and
  // brings any older version up to date.
  return exec(db,
              "BEGIN IMMEDIATE;"
              "CREATE TABLE IF NOT EXISTS events ("
              "  seq INTEGER PRIMARY KEY,"
              "  name TEXT NOT NULL,"
              "  payload TEXT NOT NULL,"
              "  device_id TEXT NOT NULL,"
              "  published_at_unix_ms INTEGER NOT NULL);"
              // The newest seq ever assigned, so numbers are never reused
              // after retention empties the table.
              "CREATE TABLE IF NOT EXISTS journal_meta ("
              "  key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
              // Since version 2: who published which publish id, when, at
              // which seq. Rows older than the deduplication window are
              // deleted by time, hence the second index.
              "CREATE TABLE IF NOT EXISTS publish_ids ("
              "  device_id TEXT NOT NULL,"
              "  publish_id TEXT NOT NULL,"
              "  seq INTEGER NOT NULL,"
              "  published_at_unix_ms INTEGER NOT NULL,"
              "  PRIMARY KEY (device_id, publish_id)) WITHOUT ROWID;"
              "CREATE INDEX IF NOT EXISTS publish_ids_by_time"
              "  ON publish_ids (published_at_unix_ms);"
              "PRAGMA user_version = 2;"
              "COMMIT;");
}

Result<SeqRange> read_seq_range(sqlite3* db) {
  auto max_seq = query_int(db, "SELECT MAX(seq) FROM events", 0);
  if (!max_seq) return std::move(max_seq).error();
  auto recorded = query_int(db, "SELECT value FROM journal_meta WHERE key='newest_seq'", 0);
  if (!recorded) return std::move(recorded).error();
  auto min_seq = query_int(db, "SELECT MIN(seq) FROM events", 0);
  if (!min_seq) return std::move(min_seq).error();
  SeqRange range;
  range.newest = static_cast<std::uint64_t>(std::max(*max_seq, *recorded));
  range.oldest = *min_seq > 0 ? static_cast<std::uint64_t>(*min_seq) : range.newest + 1;
  return range;
}

}  // namespace palyra::journal::sqlite
