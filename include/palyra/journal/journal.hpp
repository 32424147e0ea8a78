// The durable event journal behind node.stream_events / node.publish_event.
//
// SQLite in WAL mode with synchronous=FULL: a commit is on disk (the WAL is
// fsynced) before anyone is told about it. One writer thread owns the write
// connection and commits appends in batches (group commit: one fsync for
// everything queued while the previous commit ran), assigns sequence numbers
// (strictly increasing, no gaps, never reused — even when retention has
// removed every row), then reports each append through its callback and
// wakes subscribers.
//
// Readers (the event loop) call read_after(): recent events come from a
// bounded in-memory tail; a reader that has fallen behind the tail reads
// from SQLite through its own read-only connection (WAL lets it run while
// the writer commits).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "palyra/common/clock.hpp"
#include "palyra/common/event_view.hpp"
#include "palyra/common/result.hpp"

struct sqlite3;

namespace palyra::journal {
namespace sqlite {
class Statement;
}

struct NewEvent {
  std::string name;
  std::string payload_json;  // compact, already-validated JSON
  std::string device_id;     // the publisher, from its certificate (empty in insecure mode)
};

// What an event counts against a reader's byte budget: its fields plus the
// fixed size of a stored copy.
std::size_t approximate_bytes(const EventView& event) noexcept;

struct StoredEvent {
  std::uint64_t seq = 0;
  std::string name;
  std::string payload_json;
  std::string device_id;
  std::int64_t published_at_unix_ms = 0;

  std::size_t approximate_bytes() const noexcept { return journal::approximate_bytes(view()); }
  EventView view() const noexcept {
    return EventView{seq, name, payload_json, device_id, published_at_unix_ms};
  }
};
// Events are immutable once stored; readers share them with the tail.
using EventPtr = std::shared_ptr<const StoredEvent>;

struct RetentionPolicy {
  std::uint64_t max_events = 0;          // keep at most this many; 0: no limit
  std::chrono::milliseconds max_age{0};  // drop events older than this; 0: no limit
};

struct JournalOptions {
  RetentionPolicy retention;
  std::size_t tail_max_events = 4096;      // the in-memory tail, by count...
  std::size_t tail_max_bytes = 16u << 20;  // ...and by bytes
  std::size_t max_queued_appends = 65536;  // appends waiting for the writer; more are refused
  std::size_t max_batch = 1024;            // appends per commit
  // How often the idle writer wakes up to apply retention by age: real
  // time, since it is how long a thread sleeps. Must be > 0.
  std::chrono::milliseconds retention_interval{1000};
  // What events are stamped with and retention by age is judged by.
  std::shared_ptr<const Clock> clock = system_clock();
  // Called on the writer thread after each successful commit with the
  // batch's size and, per append, the time from append() to durable
  // (monotonic). For metrics; keep it short. Empty: not measured.
  using CommitObserver =
      std::function<void(std::size_t batch_size, std::span<const std::chrono::nanoseconds>)>;
  CommitObserver on_commit_observed;
};

class Subscription;

class Journal {
 public:
  // Opens (creating if needed) the journal at `path` and starts the writer.
  // StorageFailed with the path, the statement and SQLite's message.
  static Result<std::unique_ptr<Journal>> open(const std::filesystem::path& path,
                                               JournalOptions options = {});
  // Commits everything already queued, then stops the writer.
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Called on the writer thread once the event is durable (its seq) or could
  // not be stored (StorageFailed). Keep it short: post to your own loop.
  using AppendCallback = std::function<void(Result<std::uint64_t>)>;
  // Queues an append. Refused at once (the callback is not called) when the
  // queue is full or the journal is closing: StorageFailed with the numbers.
  Status append(NewEvent event, AppendCallback on_durable);

  // Up to `max_events` events with seq > `after`, in order, stopping early
  // once `max_bytes` are collected (always at least one event if any). An
  // empty result means none newer than `after` is stored. If retention has
  // removed events after `after`, the first event returned has a seq greater
  // than after + 1; callers check with gap_for().
  Result<std::vector<EventPtr>> read_after(std::uint64_t after, std::size_t max_events,
                                           std::size_t max_bytes);
  // The same selection without copies: calls `visit` with each event in
  // order; the view is valid only during the call (it may point into
  // SQLite's row). Stops early when `visit` returns false. Returns how many
  // events were visited. This is the streaming path; read_after is built on it.
  using EventVisitor = std::function<bool(const EventView&)>;
  Result<std::size_t> visit_after(std::uint64_t after, std::size_t max_events,
                                  std::size_t max_bytes, const EventVisitor& visit);

