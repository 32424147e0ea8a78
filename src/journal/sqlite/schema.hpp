// The journal's tables and how a connection to them is set up: the one
// place that knows the schema's version and how to bring an older file up
// to date.
#pragma once

#include <cstdint>

#include "connection.hpp"

namespace palyra::journal::sqlite {

// WAL + synchronous=FULL on the write connection: a commit returns only
// after the WAL is fsynced, so an acknowledged event survives a crash of
// the process or the machine. StorageFailed when the file system cannot
// do WAL.
Status configure_writer(sqlite3* db);

// Creates the tables, or brings a journal of an older schema version up to
// this one, in one transaction. StorageFailed for a journal written by a
// newer build (its version is above ours): it is not touched.
Status migrate(sqlite3* db);

// The seqs a journal holds when it is opened.
struct SeqRange {
  std::uint64_t newest = 0;  // the newest ever assigned (0: none)
  std::uint64_t oldest = 1;  // the oldest retained; newest + 1 when none is
};
Result<SeqRange> read_seq_range(sqlite3* db);

}  // namespace palyra::journal::sqlite
