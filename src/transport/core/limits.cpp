#include "palyra/transport/limits.hpp"

#include <fmt/format.h>

#include "palyra/transport/frame_codec.hpp"

namespace palyra::transport {

Status Limits::validate() const {
  if (idle_timeout.count() <= 0) {
    return Error(Errc::InvalidIdleTimeout,
                 fmt::format("idle timeout must be positive, got {} ms", idle_timeout.count()));
  }
  if (keep_alive_interval.count() > 0 && keep_alive_interval >= idle_timeout) {
    return Error(Errc::InvalidIdleTimeout,
                 fmt::format("idle timeout of {} ms must exceed the keep-alive interval of {} ms",
                             idle_timeout.count(), keep_alive_interval.count()));
  }
  if (handshake_timeout.count() <= 0) {
    return Error(Errc::InvalidArgument, fmt::format("handshake timeout must be positive, got {} ms",
                                                    handshake_timeout.count()));
  }
  if (max_connections == 0) {
    return Error(Errc::InvalidArgument, "the connection limit must be at least 1");
  }
  if (max_handshakes == 0 || max_handshakes_per_address == 0) {
    return Error(Errc::InvalidArgument,
                 "the handshake limits (overall and per address) must be at least 1");
  }
  if (retry_threshold > max_handshakes) {
    return Error(Errc::InvalidArgument,
                 fmt::format("the retry threshold ({}) cannot exceed the handshake limit ({})",
                             retry_threshold, max_handshakes));
  }
  if (stream_receive_window < max_frame_bytes + 4) {
    return Error(Errc::InvalidArgument,
                 fmt::format("stream receive window of {} bytes cannot hold a {}-byte frame",
                             stream_receive_window, max_frame_bytes));
  }
  if (max_incomplete_frame_bytes < max_frame_bytes + kFrameHeaderBytes) {
    return Error(Errc::InvalidArgument,
                 fmt::format("the {}-byte budget of incomplete frames cannot hold a {}-byte frame",
                             max_incomplete_frame_bytes, max_frame_bytes));
  }
  if (request_frame_timeout.count() <= 0) {
    return Error(Errc::InvalidArgument,
                 fmt::format("request frame timeout must be positive, got {} ms",
                             request_frame_timeout.count()));
  }
  return {};
}

}  // namespace palyra::transport
