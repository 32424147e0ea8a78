#include "catch_up.hpp"

#include <algorithm>
#include <thread>
#include <utility>

#include "codec.hpp"

namespace palyra::journal::jetstream {

namespace {
constexpr std::size_t kAckEvery = 256;
constexpr std::chrono::milliseconds kPollMs{200};
// How long a reader that emptied its cursor waits for the next batch.
constexpr std::chrono::microseconds kLinger{200};
// After a cursor could not be made, reads go by direct get for this long
// before trying again: a consumer created right after a stream leader change
// may be placed on the server that went ("consumer is offline"), and each
// try costs a whole request wait.
constexpr std::chrono::seconds kDirectAfterFailure{10};
}  // namespace

CatchUpReader::CatchUpReader(jsCtx* js, std::string stream, std::string subject,
                             CatchUpOptions options)
    : js_(js), stream_(std::move(stream)), subject_(std::move(subject)), options_(options) {}

CatchUpReader::~CatchUpReader() = default;

CatchUpReader::Cursor::~Cursor() {
  if (subscription) (void)natsSubscription_Unsubscribe(subscription.get());
}

Result<std::size_t> CatchUpReader::read(std::uint64_t after, std::uint64_t newest,
                                        std::size_t max_events, std::vector<HeldEvent>& into) {
  if (max_events == 0 || after >= newest) return std::size_t{0};
  if (std::chrono::steady_clock::now() < direct_until_.load())
    return read_directly(after, newest, max_events, into);
  auto taken = take(after + 1);
  if (!taken) {
    direct_until_ = std::chrono::steady_clock::now() + kDirectAfterFailure;
    return read_directly(after, newest, max_events, into);
  }
  std::unique_ptr<Cursor> cursor = std::move(*taken);
  std::size_t read = 0;
  natsMsg* unacknowledged = nullptr;  // the newest message read (held in `into`), not acknowledged
  auto acknowledge = [&] {
    // AckAll: one acknowledgement opens the window for everything up to it.
    if (unacknowledged != nullptr) (void)natsMsg_Ack(unacknowledged, nullptr);
    unacknowledged = nullptr;
  };
  std::size_t since_ack = 0;
  while (read < max_events && cursor->next <= newest) {
    auto next = next_message(*cursor);
    if (!next) {
      // The consumer went with its server (a stream leader change loses an
      // ephemeral consumer): the rest of this read by direct get, and the
      // next reads too for a while; the cursor is dropped.
      acknowledge();
      direct_until_ = std::chrono::steady_clock::now() + kDirectAfterFailure;
      auto rest = read_directly(cursor->next - 1, newest, max_events - read, into);
      if (!rest) return std::move(rest).error();
      return read + *rest;
    }
    if (!*next) break;  // nothing stored from here: retention removed the rest
    NatsPtr<natsMsg> msg = std::move(**next);
    auto seq = delivered_stream_seq(msg.get());
    if (!seq) return std::move(seq).error();
    if (*seq < cursor->next) continue;  // a redelivery of what we read
    auto event = view_event(msg.get(), *seq);
    if (!event) return std::move(event).error();
    cursor->next = *seq + 1;
    ++read;
    unacknowledged = msg.get();
    into.push_back(HeldEvent{std::move(msg), *event});
    if (++since_ack >= kAckEvery) {
      acknowledge();
      since_ack = 0;
    }
  }
  acknowledge();
  give_back(std::move(cursor));
  return read;
}

Result<std::optional<NatsPtr<natsMsg>>> CatchUpReader::next_message(Cursor& cursor) const {
  const auto deadline = std::chrono::steady_clock::now() + options_.wait;
  // A reader that has taken everything waits a moment before it asks for
  // more: asking at once makes the library's reader thread wake it for
  // each message it parses (a futex hand-off per event, the largest cost
  // in a profile of a read), while a short wait lets a batch arrive.
  int pending = 0;
  int pending_bytes = 0;
  if (natsSubscription_GetPending(cursor.subscription.get(), &pending, &pending_bytes) == NATS_OK &&
      pending == 0) {
    std::this_thread::sleep_for(kLinger);
  }
  for (;;) {
    natsMsg* raw = nullptr;
    const natsStatus status =
        natsSubscription_NextMsg(&raw, cursor.subscription.get(), kPollMs.count());
    NatsPtr<natsMsg> msg(raw);
    if (status == NATS_OK) return std::optional<NatsPtr<natsMsg>>(std::move(msg));
    if (status != NATS_TIMEOUT) {
      return nats_error("catching up on stream " + stream_ + " at " + std::to_string(cursor.next),
                        status);
    }
    // Nothing came: either nothing is stored from here (retention removed
    // it) or the consumer is gone. Its server says which.
    jsConsumerInfo* raw_info = nullptr;
    jsErrCode code{};
    const natsStatus asked =
        natsSubscription_GetConsumerInfo(&raw_info, cursor.subscription.get(), nullptr, &code);
    const NatsPtr<jsConsumerInfo> info(raw_info);
    if (asked != NATS_OK) {
      return nats_error(
          "the catch-up consumer of stream " + stream_ + " at " + std::to_string(cursor.next),
          asked, code);
    }
    if (info->NumPending == 0 && info->NumAckPending == 0) return std::optional<NatsPtr<natsMsg>>();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error(Errc::StorageFailed, "catching up on stream " + stream_ + " at " +
                                            std::to_string(cursor.next) +
                                            ": nothing delivered within the wait");
    }
  }
}

