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

struct Limits {
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds idle_timeout{30'000};
  std::chrono::milliseconds keep_alive_interval{5'000};
  std::uint64_t max_streams_bidi = 32;
  std::uint64_t max_streams_uni = 32;
  std::size_t max_connections = 256;  // server only
  std::size_t max_frame_bytes = 524'288;
  // Receive windows: how much a peer may send before we consume it. A stream
  // window must hold one maximal frame and its header.
  std::uint64_t stream_receive_window = 1 << 20;
  std::uint64_t connection_receive_window = 4 << 20;
  std::uint64_t max_stream_receive_window = 16 << 20;      // auto-tuning ceiling
  std::uint64_t max_connection_receive_window = 64 << 20;  // auto-tuning ceiling
  // Segmentation offload both ways when the kernel supports it: send GSO
  // bursts (UDP_SEGMENT), receive coalesced runs (UDP_GRO).
  bool use_gso = true;

  // InvalidIdleTimeout when the idle timeout is zero or not above the
  // keep-alive interval; InvalidArgument for other impossible values.
  Status validate() const;
};

}  // namespace palyra::transport
