#include "jetstream_journal.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

#include "../../cluster/nats_connection.hpp"
#include "codec.hpp"
#include "stream.hpp"

namespace palyra::journal::jetstream {

namespace {
// How long readers wait for the follower to deliver an acknowledged event
// before they read it from the stream instead.
constexpr std::chrono::milliseconds kFollowerStalled{1000};
}  // namespace

JetStreamJournal::JetStreamJournal(const JetStreamBackend& backend, JournalOptions options)
    : backend_(backend),
      options_(std::move(options)),
      subject_(subject_for(backend.stream)),
      tail_(options_.tail_max_events, options_.tail_max_bytes) {}

Result<std::unique_ptr<JetStreamJournal>> JetStreamJournal::open(const JetStreamBackend& backend,
                                                                 JournalOptions options) {
  if (backend.urls.empty() || backend.stream.empty() || backend.replicas < 1 ||
      backend.request_timeout.count() <= 0 || backend.follower_heartbeat.count() <= 0) {
    return Error(Errc::InvalidArgument,
                 "the JetStream journal needs server urls, a stream name, replicas >= 1, a "
                 "request timeout > 0 and a follower heartbeat > 0");
  }
  std::unique_ptr<JetStreamJournal> journal(new JetStreamJournal(backend, std::move(options)));
  if (auto connected = journal->connect(); !connected) return std::move(connected).error();
  auto state = ensure_stream(journal->js_.get(), backend, journal->options_);
  if (!state) return std::move(state).error();
  journal->newest_ = state->last_seq;
  journal->first_ = state->first_seq;
  journal->catch_up_ =
      std::make_unique<CatchUpReader>(journal->js_.get(), backend.stream, journal->subject_,
                                      CatchUpOptions{.wait = backend.request_timeout});
  journal->read_ahead_ =
      std::make_unique<ReadAhead>(*journal->catch_up_, ReadAheadOptions{},
                                  [j = journal.get()] { j->fanout_.notify(j->newest_.load()); });
  if (auto started = journal->start_follower(state->last_seq); !started)
    return std::move(started).error();
  journal->refresher_ = std::thread([j = journal.get()] { j->refresh_loop(); });
  return journal;
}

Status JetStreamJournal::connect() {
  auto connection = cluster::connect_nats(
      cluster::NatsServers{backend_.urls, backend_.tls, backend_.request_timeout},
      "palyrad journal " + backend_.stream);
  if (!connection) return std::move(connection).error();
  connection_ = std::move(*connection);

  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = backend_.request_timeout.count();
  js_options.PublishAsync.MaxPending = static_cast<std::int64_t>(options_.max_queued_appends);
  js_options.PublishAsync.AckHandler = &JetStreamJournal::on_ack;
  js_options.PublishAsync.AckHandlerClosure = this;
  jsCtx* js = nullptr;
  const natsStatus status = natsConnection_JetStream(&js, connection_.get(), &js_options);
  js_.reset(js);
  if (status != NATS_OK) return nats_error("JetStream context", status);
  return {};
}

Status JetStreamJournal::start_follower(std::uint64_t after) {
  jsSubOptions sub_options;
  jsSubOptions_Init(&sub_options);
  sub_options.Stream = backend_.stream.c_str();
  sub_options.Ordered = true;
  sub_options.Config.DeliverPolicy = js_DeliverByStartSequence;
  sub_options.Config.OptStartSeq = after + 1;
  // The library notices a lost consumer when two heartbeats are missed, and
  // recreates it then, again at each miss until the stream takes it. Its
  // default, 5 s, left a gateway's followers without news for 10-20 s after
  // a leader kill.
  sub_options.Config.Heartbeat =
      std::chrono::duration_cast<std::chrono::nanoseconds>(backend_.follower_heartbeat).count();
  last_followed_ = after;
  followed_ = after;
  follower_moved_at_ = options_.clock->steady_now();
  natsSubscription* sub = nullptr;
  jsErrCode code{};
  const natsStatus status =
      js_Subscribe(&sub, js_.get(), subject_.c_str(), &JetStreamJournal::on_stream_message, this,
                   nullptr, &sub_options, &code);
  follower_.reset(sub);
  if (status != NATS_OK)
    return nats_error("ordered subscription to " + backend_.stream, status, code);
  const natsStatus hooked = natsSubscription_SetOnCompleteCB(
      follower_.get(),
      [](void* self) { static_cast<JetStreamJournal*>(self)->follower_done_.set_value(); }, this);
  if (hooked != NATS_OK) return nats_error("watching the ordered subscription's end", hooked);
  follower_done_set_up_ = true;
  return {};
}

JetStreamJournal::~JetStreamJournal() {
  {
    std::lock_guard lock(pending_mutex_);
    closing_ = true;
  }
  if (js_) {
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = backend_.request_timeout.count();
    js_PublishAsyncComplete(js_.get(), &wait);
  }
  {
    std::lock_guard lock(refresh_mutex_);
    stop_refresh_ = true;
  }
  refresh_wake_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  read_ahead_.reset();  // its reads use catch_up_
  catch_up_.reset();    // its consumers go before the connection
  // Unsubscribe before the connection goes: the follower's callback uses us.
  if (follower_ && natsSubscription_Unsubscribe(follower_.get()) == NATS_OK &&
      follower_done_set_up_) {
    (void)follower_done_.get_future().wait_for(backend_.request_timeout);
  }
  follower_.reset();
  if (connection_) natsConnection_Close(connection_.get());
  std::unordered_map<const natsMsg*, Pending> unanswered;
  {
    std::lock_guard lock(pending_mutex_);
    unanswered.swap(pending_);
  }
  for (auto& [msg, pending] : unanswered) {
    pending.on_durable(
        Error(Errc::StorageFailed, "the journal closed before the stream acknowledged the append"));
  }
}

Status JetStreamJournal::append(NewEvent event, AppendCallback on_durable) {
  auto msg = encode_event(subject_, event, unix_ms(*options_.clock));
  if (!msg) return std::move(msg).error();
  const std::string id =
      event.publish_id ? message_id(event.device_id, *event.publish_id) : std::string();
  jsPubOptions publish;
  jsPubOptions_Init(&publish);
  publish.MaxWait = backend_.request_timeout.count();  // so every append is answered
  publish.ExpectStream = backend_.stream.c_str();
  if (!id.empty()) publish.MsgId = id.c_str();

  natsMsg* raw = msg->get();
  {
    std::lock_guard lock(pending_mutex_);
    if (closing_ || pending_.size() >= options_.max_queued_appends) {
      return Error(Errc::StorageFailed,
                   "journal append refused: " + std::to_string(pending_.size()) +
                       " in flight (max " + std::to_string(options_.max_queued_appends) + ")" +
                       (closing_ ? ", closing" : ""));
    }
    // Before publishing: the acknowledgement may arrive before the call returns.
    pending_.emplace(raw, Pending{std::move(on_durable), std::chrono::steady_clock::now()});
  }
  natsMsg* handed = msg->release();
  const natsStatus status = js_PublishMsgAsync(js_.get(), &handed, &publish);
  if (status != NATS_OK) {
    natsMsg_Destroy(handed);  // still ours when the call failed
    std::lock_guard lock(pending_mutex_);
    pending_.erase(raw);
    return nats_error("publishing to stream " + backend_.stream, status);
  }
  return {};
}

void JetStreamJournal::on_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* err, void* self) {
  auto* journal = static_cast<JetStreamJournal*>(self);
  // The published message comes back to us to destroy (nats.h, jsPubAckHandler).
  const NatsPtr<natsMsg> published(msg);
  Pending pending;
  {
    std::lock_guard lock(journal->pending_mutex_);
    auto found = journal->pending_.find(msg);
    if (found == journal->pending_.end()) return;
    pending = std::move(found->second);
    journal->pending_.erase(found);
  }
  if (ack == nullptr) {
    const natsStatus status = err != nullptr ? err->Err : NATS_ERR;
    // The server's description (ErrText), unless it only repeats the status.
    std::string what = "publishing to stream " + journal->backend_.stream;
    if (err != nullptr && err->ErrText != nullptr &&
        std::string_view(err->ErrText) != natsStatus_GetText(status))
      what += std::string(" (") + err->ErrText + ")";
    Error error = nats_error(what, status, err != nullptr ? err->ErrCode : jsErrCode{});
    pending.on_durable(std::move(error));
    return;
  }
  if (!ack->Duplicate) journal->note_stored(ack->Sequence);
  if (journal->options_.on_commit_observed) {
    const std::array<std::chrono::nanoseconds, 1> took{std::chrono::steady_clock::now() -
                                                       pending.queued_at};
    journal->options_.on_commit_observed(1, took);
  }
  pending.on_durable(ack->Sequence);
}

