// GnuTLS adapter: credentials built once per endpoint, a session per
// connection, and the checks PROTOCOL.md §2 requires in the handshake. The
// only file besides connection.cpp that includes GnuTLS headers.
#pragma once

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "palyra/common/result.hpp"
#include "palyra/transport/connection.hpp"
#include "palyra/transport/tls_config.hpp"
#include "verified_chain_cache.hpp"

namespace palyra::transport {

// What a session's verify function works with and leaves behind. GnuTLS
// hands verify functions only the session; its user pointer belongs to
// ngtcp2, and the session-database pointer (free: we never resume) points
// here.
struct PeerCheck {
  const void* context = nullptr;      // the ServerTlsContext or ClientTlsContext
  unsigned status = 0;                // gnutls_certificate_status_t bits of a refused chain
  std::string refusal;                // why a chain was refused, when the status bits cannot say
  VerifiedChainCache::Key chain_key;  // the presented chain's, once the verify function ran
};

// Owns a gnutls_session_t (ngtcp2 borrows it as the connection's native
// handle) and the PeerCheck its verify function uses.
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

class ServerTlsContext {
 public:
  // CertificateParsingFailed / PrivateKeyParsingFailed with the path;
  // TlsConfigurationFailed when the key does not match the certificate.
  static Result<std::shared_ptr<const ServerTlsContext>> create(const ServerTlsConfig& config);
  ~ServerTlsContext();

  Result<TlsSession> new_session(ngtcp2_crypto_conn_ref* conn_ref) const;
  bool require_client_auth() const noexcept { return config_.require_client_auth; }
  bool serves_enrollment() const noexcept { return config_.serve_enrollment; }
  // True when the fingerprint is in the revocation index (if any).
  bool is_revoked(const std::string& fingerprint) const noexcept;
  // Client chains already verified (internally synchronized).
  VerifiedChainCache& verified_chains() const noexcept { return verified_chains_; }

 private:
  explicit ServerTlsContext(ServerTlsConfig config) : config_(std::move(config)) {}
  ServerTlsConfig config_;
  gnutls_certificate_credentials_t credentials_ = nullptr;
  mutable VerifiedChainCache verified_chains_{config_.clock};
};

class ClientTlsContext {
 public:
  // ClientIdentityIncomplete, InvalidServerName, TlsConfigurationFailed (empty
  // pin), CertificateParsingFailed, PrivateKeyParsingFailed.
  static Result<std::shared_ptr<const ClientTlsContext>> create(const ClientTlsConfig& config);
  ~ClientTlsContext();

  Result<TlsSession> new_session(ngtcp2_crypto_conn_ref* conn_ref) const;
  // The normalized pin (lowercase hex), if one is configured.
  const std::optional<std::string>& pin() const noexcept { return pin_; }
  // Enrollment: the SPKI SHA-256 the server's CA must have (normalized).
  const std::optional<std::string>& ca_spki_sha256() const noexcept { return ca_spki_sha256_; }
  const std::string& server_name() const noexcept { return config_.server_name; }
  // Server chains already verified for this server name and CA (internally
  // synchronized): a client reconnecting with this context skips them.
  VerifiedChainCache& verified_chains() const noexcept { return verified_chains_; }
  // Name (DNS or IP) and purpose (serverAuth) a server chain is checked for.
  const gnutls_typed_vdata_st* verify_data() const noexcept { return verify_data_; }
  static constexpr unsigned kVerifyDataCount = 2;

 private:
  explicit ClientTlsContext(ClientTlsConfig config) : config_(std::move(config)) {}
  ClientTlsConfig config_;
  std::optional<std::string> pin_;
  std::optional<std::string> ca_spki_sha256_;
  gnutls_certificate_credentials_t credentials_ = nullptr;
  // Built once, with the context every session holds.
  gnutls_typed_vdata_st verify_data_[kVerifyDataCount] = {};
  mutable VerifiedChainCache verified_chains_{config_.clock};
};

// The peer's leaf certificate as the handshake presented it.
// EmptyPeerCertificateChain when it sent none. With the context's
// verified-chain cache, a chain found there gives the common name without
// parsing the certificate again.
Result<PeerIdentity> peer_identity_of(gnutls_session_t session,
                                      const VerifiedChainCache* verified = nullptr);

// The peer's leaf: whether it names `purpose_oid` in its extended key usage
// (GnuTLS treats a certificate without any EKU as fit for every purpose; the
// protocol requires the EKU to be present), its validity period and its
// common name.
struct LeafFacts {
  bool has_purpose = false;
  std::string common_name;
  std::time_t not_before = 0;
  std::time_t not_after = 0;
};
LeafFacts inspect_leaf(gnutls_session_t session, const char* purpose_oid);

// The ALPN protocol the handshake settled on; empty before it has.
std::string negotiated_alpn(gnutls_session_t session);

// Why our verify function refused the peer's chain, in words ("The
// certificate has expired. ..."); empty when it did not.
std::string describe_verify_failure(gnutls_session_t session);

// "certificate_revoked (0x12c)" for a TLS alert carried in a QUIC CRYPTO_ERROR.
std::string describe_tls_alert(std::uint8_t alert);

}  // namespace palyra::transport
