// The Journal on a NATS JetStream stream (the cluster backend).
//
// - append: an asynchronous publish with many in flight; answered from the
//   client library's acknowledgement callback with the PubAck's stream
//   sequence, which is our seq (gap-free, strictly increasing). A publish id
//   becomes the message id (Nats-Msg-Id), so the stream's duplicate window
//   deduplicates it and a duplicate's PubAck carries the first one's seq.
// - followers: one ordered subscription per journal (per gateway) feeds the
//   shared Tail and wakes the CommitFanout; readers behind the tail get
//   what a thread of ours read ahead for them (ReadAhead: never waiting on
//   the caller's loop) through a few catch-up cursors (CatchUpReader), not
//   one consumer each.
// - retention is the stream's limits, applied by the servers; this side
//   only learns the stream's first sequence (stream info) when asked to
//   enforce retention and every retention_interval.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "../fanout.hpp"
#include "../tail.hpp"
#include "catch_up.hpp"
#include "nats_handles.hpp"
#include "palyra/journal/journal.hpp"
#include "read_ahead.hpp"

namespace palyra::journal::jetstream {

class JetStreamJournal final : public Journal {
 public:
  static Result<std::unique_ptr<JetStreamJournal>> open(const JetStreamBackend& backend,
                                                        JournalOptions options);
  // Waits (up to the request timeout) for the acknowledgements of appends in
  // flight; those still unanswered are answered StorageFailed.
  ~JetStreamJournal() override;

  Status append(NewEvent event, AppendCallback on_durable) override;
  Result<std::size_t> visit_after(std::uint64_t after, std::size_t max_events,
                                  std::size_t max_bytes, const EventVisitor& visit) override;
  bool reading_ahead(std::uint64_t after) const override;
  std::uint64_t newest_seq() const noexcept override { return newest_.load(); }
  std::uint64_t oldest_retained_seq() const noexcept override;
  [[nodiscard]] Subscription subscribe(std::function<void(std::uint64_t)> on_commit) override {
    return fanout_.subscribe(std::move(on_commit));
  }
  Result<std::uint64_t> enforce_retention() override;
  std::size_t queued_appends() const override;
  std::uint64_t removed_by_retention() const noexcept override { return removed_.load(); }

 private:
  JetStreamJournal(const JetStreamBackend& backend, JournalOptions options);
  Status connect();
  Status start_follower(std::uint64_t after);

  static void on_ack(jsCtx* js, natsMsg* msg, jsPubAck* ack, jsPubAckErr* err, void* self);
  static void on_stream_message(natsConnection* nc, natsSubscription* sub, natsMsg* msg,
                                void* self);
  void follow(NatsPtr<natsMsg> msg);
  void note_newest(std::uint64_t seq) noexcept;
  void note_stored(std::uint64_t seq) noexcept;
  // An acknowledged event has waited longer than readers should for the
  // follower to deliver it.
  bool follower_stalled() const noexcept;
  void refresh_loop();

  const JetStreamBackend backend_;
  const JournalOptions options_;
  const std::string subject_;

  NatsPtr<natsConnection> connection_;
  NatsPtr<jsCtx> js_;
  NatsPtr<natsSubscription> follower_;
  // Set once the follower's subscription is closed and its callback has
  // returned: the destructor waits for it before members go.
  std::promise<void> follower_done_;
  bool follower_done_set_up_ = false;

  struct Pending {
    AppendCallback on_durable;
    std::chrono::steady_clock::time_point queued_at;
  };
  // Appends in flight, by the address of their message: the library hands
  // the same message back to on_ack.
  mutable std::mutex pending_mutex_;
  std::unordered_map<const natsMsg*, Pending> pending_;
  bool closing_ = false;

  Tail tail_;
  CommitFanout fanout_;
  std::unique_ptr<CatchUpReader> catch_up_;
  std::unique_ptr<ReadAhead> read_ahead_;  // reads through catch_up_
  std::uint64_t last_followed_ = 0;        // the follower's newest seq (its thread only)
  // The same, for readers: events after it are on their way to the tail.
  std::atomic<std::uint64_t> followed_{0};
  // When the follower last delivered, or fell behind an acknowledgement
  // with nothing to deliver.
  std::atomic<SteadyTime> follower_moved_at_{};
  std::atomic<std::uint64_t> newest_{0};
  std::atomic<std::uint64_t> first_{1};
  std::atomic<std::uint64_t> removed_{0};
  std::mutex retention_mutex_;  // one look at the stream at a time: first_ and removed_ agree

  std::mutex refresh_mutex_;
  std::condition_variable refresh_wake_;
  bool stop_refresh_ = false;
  std::thread refresher_;
};

}  // namespace palyra::journal::jetstream
