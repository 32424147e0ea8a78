#include "tls_context.hpp"

#include <fmt/format.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <array>
#include <cstring>
#include <ctime>
#include <span>
#include <vector>

#include "palyra/identity/ca_hash_check.hpp"
#include "palyra/identity/fingerprint.hpp"
#include "palyra/identity/revocation.hpp"

namespace palyra::transport {
namespace {

// TLS 1.3 only, AES-GCM first (an order of magnitude faster than ChaCha20
// here), no middlebox-compatibility mode (QUIC forbids it).
// The server's order wins (%SERVER_PRECEDENCE): clients such as rustls list
// AES-256-GCM/SHA-384 first, which costs more in every handshake and packet
// than AES-128-GCM/SHA-256 and buys nothing against a 128-bit key exchange.
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

struct LoadedFile {
  gnutls_datum_t datum{nullptr, 0};
  ~LoadedFile() { gnutls_free(datum.data); }
};

Status load_file(const std::filesystem::path& path, Errc code, std::string_view what,
                 LoadedFile& out) {
  int rv = gnutls_load_file(path.c_str(), &out.datum);
  if (rv < 0) {
    std::error_code ec;
    bool exists = std::filesystem::exists(path, ec);
    return Error(code, fmt::format("cannot read {} '{}': {}", what, path.string(),
                                   exists ? gnutls_strerror(rv) : "no such file"));
  }
  return {};
}

// Checks that a PEM file holds at least one certificate, so errors name the
// file and the problem instead of a generic credentials failure.
Status check_certificates(const std::filesystem::path& path, std::string_view what) {
  LoadedFile file;
  PALYRA_TRY(load_file(path, Errc::CertificateParsingFailed, what, file));
  gnutls_x509_crt_t* list = nullptr;
  unsigned count = 0;
  int rv = gnutls_x509_crt_list_import2(&list, &count, &file.datum, GNUTLS_X509_FMT_PEM, 0);
  if (rv < 0 || count == 0) {
    return Error(Errc::CertificateParsingFailed,
                 fmt::format("{} '{}' holds no valid PEM certificate: {}", what, path.string(),
                             rv < 0 ? gnutls_strerror(rv) : "empty"));
  }
  for (unsigned i = 0; i < count; ++i) gnutls_x509_crt_deinit(list[i]);
  gnutls_free(list);
  return {};
}

Status check_private_key(const std::filesystem::path& path) {
  LoadedFile file;
  PALYRA_TRY(load_file(path, Errc::PrivateKeyParsingFailed, "private key", file));
  gnutls_x509_privkey_t key = nullptr;
  gnutls_x509_privkey_init(&key);
  int rv = gnutls_x509_privkey_import2(key, &file.datum, GNUTLS_X509_FMT_PEM, nullptr, 0);
  gnutls_x509_privkey_deinit(key);
  if (rv < 0) {
    // Never echo the file's content: it is key material.
    return Error(Errc::PrivateKeyParsingFailed,
                 fmt::format("private key '{}' is not a valid PEM key: {}", path.string(),
                             gnutls_strerror(rv)));
  }
  return {};
}

Status set_key_pair(gnutls_certificate_credentials_t credentials, const std::filesystem::path& cert,
                    const std::filesystem::path& key, std::string_view what) {
  PALYRA_TRY(check_certificates(cert, what));
  PALYRA_TRY(check_private_key(key));
  int rv = gnutls_certificate_set_x509_key_file2(credentials, cert.c_str(), key.c_str(),
                                                 GNUTLS_X509_FMT_PEM, nullptr, 0);
  if (rv < 0) {
    return Error(Errc::TlsConfigurationFailed,
                 fmt::format("cannot use {} '{}' with key '{}': {}", what, cert.string(),
                             key.string(), gnutls_strerror(rv)));
  }
  return {};
}

Status set_trust(gnutls_certificate_credentials_t credentials, const std::filesystem::path& ca) {
  PALYRA_TRY(check_certificates(ca, "CA certificate"));
  int rv = gnutls_certificate_set_x509_trust_file(credentials, ca.c_str(), GNUTLS_X509_FMT_PEM);
  if (rv <= 0) {
    return Error(Errc::CertificateParsingFailed,
                 fmt::format("CA file '{}' gave no trust anchor: {}", ca.string(),
                             rv < 0 ? gnutls_strerror(rv) : "no certificates"));
  }
  return {};
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
  const auto* check = static_cast<const PeerCheck*>(gnutls_db_get_ptr(session));
  const auto* context = static_cast<const ServerTlsContext*>(check->context);
  if (context->serves_enrollment() && datum_equals(selected, kEnrollAlpn)) {
    gnutls_certificate_server_set_request(session, GNUTLS_CERT_IGNORE);
    return 0;
  }
  return GNUTLS_E_NO_APPLICATION_PROTOCOL;
}

// The certificate's subject CN; empty when it has none.
std::string common_name_of(gnutls_x509_crt_t certificate) {
  std::array<char, 256> cn{};
  std::size_t size = cn.size();
  if (gnutls_x509_crt_get_dn_by_oid(certificate, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn.data(),
                                    &size) != 0) {
    return {};
  }
  return std::string(cn.data(), size);
}

// The verified-chain cache's key for the chain the peer presented; empty
// (never found) when it presented none.
VerifiedChainCache::Key chain_key_of(gnutls_session_t session) {
  unsigned count = 0;
  const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
  if (chain == nullptr || count == 0) return {};
  std::vector<std::span<const unsigned char>> certificates;
  for (unsigned i = 0; i < count; ++i) certificates.emplace_back(chain[i].data, chain[i].size);
  return VerifiedChainCache::key_of(certificates);
}

// A chain is checked the same way on both sides: found in the context's
// cache of chains verified before (see verified_chain_cache.hpp), or
// verified by GnuTLS against the CA with `checks` (name, purpose), and its
// leaf must name `purpose_oid` in its extended key usage (GnuTLS accepts a
// leaf without any EKU for every purpose; PROTOCOL.md requires it). A
// refused chain leaves its status in the session's PeerCheck, for
// describe_verify_failure.
int check_peer_chain(gnutls_session_t session, VerifiedChainCache& cache,
                     const gnutls_typed_vdata_st* checks, unsigned check_count,
                     const char* purpose_oid) {
  auto* check = static_cast<PeerCheck*>(gnutls_db_get_ptr(session));
  check->chain_key = chain_key_of(session);  // kept for peer_identity_of
  const VerifiedChainCache::Key& key = check->chain_key;
  const std::time_t now = cache.now();
  if (cache.find(key, now)) return 0;
  unsigned status = 0;
  int rv = gnutls_certificate_verify_peers(session, const_cast<gnutls_typed_vdata_st*>(checks),
                                           check_count, &status);
  if (rv < 0 || status != 0) {
    check->status = status != 0 ? status : static_cast<unsigned>(GNUTLS_CERT_INVALID);
    return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
  }
  auto leaf = inspect_leaf(session, purpose_oid);
  if (!leaf.has_purpose) {
    check->status = static_cast<unsigned>(GNUTLS_CERT_INVALID) |
                    static_cast<unsigned>(GNUTLS_CERT_PURPOSE_MISMATCH);
    return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
  }
  cache.insert(key, leaf.not_before, leaf.not_after, std::move(leaf.common_name), now);
  return 0;
}

// Server: the client's chain to the gateway CA, its validity and EKU
// clientAuth. Revocation is checked once the handshake completes, where we
// can send the precise alert (certificate_revoked) instead of the generic
// bad_certificate.
int verify_client_certificate(gnutls_session_t session) {
  const auto* check = static_cast<const PeerCheck*>(gnutls_db_get_ptr(session));
  const auto* context = static_cast<const ServerTlsContext*>(check->context);
  gnutls_typed_vdata_st purpose{};
  purpose.type = GNUTLS_DT_KEY_PURPOSE_OID;
  purpose.data = reinterpret_cast<unsigned char*>(const_cast<char*>(GNUTLS_KP_TLS_WWW_CLIENT));
  return check_peer_chain(session, context->verified_chains(), &purpose, 1,
                          GNUTLS_KP_TLS_WWW_CLIENT);
}

// Client: the server's chain to the CA, its name (DNS or IP SAN), validity
// and EKU serverAuth. The pin is checked once the handshake completes.
int verify_server_certificate(gnutls_session_t session) {
  const auto* check = static_cast<const PeerCheck*>(gnutls_db_get_ptr(session));
  const auto* context = static_cast<const ClientTlsContext*>(check->context);
  return check_peer_chain(session, context->verified_chains(), context->verify_data(),
                          ClientTlsContext::kVerifyDataCount, GNUTLS_KP_TLS_WWW_SERVER);
}

// Enrollment client (PROTOCOL.md §7): the node has no CA yet, only the
// token's hash of it; identity::verify_chain_against_ca_hash decides, inside
// the handshake, so a rogue daemon never receives the token's secret.
int verify_server_by_ca_hash(gnutls_session_t session) {
  auto* check = static_cast<PeerCheck*>(gnutls_db_get_ptr(session));
  const auto* context = static_cast<const ClientTlsContext*>(check->context);
  unsigned count = 0;
  const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
  std::vector<std::string_view> chain_der;
  for (unsigned i = 0; chain != nullptr && i < count; ++i) {
    chain_der.emplace_back(reinterpret_cast<const char*>(chain[i].data), chain[i].size);
  }
  Status checked = identity::verify_chain_against_ca_hash(chain_der, *context->ca_spki_sha256(),
                                                          context->server_name());
  if (checked) return 0;
  check->status = static_cast<unsigned>(GNUTLS_CERT_INVALID);
  check->refusal = checked.error().message();
  return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
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
  return TlsSession(*session, std::make_unique<PeerCheck>(PeerCheck{this}));
}

bool ServerTlsContext::is_revoked(const std::string& fingerprint) const noexcept {
  return config_.revocation != nullptr && config_.revocation->is_revoked(fingerprint);
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
  return TlsSession(*session, std::make_unique<PeerCheck>(PeerCheck{this}));
}

// ---- Peer inspection ----

Result<PeerIdentity> peer_identity_of(gnutls_session_t session,
                                      const VerifiedChainCache* verified) {
  unsigned count = 0;
  const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
  if (chain == nullptr || count == 0) {
    return Error(Errc::EmptyPeerCertificateChain, "the peer presented no certificate");
  }
  PeerIdentity identity;
  identity.fingerprint =
      identity::sha256_fingerprint(std::span<const unsigned char>(chain[0].data, chain[0].size));
  std::optional<std::string> cached;
  if (verified != nullptr) {
    // The verify function hashed the chain already; a session it did not
    // run on (no client certificate requested) has no key and parses.
    const auto* check = static_cast<const PeerCheck*>(gnutls_db_get_ptr(session));
    cached = verified->find(check->chain_key, verified->now());
  }
  if (cached) {
    identity.common_name = std::move(*cached);
  } else {
    gnutls_x509_crt_t leaf = nullptr;
    gnutls_x509_crt_init(&leaf);
    if (gnutls_x509_crt_import(leaf, &chain[0], GNUTLS_X509_FMT_DER) == 0) {
      identity.common_name = common_name_of(leaf);
    }
    gnutls_x509_crt_deinit(leaf);
  }
  constexpr std::string_view kDevicePrefix = "Palyra Device ";
  if (identity.common_name.starts_with(kDevicePrefix)) {
    identity.device_id = identity.common_name.substr(kDevicePrefix.size());
  }
  return identity;
}

LeafFacts inspect_leaf(gnutls_session_t session, const char* purpose_oid) {
  LeafFacts facts;
  unsigned count = 0;
  const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
  if (chain == nullptr || count == 0) return facts;
  gnutls_x509_crt_t leaf = nullptr;
  gnutls_x509_crt_init(&leaf);
  if (gnutls_x509_crt_import(leaf, &chain[0], GNUTLS_X509_FMT_DER) == 0) {
    for (unsigned i = 0; !facts.has_purpose; ++i) {
      std::array<char, 128> oid{};
      std::size_t size = oid.size();
      if (gnutls_x509_crt_get_key_purpose_oid(leaf, i, oid.data(), &size, nullptr) < 0) break;
      facts.has_purpose = std::strcmp(oid.data(), purpose_oid) == 0;
    }
    facts.common_name = common_name_of(leaf);
    facts.not_before = gnutls_x509_crt_get_activation_time(leaf);
    facts.not_after = gnutls_x509_crt_get_expiration_time(leaf);
  }
  gnutls_x509_crt_deinit(leaf);
  return facts;
}

std::string negotiated_alpn(gnutls_session_t session) {
  gnutls_datum_t selected{};
  if (gnutls_alpn_get_selected_protocol(session, &selected) != 0) return {};
  return std::string(reinterpret_cast<const char*>(selected.data), selected.size);
}

std::string describe_verify_failure(gnutls_session_t session) {
  const auto* check = static_cast<const PeerCheck*>(gnutls_db_get_ptr(session));
  const unsigned status = check != nullptr ? check->status : 0;
  if (status == 0) return {};
  if (!check->refusal.empty()) return check->refusal;
  gnutls_datum_t text{};
  if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) != 0) {
    return fmt::format("verification status 0x{:x}", status);
  }
  std::string out(reinterpret_cast<const char*>(text.data), text.size);
  gnutls_free(text.data);
  return out;
}

std::string describe_tls_alert(std::uint8_t alert) {
  // GnuTLS names it GNUTLS_A_CERTIFICATE_REVOKED; RFC 8446 says certificate_revoked.
  const char* raw = gnutls_alert_get_strname(static_cast<gnutls_alert_description_t>(alert));
  std::string name = raw != nullptr ? raw : "unknown";
  if (name.starts_with("GNUTLS_A_")) name = name.substr(9);
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return fmt::format("TLS alert {} (0x{:x})", name, 0x100 + static_cast<unsigned>(alert));
}

}  // namespace palyra::transport
