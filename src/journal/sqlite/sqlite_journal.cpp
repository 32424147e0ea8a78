#include "sqlite_journal.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "schema.hpp"

namespace palyra::journal::sqlite {

Result<std::unique_ptr<SqliteJournal>> SqliteJournal::open(const std::filesystem::path& path,
                                                           JournalOptions options) {
  auto db = sqlite::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db) return std::move(db).error();
  ConnectionGuard writer(*db);
  // Events are the fleet's data: only the daemon's user reads them. A journal
  // we cannot make private is not opened.
  if (::chmod(path.c_str(), 0600) != 0) {
    const int err = errno;
    return Error(Errc::StorageFailed, "cannot set mode 0600 on the journal " + path.string() +
                                          ": " + std::strerror(err));
  }
  PALYRA_TRY(configure_writer(writer.get()));
  PALYRA_TRY(migrate(writer.get()));
  auto reader = Reader::open(path);
  if (!reader) return std::move(reader).error();
  auto range = read_seq_range(writer.get());
  if (!range) return std::move(range).error();

  std::unique_ptr<SqliteJournal> journal(new SqliteJournal(options, std::move(*reader)));
  journal->writer_ = std::make_unique<Writer>(writer.release(), std::move(options), *range,
                                              journal->tail_, journal->fanout_);
  return journal;
}

Result<std::size_t> SqliteJournal::visit_after(std::uint64_t after, std::size_t max_events,
                                               std::size_t max_bytes, const EventVisitor& visit) {
  if (after >= newest_seq() || max_events == 0) return std::size_t{0};
  // Recent events come from memory; a reader behind the tail (a follower
  // catching up, or a resume from far back) reads from disk.
  if (auto visited = tail_.visit_after(after, max_events, max_bytes, visit)) return *visited;
  return reader_->visit_after(after, max_events, max_bytes, visit);
}

}  // namespace palyra::journal::sqlite
