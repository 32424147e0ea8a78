// Retention on the SQLite journal: which prefix of the events a policy
// removes, and removing it.
#pragma once

#include <cstdint>

#include "connection.hpp"
#include "palyra/journal/journal.hpp"

namespace palyra::journal::sqlite {

struct RetentionResult {
  std::uint64_t removed = 0;  // events deleted
  std::uint64_t oldest = 0;   // the oldest retained seq afterwards (newest + 1 if none)
};

// Removes a prefix of the journal (never a hole): everything up to the
// newest event that is over the count limit or older than `now_unix_ms`
// minus the age limit. Commits its own transaction on `db`, the write
// connection; the caller rolls back when this fails.
Result<RetentionResult> remove_expired(sqlite3* db, const RetentionPolicy& policy,
                                       std::int64_t now_unix_ms, std::uint64_t newest,
                                       std::uint64_t oldest);

}  // namespace palyra::journal::sqlite
