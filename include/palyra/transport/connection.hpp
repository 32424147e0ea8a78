// One QUIC connection (ngtcp2 + GnuTLS), sans I/O.
//
// The core is driven from outside: feed it datagrams with receive(), collect
// datagrams with write_datagrams(), and call handle_expiry() at expiry().
// It never reads a clock or touches a socket, so tests can pair two
// connections in memory and drive time themselves; Server and Client put it
// on sockets and an event loop.
//
// Application callbacks (ConnectionEvents) run after ngtcp2 has returned,
// never from inside it, so they may write, finish, reset or close freely.
// A Connection is destroyed only by its owner, at a safe point of the loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "palyra/common/result.hpp"
#include "palyra/transport/datagram.hpp"
#include "palyra/transport/handshake_result.hpp"
#include "palyra/transport/limits.hpp"
#include "palyra/transport/qlog_sink.hpp"
#include "palyra/transport/server_secret.hpp"
#include "palyra/transport/socket_address.hpp"
#include "palyra/transport/stream.hpp"

struct ngtcp2_cid;
struct ngtcp2_conn;
struct ngtcp2_crypto_conn_ref;
struct ngtcp2_settings;

namespace palyra::transport {

class ServerTlsContext;
class ClientTlsContext;
class TlsSession;
class IncompleteFrames;
class WorkerCids;
struct ErrorContext;

// Who is on the other end, from the certificate it presented. Empty fields
// when it presented none (a server in insecure mode sees no client identity).
struct PeerIdentity {
  std::string fingerprint;  // lowercase hex SHA-256 of the leaf's DER
  std::string common_name;
  std::string device_id;  // from "CN=Palyra Device <id>"; empty for other names
};

struct ConnectionEvents {
  // Server: the client's certificate passed every check. Client: the
  // handshake is confirmed (the server accepted us).
  std::function<void(Connection&)> on_established;
  // New frames arrived on the stream, or its read side ended.
  std::function<void(Connection&, Stream&)> on_stream_readable;
  // The stream's unacknowledged bytes fell below its low-water mark.
  std::function<void(Connection&, Stream&)> on_stream_writable;
  // More streams may be opened (the peer raised the limit).
  std::function<void(Connection&)> on_streams_available;
  // The connection is over; the error says why (ConnectionClosed for an
  // orderly close by either side, HandshakeTimeout, ConnectFailed, ...).
  std::function<void(Connection&, const Error&)> on_closed;
};

// What our CONNECTION_CLOSE tells the peer; at most one field is set, and
// none means NO_ERROR. connection_errors.cpp makes it and writes it for ngtcp2.
struct CloseReason {
  std::uint8_t tls_alert = 0;                     // a CRYPTO_ERROR carrying this TLS alert
  std::optional<std::uint64_t> application_code;  // an application close...
  std::string application_reason;                 // ...with these words
  int library_error = 0;                          // the transport error for an ngtcp2 error
};

// Why a connection ended, in the few words an operator counts by
// (palyra_quic_connection_closes_total{cause, by}): a fixed, small set,
// unlike the error's message. Application codes are ours (app_error in
// stream.hpp).
enum class CloseCause : std::uint8_t {
  NoError,           // an orderly close: NO_ERROR, or application code 0
  IdleTimeout,       // nothing heard from the peer for the idle timeout
  StatelessReset,    // the peer no longer knew the connection (RFC 9000 §10.3)
  ShuttingDown,      // application code 0x10: the daemon is stopping
  Revoked,           // application code 0x11: the peer's certificate was revoked
  ApplicationError,  // any other application code
  TlsAlert,          // CRYPTO_ERROR: TLS refused something
  TransportError,    // any other QUIC transport error, or ngtcp2's own
};
inline constexpr std::size_t kCloseCauseCount = 8;
// The label value: "no_error", "idle_timeout", "stateless_reset", ...
std::string_view close_cause_name(CloseCause cause) noexcept;

// How a connection ends: what the application is told, whether the peer
// is (false when it already knows: it closed, or the connection timed out),
// and, for the counters, why and on whose word.
struct ConnectionEnding {
  Error error;
  bool notify_peer = true;
  CloseReason close;
  CloseCause cause = CloseCause::TransportError;
  bool by_peer = false;  // the peer's CONNECTION_CLOSE or Stateless Reset ended it
};

// Request frames that have not completed, on a server connection (zeros on
// a client's): Limits::max_incomplete_frame_bytes and request_frame_timeout.
struct IncompleteFrameStats {
  std::size_t held_bytes = 0;             // held now, across the streams
  std::uint64_t stopped_over_budget = 0;  // streams stopped (kFrameBudgetExceeded)
  std::uint64_t stopped_stalled = 0;      // streams stopped (kFrameTimeout)
};

// What a server endpoint knows about a new connection beyond its first packet.
struct AcceptOptions {
  // Stateless reset tokens of the connection IDs we issue are derived from
  // these keys (so they survive a restart); null: random tokens.
  std::shared_ptr<const ServerKeys> keys;
  // Set when the server runs several workers: the connection IDs we issue
  // name this worker (ARCHITECTURE.md, Workers); null: random CIDs.
  std::shared_ptr<const WorkerCids> worker_cids;
  // Set when the Initial carried a valid Retry token (RFC 9000 §7.3): the
  // DCID of the client's first Initial, and the SCID of our Retry (the DCID
  // of this Initial). The client checks both in our transport parameters.
  struct Retried {
    std::string original_dcid;
    std::string retry_scid;
  };
  std::optional<Retried> retried;
  // Set when the Initial carried a valid NEW_TOKEN token (RFC 9000 §8.1.3):
  // the address is proven as a Retry would have proven it.
  bool new_token_validated = false;
  // Traces the connection from its first packet; empty: no qlog.
  QlogSinkFactory qlog;
};

// What a client endpoint asks of a new connection beyond TLS and limits.
struct ConnectOptions {
  // Traces the connection from its first packet; empty: no qlog.
  QlogSinkFactory qlog;
  // What the server's NEW_TOKEN gave an earlier connection (RFC 9000
  // §8.1.3), sent in our Initial so it need not Retry; empty for none.
  std::string address_token;
};

class Connection {
 public:
  enum class State { Handshaking, Established, Closed };

