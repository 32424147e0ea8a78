// The deduplication index of idempotent publishes: (device id, publish id)
// -> the first publish's seq and time. The writer consults and fills it
// inside the transaction that appends, so two identical publishes in flight
// at once append once, whether they share a batch or not: the second sees
// the first's row (a connection reads its own uncommitted writes).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "connection.hpp"

namespace palyra::journal::sqlite {

class PublishIds {
 public:
  // Prepares the statements on the write connection.
  static Result<PublishIds> prepare(sqlite3* db);

  // The seq of the publish with this device and id first published at or
  // after `since_unix_ms`, if there is one.
  Result<std::optional<std::uint64_t>> find(std::string_view device_id, std::string_view publish_id,
                                            std::int64_t since_unix_ms);
  // Remembers a publish (replacing an expired entry for the same id).
  Status record(std::string_view device_id, std::string_view publish_id, std::uint64_t seq,
                std::int64_t published_at_unix_ms);

 private:
  PublishIds(Statement find, Statement record)
      : find_(std::move(find)), record_(std::move(record)) {}
  Statement find_;
  Statement record_;
};

// Forgets the publishes first made before `before_unix_ms` (the window has
// passed for them); returns how many. Its own transaction on the write
// connection, and none when there is nothing to forget.
Result<std::uint64_t> forget_publish_ids_before(sqlite3* db, std::int64_t before_unix_ms);

}  // namespace palyra::journal::sqlite
