#include "palyra/runtime/node_service.hpp"

#include <atomic>

namespace palyra::runtime {

// One node.stream_events call: where it is in the journal and where it stops.
struct NodeService::EventStream {
  std::shared_ptr<CallSink> sink;
  std::uint64_t last_sent = 0;  // seq of the last event sent (the resume point)
  std::uint64_t end_seq = 0;    // without follow: the newest seq at request time
  bool follow = false;
  bool paused = false;          // waiting for the sink's backlog to drain
};

NodeService::NodeService(transport::EventLoop& loop, journal::Journal& journal,
                         NodeServiceOptions options)
    : loop_(loop), journal_(journal), options_(options) {
  // Called on the journal's writer thread after each commit: wake the
  // followers on our loop, at most one wake-up in flight at a time.
  subscription_ = journal_.subscribe(
      [&loop = loop_, alive = std::weak_ptr<bool>(alive_), posted = commit_posted_,
       this](std::uint64_t) {
        if (posted->exchange(true)) return;
        loop.post([alive, posted, this] {
          posted->store(false);
          if (alive.lock()) on_journal_commit();
        });
      });
}

NodeService::~NodeService() {
  subscription_ = {};
  *alive_ = false;
  alive_.reset();
}

void NodeService::handle(std::string_view request_frame, const Caller& caller,
                         std::shared_ptr<CallSink> sink) {
  auto parsed = parse_request(request_frame);
  if (auto* error = std::get_if<RequestError>(&parsed)) {
    sink->send(encode_error(error->kind));
    sink->finish();
    return;
  }
  const Request& request = std::get<Request>(parsed);
  switch (request.method) {
    case Method::Health:
      sink->send(encode_health(options_.mtls_required));
      sink->finish();
      return;
    case Method::StreamEvents:
      start_stream(request, std::move(sink));
      return;
    case Method::PublishEvent:
      publish(request, caller, std::move(sink));
      return;
  }
}

void NodeService::handle_unreadable(const std::shared_ptr<CallSink>& sink) {
  sink->send(encode_error(ProtocolError::StreamFailure));
  sink->finish();
}

void NodeService::publish(const Request& request, const Caller& caller,
                          std::shared_ptr<CallSink> sink) {
  ++pending_publishes_;
  journal::NewEvent event{request.event_name, request.event_payload_json, caller.device_id};
  // The answer goes out only once the event is durable: the journal calls
  // back after its commit, on its thread; we hop back to the loop.
  journal_.append(std::move(event), [&loop = loop_, alive = std::weak_ptr<bool>(alive_), this,
                                     sink = std::move(sink)](Result<std::uint64_t> seq) mutable {
    loop.post([alive, this, sink = std::move(sink), seq = std::move(seq)] {
      if (!alive.lock()) return;
      --pending_publishes_;
      sink->send(seq ? encode_published(*seq) : encode_error(ProtocolError::StreamFailure));
      sink->finish();
    });
  });
}

void NodeService::start_stream(const Request& request, std::shared_ptr<CallSink> sink) {
  std::uint64_t resume_from = request.resume_from.value_or(0);
  // Never skip silently: if retention removed events after the resume point,
  // say so with the oldest sequence number still held.
  if (auto oldest = journal_.gap_for(resume_from)) {
    sink->send(encode_error(ProtocolError::ResumeGap, *oldest));
    sink->finish();
    return;
  }
  auto stream = std::make_unique<EventStream>();
  stream->sink = std::move(sink);
  stream->last_sent = resume_from;
  stream->end_seq = journal_.newest_seq();
  stream->follow = request.follow;
  std::uint64_t id = next_stream_id_++;
  streams_.emplace(id, std::move(stream));
  pump(id);
}

void NodeService::pump(std::uint64_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  EventStream& s = *it->second;
  s.paused = false;
  while (true) {
    if (!s.sink->alive()) {
      streams_.erase(it);
      return;
    }
    if (!s.follow && s.last_sent >= s.end_seq) {
      s.sink->finish();
      streams_.erase(it);
      return;
    }
    if (s.sink->backlog_bytes() >= options_.stream_backlog_budget) {
      // Flow control: the peer reads slower than we read the journal. Wait
      // for acknowledgements instead of buffering.
      s.paused = true;
      s.sink->notify_when_writable(options_.stream_backlog_budget / 2, [this, id] { pump(id); });
      return;
    }
    std::size_t batch = options_.read_batch;
    if (!s.follow) batch = static_cast<std::size_t>(std::min<std::uint64_t>(batch, s.end_seq - s.last_sent));
    auto events = journal_.read_after(s.last_sent, batch);
    if (!events) {
      s.sink->send(encode_error(ProtocolError::StreamFailure));
      s.sink->finish();
      streams_.erase(it);
      return;
    }
    if (events->empty()) {
      // Caught up. A follower waits for the next commit; a gap can open only
      // if retention outran us, which read_after reports as a jump.
      if (!s.follow) {
        s.sink->finish();
        streams_.erase(it);
      }
      return;
    }
    if (events->front().seq != s.last_sent + 1) {
      // Retention removed events while we were paused: report, don't skip.
      s.sink->send(encode_error(ProtocolError::ResumeGap, events->front().seq));
      s.sink->finish();
      streams_.erase(it);
      return;
    }
    for (const auto& event : *events) {
      if (!s.follow && event.seq > s.end_seq) break;
      s.sink->send(encode_event(EventView{event.seq, event.name, event.payload_json,
                                          event.device_id, event.published_at_unix_ms}));
      s.last_sent = event.seq;
    }
  }
}

void NodeService::on_journal_commit() {
  std::vector<std::uint64_t> ids;
  ids.reserve(streams_.size());
  for (const auto& [id, stream] : streams_) {
    if (stream->follow && !stream->paused) ids.push_back(id);
  }
  for (auto id : ids) pump(id);
}

}  // namespace palyra::runtime