  // A client connection; its first flight is ready in write_datagrams().
  static Result<std::unique_ptr<Connection>> connect(
      std::shared_ptr<const ClientTlsContext> tls, const Limits& limits, const SocketAddress& local,
      const SocketAddress& remote, std::uint64_t now_ns, const ConnectOptions& options = {});
  // A server connection for the Initial packet in `first_datagram` (which the
  // caller then passes to receive()). InvalidArgument when the datagram is not
  // an acceptable first packet.
  static Result<std::unique_ptr<Connection>> accept(
      std::shared_ptr<const ServerTlsContext> tls, const Limits& limits, const SocketAddress& local,
      const SocketAddress& remote, std::span<const std::uint8_t> first_datagram,
      std::uint64_t now_ns, const AcceptOptions& options = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // --- Application side ---
  ConnectionEvents events;
  // Free for the application: e.g. the endpoint's id for this connection.
  std::uint64_t user_tag = 0;

  State state() const noexcept { return state_; }
  bool is_server() const noexcept { return is_server_; }
  const PeerIdentity& peer() const noexcept { return peer_; }
  // The ALPN protocol the handshake settled on (kAlpn or kEnrollAlpn);
  // empty until the handshake completed.
  const std::string& alpn() const noexcept { return alpn_; }
  bool is_enrollment() const noexcept { return alpn_ == kEnrollAlpn; }
  const SocketAddress& remote_address() const noexcept { return remote_; }
  // Why the connection closed, once it has.
  const std::optional<Error>& close_error() const noexcept { return close_error_; }
  // Once closed: why, in the counters' words, and whether the peer ended it.
  CloseCause close_cause() const noexcept { return close_cause_; }
  bool closed_by_peer() const noexcept { return closed_by_peer_; }
  // For a connection that closed before it was established: why, in the
  // words an operator counts. Ok otherwise.
  HandshakeResult handshake_result() const noexcept { return handshake_result_; }
  // Whether the GnuTLS session is still held: servers drop it once
  // established to save memory per idle connection.
  bool holds_tls_session() const noexcept { return tls_session_ != nullptr; }

  // Opens a bidirectional stream. StreamLimitReached when the peer's stream
  // limit is exhausted (wait for on_streams_available); ConnectionClosed when
  // the connection is not established.
  Result<Stream*> open_stream();
  Stream* find_stream(std::int64_t id) noexcept;
  std::size_t open_stream_count() const noexcept { return streams_.size(); }
  IncompleteFrameStats incomplete_frames() const noexcept;
  // Closes with an application error code; the peer sees CONNECTION_CLOSE.
  void close(std::uint64_t app_error_code, std::string_view reason);
  // Server: sends the client a token for its next connection in a NEW_TOKEN
  // frame (RFC 9000 §8.1.3). ConnectionClosed when it is not established;
  // Internal when ngtcp2 cannot queue the frame (out of memory).
  Status send_new_token(std::string_view token);
  // Client: the last token the server sent in NEW_TOKEN, once (then empty).
  std::optional<std::string> take_new_token();

  // --- Sans-I/O core, for the endpoint (or a test) ---
  void receive(const SocketAddress& local, const SocketAddress& remote,
               std::span<const std::uint8_t> datagram, std::uint64_t now_ns);
  // Appends what is ready to send (at most `max_datagrams`) to `batch`.
  void write_datagrams(std::uint64_t now_ns, DatagramBatch& batch, std::size_t max_datagrams = 64);
  // When handle_expiry() must next run (monotonic ns); UINT64_MAX for never.
  // ngtcp2's timers and, on a server, the deadline of the oldest request
  // frame still incomplete.
  std::uint64_t expiry() const noexcept;
  void handle_expiry(std::uint64_t now_ns);
  // The connection IDs the endpoint should route to us, and those to forget.
  std::vector<std::string> take_new_connection_ids();
  std::vector<std::string> take_retired_connection_ids();
  // Called when the application queued output outside a receive/expiry
  // (e.g. a response written from a posted completion): the owner should
  // call write_datagrams soon.
  std::function<void(Connection&)> on_output_pending;
  // True once closed and nothing is left to send: the owner may destroy it.
  // A server that sent CONNECTION_CLOSE stays in the closing state for
  // three probe timeouts (RFC 9000 §10.2.1): a late packet of the peer's is
  // answered with the same close again, not with a Stateless Reset that
  // would hide why it was closed.
  bool finished() const noexcept {
    return state_ == State::Closed && !close_pending_ && closing_until_ns_ == 0;
  }

 private:
  friend class Stream;
  friend struct ConnectionCallbacks;

  Connection(bool is_server, const Limits& limits, const SocketAddress& local,
             const SocketAddress& remote);
  Status init_tls(Result<TlsSession> session);
  // Asks `factory` for this connection's sink (named by `scid`) and, when it
  // gives one, points ngtcp2's qlog at it.
  void start_qlog(const QlogSinkFactory& factory, const ngtcp2_cid& scid,
                  ngtcp2_settings& settings);

  // Ends the connection (once): the application is told `ending.error`, and
  // CONNECTION_CLOSE goes out when the peer is to be notified.
  void end(ConnectionEnding ending);
  void handle_read_error(int rv);
  // Who is speaking and to whom, for error messages.
  ErrorContext error_context() const;
  void release_tls_session();
  void follow_current_path();
  void dispatch_events();
  void note_stream_readable(Stream& stream);
  void note_stream_writable(Stream& stream);
  void note_stream_has_data(Stream& stream);
  void extend_credit(std::int64_t stream_id, std::size_t bytes);
  void reset_stream(Stream& stream, std::uint64_t app_error_code);
  void erase_closed_streams();
  void request_output();
  // Keep-alive at Limits::in_flight_probe_interval while packets are in
  // flight, at keep_alive_interval otherwise (packet_writer.cpp).
  void update_keep_alive();
  Stream& create_stream(std::int64_t id);
  // Opens Stream's methods for the connection (Stream::ConnectionKey).
  static Stream::ConnectionKey stream_key() noexcept { return {}; }

  // Bounds on request frames that have not completed (request_frames.cpp).
  void track_request_frames(Stream& stream, std::size_t completed_frames);
  void stop_request_frame(std::int64_t id, Error error, std::uint64_t app_error_code);
  void stop_overdue_request_frames();
  // After a stream's reading failed: its incomplete frame's bytes go and
  // their credit comes back; it owes no frame any more.
  void release_incomplete_frame(Stream& stream);

  // The packet writer (packet_writer.cpp).
  void write_connection_close(std::uint64_t now_ns, DatagramBatch& batch);
  // The next stream with something to send, round robin; nullptr for none.
  Stream* next_stream_to_send();

  // ngtcp2 callback bodies (connection_callbacks.cpp).
  int on_handshake_completed();
  int on_handshake_confirmed();
  int on_stream_open(std::int64_t id);
  int on_stream_data(std::uint32_t flags, std::int64_t id, std::span<const std::uint8_t> data);
  int on_stream_reset(std::int64_t id, std::uint64_t app_error_code);
  int on_stream_close(std::int64_t id);
  int on_acked(std::int64_t id, std::uint64_t offset, std::uint64_t length);
  void on_new_connection_id(const std::uint8_t* cid, std::size_t length);
  void on_retired_connection_id(const std::uint8_t* cid, std::size_t length);
  void on_new_token(const std::uint8_t* token, std::size_t length);
  // A fresh connection ID of `length` bytes for us to issue: naming our
  // worker when we have one, random otherwise.
  void make_connection_id(std::uint8_t* out, std::size_t length) const;
  // The token of a connection ID we issue (derived when we have keys).
  void make_stateless_reset_token(const std::uint8_t* cid, std::size_t length,
                                  std::uint8_t* token) const;

  bool is_server_;
  Limits limits_;
  SocketAddress local_;
  SocketAddress remote_;
  ngtcp2_conn* conn_ = nullptr;
  std::unique_ptr<ngtcp2_crypto_conn_ref> conn_ref_;
  std::unique_ptr<TlsSession> tls_session_;  // servers release it once established
  std::shared_ptr<const ServerTlsContext> server_tls_;
  std::shared_ptr<const ClientTlsContext> client_tls_;
  std::shared_ptr<const ServerKeys> server_keys_;
  std::shared_ptr<const WorkerCids> worker_cids_;
  // Outlives conn_: ngtcp2 writes the trace's end when the conn is deleted.
  std::unique_ptr<QlogSink> qlog_;
  // The peer sent a Stateless Reset: it no longer knows this connection.
  bool stateless_reset_received_ = false;

  State state_ = State::Handshaking;
  bool handshake_completed_ = false;
  bool probing_in_flight_ = false;  // keep-alive at in_flight_probe_interval
  // The closing state of a server (finished()): our CONNECTION_CLOSE
  // packet, until when it is repeated, and whether a late packet asked for it.
  std::vector<std::uint8_t> close_packet_;
  std::uint64_t closing_until_ns_ = 0;
  bool repeat_close_ = false;
  std::string alpn_;
  bool close_pending_ = false;  // CONNECTION_CLOSE still to be written
  CloseReason close_reason_;    // what it says
  std::optional<Error> close_error_;
  CloseCause close_cause_ = CloseCause::NoError;
  bool closed_by_peer_ = false;
  HandshakeResult handshake_result_ = HandshakeResult::Ok;
  // An ending decided inside a callback, acted on once ngtcp2 has returned.
  std::optional<ConnectionEnding> pending_ending_;
  bool closed_notified_ = false;
  bool established_pending_ = false;
  bool streams_available_pending_ = false;
  PeerIdentity peer_;

  // The time of the receive() or handle_expiry() under way: what ngtcp2's
  // callbacks see as now.
  std::uint64_t now_ns_ = 0;
  // Server connections only (null on a client's): the peer's request frames
  // that have not completed, and the streams stopped for them.
  std::unique_ptr<IncompleteFrames> incomplete_frames_;
  std::uint64_t stopped_over_budget_ = 0;
  std::uint64_t stopped_stalled_ = 0;

  std::unordered_map<std::int64_t, std::unique_ptr<Stream>> streams_;
  std::vector<std::int64_t> readable_;  // streams with news for the application
  std::vector<std::int64_t> writable_;
  std::vector<std::int64_t> send_queue_;  // streams with unsent data, round robin
  std::size_t send_cursor_ = 0;
  std::vector<std::string> new_cids_;
  std::vector<std::string> retired_cids_;
  std::optional<std::string> new_token_;  // client: from the server's last NEW_TOKEN
};

}  // namespace palyra::transport
