// What a Connection does when ngtcp2 reports an event: the C callbacks
// ngtcp2 calls, and the Connection's bodies for them. They run inside
// ngtcp2, so they record (state, pending events, a pending ending) and never
// call out to the application; dispatch_events() does, once ngtcp2 returned.
#include "connection_callbacks.hpp"

#include <fmt/format.h>

#include "connection_errors.hpp"
#include "incomplete_frames.hpp"
#include "palyra/transport/connection.hpp"
#include "peer_admission.hpp"
#include "peer_verification.hpp"
#include "quic_random.hpp"
#include "tls_context.hpp"

namespace palyra::transport {

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
    self(user_data).make_connection_id(cid->data, length);
    cid->datalen = length;
    self(user_data).make_stateless_reset_token(cid->data, cid->datalen, token);
    self(user_data).on_new_connection_id(cid->data, cid->datalen);
    return 0;
  }
  // ngtcp2 checked the token; its read then returns NGTCP2_ERR_DRAINING.
  static int recv_stateless_reset(ngtcp2_conn*, const ngtcp2_pkt_stateless_reset*,
                                  void* user_data) {
    self(user_data).stateless_reset_received_ = true;
    return 0;
  }
  static int recv_new_token(ngtcp2_conn*, const ngtcp2_vec* token, void* user_data) {
    self(user_data).on_new_token(token->base, token->len);
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
      c.pending_ending_ =
          ConnectionEnding{Error(Errc::ConnectionClosed,
                                 fmt::format("{} sent {} bytes of TLS data after the handshake",
                                             c.remote_.to_string(), length)),
                           true,
                           {}};
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
  static int stream_open(ngtcp2_conn*, std::int64_t id, void* user_data) {
    return self(user_data).on_stream_open(id);
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
      cb.recv_new_token = recv_new_token;
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
    cb.recv_stateless_reset = recv_stateless_reset;
    cb.handshake_completed = handshake_completed;
    cb.stream_open = stream_open;
    cb.recv_stream_data = recv_stream_data;
    cb.stream_reset = stream_reset;
    cb.stream_close = stream_close;
    cb.acked_stream_data_offset = acked_stream_data_offset;
    cb.extend_max_stream_data = extend_max_stream_data;
    return cb;
  }
};

ngtcp2_callbacks connection_callbacks(bool is_server) {
  return ConnectionCallbacks::make(is_server);
}

ngtcp2_conn* connection_of(ngtcp2_crypto_conn_ref* ref) {
  return ConnectionCallbacks::get_conn(ref);
}

// ---------------------------------------------------------------------------
// The Connection's bodies (run inside ngtcp2: record, don't call out)

int Connection::on_handshake_completed() {
  handshake_completed_ = true;
  alpn_ = negotiated_alpn(tls_session_->get());
  Admission admission;
  if (is_server_) {
    // Our verify function has checked the chain and EKU clientAuth (when a
    // certificate was asked for); revocation is checked here, where the
    // precise alert (certificate_revoked) can be sent.
    const ClientPolicy policy{server_tls_->require_client_auth(), server_tls_->revocation()};
    admission =
        admit_client(policy, alpn_ == kEnrollAlpn,
                     peer_identity_of(tls_session_->get(), &server_tls_->verified_chains()));
  } else {
    // Our verify function has checked chain, name and EKU serverAuth; the
    // pin is checked here, on every handshake.
    admission = admit_server(
        client_tls_->pin(), peer_identity_of(tls_session_->get(), &client_tls_->verified_chains()));
  }
  if (!admission.admitted()) {
    CloseReason close;
    close.tls_alert = admission.tls_alert;
    pending_ending_ = ConnectionEnding{std::move(*admission.refusal), true, std::move(close)};
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  peer_ = std::move(admission.peer);
  // A server's checks are done. A TLS 1.3 client completes before the
  // server has checked its certificate: it waits for confirmation.
  if (is_server_) {
    state_ = State::Established;
    established_pending_ = true;
  }
  return 0;
}

int Connection::on_handshake_confirmed() {
  // Only HANDSHAKE_DONE (confirmation) means the server accepted us.
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
  if (stream->read_error()) {
    // Reading stopped while ngtcp2 still delivers (the STOP_SENDING goes out
    // once it returns): the bytes are dropped and their credit given back.
    ngtcp2_conn_extend_max_offset(conn_, data.size());
  }
  const std::size_t completed =
      stream->on_data(stream_key(), data, (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
  track_request_frames(*stream, completed);
  note_stream_readable(*stream);
  return 0;
}

int Connection::on_stream_reset(std::int64_t id, std::uint64_t app_error_code) {
  if (Stream* stream = find_stream(id)) {
    stream->on_reset(stream_key(), app_error_code);
    release_incomplete_frame(*stream);
    note_stream_readable(*stream);
  } else if (incomplete_frames_) {
    incomplete_frames_->forget(id);
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
  if (incomplete_frames_) incomplete_frames_->forget(id);
  if (Stream* stream = find_stream(id)) {
    stream->on_closed(stream_key());
    release_incomplete_frame(*stream);
    note_stream_readable(*stream);
  }
  return 0;
}

int Connection::on_acked(std::int64_t id, std::uint64_t offset, std::uint64_t length) {
  if (Stream* stream = find_stream(id)) {
    if (stream->on_acked(stream_key(), offset, length)) note_stream_writable(*stream);
  }
  return 0;
}

}  // namespace palyra::transport
