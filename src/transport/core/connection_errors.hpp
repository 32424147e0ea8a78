// ngtcp2's and TLS's errors in our words, in one place: what a failed QUIC
// call means for the connection (the Error the application sees, and what
// our CONNECTION_CLOSE tells the peer), what the peer's CONNECTION_CLOSE
// said, and the ngtcp2 form of our own close reason. Pure functions of
// their arguments, so each translation is tested without a connection.
#pragma once

#include <ngtcp2/ngtcp2.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "palyra/common/result.hpp"
#include "palyra/transport/connection.hpp"
#include "palyra/transport/limits.hpp"

namespace palyra::transport {

// Who is speaking and to whom, for the messages.
struct ErrorContext {
  bool is_server = false;
  bool handshaking = false;  // the connection was not established yet
  std::string remote;        // the peer's address
  std::string server_name;   // a client's: the name it asked the server for
};

// What the read of a datagram reports when ngtcp2_conn_read_pkt fails.
struct ReadFailure {
  int rv = 0;                                  // ngtcp2's error code
  ngtcp2_connection_close_error peer_close{};  // what the peer's CONNECTION_CLOSE said
  std::uint8_t tls_alert = 0;                  // the alert of a failed TLS handshake
  std::string verify_failure;                  // why our verify function refused the chain
  bool stateless_reset = false;                // the peer answered with a Stateless Reset
};

// After ngtcp2_conn_read_pkt failed; nothing when the connection is already
// closing (NGTCP2_ERR_CLOSING). A callback's own refusal is the caller's:
// here NGTCP2_ERR_CALLBACK_FAILURE is just a library error.
std::optional<ConnectionEnding> ending_after_read(const ReadFailure& failure,
                                                  const ErrorContext& context);
// After ngtcp2_conn_handle_expiry returned `rv` (nonzero): idle timeout,
// handshake timeout, or a library error.
ConnectionEnding ending_after_expiry(int rv, const ErrorContext& context, const Limits& limits);
// After ngtcp2_conn_writev_stream failed with `rv`.
ConnectionEnding ending_after_write(int rv, const ErrorContext& context);
// Connection::close by the application.
ConnectionEnding ending_by_application(std::uint64_t app_error_code, std::string_view reason);

// ngtcp2's form of our close reason; points into reason.application_reason.
ngtcp2_connection_close_error to_ngtcp2(const CloseReason& reason);

// Why ngtcp2 would not start a connection (ngtcp2_conn_client_new /
// ngtcp2_conn_server_new returned `rv`).
Error connection_start_error(bool is_server, int rv, std::string_view remote);
// Why ngtcp2_conn_open_bidi_stream returned `rv`: StreamLimitReached when the
// peer allows no more streams.
Error stream_open_error(int rv, std::size_t open_streams);

// What a CONNECTION_CLOSE from the peer said, in words.
std::string describe_peer_close(const ngtcp2_connection_close_error& close);
// The counters' words for the peer's CONNECTION_CLOSE, and for an
// application error code (ours or the peer's).
CloseCause cause_of_peer_close(const ngtcp2_connection_close_error& close) noexcept;
CloseCause cause_of_application_code(std::uint64_t code) noexcept;

// "certificate_revoked (0x12c)" for a TLS alert carried in a QUIC CRYPTO_ERROR.
std::string describe_tls_alert(std::uint8_t alert);

}  // namespace palyra::transport
