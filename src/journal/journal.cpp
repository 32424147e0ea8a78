#include "palyra/journal/journal.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "sqlite.hpp"

namespace palyra::journal {
namespace {

constexpr std::int64_t kSchemaVersion = 1;

std::int64_t unix_ms(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch())
      .count();
}

// Closes a connection unless released: open() has several ways to fail.
struct ConnectionGuard {
  sqlite3* db = nullptr;
  ConnectionGuard() = default;
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;
  ~ConnectionGuard() { sqlite3_close_v2(db); }
  sqlite3* release() { return std::exchange(db, nullptr); }
};

// The first column of the first row, or `if_null` without a row or for NULL.
Result<std::int64_t> query_int(sqlite3* db, std::string_view sql, std::int64_t if_null) {
  auto statement = sqlite::Statement::prepare(db, sql);
  if (!statement) return std::move(statement).error();
  auto row = statement->step();
  if (!row) return std::move(row).error();
  if (!*row || statement->column_is_null(0)) return if_null;
  return statement->column_int(0);
}

Status create_schema(sqlite3* db) {
  auto version = query_int(db, "PRAGMA user_version", 0);
  if (!version) return std::move(version).error();
  if (*version > kSchemaVersion) {
    return Error(Errc::StorageFailed, "journal schema version " + std::to_string(*version) +
                                          " is newer than this build understands (" +
                                          std::to_string(kSchemaVersion) +
                                          "); refusing to touch it");
  }
  return sqlite::exec(db,
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
                      "PRAGMA user_version = 1;"
                      "COMMIT;");
}

// WAL + synchronous=FULL: a commit returns only after the WAL is fsynced,
// so an acknowledged event survives a crash of the process or the machine.
Status configure_writer(sqlite3* db) {
  auto mode = sqlite::Statement::prepare(db, "PRAGMA journal_mode=WAL");
  if (!mode) return std::move(mode).error();
  auto row = mode->step();
  if (!row) return std::move(row).error();
  if (!*row || mode->column_text(0) != "wal") {
    return sqlite::error(db, "switching to WAL mode (the file system may not support it)");
  }
  return sqlite::exec(db, "PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;");
}

}  // namespace

Result<std::unique_ptr<Journal>> Journal::open(const std::filesystem::path& path,
                                               JournalOptions options) {
  if (options.max_batch == 0 || options.max_queued_appends == 0 ||
      options.retention_interval.count() <= 0 || !options.clock) {
    return Error(Errc::InvalidArgument,
                 "journal max_batch, max_queued_appends and retention_interval must be > 0, "
                 "and it needs a clock");
  }
  ConnectionGuard writer;
  {
    auto db = sqlite::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!db) return std::move(db).error();
    writer.db = *db;
  }
  // Events are the fleet's data: only the daemon's user reads them. A journal
  // we cannot make private is not opened.
  if (::chmod(path.c_str(), 0600) != 0) {
    const int err = errno;
    return Error(Errc::StorageFailed, "cannot set mode 0600 on the journal " + path.string() +
                                          ": " + std::strerror(err));
  }
  PALYRA_TRY(configure_writer(writer.db));
  PALYRA_TRY(create_schema(writer.db));

  ConnectionGuard reader;
  {
    auto db = sqlite::open(path, SQLITE_OPEN_READONLY);
    if (!db) return std::move(db).error();
    reader.db = *db;
  }
  PALYRA_TRY(sqlite::exec(reader.db, "PRAGMA busy_timeout=5000;"));

  auto max_seq = query_int(writer.db, "SELECT MAX(seq) FROM events", 0);
  if (!max_seq) return std::move(max_seq).error();
  auto recorded = query_int(writer.db, "SELECT value FROM journal_meta WHERE key='newest_seq'", 0);
  if (!recorded) return std::move(recorded).error();
  auto newest = static_cast<std::uint64_t>(std::max(*max_seq, *recorded));
  auto min_seq = query_int(writer.db, "SELECT MIN(seq) FROM events", 0);
  if (!min_seq) return std::move(min_seq).error();

  std::unique_ptr<Journal> journal(
      new Journal(path, std::move(options), writer.release(), reader.release()));
  journal->newest_.store(newest);
  journal->oldest_.store(*min_seq > 0 ? static_cast<std::uint64_t>(*min_seq) : newest + 1);
  journal->writer_ = std::thread([j = journal.get()] { j->writer_main(); });
  return journal;
}

