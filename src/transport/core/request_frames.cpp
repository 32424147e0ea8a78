// A server connection's bounds on the peer's request frames that have not
// completed (incomplete_frames.hpp keeps the account): the stream whose
// data takes the connection past the budget of bytes, and a stream whose
// frame is overdue, stop reading; the application then sees a read error
// on that stream only, and the peer is asked to stop sending. The bytes of
// a dropped frame go back to the peer as connection credit, so the
// connection's other streams keep flowing.
#include <fmt/format.h>
#include <ngtcp2/ngtcp2.h>

#include "incomplete_frames.hpp"
#include "palyra/transport/connection.hpp"

namespace palyra::transport {

IncompleteFrameStats Connection::incomplete_frames() const noexcept {
  if (!incomplete_frames_) return {};
  return {incomplete_frames_->held_bytes(), stopped_over_budget_, stopped_stalled_};
}

int Connection::on_stream_open(std::int64_t id) {
  if (incomplete_frames_ && !ngtcp2_conn_is_local_stream(conn_, id)) {
    incomplete_frames_->opened(id, now_ns_);
  }
  return 0;
}

void Connection::track_request_frames(Stream& stream, std::size_t completed_frames) {
  if (stream.read_error()) {
    release_incomplete_frame(stream);
    return;
  }
  if (!incomplete_frames_) return;
  if (incomplete_frames_->update(stream.id(), stream.incomplete_frame_bytes(), completed_frames,
                                 now_ns_)) {
    return;
  }
  ++stopped_over_budget_;
  stop_request_frame(
      stream.id(),
      Error(Errc::FrameReadFailed,
            fmt::format("frame dropped after {} bytes: the connection's incomplete "
                        "frames would exceed their budget of {} bytes",
                        stream.incomplete_frame_bytes(), incomplete_frames_->budget_bytes())),
      app_error::kFrameBudgetExceeded);
}

void Connection::stop_overdue_request_frames() {
  if (!incomplete_frames_ || state_ == State::Closed) return;
  for (std::int64_t id : incomplete_frames_->overdue(now_ns_)) {
    ++stopped_stalled_;
    stop_request_frame(id,
                       Error(Errc::Timeout, fmt::format("frame not complete within {} ms",
                                                        limits_.request_frame_timeout.count())),
                       app_error::kFrameTimeout);
  }
}

void Connection::stop_request_frame(std::int64_t id, Error error, std::uint64_t app_error_code) {
  if (Stream* stream = find_stream(id)) {
    // The application answers (e.g. an error frame) and finishes; the
    // STOP_SENDING goes out from dispatch_events.
    stream->abandon_frame(stream_key(), std::move(error), app_error_code);
    release_incomplete_frame(*stream);
    note_stream_readable(*stream);
    return;
  }
  // Opened, but nothing has reached the application (the data has a gap, or
  // none came): it never saw the stream, so close both directions here.
  incomplete_frames_->forget(id);
  ngtcp2_conn_shutdown_stream(conn_, id, app_error_code);
  request_output();
}

void Connection::release_incomplete_frame(Stream& stream) {
  if (incomplete_frames_) incomplete_frames_->forget(stream.id());
  const std::size_t bytes = stream.release_incomplete_frame(stream_key());
  // ngtcp2 gives back the credit of data it never delivered; what it did
  // deliver is ours to give back, at the connection level (the stream reads
  // no more).
  if (bytes > 0 && state_ != State::Closed) ngtcp2_conn_extend_max_offset(conn_, bytes);
}

}  // namespace palyra::transport
