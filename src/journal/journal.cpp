// The backend-neutral parts of the Journal interface, and the factory that
// picks a backend.
#include "palyra/journal/journal.hpp"

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