  // The seq of the newest durable event; 0 if none was ever stored.
  std::uint64_t newest_seq() const noexcept { return newest_.load(std::memory_order_acquire); }
  // The seq of the oldest retained event; newest_seq() + 1 when none is
  // retained (the next one to be stored).
  std::uint64_t oldest_retained_seq() const noexcept {
    return oldest_.load(std::memory_order_acquire);
  }
  // PROTOCOL.md's resume_gap: the oldest retained seq when retention removed
  // an event the reader has not seen (one with seq in (resume_from, oldest)).
  std::optional<std::uint64_t> gap_for(std::uint64_t resume_from) const noexcept;

  // Calls `on_commit(newest_seq)` on the writer thread after every commit,
  // until the returned Subscription is destroyed.
  [[nodiscard]] Subscription subscribe(std::function<void(std::uint64_t)> on_commit);

  // Runs the retention policy now, by the clock's time (it also runs after
  // commits and every retention_interval). Returns how many events were
  // removed.
  Result<std::uint64_t> enforce_retention();

  std::size_t queued_appends() const;
  // How many events retention has removed since open.
  std::uint64_t removed_by_retention() const noexcept {
    return removed_by_retention_.load(std::memory_order_relaxed);
  }
  // How often the writer thread has woken up: for tests that it sleeps
  // while there is nothing to do.
  std::uint64_t writer_wakeups() const noexcept {
    return writer_wakeups_.load(std::memory_order_relaxed);
  }

 private:
  friend class Subscription;
  struct PendingAppend {
    NewEvent event;
    AppendCallback on_durable;
    std::chrono::steady_clock::time_point queued_at{};  // set when observed
  };
  struct Subscriber {
    std::uint64_t id;
    std::function<void(std::uint64_t)> on_commit;
  };

  Journal(std::filesystem::path path, JournalOptions options, sqlite3* writer, sqlite3* reader);
  void writer_main();
  void commit_batch(std::vector<PendingAppend>& batch);
  Status write_batch(std::vector<PendingAppend>& batch, std::vector<EventPtr>& stored);
  Result<std::uint64_t> remove_expired();
  void add_to_tail(std::vector<EventPtr> events);
  void trim_tail_below(std::uint64_t oldest);
  void unsubscribe(std::uint64_t id);

  std::filesystem::path path_;
  JournalOptions options_;
  sqlite3*
      writer_db_;  // used only on the writer thread (and by enforce_retention under writer_mutex_)
  sqlite3* reader_db_;                               // read-only, guarded by reader_mutex_
  std::unique_ptr<sqlite::Statement> select_after_;  // on reader_db_, prepared on first use
  std::mutex writer_mutex_;
  std::mutex reader_mutex_;

  std::atomic<std::uint64_t> newest_{0};
  std::atomic<std::uint64_t> writer_wakeups_{0};
  std::atomic<std::uint64_t> oldest_{1};
  std::atomic<std::uint64_t> removed_by_retention_{0};
  std::vector<std::chrono::nanoseconds> latencies_;  // writer thread: for on_commit_observed

  mutable std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<PendingAppend> queue_;
  bool stopping_ = false;

  // Contiguous recent events [tail_.front()->seq, newest_], newest last.
  mutable std::mutex tail_mutex_;
  std::deque<EventPtr> tail_;
  std::size_t tail_bytes_ = 0;

  std::mutex subscribers_mutex_;
  std::vector<Subscriber> subscribers_;
  std::uint64_t next_subscriber_id_ = 1;

  std::thread writer_;
};

// Unsubscribes when destroyed; waits for a callback in progress to return.
class Subscription {
 public:
  Subscription() = default;
  Subscription(Journal* journal, std::uint64_t id) : journal_(journal), id_(id) {}
  Subscription(Subscription&& other) noexcept { *this = std::move(other); }
  Subscription& operator=(Subscription&& other) noexcept;
  ~Subscription() { reset(); }
  void reset();

 private:
  Journal* journal_ = nullptr;
  std::uint64_t id_ = 0;
};

}  // namespace palyra::journal
