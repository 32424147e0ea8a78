#include "palyra/runtime/node_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <vector>

#include "palyra/transport/frame_codec.hpp"

namespace palyra::runtime {
namespace {

// Bytes encode_event adds around the name, payload and device id: the field
// names, the sequence number and the timestamp, with room to spare.
constexpr std::size_t kEventFrameOverhead = 256;

}  // namespace

bool CallSink::send_framed(std::string framed) {
  // No frame in the buffer is larger than the buffer: that bound is enough.
  transport::FrameDecoder decoder(framed.size());
  std::deque<std::string> frames;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(framed.data());
  if (!decoder.feed({bytes, framed.size()}, frames) || !decoder.finish()) return false;
  for (const auto& frame : frames) {
    if (!send(frame)) return false;
  }
  return true;
}

// One node.stream_events call: where it is in the journal and where it stops.
struct NodeService::EventStream {
  std::shared_ptr<CallSink> sink;
  std::uint64_t last_sent = 0;  // seq of the last event sent (the resume point)
  std::uint64_t end_seq = 0;    // without follow: the newest seq at request time
  bool follow = false;
  bool paused = false;   // waiting for the sink's backlog to drain
  bool reading = false;  // waiting for the journal to read its next events
};

NodeService::NodeService(transport::EventLoop& loop, journal::Journal& journal,
                         NodeServiceOptions options, EnrollmentService* enrollment)
    : loop_(loop), journal_(journal), options_(options), enrollment_(enrollment) {
  // Runs on the journal's writer thread after each commit: wake the
  // followers on our loop, with at most one wake-up in flight.
  subscription_ = journal_.subscribe([&loop = loop_, lifetime = std::weak_ptr<int>(lifetime_),
                                      posted = commit_posted_, this](std::uint64_t) {
    if (posted->exchange(true)) return;
    loop.post([lifetime, posted, this] {
      posted->store(false);
      if (lifetime.lock()) on_journal_commit();
    });
  });
}

NodeService::~NodeService() {
  subscription_.reset();  // waits for a commit notification in progress
  lifetime_.reset();
}

std::size_t NodeService::calls_in_flight() const noexcept {
  std::size_t catching_up = static_cast<std::size_t>(std::count_if(
      streams_.begin(), streams_.end(), [](const auto& entry) { return !entry.second->follow; }));
  // The enrollment service counts its calls on its own loop; ours are
  // those that hopped there from another.
  const std::size_t issuing = enrollment_ != nullptr && &enrollment_->loop() == &loop_
                                  ? enrollment_->calls_in_flight()
                                  : pending_issues_;
  return pending_publishes_ + catching_up + issuing;
}

NodeService::FollowerStats NodeService::follower_stats() const noexcept {
  FollowerStats stats;
  const std::uint64_t newest = journal_.newest_seq();
  for (const auto& [id, stream] : streams_) {
    if (!stream->follow) continue;
    ++stats.followers;
    if (newest > stream->last_sent) {
      stats.slowest_lag = std::max(stats.slowest_lag, newest - stream->last_sent);
    }
  }
  return stats;
}

void NodeService::handle(std::string_view request_frame, const Caller& caller,
                         std::shared_ptr<CallSink> sink) {
  auto parsed = parse_request(request_frame);
  if (auto* error = std::get_if<RequestError>(&parsed)) {
    spdlog::debug("request refused: {} ({})", wire_name(error->kind), error->detail);
    sink->send(encode_error(error->kind));
    sink->finish();
    return;
  }
  const Request& request = std::get<Request>(parsed);
  // The enrollment ALPN serves node.enroll and nothing else; node.enroll is
  // served nowhere else (PROTOCOL.md §7).
  const bool enroll_method = request.method == Method::Enroll;
  if (caller.enrolling != enroll_method ||
      (enrollment_ == nullptr && (enroll_method || request.method == Method::RenewCertificate))) {
    sink->send(encode_error(ProtocolError::UnsupportedMethod));
    sink->finish();
    return;
  }
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
    case Method::Enroll:
    case Method::RenewCertificate:
      issue(request, caller, sink);
      return;
  }
}

void NodeService::handle_unreadable(CallSink& sink) {
  sink.send(encode_error(ProtocolError::StreamFailure));
  sink.finish();
}

void NodeService::publish(const Request& request, const Caller& caller,
                          std::shared_ptr<CallSink> sink) {
  // Every follower must be able to receive the event in one frame.
  const std::size_t event_frame_bytes = request.event_name.size() +
                                        request.event_payload_json.size() +
                                        caller.device_id.size() + kEventFrameOverhead;
  if (event_frame_bytes > options_.max_frame_bytes) {
    spdlog::debug("publish refused: the event would need a {}-byte frame (maximum {})",
                  event_frame_bytes, options_.max_frame_bytes);
    sink->send(encode_error(ProtocolError::InvalidParams));
    sink->finish();
    return;
  }
  journal::NewEvent event{request.event_name, request.event_payload_json, caller.device_id,
                          request.publish_id};
  // The answer goes out only once the event is durable: the journal calls
  // back after its commit, on its thread, and we hop back to the loop.
  auto on_durable = [&loop = loop_, lifetime = std::weak_ptr<int>(lifetime_), this,
                     sink](Result<std::uint64_t> seq) mutable {
    loop.post([lifetime, this, sink = std::move(sink), seq = std::move(seq)] {
      if (!lifetime.lock()) return;
      --pending_publishes_;
      if (!seq) spdlog::error("publish failed: {}", seq.error().describe());
      sink->send(seq ? encode_published(*seq) : encode_error(ProtocolError::StreamFailure));
      sink->finish();
    });
  };
  auto queued = journal_.append(std::move(event), std::move(on_durable));
  if (!queued) {
    spdlog::warn("publish refused: {}", queued.error().describe());
    sink->send(encode_error(ProtocolError::StreamFailure));
    sink->finish();
    return;
  }
  ++pending_publishes_;
}

