// The backend-neutral parts of the Journal interface, and the factory that
// picks a backend.
#include "palyra/journal/journal.hpp"

#include <fmt/format.h>

#include <condition_variable>
#include <mutex>
#include <string>

#include "sqlite/sqlite_journal.hpp"
#if PALYRA_JETSTREAM
#include "jetstream/jetstream_journal.hpp"
#endif

namespace palyra::journal {

std::size_t approximate_bytes(const EventView& event) noexcept {
  return sizeof(StoredEvent) + event.name.size() + event.payload_json.size() +
         event.device_id.size();
}

Result<std::vector<EventPtr>> Journal::read_after(std::uint64_t after, std::size_t max_events,
                                                  std::size_t max_bytes,
                                                  std::chrono::milliseconds wait) {
  // Notifications count up, so a wait never misses one that came between a
  // visit and the wait.
  std::mutex mutex;
  std::condition_variable notified;
  std::uint64_t notifications = 0;
  const Subscription subscription = subscribe([&](std::uint64_t) {
    std::lock_guard lock(mutex);
    ++notifications;
    notified.notify_all();
  });
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::vector<EventPtr> events;
  std::size_t bytes = 0;
  while (events.size() < max_events && bytes < max_bytes) {
    std::uint64_t seen = 0;
    {
      std::lock_guard lock(mutex);
      seen = notifications;
    }
    const std::uint64_t from = events.empty() ? after : events.back()->seq;
    auto visited = visit_after(
        from, max_events - events.size(), max_bytes - bytes, [&](const EventView& event) {
          bytes += approximate_bytes(event);
          events.push_back(std::make_shared<StoredEvent>(
              StoredEvent{event.seq, std::string(event.name), std::string(event.payload_json),
                          std::string(event.device_id), event.published_at_unix_ms}));
          return true;
        });
    if (!visited) return std::move(visited).error();
    if (*visited > 0) continue;
    if (!reading_ahead(from)) break;
    std::unique_lock lock(mutex);
    if (!notified.wait_until(lock, deadline, [&] { return notifications != seen; })) {
      return Error(Errc::StorageFailed,
                   fmt::format("reading the journal after seq {}: not read within {} ms", from,
                               wait.count()));
    }
  }
  return events;
}

std::optional<std::uint64_t> Journal::gap_for(std::uint64_t resume_from) const noexcept {
  const std::uint64_t oldest = oldest_retained_seq();
  const std::uint64_t newest = newest_seq();
  // An event in (resume_from, oldest) existed and is gone.
  if (resume_from < newest && resume_from + 1 < oldest) return oldest;
  return std::nullopt;
}

Result<std::unique_ptr<Journal>> open_journal(const Backend& backend, JournalOptions options) {
  if (options.max_batch == 0 || options.max_queued_appends == 0 ||
      options.retention_interval.count() <= 0 || options.dedup_window.count() <= 0 ||
      !options.clock) {
    return Error(Errc::InvalidArgument,
                 "journal max_batch, max_queued_appends, retention_interval and dedup_window "
                 "must be > 0, and it needs a clock");
  }
  if (const auto* where = std::get_if<SqliteBackend>(&backend)) {
    auto journal = sqlite::SqliteJournal::open(where->path, std::move(options));
    if (!journal) return std::move(journal).error();
    return std::unique_ptr<Journal>(std::move(*journal));
  }
#if PALYRA_JETSTREAM
  auto journal =
      jetstream::JetStreamJournal::open(std::get<JetStreamBackend>(backend), std::move(options));
  if (!journal) return std::move(journal).error();
  return std::unique_ptr<Journal>(std::move(*journal));
#else
  return Error(Errc::InvalidArgument,
               "this build has no JetStream journal backend (built without libnats)");
#endif
}

}  // namespace palyra::journal
