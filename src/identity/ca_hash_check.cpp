#include "palyra/identity/ca_hash_check.hpp"

#include <fmt/format.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <array>
#include <cstring>
#include <optional>
#include <span>

#include "palyra/identity/certificate.hpp"
#include "palyra/identity/fingerprint.hpp"

namespace palyra::identity {
namespace {

// The certificates of one chain, freed together.
class CertificateList {
 public:
  ~CertificateList() {
    for (auto* certificate : list_) gnutls_x509_crt_deinit(certificate);
  }
  bool import(const std::vector<std::string_view>& chain_der) {
    for (std::string_view der : chain_der) {
      gnutls_x509_crt_t certificate = nullptr;
      if (gnutls_x509_crt_init(&certificate) != 0) return false;
      list_.push_back(certificate);
      gnutls_datum_t datum{reinterpret_cast<unsigned char*>(const_cast<char*>(der.data())),
                           static_cast<unsigned>(der.size())};
      if (gnutls_x509_crt_import(certificate, &datum, GNUTLS_X509_FMT_DER) != 0) return false;
    }
    return true;
  }
  gnutls_x509_crt_t* data() { return list_.data(); }
  unsigned size() const { return static_cast<unsigned>(list_.size()); }

 private:
  std::vector<gnutls_x509_crt_t> list_;
};

std::optional<std::string> spki_sha256_of(gnutls_x509_crt_t certificate) {
  gnutls_pubkey_t key = nullptr;
  if (gnutls_pubkey_init(&key) != 0) return std::nullopt;
  std::optional<std::string> hash;
  gnutls_datum_t der{};
  if (gnutls_pubkey_import_x509(key, certificate, 0) == 0 &&
      gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &der) == 0) {
    hash = sha256_fingerprint(std::span<const unsigned char>(der.data, der.size));
    gnutls_free(der.data);
  }
  gnutls_pubkey_deinit(key);
  return hash;
}

bool has_server_purpose(gnutls_x509_crt_t leaf) {
  for (unsigned i = 0;; ++i) {
    std::array<char, 128> oid{};
    std::size_t size = oid.size();
    if (gnutls_x509_crt_get_key_purpose_oid(leaf, i, oid.data(), &size, nullptr) < 0) return false;
    if (std::strcmp(oid.data(), GNUTLS_KP_TLS_WWW_SERVER) == 0) return true;
  }
}

}  // namespace

Status verify_chain_against_ca_hash(const std::vector<std::string_view>& chain_der,
                                    std::string_view ca_spki_sha256, std::string_view server_name) {
  auto expected = normalize_fingerprint(ca_spki_sha256);
  if (!expected) {
    return Error(Errc::TlsConfigurationFailed,
                 fmt::format("invalid CA hash: {}", expected.error().message()));
  }
  CertificateList chain;
  if (chain_der.empty() || !chain.import(chain_der)) {
    return Error(Errc::CertificateParsingFailed, "the server's certificate chain is unreadable");
  }
  if (chain.size() < 2) {
    return Error(Errc::PinnedCertificateMismatch,
                 fmt::format("the server sent no CA certificate after its own, so nothing can be "
                             "checked against the token's CA hash {}",
                             *expected));
  }
  gnutls_x509_crt_t ca = chain.data()[chain.size() - 1];
  auto actual = spki_sha256_of(ca);
  if (!actual || *actual != *expected) {
    return Error(Errc::PinnedCertificateMismatch,
                 fmt::format("the server's CA public key has SHA-256 {}, the token names {}: this "
                             "is not the daemon the token was made for",
                             actual.value_or("(unreadable)"), *expected));
  }
  const std::string name(server_name);
  std::array<gnutls_typed_vdata_st, 2> checks{};
  checks[0].type = GNUTLS_DT_DNS_HOSTNAME;
  checks[0].data = reinterpret_cast<unsigned char*>(const_cast<char*>(name.c_str()));
  checks[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
  checks[1].data = reinterpret_cast<unsigned char*>(const_cast<char*>(GNUTLS_KP_TLS_WWW_SERVER));
  gnutls_x509_trust_list_t trust = nullptr;
  if (gnutls_x509_trust_list_init(&trust, 0) != 0) {
    return Error(Errc::ConnectFailed, "out of memory while checking the server's chain");
  }
  unsigned status = 0;
  int rv = gnutls_x509_trust_list_add_cas(trust, &ca, 1, 0);
  if (rv >= 0) {
    rv = gnutls_x509_trust_list_verify_crt2(trust, chain.data(), chain.size(), checks.data(),
                                            static_cast<unsigned>(checks.size()), 0, &status,
                                            nullptr);
  }
  gnutls_x509_trust_list_deinit(trust, 0);  // the chain owns the CA certificate
  if (rv < 0 || status != 0) {
    std::string why = "verification failed";
    gnutls_datum_t text{};
    if (rv >= 0 &&
        gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) == 0) {
      why.assign(reinterpret_cast<const char*>(text.data), text.size);
      gnutls_free(text.data);
    } else if (rv < 0) {
      why = gnutls_strerror(rv);
    }
    return Error(Errc::ConnectFailed,
                 fmt::format("the server's certificate does not verify against the CA with "
                             "SHA-256 {} for server name {}: {}",
                             *expected, name, why));
  }
  if (!has_server_purpose(chain.data()[0])) {
    return Error(Errc::ConnectFailed,
                 "the server's certificate is not valid for TLS server authentication "
                 "(no serverAuth key purpose)");
  }
  return {};
}

Status verify_chain_against_ca_hash(std::string_view chain_pem, std::string_view ca_spki_sha256,
                                    std::string_view server_name) {
  auto chain = Certificate::chain_from_pem(chain_pem, "the server's certificate chain");
  if (!chain) {
    return Error(Errc::CertificateParsingFailed, "the server's certificate chain is unreadable");
  }
  std::vector<std::string_view> ders;
  for (const auto& certificate : *chain) ders.emplace_back(certificate.der());
  return verify_chain_against_ca_hash(ders, ca_spki_sha256, server_name);
}

}  // namespace palyra::identity
