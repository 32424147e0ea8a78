#include "retention.hpp"

#include <algorithm>

namespace palyra::journal::sqlite {

Result<RetentionResult> remove_expired(sqlite3* db, const RetentionPolicy& policy,
                                       std::int64_t now_unix_ms, std::uint64_t newest,
                                       std::uint64_t oldest) {
  std::int64_t cutoff = 0;  // remove seq <= cutoff
  if (policy.max_events > 0 && newest > policy.max_events) {
    cutoff = static_cast<std::int64_t>(newest - policy.max_events);
  }
  if (policy.max_age.count() > 0) {
    auto statement =
        Statement::prepare(db, "SELECT MAX(seq) FROM events WHERE published_at_unix_ms < ?1");
    if (!statement) return std::move(statement).error();
    statement->bind(1, now_unix_ms - policy.max_age.count());
    auto row = statement->step();
    if (!row) return std::move(row).error();
    if (*row && !statement->column_is_null(0)) cutoff = std::max(cutoff, statement->column_int(0));
  }
  if (cutoff <= 0 || static_cast<std::uint64_t>(cutoff) < oldest) {
    return RetentionResult{0, oldest};
  }

  PALYRA_TRY(exec(db, "BEGIN IMMEDIATE"));
  auto remove = Statement::prepare(db, "DELETE FROM events WHERE seq <= ?1");
  if (!remove) return std::move(remove).error();
  remove->bind(1, cutoff);
  auto done = remove->step();
  if (!done) return std::move(done).error();
  const auto removed = static_cast<std::uint64_t>(sqlite3_changes(db));
  PALYRA_TRY(exec(db, "COMMIT"));

  auto min_seq = query_int(db, "SELECT MIN(seq) FROM events", 0);
  if (!min_seq) return std::move(min_seq).error();
  return RetentionResult{removed, *min_seq > 0 ? static_cast<std::uint64_t>(*min_seq) : newest + 1};
}

}  // namespace palyra::journal::sqlite
