// The SQLite journal's write side: one thread that owns the write
// connection, takes appends off a queue and commits them in batches (group
// commit: one fsync for everything queued while the previous commit ran),
// assigns seqs and decides on duplicate publish ids inside the
// transaction, and applies retention. After each
// commit it hands the new events to the tail, wakes subscribers and then
// answers each append.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "../fanout.hpp"
#include "../tail.hpp"
#include "connection.hpp"
#include "palyra/journal/journal.hpp"
#include "schema.hpp"

namespace palyra::journal::sqlite {

class Writer {
 public:
  // Takes `db` (configured, migrated) and starts the thread. `tail` and
  // `fanout` must outlive the writer.
  Writer(sqlite3* db, JournalOptions options, SeqRange range, Tail& tail, CommitFanout& fanout);
  // Commits everything already queued, then stops the thread and closes
  // the connection.
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Journal::append: queued for the thread, or refused at once.
  Status append(NewEvent event, Journal::AppendCallback on_durable);
  // Journal::enforce_retention, from any thread.
  Result<std::uint64_t> enforce_retention();

  std::uint64_t newest_seq() const noexcept { return newest_.load(std::memory_order_acquire); }
  std::uint64_t oldest_retained_seq() const noexcept {
    return oldest_.load(std::memory_order_acquire);
  }
  std::size_t queued_appends() const;
  std::uint64_t removed_by_retention() const noexcept {
    return removed_by_retention_.load(std::memory_order_relaxed);
  }
  // How often the thread has woken up: for tests that it sleeps while there
  // is nothing to do.
  std::uint64_t wakeups() const noexcept { return wakeups_.load(std::memory_order_relaxed); }

 private:
  struct PendingAppend {
    NewEvent event;
    Journal::AppendCallback on_durable;
    std::chrono::steady_clock::time_point queued_at{};  // set when observed
    std::uint64_t seq = 0;  // the answer, once written: its own seq or the first publish's
  };

  void run();
  void commit_batch(std::vector<PendingAppend>& batch);
  Status write_batch(std::vector<PendingAppend>& batch, std::vector<EventPtr>& stored);

  const JournalOptions options_;
  Tail& tail_;
  CommitFanout& fanout_;

  std::mutex db_mutex_;  // the thread's commits against enforce_retention() from callers
  sqlite3* db_;

  std::atomic<std::uint64_t> newest_;
  std::atomic<std::uint64_t> oldest_;
  std::atomic<std::uint64_t> removed_by_retention_{0};
  std::atomic<std::uint64_t> wakeups_{0};
  std::vector<std::chrono::nanoseconds> latencies_;  // the thread's: for on_commit_observed

  mutable std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<PendingAppend> queue_;
  bool stopping_ = false;

  std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace palyra::journal::sqlite
