// The TLS contexts of a server and a client: see tls_context.hpp.
#include "tls_context.hpp"

#include <fmt/format.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <cstring>

#include "palyra/identity/fingerprint.hpp"
#include "peer_admission.hpp"
#include "peer_verification.hpp"
#include "tls_credentials.hpp"

namespace palyra::transport {
namespace {

// TLS 1.3 only, AES-GCM first (an order of magnitude faster than ChaCha20
// here), no middlebox-compatibility mode (QUIC forbids it).
// The server's order wins (%SERVER_PRECEDENCE): clients such as rustls list
// AES-256-GCM/SHA-384 first, which costs more in every handshake and packet
// than AES-128-GCM/SHA-256 and buys nothing against a 128-bit key exchange.
// NORMAL's signature algorithms include ecdsa_secp256r1_sha256 and ed25519,
// the two key types of PROTOCOL.md §2, for either side's CertificateVerify.
constexpr const char* kPriority =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"
    "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:%DISABLE_TLS13_COMPAT_MODE:"
    "%SERVER_PRECEDENCE";

// Parsed once per process: gnutls_priority_set_direct parses the string again
// for every session, a visible share of a handshake in profiles.
Result<gnutls_priority_t> shared_priority() {
  static gnutls_priority_t priority = nullptr;
  static const int rv = gnutls_priority_init(&priority, kPriority, nullptr);
  if (rv != 0) {
    return Error(Errc::TlsConfigurationFailed,
                 fmt::format("gnutls_priority_init: {}", gnutls_strerror(rv)));
  }
  return priority;
}

gnutls_datum_t datum_of(const char* text) {
  return {reinterpret_cast<unsigned char*>(const_cast<char*>(text)),
          static_cast<unsigned>(std::strlen(text))};
}

// What a server offers: the node protocol, then (when it serves
// enrollment) the enrollment protocol.
const gnutls_datum_t kServerAlpns[] = {datum_of(kAlpn), datum_of(kEnrollAlpn)};

bool datum_equals(const gnutls_datum_t& datum, const char* text) {
  return datum.size == std::strlen(text) && std::memcmp(datum.data, text, datum.size) == 0;
}

// Refuses a ClientHello whose ALPN list lacks ours. GnuTLS alone accepts a
// ClientHello with no ALPN extension at all, even with GNUTLS_ALPN_MANDATORY.
// A client that chose enrollment is not asked for a certificate: it has
// none yet (PROTOCOL.md §7). The CertificateRequest is written after this
// hook, so changing the request here takes effect in this handshake.
int require_alpn_hook(gnutls_session_t session, unsigned, unsigned, unsigned,
                      const gnutls_datum_t*) {
  gnutls_datum_t selected{};
  if (gnutls_alpn_get_selected_protocol(session, &selected) != 0) {
    return GNUTLS_E_NO_APPLICATION_PROTOCOL;
  }
  if (datum_equals(selected, kAlpn)) return 0;
  if (peer_check_of(session).server->serves_enrollment() && datum_equals(selected, kEnrollAlpn)) {
    gnutls_certificate_server_set_request(session, GNUTLS_CERT_IGNORE);
    return 0;
  }
  return GNUTLS_E_NO_APPLICATION_PROTOCOL;
}

Result<gnutls_session_t> init_session(unsigned flags, ngtcp2_crypto_conn_ref* conn_ref,
                                      gnutls_certificate_credentials_t credentials, bool is_server,
                                      const gnutls_datum_t* alpns, unsigned alpn_count) {
  gnutls_session_t session = nullptr;
  int rv = gnutls_init(&session, flags);
  if (rv != 0) {
    return Error(Errc::TlsConfigurationFailed, fmt::format("gnutls_init: {}", gnutls_strerror(rv)));
  }
  auto fail = [&](std::string_view step, int code) -> Error {
    gnutls_deinit(session);
    return Error(Errc::TlsConfigurationFailed, fmt::format("{}: {}", step, gnutls_strerror(code)));
  };
  auto priority = shared_priority();
  if (!priority) {
    gnutls_deinit(session);
    return std::move(priority).error();
  }
  if ((rv = gnutls_priority_set(session, *priority)) != 0) return fail("gnutls_priority_set", rv);
  rv = is_server ? ngtcp2_crypto_gnutls_configure_server_session(session)
                 : ngtcp2_crypto_gnutls_configure_client_session(session);
  if (rv != 0) return fail("configuring the QUIC TLS session", GNUTLS_E_INTERNAL_ERROR);
  gnutls_session_set_ptr(session, conn_ref);
  if ((rv = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, credentials)) != 0) {
    return fail("gnutls_credentials_set", rv);
  }
  // No protocols: no ALPN extension at all (a test client's; servers refuse it).
  if (alpn_count > 0 &&
      (rv = gnutls_alpn_set_protocols(session, alpns, alpn_count, GNUTLS_ALPN_MANDATORY)) != 0) {
    return fail("gnutls_alpn_set_protocols", rv);
  }
  return session;
}

bool is_valid_server_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == ':' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool is_ip_literal(const std::string& name) {
  return name.find(':') != std::string::npos ||
         name.find_first_not_of("0123456789.") == std::string::npos;
}

}  // namespace

