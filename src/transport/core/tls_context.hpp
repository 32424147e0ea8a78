// The TLS contexts of a server and a client: GnuTLS credentials and
// settings built once per endpoint, and a configured session per
// connection, with the verify function PROTOCOL.md §2 requires (see
// peer_verification.hpp) and, on a server, the ALPN rule.
#pragma once

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <memory>
#include <optional>
#include <string>

#include "palyra/common/result.hpp"
#include "palyra/transport/tls_config.hpp"
#include "tls_session.hpp"
#include "verified_chain_cache.hpp"

namespace palyra::transport {

class ServerTlsContext {
 public:
  // CertificateParsingFailed / PrivateKeyParsingFailed with the path;
  // TlsConfigurationFailed when the key does not match the certificate.
  static Result<std::shared_ptr<const ServerTlsContext>> create(const ServerTlsConfig& config);
  ~ServerTlsContext();

  Result<TlsSession> new_session(ngtcp2_crypto_conn_ref* conn_ref) const;
  bool require_client_auth() const noexcept { return config_.require_client_auth; }
  bool serves_enrollment() const noexcept { return config_.serve_enrollment; }
  // The revocation index checked in every handshake; none: nothing is revoked.
  const identity::RevocationIndex* revocation() const noexcept { return config_.revocation.get(); }
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

}  // namespace palyra::transport
