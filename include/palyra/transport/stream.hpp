// A bidirectional QUIC stream carrying length-prefixed frames (PROTOCOL.md §3).
//
// Streams belong to their Connection and live on its event-loop thread. Use a
// Stream& only inside the callback that handed it to you; to come back later
// (e.g. after a journal commit) keep the stream id and look it up with
// Connection::find_stream — a stream the peer reset may be gone by then.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "palyra/common/result.hpp"
#include "palyra/transport/frame_codec.hpp"

struct ngtcp2_vec;  // ngtcp2 stays out of our public headers; only its name appears

namespace palyra::transport {

class Connection;

// Application error codes we put in RESET_STREAM / STOP_SENDING / CONNECTION_CLOSE.
namespace app_error {
inline constexpr std::uint64_t kNoError = 0x0;
inline constexpr std::uint64_t kFrameTooLarge =
    0x1;  // stream: the peer's frame exceeded the maximum
inline constexpr std::uint64_t kStreamFailure = 0x2;  // stream: aborted by the application
// stream: the connection's incomplete request frames exceeded their budget
// (Limits::max_incomplete_frame_bytes)
inline constexpr std::uint64_t kFrameBudgetExceeded = 0x3;
// stream: the request frame did not complete in time (Limits::request_frame_timeout)
inline constexpr std::uint64_t kFrameTimeout = 0x4;
inline constexpr std::uint64_t kShuttingDown = 0x10;  // connection: the daemon is stopping
inline constexpr std::uint64_t kRevoked = 0x11;  // connection: the peer's certificate was revoked
}  // namespace app_error

class Stream {
 public:
  Stream(Connection& connection, std::int64_t id, std::size_t max_frame_bytes);
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  std::int64_t id() const noexcept { return id_; }
  Connection& connection() const noexcept { return connection_; }

  // Free for the application, like Connection::user_tag: e.g. the id of the
  // call this stream carries (0: none yet). Lives as long as the stream.
  std::uint64_t user_tag = 0;

  // --- Sending ---
  // Queues one frame. FrameTooLarge (nothing queued) when the payload exceeds
  // the maximum; FrameWriteFailed when the stream is finished or reset.
  Status write_frame(std::string_view payload);
  // Queues bytes that already are whole frames (length prefixes included,
  // each within the maximum), taking the buffer without a copy: for
  // senders that batch many frames. FrameWriteFailed as write_frame.
  Status write_framed(std::string frames);
  // Ends our side (FIN) after everything queued. Idempotent.
  void finish();
  // Abandons both directions with an application error code.
  void reset(std::uint64_t app_error_code = app_error::kStreamFailure);
  // Bytes queued but not yet acknowledged by the peer: the back-pressure signal.
  std::uint64_t unacknowledged_bytes() const noexcept { return end_offset_ - front_offset_; }
  // Ask for Connection's on_stream_writable once unacknowledged bytes fall
  // below `low_water`.
  void notify_when_writable(std::uint64_t low_water) noexcept { writable_low_water_ = low_water; }
  // Memory this stream holds for sending: queued chunks plus acknowledged
  // large ones kept for the next large frame (none once nothing is in flight).
  std::size_t send_buffer_bytes() const noexcept;

  // --- Receiving ---
  // The next complete frame, if one has arrived. Taking a frame returns its
  // bytes to the peer's flow-control credit. Once it returns nothing while
  // read_ended() is true, the application is done reading, and the stream is
  // destroyed at the next I/O after ngtcp2 has closed it: drop your Stream&.
  std::optional<std::string> take_frame();
  bool has_frame() const noexcept { return !frames_.empty(); }
  // True once no further frame can arrive: the peer finished (FIN) and every
  // frame was taken, or reading failed (see read_error()).
  bool read_ended() const noexcept { return (fin_received_ && frames_.empty()) || read_error_; }
  // FrameTooLarge, FrameReadFailed (the stream ended inside a frame, or its
  // frame was dropped over the connection's budget), Timeout (its frame did
  // not complete in time) or StreamReset (the peer reset it).
  const std::optional<Error>& read_error() const noexcept { return read_error_; }
  // Bytes received of a frame that has not completed (its payload so far,
  // or the part of its length prefix): what the connection's budget counts.
  std::size_t incomplete_frame_bytes() const noexcept { return decoder_.buffered_bytes(); }