void NodeService::issue(const Request& request, const Caller& caller,
                        const std::shared_ptr<CallSink>& sink) {
  if (&enrollment_->loop() != &loop_) return issue_on_enrollment_loop(request, caller, sink);
  auto answer = [sink](const std::string& frame) {
    sink->send(frame);
    sink->finish();
  };
  if (request.method == Method::Enroll) {
    enrollment_->enroll(request, caller.peer, std::move(answer));
  } else {
    enrollment_->renew(request, caller.device_id, caller.peer, std::move(answer));
  }
}

// The daemon has one enrollment service (one signer, one failure limit,
// one writer of the state directory's files) on its main loop; a worker's
// call hops there, and its answer back here, where the stream lives.
void NodeService::issue_on_enrollment_loop(const Request& request, const Caller& caller,
                                           std::shared_ptr<CallSink> sink) {
  ++pending_issues_;
  auto answer = [&loop = loop_, lifetime = std::weak_ptr<int>(lifetime_), this,
                 sink = std::move(sink)](const std::string& frame) {
    loop.post([lifetime, this, sink, frame] {
      if (!lifetime.lock()) return;
      --pending_issues_;
      sink->send(frame);
      sink->finish();
    });
  };
  enrollment_->loop().post(
      [enrollment = enrollment_, request, caller, answer = std::move(answer)]() mutable {
        if (request.method == Method::Enroll) {
          enrollment->enroll(request, caller.peer, std::move(answer));
        } else {
          enrollment->renew(request, caller.device_id, caller.peer, std::move(answer));
        }
      });
}

void NodeService::start_stream(const Request& request, std::shared_ptr<CallSink> sink) {
  const std::uint64_t resume_from = request.resume_from.value_or(0);
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
  const std::uint64_t id = next_stream_id_++;
  streams_.emplace(id, std::move(stream));
  pump(id);
}

void NodeService::end_stream(std::uint64_t id, std::optional<std::string> final_frame) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  auto sink = std::move(it->second->sink);
  streams_.erase(it);
  if (final_frame) sink->send(*final_frame);
  sink->finish();
}

// Sends what the journal has for one stream until the stream is done, the
// journal has nothing newer, or the caller's backlog is over budget.
void NodeService::pump(std::uint64_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  EventStream& s = *it->second;
  s.paused = false;
  s.reading = false;
  while (true) {
    if (!s.sink->alive()) {
      streams_.erase(it);
      return;
    }
    if (!s.follow && s.last_sent >= s.end_seq) return end_stream(id, std::nullopt);
    if (s.sink->backlog_bytes() >= options_.stream_backlog_budget) {
      // The peer reads slower than we read the journal: QUIC flow control
      // holds our bytes back, and we wait for acknowledgements instead of
      // buffering more.
      s.paused = true;
      s.sink->notify_when_writable(options_.stream_backlog_budget / 2, [this, id] { pump(id); });
      return;
    }
    if (auto oldest = journal_.gap_for(s.last_sent)) {
      // Retention outran this reader while it was paused.
      return end_stream(id, encode_error(ProtocolError::ResumeGap, *oldest));
    }
    std::size_t max_events = options_.read_batch_events;
    if (!s.follow) {
      max_events =
          static_cast<std::size_t>(std::min<std::uint64_t>(max_events, s.end_seq - s.last_sent));
    }
    // Encode straight from the journal (its tail or SQLite's row) into one
    // buffer of frames, handed to the stream whole.
    std::string batch;
    batch.reserve(options_.read_batch_bytes);
    std::uint64_t first_seq = 0;
    std::uint64_t last_seq = s.last_sent;
    auto visited = journal_.visit_after(s.last_sent, max_events, options_.read_batch_bytes,
                                        [&](const EventView& event) {
                                          if (first_seq == 0) first_seq = event.seq;
                                          if (first_seq != s.last_sent + 1)
                                            return false;  // a gap: reported below
                                          if (!s.follow && event.seq > s.end_seq) return false;
                                          append_event_frame(batch, event);
                                          last_seq = event.seq;
                                          return true;
                                        });
    if (!visited) {
      spdlog::error("event stream failed: {}", visited.error().describe());
      return end_stream(id, encode_error(ProtocolError::StreamFailure));
    }
    if (*visited == 0) {
      // Not read yet (a remote journal reads off our loop): the journal's
      // notification brings us back.
      if (journal_.reading_ahead(s.last_sent)) {
        s.reading = true;
        return;
      }
      // Caught up: a follower waits for the next commit.
      if (!s.follow) return end_stream(id, std::nullopt);
      return;
    }
    if (first_seq != s.last_sent + 1) {
      // Retention removed the next event between gap_for and the read.
      return end_stream(id, encode_error(ProtocolError::ResumeGap, first_seq));
    }
    if (!batch.empty() && !s.sink->send_framed(std::move(batch))) {
      streams_.erase(it);  // the caller is gone
      return;
    }
    s.last_sent = last_seq;
  }
}

void NodeService::on_journal_commit() {
  std::vector<std::uint64_t> ids;
  ids.reserve(streams_.size());
  for (const auto& [id, stream] : streams_) {
    if ((stream->follow && !stream->paused) || stream->reading) ids.push_back(id);
  }
  for (auto id : ids) pump(id);
}

void NodeService::drop_dead_streams() {
  std::erase_if(streams_, [](const auto& entry) { return !entry.second->sink->alive(); });
}

}  // namespace palyra::runtime
