// Verification of the peer's certificate chain, and who the peer is: see
// peer_verification.hpp.
#include "peer_verification.hpp"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "palyra/identity/ca_hash_check.hpp"
#include "palyra/identity/fingerprint.hpp"
#include "tls_context.hpp"

namespace palyra::transport {
namespace {

// The chain the peer presented in the session's handshake (leaf first).
std::span<const gnutls_datum_t> peer_chain(gnutls_session_t session) {
  unsigned count = 0;
  const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
  if (chain == nullptr) return {};
  return {chain, count};
}

// The handshake's own verification: the session knows the chain, the trusted
// CA (its credentials) and whether an OCSP response was stapled.
class SessionChainVerifier final : public ChainVerifier {
 public:
  explicit SessionChainVerifier(gnutls_session_t session) : session_(session) {}
  int verify(std::span<const gnutls_datum_t>, const gnutls_typed_vdata_st* checks,
             unsigned check_count, unsigned* status) const override {
    return gnutls_certificate_verify_peers(session_, const_cast<gnutls_typed_vdata_st*>(checks),
                                           check_count, status);
  }

 private:
  gnutls_session_t session_;
};

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

// The verified-chain cache's key for a chain; empty (never found) when the
// peer presented none.
VerifiedChainCache::Key chain_key_of(std::span<const gnutls_datum_t> chain) {
  if (chain.empty()) return {};
  std::vector<std::span<const unsigned char>> certificates;
  for (const auto& certificate : chain)
    certificates.emplace_back(certificate.data, certificate.size);
  return VerifiedChainCache::key_of(certificates);
}

}  // namespace

int check_peer_chain(std::span<const gnutls_datum_t> chain, const ChainVerifier& verifier,
                     VerifiedChainCache& cache, const gnutls_typed_vdata_st* checks,
                     unsigned check_count, const char* purpose_oid, PeerCheck& check) {
  check.chain_key = chain_key_of(chain);  // kept for peer_identity_of
  const VerifiedChainCache::Key& key = check.chain_key;
  const std::time_t now = cache.now();
  if (cache.find(key, now)) return 0;
  unsigned status = 0;
  int rv = verifier.verify(chain, checks, check_count, &status);
  if (rv < 0 || status != 0) {
    check.status = status != 0 ? status : static_cast<unsigned>(GNUTLS_CERT_INVALID);
    return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
  }
  auto leaf = inspect_leaf(chain, purpose_oid);
  if (!leaf.has_purpose) {
    check.status = static_cast<unsigned>(GNUTLS_CERT_INVALID) |
                   static_cast<unsigned>(GNUTLS_CERT_PURPOSE_MISMATCH);
    return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
  }
  cache.insert(key, leaf.not_before, leaf.not_after, std::move(leaf.common_name), now);
  return 0;
}

int verify_client_certificate(gnutls_session_t session) {
  PeerCheck& check = peer_check_of(session);
  gnutls_typed_vdata_st purpose{};
  purpose.type = GNUTLS_DT_KEY_PURPOSE_OID;
  purpose.data = reinterpret_cast<unsigned char*>(const_cast<char*>(GNUTLS_KP_TLS_WWW_CLIENT));
  return check_peer_chain(peer_chain(session), SessionChainVerifier(session),
                          check.server->verified_chains(), &purpose, 1, GNUTLS_KP_TLS_WWW_CLIENT,
                          check);
}

int verify_server_certificate(gnutls_session_t session) {
  PeerCheck& check = peer_check_of(session);
  const ClientTlsContext& context = *check.client;
  return check_peer_chain(peer_chain(session), SessionChainVerifier(session),
                          context.verified_chains(), context.verify_data(),
                          ClientTlsContext::kVerifyDataCount, GNUTLS_KP_TLS_WWW_SERVER, check);
}

// identity::verify_chain_against_ca_hash decides, inside the handshake, so a
// rogue daemon never receives the token's secret.
int verify_server_by_ca_hash(gnutls_session_t session) {
  PeerCheck& check = peer_check_of(session);
  const ClientTlsContext& context = *check.client;
  std::vector<std::string_view> chain_der;
  for (const auto& certificate : peer_chain(session)) {
    chain_der.emplace_back(reinterpret_cast<const char*>(certificate.data), certificate.size);
  }
  Status checked = identity::verify_chain_against_ca_hash(chain_der, *context.ca_spki_sha256(),
                                                          context.server_name());
  if (checked) return 0;
  check.status = static_cast<unsigned>(GNUTLS_CERT_INVALID);
  check.refusal = checked.error().message();
  return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
}

LeafFacts inspect_leaf(std::span<const gnutls_datum_t> chain, const char* purpose_oid) {
  LeafFacts facts;
  if (chain.empty()) return facts;
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

Result<PeerIdentity> peer_identity_of(gnutls_session_t session,
                                      const VerifiedChainCache* verified) {
  const std::span<const gnutls_datum_t> chain = peer_chain(session);
  if (chain.empty()) {
    return Error(Errc::EmptyPeerCertificateChain, "the peer presented no certificate");
  }
  PeerIdentity identity;
  identity.fingerprint =
      identity::sha256_fingerprint(std::span<const unsigned char>(chain[0].data, chain[0].size));
  std::optional<std::string> cached;
  if (verified != nullptr) {
    // The verify function hashed the chain already; a session it did not
    // run on (no client certificate requested) has no key and parses.
    cached = verified->find(peer_check_of(session).chain_key, verified->now());
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

std::string describe_refusal(const PeerCheck& check) {
  if (check.status == 0) return {};
  if (!check.refusal.empty()) return check.refusal;
  gnutls_datum_t text{};
  if (gnutls_certificate_verification_status_print(check.status, GNUTLS_CRT_X509, &text, 0) != 0) {
    return fmt::format("verification status 0x{:x}", check.status);
  }
  std::string out(reinterpret_cast<const char*>(text.data), text.size);
  gnutls_free(text.data);
  return out;
}

std::string describe_verify_failure(gnutls_session_t session) {
  return describe_refusal(peer_check_of(session));
}

}  // namespace palyra::transport