void JetStreamJournal::on_stream_message(natsConnection*, natsSubscription*, natsMsg* msg,
                                         void* self) {
  static_cast<JetStreamJournal*>(self)->follow(NatsPtr<natsMsg>(msg));
}

// On the subscription's delivery thread, one message at a time, in stream
// order; an ordered consumer that restarted may repeat what we have seen.
void JetStreamJournal::follow(NatsPtr<natsMsg> msg) {
  auto seq = delivered_stream_seq(msg.get());
  if (!seq || *seq <= last_followed_) return;
  auto event = view_event(msg.get(), *seq);
  if (!event) return;  // not ours: nothing else publishes on our subject
  // The tail holds a contiguous run: after a jump (retention removed what we
  // had not seen), start it afresh.
  if (*seq != last_followed_ + 1) tail_.trim_below(*seq);
  const std::array<EventPtr, 1> one{std::make_shared<const StoredEvent>(
      StoredEvent{*seq, std::string(event->name), std::string(event->payload_json),
                  std::string(event->device_id), event->published_at_unix_ms})};
  tail_.add(one);
  last_followed_ = *seq;
  followed_ = *seq;
  follower_moved_at_ = options_.clock->steady_now();
  note_newest(*seq);
  fanout_.notify(newest_.load());
}

void JetStreamJournal::note_newest(std::uint64_t seq) noexcept {
  std::uint64_t current = newest_.load();
  while (current < seq && !newest_.compare_exchange_weak(current, seq)) {
  }
}