  // --- For the Connection: ngtcp2's events and the bytes to send ---
  // A passkey only Connection can make: it reaches the stream through the
  // methods below and never through its fields.
  class ConnectionKey {
    friend class Connection;
    ConnectionKey() = default;
  };
  // Returns how many frames this data completed.
  std::size_t on_data(ConnectionKey, std::span<const std::uint8_t> data, bool fin);
  void on_reset(ConnectionKey, std::uint64_t app_error_code);
  // Stops reading: the peer is asked to stop sending with `app_error_code`,
  // and read_error() says `error`. Frames already complete stay readable.
  void abandon_frame(ConnectionKey, Error error, std::uint64_t app_error_code);
  // Once reading has failed: drops the incomplete frame and returns its
  // bytes (peer credit the connection gives back); 0 while reading works.
  std::size_t release_incomplete_frame(ConnectionKey);
  // ngtcp2 has forgotten the stream; reading ends (StreamReset unless it
  // already ended).
  void on_closed(ConnectionKey);
  // True when these acknowledgements brought the unacknowledged bytes under
  // the low-water mark someone waits for: tell them, once.
  bool on_acked(ConnectionKey, std::uint64_t offset, std::uint64_t length);
  // Fills `vecs` with unsent bytes; returns how many entries were used.
  std::size_t unsent(ConnectionKey, ::ngtcp2_vec* vecs, std::size_t max_vecs, bool& fin) const;
  void on_sent(ConnectionKey, std::size_t bytes, bool fin);
  bool wants_to_send(ConnectionKey) const noexcept { return has_unsent() && !reset_; }
  // The connection's round robin of streams with data: joining returns
  // false when the stream is in it already.
  bool join_send_queue(ConnectionKey) noexcept { return !std::exchange(in_send_queue_, true); }
  void leave_send_queue(ConnectionKey) noexcept { in_send_queue_ = false; }
  // Once after a read error: the code with which the connection asks the
  // peer to stop sending.
  std::optional<std::uint64_t> take_stop_reading(ConnectionKey) noexcept {
    return std::exchange(stop_reading_, std::nullopt);
  }
  // Closed by ngtcp2, every frame taken and the end seen by the application.
  bool can_be_destroyed(ConnectionKey) const noexcept {
    return closed_ && frames_.empty() && end_observed_;
  }

 private:
  Status writable() const;
  bool can_append_to_last_chunk(std::size_t bytes) const noexcept;
  // An empty string with capacity for `bytes` from spare_chunks_, or a new one.
  std::string take_spare_chunk(std::size_t bytes);
  bool has_unsent() const noexcept {
    return sent_offset_ < end_offset_ || (fin_queued_ && !fin_sent_);
  }
  void fail_read(Error error, std::uint64_t app_error_code = app_error::kFrameTooLarge);

  Connection& connection_;
  std::int64_t id_;
  std::size_t max_frame_bytes_;

  // Send side: chunks stay alive (and unmoved) until acknowledged, because
  // ngtcp2 retransmits from our memory.
  std::deque<std::string> chunks_;
  // Acknowledged large chunks kept (emptied) for the next large frame while
  // the stream keeps sending; dropped once nothing is in flight.
  std::vector<std::string> spare_chunks_;
  std::uint64_t front_offset_ = 0;  // stream offset of chunks_.front()[0]
  std::uint64_t sent_offset_ = 0;   // bytes handed to ngtcp2
  std::uint64_t end_offset_ = 0;    // bytes queued
  bool fin_queued_ = false;
  bool fin_sent_ = false;
  bool reset_ = false;
  std::uint64_t writable_low_water_ = 0;  // 0: nobody is waiting

  // Receive side.
  FrameDecoder decoder_;
  std::deque<std::string> frames_;
  bool fin_received_ = false;
  std::optional<Error> read_error_;
  bool closed_ = false;        // ngtcp2 has forgotten the stream
  bool end_observed_ = false;  // the application saw read_ended(): we may destroy it
  bool in_send_queue_ = false;
  // Ask the peer to stop sending with this code (after a read error).
  std::optional<std::uint64_t> stop_reading_;
};

}  // namespace palyra::transport
