// The durable event journal behind node.stream_events / node.publish_event,
// as the rest of the daemon sees it: append (answered once durable), read
// after a seq, follow (a subscription woken after every commit), the
// oldest and newest seq, retention.
//
// `Journal` is the seam between NodeService and a storage backend. Every
// backend keeps the same promises:
// - an append is reported only once it is durable, with its seq;
// - seqs are strictly increasing, without gaps, never reused (even when
//   retention has removed every event);
// - retention removes a prefix, never a hole;
// - a publish with an id (NewEvent::publish_id) that the same device already
//   published within the deduplication window appends nothing and is
//   answered with the first one's seq, however many are in flight at once.
//
// Backends: SQLite, embedded in the daemon's state directory (src/journal/
// sqlite), and NATS JetStream for the cluster (src/journal/jetstream); both
// share the in-memory tail and the subscriber fan-out
// (src/journal/tail.hpp, fanout.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "palyra/cluster/nats_servers.hpp"
#include "palyra/common/clock.hpp"
#include "palyra/common/event_view.hpp"
#include "palyra/common/result.hpp"

namespace palyra::journal {

struct NewEvent {
  std::string name;
  std::string payload_json;  // compact, already-validated JSON
  std::string device_id;     // the publisher, from its certificate (empty in insecure mode)
  // PROTOCOL.md's params.id (1 to 64 bytes): makes the publish idempotent
  // per device within JournalOptions::dedup_window. None: always appended.
  std::optional<std::string> publish_id = std::nullopt;
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
  // How long a publish id is remembered, from its first publish (by the
  // clock). Must be > 0.
  std::chrono::milliseconds dedup_window = std::chrono::minutes(2);
  std::size_t tail_max_events = 4096;      // the in-memory tail, by count...
  std::size_t tail_max_bytes = 16u << 20;  // ...and by bytes
  std::size_t max_queued_appends = 65536;  // appends waiting for the writer; more are refused
  std::size_t max_batch = 1024;            // appends per commit
  // How often the idle writer wakes up to apply retention by age and forget
  // expired publish ids: real time, since it is how long a thread sleeps.
  // Must be > 0.
  std::chrono::milliseconds retention_interval{1000};
  // What events are stamped with, and retention and deduplication are
  // judged by.
  std::shared_ptr<const Clock> clock = system_clock();
  // Called on the writer thread after each successful commit with the
  // batch's size and, per append, the time from append() to durable
  // (monotonic). For metrics; keep it short. Empty: not measured.
  using CommitObserver =
      std::function<void(std::size_t batch_size, std::span<const std::chrono::nanoseconds>)>;
  CommitObserver on_commit_observed;
};

class CommitFanout;

// Unsubscribes when destroyed; waits for a callback in progress to return.
class Subscription {
 public:
  Subscription() = default;
  Subscription(CommitFanout* fanout, std::uint64_t id) : fanout_(fanout), id_(id) {}
  Subscription(Subscription&& other) noexcept { *this = std::move(other); }
  Subscription& operator=(Subscription&& other) noexcept;
  ~Subscription() { reset(); }
  void reset();

 private:
  CommitFanout* fanout_ = nullptr;
  std::uint64_t id_ = 0;
};

class Journal {
 public:
  // Commits everything already queued, then stops.
  virtual ~Journal() = default;
  Journal() = default;
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Called on the backend's thread once the event is durable (its seq; for
  // a duplicate publish id, the first publish's seq) or could not be stored
  // (StorageFailed). Keep it short: post to your own loop.
  using AppendCallback = std::function<void(Result<std::uint64_t>)>;
  // Queues an append. Refused at once (the callback is not called) when the
  // queue is full or the journal is closing: StorageFailed with the numbers.
  virtual Status append(NewEvent event, AppendCallback on_durable) = 0;