// ---- Server ----

Result<std::shared_ptr<const ServerTlsContext>> ServerTlsContext::create(
    const ServerTlsConfig& config) {
  std::shared_ptr<ServerTlsContext> context(new ServerTlsContext(config));
  int rv = gnutls_certificate_allocate_credentials(&context->credentials_);
  if (rv != 0) {
    return Error(Errc::TlsConfigurationFailed,
                 fmt::format("allocating server credentials: {}", gnutls_strerror(rv)));
  }
  PALYRA_TRY(set_key_pair(context->credentials_, config.cert_chain_file, config.key_file,
                          "server certificate"));
  if (config.require_client_auth) {
    if (config.ca_file.empty()) {
      return Error(Errc::TlsConfigurationFailed,
                   "mutual TLS needs the CA that client certificates chain to");
    }
    PALYRA_TRY(set_trust(context->credentials_, config.ca_file));
  }
  return std::shared_ptr<const ServerTlsContext>(std::move(context));
}

ServerTlsContext::~ServerTlsContext() {
  if (credentials_ != nullptr) gnutls_certificate_free_credentials(credentials_);
}

Result<TlsSession> ServerTlsContext::new_session(ngtcp2_crypto_conn_ref* conn_ref) const {
  // No tickets: a resumed handshake would skip the revocation check.
  auto session =
      init_session(GNUTLS_SERVER | GNUTLS_NO_TICKETS | GNUTLS_NO_END_OF_EARLY_DATA, conn_ref,
                   credentials_, true, kServerAlpns, config_.serve_enrollment ? 2u : 1u);
  if (!session) return std::move(session).error();
  gnutls_handshake_set_hook_function(*session, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_POST,
                                     require_alpn_hook);
  if (config_.require_client_auth) {
    gnutls_certificate_server_set_request(*session, GNUTLS_CERT_REQUIRE);
    gnutls_session_set_verify_function(*session, verify_client_certificate);
  } else {
    gnutls_certificate_server_set_request(*session, GNUTLS_CERT_IGNORE);
  }
  auto check = std::make_unique<PeerCheck>();
  check->server = this;
  return TlsSession(*session, std::move(check));
}

bool ServerTlsContext::is_revoked(const std::string& fingerprint) const noexcept {
  return transport::is_revoked(config_.revocation.get(), fingerprint);
}

// ---- Client ----