// Learned from an acknowledgement or the stream's info, not the follower.
void JetStreamJournal::note_stored(std::uint64_t seq) noexcept {
  // A follower that had delivered everything is given its time to deliver
  // this from now, not from its last delivery.
  if (followed_.load() >= newest_.load()) follower_moved_at_ = options_.clock->steady_now();
  note_newest(seq);
}

bool JetStreamJournal::follower_stalled() const noexcept {
  return newest_.load() > followed_.load() &&
         options_.clock->steady_now() - follower_moved_at_.load() > kFollowerStalled;
}

std::uint64_t JetStreamJournal::oldest_retained_seq() const noexcept {
  // What the last look at the stream said, but never past what we know to
  // exist.
  return std::min(first_.load(), newest_.load() + 1);
}

Result<std::size_t> JetStreamJournal::visit_after(std::uint64_t after, std::size_t max_events,
                                                  std::size_t max_bytes,
                                                  const EventVisitor& visit) {
  if (max_events == 0) return std::size_t{0};
  std::size_t visited = 0;
  std::size_t bytes = 0;
  bool stopped = false;  // by the visitor or the byte budget
  std::uint64_t next = after + 1;
  auto counted = [&](const EventView& event) {
    ++visited;
    bytes += approximate_bytes(event);
    next = event.seq + 1;
    stopped = !visit(event) || bytes >= max_bytes;
    return !stopped;
  };
  // First the tail: what the follower has delivered.
  (void)tail_.visit_after(after, max_events, max_bytes, counted);
  // Then, for a reader behind the tail, what was read ahead from the stream
  // (asked for if it was not). Events newer than the follower's are on
  // their way to the tail: reading them from the stream too would make a
  // catch-up cursor for every live follower an acknowledgement outran. But
  // a follower that delivered nothing for a while has lost its consumer
  // (the stream's leader moved) until the library recreates it: readers
  // are not kept waiting for that, they read up to the newest.
  const std::uint64_t readable = follower_stalled() ? newest_.load() : followed_.load();
  if (!stopped && visited < max_events && next <= readable) {
    auto read = read_ahead_->visit(next - 1, readable, max_events - visited, counted);
    if (!read) return std::move(read).error();
  }
  return visited;
}

bool JetStreamJournal::reading_ahead(std::uint64_t after) const {
  if (after >= newest_.load()) return false;
  // Acknowledged and not yet delivered by the follower: its delivery
  // notifies the subscribers, or, should it stall, the refresh loop does.
  if (after >= followed_.load()) return true;
  return read_ahead_->reading_ahead(after);
}

Result<std::uint64_t> JetStreamJournal::enforce_retention() {
  std::lock_guard lock(retention_mutex_);
  auto state = stream_state(js_.get(), backend_.stream);
  if (!state) return std::move(state).error();
  note_stored(state->last_seq);
  const std::uint64_t before = first_.load();
  const std::uint64_t removed = state->first_seq > before ? state->first_seq - before : 0;
  if (removed > 0) {
    first_ = state->first_seq;
    removed_ += removed;
    tail_.trim_below(state->first_seq);
  }
  return removed;
}

std::size_t JetStreamJournal::queued_appends() const {
  std::lock_guard lock(pending_mutex_);
  return pending_.size();
}

// The servers apply the stream's limits; we look at the stream's first
// sequence every retention_interval so gap_for() stays close to the truth.
// In between, readers waiting for a stalled follower are woken to read
// from the stream instead.
void JetStreamJournal::refresh_loop() {
  using std::chrono::steady_clock;
  const auto tick = std::min(options_.retention_interval, kFollowerStalled);
  auto next_look = steady_clock::now() + options_.retention_interval;
  std::unique_lock lock(refresh_mutex_);
  while (!stop_refresh_) {
    refresh_wake_.wait_for(lock, tick, [&] { return stop_refresh_; });
    if (stop_refresh_) break;
    lock.unlock();
    if (steady_clock::now() >= next_look) {
      (void)enforce_retention();  // a failed look is retried at the next interval
      next_look = steady_clock::now() + options_.retention_interval;
    }
    if (follower_stalled()) fanout_.notify(newest_.load());
    lock.lock();
  }
}

}  // namespace palyra::journal::jetstream
