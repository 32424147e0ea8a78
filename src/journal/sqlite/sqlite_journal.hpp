// The embedded backend: a Journal in one SQLite file in WAL mode. Its
// parts: the writer (one thread, group commit, retention), the reader (a
// read-only connection for readers behind the tail), and the backend-
// neutral tail and fan-out that every backend shares.
#pragma once

#include <filesystem>
#include <memory>

#include "../fanout.hpp"
#include "../tail.hpp"
#include "palyra/journal/journal.hpp"
#include "reader.hpp"
#include "writer.hpp"

namespace palyra::journal::sqlite {

class SqliteJournal final : public Journal {
 public:
  // Opens (creating if needed, mode 0600) the journal at `path`, brings its
  // schema up to date and starts the writer. Options are checked by
  // open_journal.
  static Result<std::unique_ptr<SqliteJournal>> open(const std::filesystem::path& path,
                                                     JournalOptions options);
  ~SqliteJournal() override = default;  // the writer, declared last, stops first

  Status append(NewEvent event, AppendCallback on_durable) override {
    return writer_->append(std::move(event), std::move(on_durable));
  }
  Result<std::size_t> visit_after(std::uint64_t after, std::size_t max_events,
                                  std::size_t max_bytes, const EventVisitor& visit) override;
  std::uint64_t newest_seq() const noexcept override { return writer_->newest_seq(); }
  std::uint64_t oldest_retained_seq() const noexcept override {
    return writer_->oldest_retained_seq();
  }
  [[nodiscard]] Subscription subscribe(std::function<void(std::uint64_t)> on_commit) override {
    return fanout_.subscribe(std::move(on_commit));
  }
  Result<std::uint64_t> enforce_retention() override { return writer_->enforce_retention(); }
  std::size_t queued_appends() const override { return writer_->queued_appends(); }
  std::uint64_t removed_by_retention() const noexcept override {
    return writer_->removed_by_retention();
  }
  // How often the writer thread has woken up (tests: it sleeps when idle).
  std::uint64_t writer_wakeups() const noexcept { return writer_->wakeups(); }

 private:
  SqliteJournal(const JournalOptions& options, std::unique_ptr<Reader> reader)
      : tail_(options.tail_max_events, options.tail_max_bytes), reader_(std::move(reader)) {}

  Tail tail_;
  CommitFanout fanout_;
  std::unique_ptr<Reader> reader_;
  std::unique_ptr<Writer> writer_;
};

}  // namespace palyra::journal::sqlite
