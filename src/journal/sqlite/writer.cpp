#include "writer.hpp"

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <utility>

#include "publish_ids.hpp"
#include "retention.hpp"

namespace palyra::journal::sqlite {
Writer::Writer(sqlite3* db, JournalOptions options, SeqRange range, Tail& tail,
               CommitFanout& fanout)
    : options_(std::move(options)),
      tail_(tail),
      fanout_(fanout),
      db_(db),
      newest_(range.newest),
      oldest_(range.oldest),
      thread_([this] { run(); }) {}

Writer::~Writer() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  sqlite3_close_v2(db_);
}

Status Writer::append(NewEvent event, Journal::AppendCallback on_durable) {
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_) return Error(Errc::StorageFailed, "journal is closing; append refused");
    if (queue_.size() >= options_.max_queued_appends) {
      return Error(Errc::StorageFailed, "journal queue full (" + std::to_string(queue_.size()) +
                                            " appends waiting for the disk); append refused");
    }
    queue_.push_back(PendingAppend{std::move(event), std::move(on_durable), {}});
    if (options_.on_commit_observed) queue_.back().queued_at = std::chrono::steady_clock::now();
  }
  queue_cv_.notify_one();
  return {};
}

std::size_t Writer::queued_appends() const {
  std::lock_guard lock(queue_mutex_);
  return queue_.size();
}

void Writer::run() {
  // The wake-ups are real time (a thread sleeping); what retention removes
  // and which publish ids expire is judged by options_.clock.
  const auto interval = options_.retention_interval;
  auto next_retention = std::chrono::steady_clock::now() + interval;
  std::vector<PendingAppend> batch;
  while (true) {
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait_until(lock, next_retention, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      // Group commit: everything that queued up while the last commit was
      // fsyncing goes into this one.
      std::size_t take = std::min(queue_.size(), options_.max_batch);
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(take)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
    }
    wakeups_.fetch_add(1, std::memory_order_relaxed);
    const bool committed = !batch.empty();
    if (committed) commit_batch(batch);
    batch.clear();
    // The deadline moves on even without a retention policy, or the wait
    // above would return at once forever after the first interval.
    const auto now = std::chrono::steady_clock::now();
    const bool interval_due = now >= next_retention;
    if (interval_due) next_retention = now + interval;
    if (interval_due || (committed && options_.retention.max_events > 0)) {
      // Failures are reported by the next enforce_retention() call that a
      // caller makes; the writer itself keeps going.
      (void)enforce_retention();
    }
  }
}

Status Writer::write_batch(std::vector<PendingAppend>& batch, std::vector<EventPtr>& stored) {
  PALYRA_TRY(exec(db_, "BEGIN IMMEDIATE"));
  auto insert =
      Statement::prepare(db_,
                         "INSERT INTO events (seq, name, payload, device_id, published_at_unix_ms)"
                         " VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!insert) return std::move(insert).error();
  std::optional<PublishIds> ids;  // prepared for the first append with a publish id
  std::uint64_t seq = newest_.load(std::memory_order_relaxed);
  const std::int64_t published_at = unix_ms(*options_.clock);
  const std::int64_t remembered_since = published_at - options_.dedup_window.count();
  for (auto& pending : batch) {
    const auto& publish_id = pending.event.publish_id;
    if (publish_id) {
      if (!ids) {
        auto prepared = PublishIds::prepare(db_);
        if (!prepared) return std::move(prepared).error();
        ids.emplace(std::move(*prepared));
      }
      auto first = ids->find(pending.event.device_id, *publish_id, remembered_since);
      if (!first) return std::move(first).error();
      if (*first) {
        pending.seq = **first;  // a duplicate: nothing to append
        continue;
      }
    }
    auto event = std::make_shared<StoredEvent>();
    event->seq = ++seq;
    event->name = std::move(pending.event.name);
    event->payload_json = std::move(pending.event.payload_json);
    event->device_id = std::move(pending.event.device_id);
    event->published_at_unix_ms = published_at;
    insert->bind(1, static_cast<std::int64_t>(event->seq));
    insert->bind(2, std::string_view(event->name));
    insert->bind(3, std::string_view(event->payload_json));
    insert->bind(4, std::string_view(event->device_id));
    insert->bind(5, event->published_at_unix_ms);
    auto done = insert->step();
    if (!done) return std::move(done).error();
    insert->reset();
    if (publish_id) PALYRA_TRY(ids->record(event->device_id, *publish_id, seq, published_at));
    pending.seq = seq;
    stored.push_back(std::move(event));
  }
  if (!stored.empty()) {
    auto meta = Statement::prepare(
        db_, "INSERT OR REPLACE INTO journal_meta (key, value) VALUES ('newest_seq', ?1)");
    if (!meta) return std::move(meta).error();
    meta->bind(1, static_cast<std::int64_t>(seq));
    auto done = meta->step();
    if (!done) return std::move(done).error();
  }
  return exec(db_, "COMMIT");
}

void Writer::commit_batch(std::vector<PendingAppend>& batch) {
  std::vector<EventPtr> stored;
  stored.reserve(batch.size());
  Status written;
  {
    std::lock_guard lock(db_mutex_);
    written = write_batch(batch, stored);
    if (!written) (void)exec(db_, "ROLLBACK");
  }
  if (!written) {
    // Nothing of the batch is stored and no seq was consumed: every
    // publisher hears the error, none hears a seq.
    for (auto& pending : batch) pending.on_durable(written.error());
    return;
  }
  if (!stored.empty()) {  // a batch of duplicates stores nothing
    const std::uint64_t newest = stored.back()->seq;
    newest_.store(newest, std::memory_order_release);
    tail_.add(stored);
    fanout_.notify(newest);
  }
  for (auto& pending : batch) pending.on_durable(pending.seq);
  if (options_.on_commit_observed) {
    const auto now = std::chrono::steady_clock::now();
    latencies_.clear();
    for (const auto& pending : batch) latencies_.push_back(now - pending.queued_at);
    options_.on_commit_observed(batch.size(), latencies_);
  }
}

Result<std::uint64_t> Writer::enforce_retention() {
  std::lock_guard lock(db_mutex_);
  const std::int64_t now = unix_ms(*options_.clock);
  // Publish ids first: they do not depend on which events are retained (a
  // duplicate is answered with the first seq even once that event is gone).
  auto forgotten = forget_publish_ids_before(db_, now - options_.dedup_window.count());
  if (!forgotten) return std::move(forgotten).error();
  auto result = remove_expired(db_, options_.retention, now, newest_seq(), oldest_retained_seq());
  if (!result) {
    (void)exec(db_, "ROLLBACK");
    return std::move(result).error();
  }
  if (result->removed == 0) return std::uint64_t{0};
  removed_by_retention_.fetch_add(result->removed, std::memory_order_relaxed);
  oldest_.store(result->oldest, std::memory_order_release);
  tail_.trim_below(result->oldest);
  return result->removed;
}

}  // namespace palyra::journal::sqlite