Journal::Journal(std::filesystem::path path, JournalOptions options, sqlite3* writer,
                 sqlite3* reader)
    : path_(std::move(path)),
      options_(std::move(options)),
      writer_db_(writer),
      reader_db_(reader) {}

Journal::~Journal() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  select_after_.reset();
  sqlite3_close_v2(reader_db_);
  sqlite3_close_v2(writer_db_);
}

Status Journal::append(NewEvent event, AppendCallback on_durable) {
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

std::size_t Journal::queued_appends() const {
  std::lock_guard lock(queue_mutex_);
  return queue_.size();
}

void Journal::writer_main() {
  const bool has_retention =
      options_.retention.max_events > 0 || options_.retention.max_age.count() > 0;
  // The wake-ups are real time (a thread sleeping); what retention removes
  // is judged by options_.clock, in remove_expired().
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
    writer_wakeups_.fetch_add(1, std::memory_order_relaxed);
    const bool committed = !batch.empty();
    if (committed) commit_batch(batch);
    batch.clear();
    // The deadline moves on even without a retention policy, or the wait
    // above would return at once forever after the first interval.
    const auto now = std::chrono::steady_clock::now();
    const bool interval_due = now >= next_retention;
    if (interval_due) next_retention = now + interval;
    if (has_retention && (interval_due || (committed && options_.retention.max_events > 0))) {
      // Failures are reported by the next enforce_retention() call that a
      // caller makes; the writer itself keeps going.
      (void)enforce_retention();
    }
  }
}