Result<std::size_t> CatchUpReader::read_directly(std::uint64_t after, std::uint64_t newest,
                                                 std::size_t max_events,
                                                 std::vector<HeldEvent>& into) const {
  std::size_t visited = 0;
  std::uint64_t next = after + 1;
  while (visited < max_events && next <= newest) {
    // "The next message on our subject from seq" skips what retention removed.
    jsDirectGetMsgOptions get;
    jsDirectGetMsgOptions_Init(&get);
    get.Sequence = next;
    get.NextBySubject = subject_.c_str();
    natsMsg* raw = nullptr;
    const natsStatus status = js_DirectGetMsg(&raw, js_, stream_.c_str(), nullptr, &get);
    NatsPtr<natsMsg> msg(raw);
    if (status == NATS_NOT_FOUND) break;
    if (status != NATS_OK)
      return nats_error("reading stream " + stream_ + " at " + std::to_string(next), status);
    const std::uint64_t seq = natsMsg_GetSequence(msg.get());
    auto event = view_event(msg.get(), seq);
    if (!event) return std::move(event).error();
    next = seq + 1;
    ++visited;
    into.push_back(HeldEvent{std::move(msg), *event});
  }
  return visited;
}

Result<std::unique_ptr<CatchUpReader::Cursor>> CatchUpReader::take(std::uint64_t next) {
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = idle_.begin(); it != idle_.end();) {
      if ((*it)->next == next) {
        auto cursor = std::move(*it);
        idle_.erase(it);
        return cursor;
      }
      if (now - (*it)->idle_since > options_.idle_timeout) {
        it = idle_.erase(it);
      } else {
        ++it;
      }
    }
  }
  return open(next);
}

void CatchUpReader::give_back(std::unique_ptr<Cursor> cursor) {
  cursor->idle_since = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  idle_.push_front(std::move(cursor));
  while (idle_.size() > options_.max_idle) idle_.pop_back();
}

Result<std::unique_ptr<CatchUpReader::Cursor>> CatchUpReader::open(std::uint64_t next) const {
  jsSubOptions sub_options;
  jsSubOptions_Init(&sub_options);
  sub_options.Stream = stream_.c_str();
  sub_options.ManualAck = true;
  sub_options.Config.DeliverPolicy = js_DeliverByStartSequence;
  sub_options.Config.OptStartSeq = next;
  // The server pushes up to a window ahead of the reader, so a read finds
  // its messages waiting; each acknowledgement (AckAll) moves the window.
  sub_options.Config.AckPolicy = js_AckAll;
  sub_options.Config.MaxAckPending = options_.window;
  sub_options.Config.AckWait =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.idle_timeout * 2).count();
  // Its state is ours alone and short-lived: one replica in memory, not
  // the stream's (an R3 consumer would replicate every acknowledgement).
  sub_options.Config.MemoryStorage = true;
  sub_options.Config.Replicas = 1;
  // If we vanish without deleting it, the server does after a while.
  sub_options.Config.InactiveThreshold =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.idle_timeout * 2).count();
  natsSubscription* raw = nullptr;
  jsErrCode code{};
  const natsStatus status =
      js_SubscribeSync(&raw, js_, subject_.c_str(), nullptr, &sub_options, &code);
  NatsPtr<natsSubscription> subscription(raw);
  if (status != NATS_OK) {
    return nats_error("a catch-up consumer on stream " + stream_ + " from " + std::to_string(next),
                      status, code);
  }
  // The window fits in the subscription's buffer: nothing is dropped.
  if (const natsStatus limited =
          natsSubscription_SetPendingLimits(subscription.get(), options_.window * 2, 256 << 20);
      limited != NATS_OK) {
    return nats_error("sizing a catch-up consumer's buffer", limited);
  }
  auto cursor = std::make_unique<Cursor>();
  cursor->subscription = std::move(subscription);
  cursor->next = next;
  return cursor;
}

}  // namespace palyra::journal::jetstream