Result<std::shared_ptr<const ClientTlsContext>> ClientTlsContext::create(
    const ClientTlsConfig& config) {
  if (config.cert_file.has_value() != config.key_file.has_value()) {
    return Error(Errc::ClientIdentityIncomplete,
                 config.cert_file ? fmt::format("certificate '{}' given without its private key",
                                                config.cert_file->string())
                                  : fmt::format("private key '{}' given without its certificate",
                                                config.key_file->string()));
  }
  if (!is_valid_server_name(config.server_name)) {
    return Error(Errc::InvalidServerName,
                 fmt::format("'{}' is not a valid server name", config.server_name));
  }
  std::shared_ptr<ClientTlsContext> context(new ClientTlsContext(config));
  context->verify_data_[0].type = GNUTLS_DT_DNS_HOSTNAME;
  context->verify_data_[0].data =
      reinterpret_cast<unsigned char*>(const_cast<char*>(context->config_.server_name.c_str()));
  context->verify_data_[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
  context->verify_data_[1].data =
      reinterpret_cast<unsigned char*>(const_cast<char*>(GNUTLS_KP_TLS_WWW_SERVER));
  if (config.pinned_sha256) {
    auto pin = identity::normalize_fingerprint(*config.pinned_sha256);
    if (!pin) {
      return Error(Errc::TlsConfigurationFailed,
                   fmt::format("invalid server pin: {}", pin.error().message()));
    }
    context->pin_ = *pin;
  }
  if (config.ca_spki_sha256) {
    auto hash = identity::normalize_fingerprint(*config.ca_spki_sha256);
    if (!hash) {
      return Error(Errc::TlsConfigurationFailed,
                   fmt::format("invalid CA hash: {}", hash.error().message()));
    }
    context->ca_spki_sha256_ = *hash;
  }
  int rv = gnutls_certificate_allocate_credentials(&context->credentials_);
  if (rv != 0) {
    return Error(Errc::TlsConfigurationFailed,
                 fmt::format("allocating client credentials: {}", gnutls_strerror(rv)));
  }
  // An enrolling client has no CA file: the token's hash is its trust.
  if (!context->ca_spki_sha256_) PALYRA_TRY(set_trust(context->credentials_, config.ca_file));
  if (config.cert_file) {
    PALYRA_TRY(set_key_pair(context->credentials_, *config.cert_file, *config.key_file,
                            "client certificate"));
  }
  return std::shared_ptr<const ClientTlsContext>(std::move(context));
}

ClientTlsContext::~ClientTlsContext() {
  if (credentials_ != nullptr) gnutls_certificate_free_credentials(credentials_);
}

Result<TlsSession> ClientTlsContext::new_session(ngtcp2_crypto_conn_ref* conn_ref) const {
  const gnutls_datum_t alpn{
      reinterpret_cast<unsigned char*>(const_cast<char*>(config_.alpn.data())),
      static_cast<unsigned>(config_.alpn.size())};
  // One key share (X25519, our first group), not GnuTLS's default two
  // (X25519 and P-256): a P-256 key generated per handshake and thrown away
  // was ~7 % of a client's handshake CPU. A server that wants P-256 still
  // gets it, after one HelloRetryRequest.
  constexpr unsigned kFlags =
      GNUTLS_CLIENT | GNUTLS_NO_TICKETS | GNUTLS_NO_END_OF_EARLY_DATA | GNUTLS_KEY_SHARE_TOP;
  auto session =
      init_session(kFlags, conn_ref, credentials_, false, &alpn, config_.alpn.empty() ? 0u : 1u);
  if (!session) return std::move(session).error();
  const std::string& name = config_.server_name;
  if (!is_ip_literal(name)) {
    gnutls_server_name_set(*session, GNUTLS_NAME_DNS, name.data(), name.size());
  }
  gnutls_session_set_verify_function(
      *session, ca_spki_sha256_ ? verify_server_by_ca_hash : verify_server_certificate);
  auto check = std::make_unique<PeerCheck>();
  check->client = this;
  return TlsSession(*session, std::move(check));
}

}  // namespace palyra::transport
