// Transport limits (PROTOCOL.md §1). Defaults are the protocol's; tests and
// the daemon's configuration override them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "palyra/common/result.hpp"

namespace palyra::transport {

// The node protocol: mandatory mutual TLS (PROTOCOL.md §1).
inline constexpr const char* kAlpn = "palyra-quic-v1";
// Enrollment of a node that has no certificate yet (PROTOCOL.md §7): same
// port, no client certificate requested, one method (node.enroll).
inline constexpr const char* kEnrollAlpn = "palyra-enroll-v1";

// When a server answers a token-less Initial with a Retry (RFC 9000 §8.1),
// proving the client's address before it keeps any state for it.
enum class RetryPolicy {
  Auto,    // once Limits::retry_threshold handshakes are in progress, or
           // max_handshakes_per_address from the sender's address
  Always,  // every new client pays one round trip
  Never,   // never; past the per-address limit the Initial is refused
};

struct Limits {
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds idle_timeout{30'000};
  std::chrono::milliseconds keep_alive_interval{5'000};
  // While packets of ours are unacknowledged, a PING after this long without
  // traffic either way (and never sooner than the probe timeout): after an
  // outage the peer acknowledges it within a round trip of the path's
  // return, and that acknowledgement recovers everything lost meanwhile,
  // instead of the backed-off probe timer deciding (RFC 9002 §6.2 doubles it
  // per probe, to several seconds after 20 s of darkness). One small packet
  // per interval, only while data waits. 0: no such PINGs.
  std::chrono::milliseconds in_flight_probe_interval{500};
  std::uint64_t max_streams_bidi = 32;
  std::uint64_t max_streams_uni = 32;
  std::size_t max_connections = 256;  // server only
  // Server only (PROTOCOL.md §8). Handshakes in progress have their own
  // limits, apart from established connections: a flood of Initials fills
  // at most these, never evicts an established node, and frees a slot at
  // the handshake timeout. Past max_handshakes a new Initial is refused
  // (CONNECTION_REFUSED, no state kept).
  RetryPolicy retry = RetryPolicy::Auto;
  std::size_t max_handshakes = 64;
  std::size_t retry_threshold = 16;  // RetryPolicy::Auto: handshakes in progress
  // Handshakes in progress from one IP address whose address is not proven
  // (no Retry token): what one sender can hold without answering a Retry.
  std::size_t max_handshakes_per_address = 8;
  // Stateless Resets for packets of unknown connections: at most this many
  // per second (and this many at once), however many such packets arrive.
  std::uint64_t stateless_resets_per_second = 100;
  std::size_t max_frame_bytes = 524'288;
  // Receive windows: how much a peer may send before we consume it. A stream
  // window must hold one maximal frame and its header.
  std::uint64_t stream_receive_window = 1 << 20;
  std::uint64_t connection_receive_window = 4 << 20;
  std::uint64_t max_stream_receive_window = 16 << 20;      // auto-tuning ceiling
  std::uint64_t max_connection_receive_window = 64 << 20;  // auto-tuning ceiling
  // Server only: request frames that have not completed. The bytes they
  // hold across a connection's streams stay within this budget (it must hold
  // one maximal frame): the stream whose data would pass it is stopped and
  // its partial frame dropped. 1 MiB is two maximal frames in progress at
  // once, a quarter of the initial connection window; 256 MiB at the
  // connection cap instead of the windows' 1 GiB or more.
  std::size_t max_incomplete_frame_bytes = 1 << 20;
  // Server only: a request stream whose frame has not completed this long
  // after it began (the first frame: after the stream opened) is stopped, so
  // a peer cannot hold a stream, its bytes or its slot by never finishing.
  std::chrono::milliseconds request_frame_timeout{10'000};
  // Segmentation offload both ways when the kernel supports it: send GSO
  // bursts (UDP_SEGMENT), receive coalesced runs (UDP_GRO).
  bool use_gso = true;

  // InvalidIdleTimeout when the idle timeout is zero or not above the
  // keep-alive interval; InvalidArgument for other impossible values.
  Status validate() const;
};

}  // namespace palyra::transport
