#include "palyra/transport/connection.hpp"

#include <fmt/format.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <algorithm>
#include <array>

#include "quic_memory.hpp"
#include "tls_context.hpp"

namespace palyra::transport {
namespace {

constexpr std::size_t kServerCidLength = 16;
constexpr std::size_t kClientCidLength = 16;
constexpr std::size_t kMaxVecs = 16;
// GSO sends at most 64 segments and 64 KiB per system call.
constexpr std::size_t kMaxBurstSegments = 64;
constexpr std::size_t kMaxBurstBytes = 65000;

constexpr std::uint64_t ms_to_ns(std::chrono::milliseconds ms) {
  return static_cast<std::uint64_t>(ms.count()) * NGTCP2_MILLISECONDS;
}

void random_bytes(std::uint8_t* out, std::size_t length) {
  // GnuTLS's nonce generator: fast and unpredictable, as CIDs and tokens must be.
  (void)gnutls_rnd(GNUTLS_RND_NONCE, out, length);
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

ngtcp2_path make_path(const SocketAddress& local, const SocketAddress& remote) {
  ngtcp2_path path{};
  path.local.addr = const_cast<sockaddr*>(local.data());
  path.local.addrlen = local.length;
  path.remote.addr = const_cast<sockaddr*>(remote.data());
  path.remote.addrlen = remote.length;
  return path;
}

// What a CONNECTION_CLOSE from the peer said, in words.
std::string describe_close(const ngtcp2_connection_close_error& close) {
  std::string reason(reinterpret_cast<const char*>(close.reason), close.reasonlen);
  std::string what;
  if (close.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION) {
    what = fmt::format("application error 0x{:x}", close.error_code);
  } else if (close.error_code >= NGTCP2_CRYPTO_ERROR && close.error_code <= 0x1ff) {
    what = describe_tls_alert(static_cast<std::uint8_t>(close.error_code - NGTCP2_CRYPTO_ERROR));
  } else if (close.error_code == NGTCP2_CONNECTION_REFUSED) {
    what = "CONNECTION_REFUSED (0x2)";
  } else {
    what = fmt::format("transport error 0x{:x}", close.error_code);
  }
  if (!reason.empty()) what += fmt::format(" \"{}\"", reason);
  return what;
}

}  // namespace

// ngtcp2's C callbacks, forwarding to the Connection in user_data.
struct ConnectionCallbacks {
  static Connection& self(void* user_data) { return *static_cast<Connection*>(user_data); }