Status Journal::write_batch(std::vector<PendingAppend>& batch, std::vector<EventPtr>& stored) {
  PALYRA_TRY(sqlite::exec(writer_db_, "BEGIN IMMEDIATE"));
  auto insert = sqlite::Statement::prepare(
      writer_db_,
      "INSERT INTO events (seq, name, payload, device_id, published_at_unix_ms)"
      " VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!insert) return std::move(insert).error();
  std::uint64_t seq = newest_.load(std::memory_order_relaxed);
  const std::int64_t published_at = unix_ms(*options_.clock);
  for (auto& pending : batch) {
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
    stored.push_back(std::move(event));
  }
  auto meta = sqlite::Statement::prepare(
      writer_db_, "INSERT OR REPLACE INTO journal_meta (key, value) VALUES ('newest_seq', ?1)");
  if (!meta) return std::move(meta).error();
  meta->bind(1, static_cast<std::int64_t>(seq));
  auto done = meta->step();
  if (!done) return std::move(done).error();
  return sqlite::exec(writer_db_, "COMMIT");
}

void Journal::commit_batch(std::vector<PendingAppend>& batch) {
  std::vector<EventPtr> stored;
  stored.reserve(batch.size());
  Status written;
  {
    std::lock_guard lock(writer_mutex_);
    written = write_batch(batch, stored);
    if (!written) (void)sqlite::exec(writer_db_, "ROLLBACK");
  }
  if (!written) {
    // Nothing of the batch is stored and no seq was consumed: every
    // publisher hears the error, none hears a seq.
    for (auto& pending : batch) pending.on_durable(written.error());
    return;
  }
  const std::uint64_t newest = stored.back()->seq;
  newest_.store(newest, std::memory_order_release);
  add_to_tail(stored);
  {
    std::lock_guard lock(subscribers_mutex_);
    for (auto& subscriber : subscribers_) subscriber.on_commit(newest);
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].on_durable(stored[i]->seq);
  if (options_.on_commit_observed) {
    const auto now = std::chrono::steady_clock::now();
    latencies_.clear();
    for (const auto& pending : batch) latencies_.push_back(now - pending.queued_at);
    options_.on_commit_observed(batch.size(), latencies_);
  }
}

void Journal::add_to_tail(std::vector<EventPtr> events) {
  std::lock_guard lock(tail_mutex_);
  for (auto& event : events) {
    tail_bytes_ += event->approximate_bytes();
    tail_.push_back(std::move(event));
  }
  while (!tail_.empty() &&
         (tail_.size() > options_.tail_max_events || tail_bytes_ > options_.tail_max_bytes)) {
    tail_bytes_ -= tail_.front()->approximate_bytes();
    tail_.pop_front();
  }
}

void Journal::trim_tail_below(std::uint64_t oldest) {
  std::lock_guard lock(tail_mutex_);
  while (!tail_.empty() && tail_.front()->seq < oldest) {
    tail_bytes_ -= tail_.front()->approximate_bytes();
    tail_.pop_front();
  }
}

std::size_t approximate_bytes(const EventView& event) noexcept {
  return sizeof(StoredEvent) + event.name.size() + event.payload_json.size() +
         event.device_id.size();
}

Result<std::vector<EventPtr>> Journal::read_after(std::uint64_t after, std::size_t max_events,
                                                  std::size_t max_bytes) {
  std::vector<EventPtr> events;
  auto visited = visit_after(after, max_events, max_bytes, [&](const EventView& event) {
    events.push_back(std::make_shared<StoredEvent>(
        StoredEvent{event.seq, std::string(event.name), std::string(event.payload_json),
                    std::string(event.device_id), event.published_at_unix_ms}));
    return true;
  });
  if (!visited) return std::move(visited).error();
  return events;
}

Result<std::size_t> Journal::visit_after(std::uint64_t after, std::size_t max_events,
                                         std::size_t max_bytes, const EventVisitor& visit) {
  if (after >= newest_seq() || max_events == 0) return std::size_t{0};
  std::size_t visited = 0;
  std::size_t bytes = 0;
  auto full = [&](std::size_t count) {
    return count >= max_events || (count > 0 && bytes >= max_bytes);
  };
  {
    // Recent events: share them out of the tail, then visit outside the
    // lock (the visitor may be slow, and the writer must not wait for it).
    thread_local std::vector<EventPtr> recent;
    recent.clear();
    {
      std::lock_guard lock(tail_mutex_);
      if (!tail_.empty() && after + 1 >= tail_.front()->seq) {
        // The tail is contiguous, so the position of seq after+1 is arithmetic.
        for (auto i = static_cast<std::size_t>(after + 1 - tail_.front()->seq);
             i < tail_.size() && !full(recent.size()); ++i) {
          bytes += tail_[i]->approximate_bytes();
          recent.push_back(tail_[i]);
        }
      }
    }
    if (!recent.empty()) {
      for (const auto& event : recent) {
        ++visited;
        if (!visit(event->view())) break;
      }
      recent.clear();
      return visited;
    }
  }
  // Behind the tail: read from disk (a follower catching up, or a resume
  // from far back), straight out of SQLite's row into the visitor.
  std::lock_guard lock(reader_mutex_);
  if (!select_after_) {
    auto select = sqlite::Statement::prepare(
        reader_db_,
        "SELECT seq, name, payload, device_id, published_at_unix_ms FROM events"
        " WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    if (!select) return std::move(select).error();
    select_after_ = std::make_unique<sqlite::Statement>(std::move(*select));
  }
  sqlite::Statement& select = *select_after_;
  select.reset();
  select.bind(1, static_cast<std::int64_t>(after));
  select.bind(2, static_cast<std::int64_t>(std::min<std::size_t>(max_events, 1u << 20)));
  while (!full(visited)) {
    auto row = select.step();
    if (!row) {
      select.reset();
      return std::move(row).error();
    }
    if (!*row) break;
    EventView event{static_cast<std::uint64_t>(select.column_int(0)), select.column_view(1),
                    select.column_view(2), select.column_view(3), select.column_int(4)};
    bytes += approximate_bytes(event);
    ++visited;
    if (!visit(event)) break;
  }
  select.reset();  // ends the read transaction: the WAL may be checkpointed
  return visited;
}

std::optional<std::uint64_t> Journal::gap_for(std::uint64_t resume_from) const noexcept {
  const std::uint64_t oldest = oldest_retained_seq();
  const std::uint64_t newest = newest_seq();
  // An event in (resume_from, oldest) existed and is gone.
  if (resume_from < newest && resume_from + 1 < oldest) return oldest;
  return std::nullopt;
}

Result<std::uint64_t> Journal::enforce_retention() {
  std::lock_guard lock(writer_mutex_);
  auto removed = remove_expired();
  if (!removed) (void)sqlite::exec(writer_db_, "ROLLBACK");
  return removed;
}

// Removes a prefix of the journal (never a hole): everything up to the
// newest event that is over the count limit or older than the age limit.
Result<std::uint64_t> Journal::remove_expired() {
  const RetentionPolicy& policy = options_.retention;
  const std::uint64_t newest = newest_seq();
  std::int64_t cutoff = 0;  // remove seq <= cutoff
  if (policy.max_events > 0 && newest > policy.max_events) {
    cutoff = static_cast<std::int64_t>(newest - policy.max_events);
  }
  if (policy.max_age.count() > 0) {
    auto statement = sqlite::Statement::prepare(
        writer_db_, "SELECT MAX(seq) FROM events WHERE published_at_unix_ms < ?1");
    if (!statement) return std::move(statement).error();
    statement->bind(
        1, unix_ms(*options_.clock) -
               std::chrono::duration_cast<std::chrono::milliseconds>(policy.max_age).count());
    auto row = statement->step();
    if (!row) return std::move(row).error();
    if (*row && !statement->column_is_null(0)) cutoff = std::max(cutoff, statement->column_int(0));
  }
  if (cutoff <= 0 || static_cast<std::uint64_t>(cutoff) < oldest_retained_seq()) return 0;

  PALYRA_TRY(sqlite::exec(writer_db_, "BEGIN IMMEDIATE"));
  auto remove = sqlite::Statement::prepare(writer_db_, "DELETE FROM events WHERE seq <= ?1");
  if (!remove) return std::move(remove).error();
  remove->bind(1, cutoff);
  auto done = remove->step();
  if (!done) return std::move(done).error();
  const auto removed = static_cast<std::uint64_t>(sqlite3_changes(writer_db_));
  PALYRA_TRY(sqlite::exec(writer_db_, "COMMIT"));
  removed_by_retention_.fetch_add(removed, std::memory_order_relaxed);

  auto min_seq = query_int(writer_db_, "SELECT MIN(seq) FROM events", 0);
  if (!min_seq) return std::move(min_seq).error();
  const std::uint64_t oldest = *min_seq > 0 ? static_cast<std::uint64_t>(*min_seq) : newest + 1;
  oldest_.store(oldest, std::memory_order_release);
  trim_tail_below(oldest);
  return removed;
}

Subscription Journal::subscribe(std::function<void(std::uint64_t)> on_commit) {
  std::lock_guard lock(subscribers_mutex_);
  std::uint64_t id = next_subscriber_id_++;
  subscribers_.push_back(Subscriber{id, std::move(on_commit)});
  return Subscription(this, id);
}

void Journal::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(subscribers_mutex_);
  std::erase_if(subscribers_, [id](const Subscriber& s) { return s.id == id; });
}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    journal_ = std::exchange(other.journal_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void Subscription::reset() {
  if (journal_) journal_->unsubscribe(id_);
  journal_ = nullptr;
}

}  // namespace palyra::journal
