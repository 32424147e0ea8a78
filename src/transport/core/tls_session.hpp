// One connection's GnuTLS session and the state our handshake hooks keep for
// it (PeerCheck), reached from a bare gnutls_session_t through one typed
// accessor. GnuTLS hands its callbacks only the session; the session's user
// pointer belongs to ngtcp2, and the session-database pointer (free: we
// never resume) points at the PeerCheck.
#pragma once

#include <gnutls/gnutls.h>

#include <memory>
#include <string>

#include "verified_chain_cache.hpp"

namespace palyra::transport {

class ServerTlsContext;
class ClientTlsContext;

// What a session's verify function works with and leaves behind.
struct PeerCheck {
  // The context that made the session: exactly one is set.
  const ServerTlsContext* server = nullptr;
  const ClientTlsContext* client = nullptr;
  unsigned status = 0;                // gnutls_certificate_status_t bits of a refused chain
  std::string refusal;                // why a chain was refused, when the status bits cannot say
  VerifiedChainCache::Key chain_key;  // the presented chain's, once the verify function ran
};

// Owns a gnutls_session_t (ngtcp2 borrows it as the connection's native
// handle) and the PeerCheck its hooks use.
class TlsSession {
 public:
  TlsSession(gnutls_session_t session, std::unique_ptr<PeerCheck> check) noexcept
      : check_(std::move(check)), session_(session) {
    gnutls_db_set_ptr(session_, check_.get());
  }
  TlsSession(TlsSession&& other) noexcept
      : check_(std::move(other.check_)), session_(other.session_) {
    other.session_ = nullptr;
  }
  TlsSession& operator=(TlsSession&&) = delete;
  ~TlsSession() {
    if (session_ != nullptr) gnutls_deinit(session_);
  }
  gnutls_session_t get() const noexcept { return session_; }

 private:
  std::unique_ptr<PeerCheck> check_;  // declared first: outlives the session using it
  gnutls_session_t session_;
};

// The PeerCheck of a session a TlsSession owns (every session we make).
inline PeerCheck& peer_check_of(gnutls_session_t session) noexcept {
  return *static_cast<PeerCheck*>(gnutls_db_get_ptr(session));
}

// The ALPN protocol the handshake settled on; empty before it has.
inline std::string negotiated_alpn(gnutls_session_t session) {
  gnutls_datum_t selected{};
  if (gnutls_alpn_get_selected_protocol(session, &selected) != 0) return {};
  return std::string(reinterpret_cast<const char*>(selected.data), selected.size);
}

}  // namespace palyra::transport