  // Calls `visit` with each event with seq > `after`, in order: at most
  // `max_events`, stopping early once `max_bytes` are visited (always at
  // least one event if any) or when `visit` returns false. The view is valid
  // only during the call (it may point into the backend's storage). Returns
  // how many events were visited; 0 means none newer than `after` is stored,
  // or, when reading_ahead(after), that they are not read yet. Never waits
  // for a remote store: callers run it on their event loop.
  // If retention has removed events after `after`, the first event has a seq
  // greater than after + 1; callers check with gap_for().
  using EventVisitor = std::function<bool(const EventView&)>;
  virtual Result<std::size_t> visit_after(std::uint64_t after, std::size_t max_events,
                                          std::size_t max_bytes, const EventVisitor& visit) = 0;
  // Whether a visit_after(after, ...) that visited nothing did so because
  // the events after `after` are still being read: a backend whose store is
  // remote (JetStream) reads them on a thread of its own and calls the
  // subscribers (subscribe) once they are ready. A backend that reads in
  // place (SQLite) never is.
  virtual bool reading_ahead(std::uint64_t after) const {
    (void)after;
    return false;
  }
  // The same selection as copies, for tests and tools: waits (up to
  // `wait`) for what is being read ahead. StorageFailed when it is not read
  // within the wait.
  Result<std::vector<EventPtr>> read_after(
      std::uint64_t after, std::size_t max_events, std::size_t max_bytes,
      std::chrono::milliseconds wait = std::chrono::seconds(30));

  // The seq of the newest durable event; 0 if none was ever stored.
  virtual std::uint64_t newest_seq() const noexcept = 0;
  // The seq of the oldest retained event; newest_seq() + 1 when none is
  // retained (the next one to be stored).
  virtual std::uint64_t oldest_retained_seq() const noexcept = 0;
  // PROTOCOL.md's resume_gap: the oldest retained seq when retention removed
  // an event the reader has not seen (one with seq in (resume_from, oldest)).
  std::optional<std::uint64_t> gap_for(std::uint64_t resume_from) const noexcept;

  // Calls `on_commit(newest_seq)` on the backend's thread after every commit
  // that stored events, until the returned Subscription is destroyed.
  [[nodiscard]] virtual Subscription subscribe(std::function<void(std::uint64_t)> on_commit) = 0;

  // Runs the retention policy now, by the clock's time, and forgets publish
  // ids older than the deduplication window (both also happen after commits
  // and every retention_interval). Returns how many events were removed.
  virtual Result<std::uint64_t> enforce_retention() = 0;

  // Appends waiting to be committed.
  virtual std::size_t queued_appends() const = 0;
  // How many events retention has removed since open.
  virtual std::uint64_t removed_by_retention() const noexcept = 0;
};

// Where a journal lives, one alternative per backend.
struct SqliteBackend {
  std::filesystem::path path;  // created if needed, mode 0600
};
// A NATS JetStream stream (the cluster): one stream whose sequence is our
// seq; an append is answered after the stream's acknowledgement (stored by a
// quorum of its replicas). Created if missing, its limits set from
// JournalOptions::retention and dedup_window. Only in builds with
// PALYRA_JETSTREAM; elsewhere open_journal refuses it.
struct JetStreamBackend {
  std::vector<std::string> urls;  // nats://host:port, any of the cluster's servers
  std::string stream = "PALYRA_EVENTS";
  int replicas = 1;  // 1, 3 or 5; more than the cluster has is refused by the server
  // How long a request to the server (stream info, a read, an acknowledgement)
  // may take.
  std::chrono::milliseconds request_timeout{5000};
  // How long opening waits for a cluster that is still electing its leaders
  // (started together with the gateway) before it gives up.
  std::chrono::milliseconds startup_wait{30000};
  // The heartbeat of the consumer that feeds this gateway's followers: its
  // loss (its server died, the stream's leader moved) is noticed after two
  // are missed, and the consumer recreated then.
  std::chrono::milliseconds follower_heartbeat{500};
  // TLS to the servers, with a client certificate (journal.nats_tls_*).
  cluster::NatsTls tls;
};
using Backend = std::variant<SqliteBackend, JetStreamBackend>;

// Opens (creating if needed) the journal and starts its writer.
// InvalidArgument for options out of range; StorageFailed with the
// backend's details (for SQLite: the path, the statement and its message).
Result<std::unique_ptr<Journal>> open_journal(const Backend& backend, JournalOptions options = {});

}  // namespace palyra::journal
