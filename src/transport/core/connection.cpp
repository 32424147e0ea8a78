// One QUIC connection, sans I/O: how it starts (client and server), what
// the application asks of it (streams, close), and how ngtcp2's results
// reach the application (receive, expiry, the endings and events). ngtcp2's
// callbacks are in connection_callbacks.cpp, the packet writer in
// packet_writer.cpp, the translation of errors in connection_errors.cpp.
#include "palyra/transport/connection.hpp"

#include <fmt/format.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <algorithm>
#include <utility>

#include "connection_callbacks.hpp"
#include "connection_errors.hpp"
#include "incomplete_frames.hpp"
#include "ngtcp2_path.hpp"
#include "palyra/identity/fingerprint.hpp"
#include "peer_verification.hpp"
#include "quic_memory.hpp"
#include "quic_random.hpp"
#include "tls_context.hpp"
#include "worker_cids.hpp"

namespace palyra::transport {
namespace {

constexpr std::size_t kServerCidLength = 16;
static_assert(kServerCidLength == kWorkerCidLength, "a worker's CIDs are the server's");
constexpr std::size_t kClientCidLength = 16;

constexpr std::uint64_t ms_to_ns(std::chrono::milliseconds ms) {
  return static_cast<std::uint64_t>(ms.count()) * NGTCP2_MILLISECONDS;
}

ngtcp2_cid random_cid(std::size_t length) {
  ngtcp2_cid cid{};
  cid.datalen = length;
  random_bytes(cid.data, length);
  return cid;
}

std::string cid_key(const std::uint8_t* data, std::size_t length) {
  return std::string(reinterpret_cast<const char*>(data), length);
}

ngtcp2_cid cid_of(const std::string& key) {
  ngtcp2_cid cid{};
  cid.datalen = std::min(key.size(), sizeof cid.data);
  std::copy_n(key.data(), cid.datalen, reinterpret_cast<char*>(cid.data));
  return cid;
}

ngtcp2_settings make_settings(const Limits& limits, std::uint64_t now_ns) {
  ngtcp2_settings settings;
  ngtcp2_settings_default(&settings);
  settings.initial_ts = now_ns;
  settings.handshake_timeout = ms_to_ns(limits.handshake_timeout);
  settings.max_window = limits.max_connection_receive_window;
  settings.max_stream_window = limits.max_stream_receive_window;
  settings.cc_algo = NGTCP2_CC_ALGO_CUBIC;
  return settings;
}

ngtcp2_transport_params make_params(const Limits& limits) {
  ngtcp2_transport_params params;
  ngtcp2_transport_params_default(&params);
  params.initial_max_streams_bidi = limits.max_streams_bidi;
  params.initial_max_streams_uni = limits.max_streams_uni;
  params.initial_max_stream_data_bidi_local = limits.stream_receive_window;
  params.initial_max_stream_data_bidi_remote = limits.stream_receive_window;
  params.initial_max_stream_data_uni = limits.stream_receive_window;
  params.initial_max_data = limits.connection_receive_window;
  params.max_idle_timeout = ms_to_ns(limits.idle_timeout);
  return params;
}

}  // namespace

Connection::Connection(bool is_server, const Limits& limits, const SocketAddress& local,
                       const SocketAddress& remote)
    : is_server_(is_server), limits_(limits), local_(local), remote_(remote) {
  conn_ref_ = std::make_unique<ngtcp2_crypto_conn_ref>();
  conn_ref_->get_conn = connection_of;
  conn_ref_->user_data = this;
}

Connection::~Connection() {
  // Streams first: their chunks are what ngtcp2 may still point at.
  streams_.clear();
  if (conn_ != nullptr) ngtcp2_conn_del(conn_);
}

Status Connection::init_tls(Result<TlsSession> session) {
  if (!session) return std::move(session).error();
  tls_session_ = std::make_unique<TlsSession>(std::move(session).value());
  ngtcp2_conn_set_tls_native_handle(conn_, tls_session_->get());
  if (limits_.keep_alive_interval.count() > 0) {
    ngtcp2_conn_set_keep_alive_timeout(conn_, ms_to_ns(limits_.keep_alive_interval));
  }
  return {};
}

void Connection::start_qlog(const QlogSinkFactory& factory, const ngtcp2_cid& scid,
                            ngtcp2_settings& settings) {
  if (!factory) return;
  qlog_ = factory(identity::lower_hex({scid.data, scid.datalen}));
  if (!qlog_) return;
  // ngtcp2 calls this with the connection's user data (this Connection)
  // from ngtcp2_conn_*_new, which writes the trace's header, to
  // ngtcp2_conn_del, which ends it.
  settings.qlog.write = [](void* user_data, std::uint32_t flags, const void* data,
                           std::size_t length) {
    static_cast<Connection*>(user_data)->qlog_->write(
        {static_cast<const std::uint8_t*>(data), length},
        (flags & NGTCP2_QLOG_WRITE_FLAG_FIN) != 0);
  };
}

Result<std::unique_ptr<Connection>> Connection::connect(
    std::shared_ptr<const ClientTlsContext> tls, const Limits& limits, const SocketAddress& local,
    const SocketAddress& remote, std::uint64_t now_ns, const ConnectOptions& options) {
  PALYRA_TRY(limits.validate());
  std::unique_ptr<Connection> c(new Connection(false, limits, local, remote));
  c->client_tls_ = std::move(tls);
  ngtcp2_cid dcid = random_cid(NGTCP2_MIN_INITIAL_DCIDLEN + 2);
  ngtcp2_cid scid = random_cid(kClientCidLength);
  ngtcp2_settings settings = make_settings(limits, now_ns);
  // ngtcp2 copies it into our Initial; a Retry's token replaces it.
  settings.token.base =
      reinterpret_cast<std::uint8_t*>(const_cast<char*>(options.address_token.data()));
  settings.token.len = options.address_token.size();
  c->start_qlog(options.qlog, scid, settings);
  ngtcp2_transport_params params = make_params(limits);
  ngtcp2_callbacks callbacks = connection_callbacks(false);
  ngtcp2_path path = make_path(c->local_, c->remote_);
  int rv = ngtcp2_conn_client_new(&c->conn_, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &callbacks,
                                  &settings, &params, quic_memory(), c.get());
  if (rv != 0) return connection_start_error(false, rv, remote.to_string());
  PALYRA_TRY(c->init_tls(c->client_tls_->new_session(c->conn_ref_.get())));
  return c;
}

Result<std::unique_ptr<Connection>> Connection::accept(
    std::shared_ptr<const ServerTlsContext> tls, const Limits& limits, const SocketAddress& local,
    const SocketAddress& remote, std::span<const std::uint8_t> first_datagram, std::uint64_t now_ns,
    const AcceptOptions& options) {
  ngtcp2_pkt_hd header{};
  if (ngtcp2_accept(&header, first_datagram.data(), first_datagram.size()) != 0) {
    return Error(Errc::InvalidArgument,
                 fmt::format("datagram of {} bytes from {} is not a QUIC v1 Initial packet",
                             first_datagram.size(), remote.to_string()));
  }
  std::unique_ptr<Connection> c(new Connection(true, limits, local, remote));
  c->server_tls_ = std::move(tls);
  c->server_keys_ = options.keys;
  c->worker_cids_ = options.worker_cids;
  c->incomplete_frames_ = std::make_unique<IncompleteFrames>(
      limits.max_incomplete_frame_bytes, ms_to_ns(limits.request_frame_timeout));
  ngtcp2_cid scid{};
  scid.datalen = kServerCidLength;
  c->make_connection_id(scid.data, scid.datalen);
  ngtcp2_settings settings = make_settings(limits, now_ns);
  ngtcp2_transport_params params = make_params(limits);
  params.original_dcid = header.dcid;
  if (options.retried) {
    // RFC 9000 §7.3: after a Retry the client's first DCID is the original
    // one, and the DCID it uses now is the SCID of our Retry.
    params.original_dcid = cid_of(options.retried->original_dcid);
    params.retry_scid = cid_of(options.retried->retry_scid);
    params.retry_scid_present = 1;
  }
  if (options.retried || options.new_token_validated) {
    // The token proved the address: no amplification limit from here on.
    settings.token.base = const_cast<std::uint8_t*>(header.token.base);
    settings.token.len = header.token.len;
  }
  settings.qlog.odcid = params.original_dcid;  // the trace's group_id
  c->start_qlog(options.qlog, scid, settings);
  params.stateless_reset_token_present = 1;
  c->make_stateless_reset_token(scid.data, scid.datalen, params.stateless_reset_token);
  ngtcp2_callbacks callbacks = connection_callbacks(true);
  ngtcp2_path path = make_path(c->local_, c->remote_);
  int rv = ngtcp2_conn_server_new(&c->conn_, &header.scid, &scid, &path, header.version, &callbacks,
                                  &settings, &params, quic_memory(), c.get());
  if (rv != 0) return connection_start_error(true, rv, remote.to_string());
  PALYRA_TRY(c->init_tls(c->server_tls_->new_session(c->conn_ref_.get())));
  // Route both the client's chosen DCID (its retransmitted Initials) and ours.
  c->new_cids_.push_back(cid_key(header.dcid.data, header.dcid.datalen));
  c->new_cids_.push_back(cid_key(scid.data, scid.datalen));
  return c;
}

// ---------------------------------------------------------------------------
// Application side

Result<Stream*> Connection::open_stream() {
  if (state_ != State::Established) {
    return Error(Errc::ConnectionClosed, state_ == State::Closed
                                             ? "the connection is closed"
                                             : "the handshake has not completed");
  }
  std::int64_t id = -1;
  int rv = ngtcp2_conn_open_bidi_stream(conn_, &id, nullptr);
  if (rv != 0) return stream_open_error(rv, streams_.size());
  return &create_stream(id);
}

Stream* Connection::find_stream(std::int64_t id) noexcept {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

Stream& Connection::create_stream(std::int64_t id) {
  auto stream = std::make_unique<Stream>(*this, id, limits_.max_frame_bytes);
  Stream& ref = *stream;
  streams_.emplace(id, std::move(stream));
  return ref;
}

void Connection::close(std::uint64_t app_error_code, std::string_view reason) {
  if (state_ == State::Closed) return;
  end(ending_by_application(app_error_code, reason));
  request_output();
}

void Connection::reset_stream(Stream& stream, std::uint64_t app_error_code) {
  ngtcp2_conn_shutdown_stream(conn_, stream.id(), app_error_code);
  request_output();
}

void Connection::extend_credit(std::int64_t stream_id, std::size_t bytes) {
  if (state_ == State::Closed) return;
  ngtcp2_conn_extend_max_stream_offset(conn_, stream_id, bytes);
  ngtcp2_conn_extend_max_offset(conn_, bytes);
  request_output();
}

void Connection::note_stream_readable(Stream& stream) {
  if (std::find(readable_.begin(), readable_.end(), stream.id()) == readable_.end()) {
    readable_.push_back(stream.id());
  }
}

void Connection::note_stream_writable(Stream& stream) {
  writable_.push_back(stream.id());
}

void Connection::note_stream_has_data(Stream& stream) {
  if (stream.join_send_queue(stream_key())) send_queue_.push_back(stream.id());
  request_output();
}

void Connection::request_output() {
  if (on_output_pending) on_output_pending(*this);
}

Status Connection::send_new_token(std::string_view token) {
  if (state_ != State::Established) {
    return Error(Errc::ConnectionClosed, "a NEW_TOKEN needs an established connection");
  }
  int rv = ngtcp2_conn_submit_new_token(conn_, reinterpret_cast<const std::uint8_t*>(token.data()),
                                        token.size());
  if (rv != 0) {
    return Error(Errc::Internal, fmt::format("queueing a NEW_TOKEN frame for {}: {}",
                                             remote_.to_string(), ngtcp2_strerror(rv)));
  }
  request_output();
  return {};
}

std::optional<std::string> Connection::take_new_token() {
  return std::exchange(new_token_, std::nullopt);
}

void Connection::on_new_token(const std::uint8_t* token, std::size_t length) {
  new_token_ = std::string(reinterpret_cast<const char*>(token), length);
}

// ---------------------------------------------------------------------------
// Connection IDs the endpoint routes to us

void Connection::on_new_connection_id(const std::uint8_t* cid, std::size_t length) {
  new_cids_.push_back(cid_key(cid, length));
}

void Connection::on_retired_connection_id(const std::uint8_t* cid, std::size_t length) {
  retired_cids_.push_back(cid_key(cid, length));
}

void Connection::make_connection_id(std::uint8_t* out, std::size_t length) const {
  if (worker_cids_ && length == kWorkerCidLength) {
    worker_cids_->issue(out);
  } else {
    random_bytes(out, length);
  }
}

void Connection::make_stateless_reset_token(const std::uint8_t* cid, std::size_t length,
                                            std::uint8_t* token) const {
  if (server_keys_) {
    server_keys_->stateless_reset_token({cid, length}, token);
  } else {
    random_bytes(token, NGTCP2_STATELESS_RESET_TOKENLEN);
  }
}

std::vector<std::string> Connection::take_new_connection_ids() {
  std::vector<std::string> out;
  out.swap(new_cids_);
  return out;
}

std::vector<std::string> Connection::take_retired_connection_ids() {
  std::vector<std::string> out;
  out.swap(retired_cids_);
  return out;
}

// ---------------------------------------------------------------------------
// Sans-I/O core

void Connection::receive(const SocketAddress& local, const SocketAddress& remote,
                         std::span<const std::uint8_t> datagram, std::uint64_t now_ns) {
  if (state_ == State::Closed) {
    // Closing: each late packet gets our CONNECTION_CLOSE once more.
    repeat_close_ = closing_until_ns_ != 0;
    return;
  }
  now_ns_ = now_ns;
  ngtcp2_path path = make_path(local, remote);
  ngtcp2_pkt_info info{};
  int rv = ngtcp2_conn_read_pkt(conn_, &path, &info, datagram.data(), datagram.size(), now_ns);
  if (rv != 0) handle_read_error(rv);
  follow_current_path();
  dispatch_events();
}

// The peer's address is the one of the path ngtcp2 uses now: it changes
// when the peer's address changed (NAT rebinding) and ngtcp2 has moved the
// connection to the new path.
void Connection::follow_current_path() {
  if (state_ == State::Closed) return;
  if (SocketAddress current = address_of(ngtcp2_conn_get_path(conn_)->remote);
      current.length != 0) {
    remote_ = current;
  }
}

// Once a server connection is established its GnuTLS session only holds
// memory (about 11 KiB, an idle connection's largest share after ngtcp2's):
// the packet keys live in ngtcp2, the peer's identity in peer_, and a
// server expects no further CRYPTO data (no tickets, no post-handshake
// authentication; recv_crypto_data refuses any).
void Connection::release_tls_session() {
  if (!tls_session_) return;
  ngtcp2_conn_set_tls_native_handle(conn_, nullptr);
  tls_session_.reset();
}

void Connection::handle_read_error(int rv) {
  if (rv == NGTCP2_ERR_CALLBACK_FAILURE && pending_ending_) {
    ConnectionEnding ending = std::move(*pending_ending_);
    pending_ending_.reset();
    end(std::move(ending));
    return;
  }
  ReadFailure failure;
  failure.rv = rv;
  failure.stateless_reset = stateless_reset_received_;
  ngtcp2_conn_get_connection_close_error(conn_, &failure.peer_close);
  failure.tls_alert = ngtcp2_conn_get_tls_alert(conn_);
  if (tls_session_) failure.verify_failure = describe_verify_failure(tls_session_->get());
  if (auto ending = ending_after_read(failure, error_context())) end(std::move(*ending));
}

ErrorContext Connection::error_context() const {
  return {is_server_, state_ == State::Handshaking, remote_.to_string(),
          is_server_ ? std::string() : client_tls_->server_name()};
}

void Connection::end(ConnectionEnding ending) {
  if (state_ == State::Closed) return;
  if (state_ == State::Handshaking) {
    // Before the session goes: its verify status says why a chain was refused.
    const unsigned status = tls_session_ ? peer_check_of(tls_session_->get()).status : 0;
    handshake_result_ = handshake_result_of(ending.error.code(), ending.close.tls_alert, status);
  }
  if (ending.notify_peer) {
    close_pending_ = true;
    close_reason_ = std::move(ending.close);
  }
  state_ = State::Closed;
  close_error_ = std::move(ending.error);
  close_cause_ = ending.cause;
  closed_by_peer_ = ending.by_peer;
}

void Connection::dispatch_events() {
  // Streams that failed to read ask the peer to stop sending.
  for (auto& [id, stream] : streams_) {
    if (auto code = stream->take_stop_reading(stream_key()); code && state_ != State::Closed) {
      ngtcp2_conn_shutdown_stream_read(conn_, id, *code);
    }
  }
  if (established_pending_) {
    established_pending_ = false;
    if (state_ == State::Established) {
      if (is_server_) release_tls_session();
      if (events.on_established) events.on_established(*this);
    }
  }
  if (streams_available_pending_) {
    streams_available_pending_ = false;
    if (events.on_streams_available && state_ == State::Established)
      events.on_streams_available(*this);
  }
  std::vector<std::int64_t> ids;
  ids.swap(readable_);
  for (auto id : ids) {
    if (Stream* stream = find_stream(id); stream != nullptr && events.on_stream_readable) {
      events.on_stream_readable(*this, *stream);
    }
  }
  ids.clear();
  ids.swap(writable_);
  for (auto id : ids) {
    if (Stream* stream = find_stream(id); stream != nullptr && events.on_stream_writable) {
      events.on_stream_writable(*this, *stream);
    }
  }
  if (state_ == State::Closed && !closed_notified_) {
    closed_notified_ = true;
    if (events.on_closed) events.on_closed(*this, *close_error_);
  }
  erase_closed_streams();
}

void Connection::erase_closed_streams() {
  std::erase_if(streams_,
                [](const auto& entry) { return entry.second->can_be_destroyed(stream_key()); });
}

std::uint64_t Connection::expiry() const noexcept {
  if (close_pending_) return 0;
  if (state_ == State::Closed) return closing_until_ns_ != 0 ? closing_until_ns_ : UINT64_MAX;
  const std::uint64_t frames =
      incomplete_frames_ ? incomplete_frames_->next_deadline() : UINT64_MAX;
  return std::min(ngtcp2_conn_get_expiry(conn_), frames);
}

void Connection::handle_expiry(std::uint64_t now_ns) {
  if (state_ == State::Closed) {
    if (closing_until_ns_ != 0 && now_ns >= closing_until_ns_) {
      closing_until_ns_ = 0;  // the closing period is over: finished()
      close_packet_.clear();
    }
    return;
  }
  now_ns_ = now_ns;
  // Early for ngtcp2 when the deadline due is a request frame's: harmless,
  // it only acts on its timers that have passed.
  int rv = ngtcp2_conn_handle_expiry(conn_, now_ns);
  if (rv != 0) end(ending_after_expiry(rv, error_context(), limits_));
  stop_overdue_request_frames();
  dispatch_events();
}

}  // namespace palyra::transport
