#include "catch_up.hpp"

#include <algorithm>
#include <utility>

#include "codec.hpp"

namespace palyra::journal::jetstream {

CatchUpReader::CatchUpReader(jsCtx* js, std::string stream, std::string subject,
                             CatchUpOptions options)
    : js_(js), stream_(std::move(stream)), subject_(std::move(subject)), options_(options) {}

CatchUpReader::~CatchUpReader() = default;

CatchUpReader::Cursor::~Cursor() {
  if (subscription) (void)natsSubscription_Unsubscribe(subscription.get());
}

std::size_t CatchUpReader::idle_cursors() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

Result<std::size_t> CatchUpReader::read(std::uint64_t after, std::uint64_t newest,
                                        std::size_t max_events,
                                        const Journal::EventVisitor& visit) {
  if (max_events == 0 || after >= newest) return std::size_t{0};
  auto taken = take(after + 1);
  if (!taken) return std::move(taken).error();
  std::unique_ptr<Cursor> cursor = std::move(*taken);
  std::size_t visited = 0;
  while (visited < max_events && cursor->next <= newest) {
    if (cursor->fetched.empty()) {
      auto got = fetch(*cursor, newest - cursor->next + 1);
      if (!got) {
        // The consumer went with its server (a stream leader change loses
        // an ephemeral consumer): once more, on a fresh one from here.
        auto fresh = open(cursor->next);
        if (!fresh) return std::move(fresh).error();
        cursor = std::move(*fresh);
        got = fetch(*cursor, newest - cursor->next + 1);
        if (!got) return std::move(got).error();  // the cursor is dropped with it
      }
      if (!*got) break;  // nothing stored from here: retention removed the rest
    }
    NatsPtr<natsMsg> msg = std::move(cursor->fetched.front());
    cursor->fetched.pop_front();
    jsMsgMetaData* raw_meta = nullptr;
    if (const natsStatus status = natsMsg_GetMetaData(&raw_meta, msg.get()); status != NATS_OK)
      return nats_error("the metadata of a message of stream " + stream_, status);
    const NatsPtr<jsMsgMetaData> meta(raw_meta);
    const std::uint64_t seq = meta->Sequence.Stream;
    auto event = decode_event(msg.get(), seq);
    if (!event) return std::move(event).error();
    cursor->next = seq + 1;
    ++visited;
    if (!visit((*event)->view())) break;
  }
  give_back(std::move(cursor));
  return visited;
}

Result<bool> CatchUpReader::fetch(Cursor& cursor, std::uint64_t want) const {
  jsFetchRequest request;
  jsFetchRequest_Init(&request);
  request.Batch = static_cast<int>(std::min<std::uint64_t>(want, options_.batch));
  request.NoWait = true;  // what is stored now; we only ask for what exists
  request.Expires = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.wait).count();
  natsMsgList list{};
  const natsStatus status =
      natsSubscription_FetchRequest(&list, cursor.subscription.get(), &request);
  for (int i = 0; i < list.Count; ++i) {
    cursor.fetched.emplace_back(list.Msgs[i]);
    list.Msgs[i] = nullptr;  // ours now
  }
  natsMsgList_Destroy(&list);
  // "No messages" is an answer; a timeout (no answer at all) is not: it
  // says nothing about what is stored.
  if (status == NATS_OK || status == NATS_NOT_FOUND || !cursor.fetched.empty())
    return !cursor.fetched.empty();
  return nats_error("catching up on stream " + stream_ + " at " + std::to_string(cursor.next),
                    status);
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
  sub_options.Config.DeliverPolicy = js_DeliverByStartSequence;
  sub_options.Config.OptStartSeq = next;
  sub_options.Config.AckPolicy = js_AckNone;  // a reader, not a worker queue
  sub_options.Config.MemoryStorage = true;
  // If we vanish without deleting it, the server does after a while.
  sub_options.Config.InactiveThreshold =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.idle_timeout * 2).count();
  natsSubscription* raw = nullptr;
  jsErrCode code{};
  const natsStatus status =
      js_PullSubscribe(&raw, js_, subject_.c_str(), nullptr, nullptr, &sub_options, &code);
  NatsPtr<natsSubscription> subscription(raw);
  if (status != NATS_OK) {
    return nats_error("a catch-up consumer on stream " + stream_ + " from " + std::to_string(next),
                      status, code);
  }
  auto cursor = std::make_unique<Cursor>();
  cursor->subscription = std::move(subscription);
  cursor->next = next;
  return cursor;
}

}  // namespace palyra::journal::jetstream