  static ngtcp2_conn* get_conn(ngtcp2_crypto_conn_ref* ref) {
    return static_cast<Connection*>(ref->user_data)->conn_;
  }
  static void rand(std::uint8_t* dest, std::size_t length, const ngtcp2_rand_ctx*) {
    random_bytes(dest, length);
  }
  static int get_new_connection_id(ngtcp2_conn*, ngtcp2_cid* cid, std::uint8_t* token,
                                   std::size_t length, void* user_data) {
    random_bytes(cid->data, length);
    cid->datalen = length;
    random_bytes(token, NGTCP2_STATELESS_RESET_TOKENLEN);
    self(user_data).on_new_connection_id(cid->data, cid->datalen);
    return 0;
  }
  static int remove_connection_id(ngtcp2_conn*, const ngtcp2_cid* cid, void* user_data) {
    self(user_data).on_retired_connection_id(cid->data, cid->datalen);
    return 0;
  }
  static int recv_crypto_data(ngtcp2_conn* conn, ngtcp2_crypto_level level, std::uint64_t offset,
                              const std::uint8_t* data, std::size_t length, void* user_data) {
    Connection& c = self(user_data);
    if (!c.tls_session_) {
      c.pending_error_ = Error(Errc::ConnectionClosed,
                               fmt::format("{} sent {} bytes of TLS data after the handshake",
                                           c.remote_.to_string(), length));
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    return ngtcp2_crypto_recv_crypto_data_cb(conn, level, offset, data, length, user_data);
  }
  static int handshake_completed(ngtcp2_conn*, void* user_data) {
    return self(user_data).on_handshake_completed();
  }
  static int handshake_confirmed(ngtcp2_conn*, void* user_data) {
    return self(user_data).on_handshake_confirmed();
  }
  static int recv_stream_data(ngtcp2_conn*, std::uint32_t flags, std::int64_t id, std::uint64_t,
                              const std::uint8_t* data, std::size_t length, void* user_data,
                              void*) {
    return self(user_data).on_stream_data(flags, id, {data, length});
  }
  static int stream_reset(ngtcp2_conn*, std::int64_t id, std::uint64_t, std::uint64_t code,
                          void* user_data, void*) {
    return self(user_data).on_stream_reset(id, code);
  }
  static int stream_close(ngtcp2_conn*, std::uint32_t, std::int64_t id, std::uint64_t,
                          void* user_data, void*) {
    return self(user_data).on_stream_close(id);
  }
  static int acked_stream_data_offset(ngtcp2_conn*, std::int64_t id, std::uint64_t offset,
                                      std::uint64_t length, void* user_data, void*) {
    return self(user_data).on_acked(id, offset, length);
  }
  static int extend_max_stream_data(ngtcp2_conn*, std::int64_t id, std::uint64_t, void* user_data,
                                    void*) {
    Connection& c = self(user_data);
    if (Stream* stream = c.find_stream(id)) c.note_stream_has_data(*stream);
    return 0;
  }
  static int extend_max_local_streams_bidi(ngtcp2_conn*, std::uint64_t, void* user_data) {
    self(user_data).streams_available_pending_ = true;
    return 0;
  }

  static ngtcp2_callbacks make(bool is_server) {
    ngtcp2_callbacks cb{};
    if (is_server) {
      cb.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
    } else {
      cb.client_initial = ngtcp2_crypto_client_initial_cb;
      cb.recv_retry = ngtcp2_crypto_recv_retry_cb;
      cb.handshake_confirmed = handshake_confirmed;
      cb.extend_max_local_streams_bidi = extend_max_local_streams_bidi;
    }
    cb.recv_crypto_data = recv_crypto_data;
    cb.encrypt = ngtcp2_crypto_encrypt_cb;
    cb.decrypt = ngtcp2_crypto_decrypt_cb;
    cb.hp_mask = ngtcp2_crypto_hp_mask_cb;
    cb.update_key = ngtcp2_crypto_update_key_cb;
    cb.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
    cb.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
    cb.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
    cb.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
    cb.rand = rand;
    cb.get_new_connection_id = get_new_connection_id;
    cb.remove_connection_id = remove_connection_id;
    cb.handshake_completed = handshake_completed;
    cb.recv_stream_data = recv_stream_data;
    cb.stream_reset = stream_reset;
    cb.stream_close = stream_close;
    cb.acked_stream_data_offset = acked_stream_data_offset;
    cb.extend_max_stream_data = extend_max_stream_data;
    return cb;
  }
};

namespace {

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
  conn_ref_->get_conn = ConnectionCallbacks::get_conn;
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

Result<std::unique_ptr<Connection>> Connection::connect(std::shared_ptr<const ClientTlsContext> tls,
                                                        const Limits& limits,
                                                        const SocketAddress& local,
                                                        const SocketAddress& remote,
                                                        std::uint64_t now_ns) {
  PALYRA_TRY(limits.validate());
  std::unique_ptr<Connection> c(new Connection(false, limits, local, remote));
  c->client_tls_ = std::move(tls);
  ngtcp2_cid dcid = random_cid(NGTCP2_MIN_INITIAL_DCIDLEN + 2);
  ngtcp2_cid scid = random_cid(kClientCidLength);
  ngtcp2_settings settings = make_settings(limits, now_ns);
  ngtcp2_transport_params params = make_params(limits);
  ngtcp2_callbacks callbacks = ConnectionCallbacks::make(false);
  ngtcp2_path path = make_path(c->local_, c->remote_);
  int rv = ngtcp2_conn_client_new(&c->conn_, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &callbacks,
                                  &settings, &params, quic_memory(), c.get());
  if (rv != 0) {
    return Error(Errc::ConnectStartFailed, fmt::format("cannot start a QUIC connection to {}: {}",
                                                       remote.to_string(), ngtcp2_strerror(rv)));
  }
  PALYRA_TRY(c->init_tls(c->client_tls_->new_session(c->conn_ref_.get())));
  return c;
}

Result<std::unique_ptr<Connection>> Connection::accept(std::shared_ptr<const ServerTlsContext> tls,
                                                       const Limits& limits,
                                                       const SocketAddress& local,
                                                       const SocketAddress& remote,
                                                       std::span<const std::uint8_t> first_datagram,
                                                       std::uint64_t now_ns) {
  ngtcp2_pkt_hd header{};
  if (ngtcp2_accept(&header, first_datagram.data(), first_datagram.size()) != 0) {
    return Error(Errc::InvalidArgument,
                 fmt::format("datagram of {} bytes from {} is not a QUIC v1 Initial packet",
                             first_datagram.size(), remote.to_string()));
  }
  std::unique_ptr<Connection> c(new Connection(true, limits, local, remote));
  c->server_tls_ = std::move(tls);
  ngtcp2_cid scid = random_cid(kServerCidLength);
  ngtcp2_settings settings = make_settings(limits, now_ns);
  ngtcp2_transport_params params = make_params(limits);
  params.original_dcid = header.dcid;
  params.stateless_reset_token_present = 1;
  random_bytes(params.stateless_reset_token, sizeof params.stateless_reset_token);
  ngtcp2_callbacks callbacks = ConnectionCallbacks::make(true);
  ngtcp2_path path = make_path(c->local_, c->remote_);
  int rv = ngtcp2_conn_server_new(&c->conn_, &header.scid, &scid, &path, header.version, &callbacks,
                                  &settings, &params, quic_memory(), c.get());
  if (rv != 0) {
    return Error(Errc::Internal, fmt::format("ngtcp2_conn_server_new: {}", ngtcp2_strerror(rv)));
  }
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
  if (rv == NGTCP2_ERR_STREAM_ID_BLOCKED) {
    return Error(
        Errc::StreamLimitReached,
        fmt::format("the peer allows no more concurrent streams ({} open)", streams_.size()));
  }
  if (rv != 0) {
    return Error(Errc::Internal,
                 fmt::format("ngtcp2_conn_open_bidi_stream: {}", ngtcp2_strerror(rv)));
  }
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
  close_is_app_ = true;
  close_app_code_ = app_error_code;
  close_reason_ = std::string(reason);
  fail(Error(Errc::ConnectionClosed,
             fmt::format("closed locally with application error 0x{:x} \"{}\"", app_error_code,
                         reason)),
       false);
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
  if (!stream.in_send_queue_) {
    stream.in_send_queue_ = true;
    send_queue_.push_back(stream.id());
  }
  request_output();
}

void Connection::request_output() {
  if (on_output_pending) on_output_pending(*this);
}

// ---------------------------------------------------------------------------
// ngtcp2 callback bodies (run inside ngtcp2: record, don't call out)

int Connection::on_handshake_completed() {
  handshake_completed_ = true;
  alpn_ = negotiated_alpn(tls_session_->get());
  if (is_server_ && alpn_ == kEnrollAlpn) {
    // An enrolling node has no certificate yet and was not asked for one
    // (PROTOCOL.md §7); the application serves it node.enroll only.
    state_ = State::Established;
    established_pending_ = true;
    return 0;
  }
  auto identity =
      peer_identity_of(tls_session_->get(), is_server_ ? &server_tls_->verified_chains()
                                                       : &client_tls_->verified_chains());
  if (is_server_) {
    if (!server_tls_->require_client_auth()) {
      if (identity) peer_ = *identity;
      state_ = State::Established;
      established_pending_ = true;
      return 0;
    }
    if (!identity) {
      pending_error_ = Error(Errc::MissingPeerIdentity, "the client presented no certificate");
      close_tls_alert_ = GNUTLS_A_CERTIFICATE_REQUIRED;
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    if (server_tls_->is_revoked(identity->fingerprint)) {
      pending_error_ = Error(Errc::ConnectionClosed,
                             fmt::format("refused revoked client certificate {} (device '{}')",
                                         identity->fingerprint, identity->device_id));
      close_tls_alert_ = GNUTLS_A_CERTIFICATE_REVOKED;
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    peer_ = std::move(*identity);
    state_ = State::Established;
    established_pending_ = true;
    return 0;
  }
  // Client: our verify function has checked chain, name and EKU
  // serverAuth; the pin is checked here, on every handshake.
  if (!identity) {
    pending_error_ = std::move(identity).error();
    close_tls_alert_ = GNUTLS_A_BAD_CERTIFICATE;
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  const auto& pin = client_tls_->pin();
  if (pin && *pin != identity->fingerprint) {
    pending_error_ = Error(Errc::PinnedCertificateMismatch,
                           fmt::format("server certificate pin mismatch: expected {}, actual {}",
                                       *pin, identity->fingerprint));
    close_tls_alert_ = GNUTLS_A_BAD_CERTIFICATE;
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  peer_ = std::move(*identity);
  return 0;
}

int Connection::on_handshake_confirmed() {
  // A TLS 1.3 client completes before the server has checked its
  // certificate; only HANDSHAKE_DONE (confirmation) means we were accepted.
  if (state_ == State::Handshaking) {
    state_ = State::Established;
    established_pending_ = true;
  }
  return 0;
}

int Connection::on_stream_data(std::uint32_t flags, std::int64_t id,
                               std::span<const std::uint8_t> data) {
  Stream* stream = find_stream(id);
  if (stream == nullptr) stream = &create_stream(id);
  stream->on_data(data, (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
  note_stream_readable(*stream);
  return 0;
}

int Connection::on_stream_reset(std::int64_t id, std::uint64_t app_error_code) {
  if (Stream* stream = find_stream(id)) {
    stream->on_reset(app_error_code);
    note_stream_readable(*stream);
  }
  return 0;
}

int Connection::on_stream_close(std::int64_t id) {
  // ngtcp2 does not return stream credit by itself: a closed peer stream
  // frees a slot for the next one.
  if (!ngtcp2_conn_is_local_stream(conn_, id)) {
    if ((id & 0x2) == 0) {
      ngtcp2_conn_extend_max_streams_bidi(conn_, 1);
    } else {
      ngtcp2_conn_extend_max_streams_uni(conn_, 1);
    }
  }
  if (Stream* stream = find_stream(id)) {
    stream->closed_ = true;
    if (!stream->fin_received_ && !stream->read_error_) {
      stream->read_error_ = Error(Errc::StreamReset, fmt::format("stream {} closed", id));
    }
    note_stream_readable(*stream);
  }
  return 0;
}

int Connection::on_acked(std::int64_t id, std::uint64_t offset, std::uint64_t length) {
  if (Stream* stream = find_stream(id)) {
    stream->on_acked(offset, length);
    if (stream->writable_low_water_ != 0 &&
        stream->unacknowledged_bytes() < stream->writable_low_water_) {
      stream->writable_low_water_ = 0;
      note_stream_writable(*stream);
    }
  }
  return 0;
}

void Connection::on_new_connection_id(const std::uint8_t* cid, std::size_t length) {
  new_cids_.push_back(cid_key(cid, length));
}

void Connection::on_retired_connection_id(const std::uint8_t* cid, std::size_t length) {
  retired_cids_.push_back(cid_key(cid, length));
}

// ---------------------------------------------------------------------------
// Sans-I/O core

void Connection::receive(const SocketAddress& local, const SocketAddress& remote,
                         std::span<const std::uint8_t> datagram, std::uint64_t now_ns) {
  if (state_ == State::Closed) return;
  ngtcp2_path path = make_path(local, remote);
  ngtcp2_pkt_info info{};
  int rv = ngtcp2_conn_read_pkt(conn_, &path, &info, datagram.data(), datagram.size(), now_ns);
  if (rv != 0) handle_read_error(rv);
  dispatch_events();
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
  switch (rv) {
    case NGTCP2_ERR_DRAINING: {  // the peer closed the connection
      ngtcp2_connection_close_error close{};
      ngtcp2_conn_get_connection_close_error(conn_, &close);
      std::string what = describe_close(close);
      if (!is_server_ && state_ == State::Handshaking) {
        set_closed(Error(
            Errc::ConnectFailed,
            fmt::format("the server at {} refused the handshake: {}", remote_.to_string(), what)));
      } else {
        set_closed(
            Error(Errc::ConnectionClosed, fmt::format("the peer closed the connection: {}", what)));
      }
      return;
    }
    case NGTCP2_ERR_CLOSING:
      return;
    case NGTCP2_ERR_DROP_CONN:
      set_closed(Error(Errc::ConnectionClosed, "connection dropped by the QUIC stack"));
      return;
    case NGTCP2_ERR_CALLBACK_FAILURE:
      if (pending_error_) {
        Error error = std::move(*pending_error_);
        pending_error_.reset();
        fail(std::move(error), false);
        return;
      }
      break;
    case NGTCP2_ERR_CRYPTO: {
      std::uint8_t alert = ngtcp2_conn_get_tls_alert(conn_);
      close_tls_alert_ = alert;
      std::string why = tls_session_ ? describe_verify_failure(tls_session_->get()) : "";
      if (is_server_) {
        fail(Error(Errc::ConnectFailed,
                   fmt::format("handshake with {} failed: {}{}", remote_.to_string(),
                               describe_tls_alert(alert), why.empty() ? "" : ": " + why)),
             false);
      } else {
        fail(Error(Errc::ConnectFailed, fmt::format("we refused the server at {} ({}): {}",
                                                    remote_.to_string(), client_tls_->server_name(),
                                                    why.empty() ? describe_tls_alert(alert) : why)),
             false);
      }
      return;
    }
    default:
      break;
  }
  close_liberr_ = rv;
  fail(Error(is_server_ || state_ != State::Handshaking ? Errc::ConnectionClosed
                                                        : Errc::ConnectFailed,
             fmt::format("QUIC error with {}: {}", remote_.to_string(), ngtcp2_strerror(rv))),
       false);
}

void Connection::fail(Error error, bool silent) {
  if (state_ == State::Closed) return;
  close_pending_ = !silent;
  set_closed(std::move(error));
}

void Connection::set_closed(Error error) {
  if (close_error_) return;
  state_ = State::Closed;
  close_error_ = std::move(error);
}

void Connection::dispatch_events() {
  // Streams that failed to read ask the peer to stop sending.
  for (auto& [id, stream] : streams_) {
    if (stream->stop_reading_ && state_ != State::Closed) {
      stream->stop_reading_ = false;
      ngtcp2_conn_shutdown_stream_read(conn_, id, app_error::kFrameTooLarge);
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
  std::erase_if(streams_, [](const auto& entry) {
    const Stream& s = *entry.second;
    return s.closed_ && s.frames_.empty() && s.end_observed_;
  });
}

std::uint64_t Connection::expiry() const noexcept {
  if (close_pending_) return 0;
  if (state_ == State::Closed) return UINT64_MAX;
  return ngtcp2_conn_get_expiry(conn_);
}

void Connection::handle_expiry(std::uint64_t now_ns) {
  if (state_ == State::Closed) return;
  int rv = ngtcp2_conn_handle_expiry(conn_, now_ns);
  if (rv == NGTCP2_ERR_IDLE_CLOSE) {
    set_closed(Error(Errc::ConnectionClosed,
                     fmt::format("idle timeout: nothing heard from {} for {} ms",
                                 remote_.to_string(), limits_.idle_timeout.count())));
  } else if (rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
    set_closed(Error(Errc::HandshakeTimeout,
                     fmt::format("no QUIC handshake with {} within {} ms", remote_.to_string(),
                                 limits_.handshake_timeout.count())));
  } else if (rv != 0) {
    close_liberr_ = rv;
    fail(Error(Errc::ConnectionClosed, fmt::format("QUIC timer error with {}: {}",
                                                   remote_.to_string(), ngtcp2_strerror(rv))),
         false);
  }
  dispatch_events();
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

void Connection::write_datagrams(std::uint64_t now_ns, DatagramBatch& batch,
                                 std::size_t max_datagrams) {
  const std::size_t max_payload = ngtcp2_conn_get_max_tx_udp_payload_size(conn_);
  ngtcp2_path_storage path_storage;
  ngtcp2_path_storage_zero(&path_storage);
  ngtcp2_pkt_info info{};

  // Appends the packet just written at `offset` to the batch's bursts.
  bool burst_open = false;
  auto add_packet = [&](std::size_t offset, std::size_t size) {
    batch.buffer.resize(offset + size);
    if (burst_open) {
      auto& burst = batch.bursts.back();
      if (size <= burst.segment_size && burst.length + size <= kMaxBurstBytes &&
          burst.length / burst.segment_size < kMaxBurstSegments) {
        burst.length += size;
        // A short datagram must be the last of its burst.
        if (size < burst.segment_size) burst_open = false;
        return;
      }
    }
    batch.bursts.push_back({remote_, offset, size, size});
    burst_open = true;
  };

  if (close_pending_) {
    close_pending_ = false;
    ngtcp2_connection_close_error close;
    ngtcp2_connection_close_error_default(&close);
    auto* reason = reinterpret_cast<const std::uint8_t*>(close_reason_.data());
    if (close_tls_alert_ != 0) {
      ngtcp2_connection_close_error_set_transport_error_tls_alert(&close, close_tls_alert_, nullptr,
                                                                  0);
    } else if (close_is_app_) {
      ngtcp2_connection_close_error_set_application_error(&close, close_app_code_, reason,
                                                          close_reason_.size());
    } else if (close_liberr_ != 0) {
      ngtcp2_connection_close_error_set_transport_error_liberr(&close, close_liberr_, nullptr, 0);
    }
    std::size_t offset = batch.buffer.size();
    batch.buffer.resize(offset + max_payload);
    auto n = ngtcp2_conn_write_connection_close(conn_, &path_storage.path, &info,
                                                batch.buffer.data() + offset, max_payload, &close,
                                                now_ns);
    if (n > 0) {
      add_packet(offset, static_cast<std::size_t>(n));
    } else {
      batch.buffer.resize(offset);
    }
    dispatch_events();  // tell the application (on_closed), now that it is outside ngtcp2
    return;
  }
  if (state_ == State::Closed) return;

  // Pacing: after the handshake, send no more than ngtcp2's send quantum at
  // once (pacing during the handshake stalls the second flight).
  if (handshake_completed_) {
    std::size_t quantum = ngtcp2_conn_get_send_quantum(conn_);
    max_datagrams = std::clamp<std::size_t>(quantum / max_payload, 1, max_datagrams);
  }

  std::array<ngtcp2_vec, kMaxVecs> vecs{};
  std::size_t written = 0;
  std::size_t offset = 0;    // where the current packet starts in batch.buffer
  bool packet_open = false;  // ngtcp2 asked for more frames for that packet
  while (written < max_datagrams) {
    // Next stream with something to send, round robin.
    Stream* stream = nullptr;
    while (!send_queue_.empty()) {
      if (send_cursor_ >= send_queue_.size()) send_cursor_ = 0;
      std::int64_t id = send_queue_[send_cursor_];
      Stream* candidate = find_stream(id);
      if (candidate != nullptr && candidate->has_unsent() && !candidate->reset_) {
        stream = candidate;
        break;
      }
      if (candidate != nullptr) candidate->in_send_queue_ = false;
      send_queue_.erase(send_queue_.begin() + static_cast<std::ptrdiff_t>(send_cursor_));
    }
    std::size_t vec_count = 0;
    bool fin = false;
    std::int64_t stream_id = -1;
    if (stream != nullptr) {
      vec_count = stream->unsent(vecs.data(), vecs.size(), fin);
      stream_id = stream->id();
    }
    std::uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
    if (fin) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;

    // After NGTCP2_ERR_WRITE_MORE the packet under construction is still in
    // the buffer and ngtcp2 goes on writing it: keep those bytes.
    const bool continuing_packet = std::exchange(packet_open, false);
    if (!continuing_packet) {
      offset = batch.buffer.size();
      batch.buffer.resize(offset + max_payload);
    }
    ngtcp2_ssize stream_bytes = -1;
    ngtcp2_ssize n = ngtcp2_conn_writev_stream(
        conn_, &path_storage.path, &info, batch.buffer.data() + offset, max_payload, &stream_bytes,
        flags, stream_id, vecs.data(), vec_count, now_ns);
    if (stream != nullptr && stream_bytes >= 0) {
      std::uint64_t offered = 0;
      for (std::size_t i = 0; i < vec_count; ++i) offered += vecs[i].len;
      stream->on_sent(static_cast<std::size_t>(stream_bytes),
                      fin && static_cast<std::uint64_t>(stream_bytes) == offered);
    }
    if (n == NGTCP2_ERR_WRITE_MORE) {
      // The packet has room for more: rotate to the next stream, if any.
      packet_open = true;
      ++send_cursor_;
      continue;
    }
    if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED || n == NGTCP2_ERR_STREAM_SHUT_WR ||
        n == NGTCP2_ERR_STREAM_NOT_FOUND) {
      // Flow-control blocked or gone: wait for extend_max_stream_data. A
      // packet under construction stays open for the next stream.
      packet_open = continuing_packet;
      if (!packet_open) batch.buffer.resize(offset);
      stream->in_send_queue_ = false;
      send_queue_.erase(send_queue_.begin() + static_cast<std::ptrdiff_t>(send_cursor_));
      continue;
    }
    if (n < 0) {
      batch.buffer.resize(offset);
      close_liberr_ = static_cast<int>(n);
      fail(Error(Errc::ConnectionClosed,
                 fmt::format("QUIC write error with {}: {}", remote_.to_string(),
                             ngtcp2_strerror(static_cast<int>(n)))),
           false);
      dispatch_events();
      return;
    }
    if (n == 0) {
      batch.buffer.resize(offset);
      break;  // congestion- or pacing-limited, or nothing left
    }
    add_packet(offset, static_cast<std::size_t>(n));
    ++written;
    if (stream != nullptr) ++send_cursor_;
  }
  if (handshake_completed_) ngtcp2_conn_update_pkt_tx_time(conn_, now_ns);
}

}  // namespace palyra::transport
