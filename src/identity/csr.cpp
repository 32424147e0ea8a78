#include "palyra/identity/csr.hpp"

#include <fmt/format.h>

#include "gnutls_handles.hpp"
#include "gnutls_key_types.hpp"
#include "palyra/identity/fingerprint.hpp"

namespace palyra::identity {
namespace {

Error crypto_error(std::string_view step, int rv) {
  return Error(Errc::CryptoFailed, fmt::format("{}: {}", step, gnutls_strerror(rv)));
}

Error invalid(std::string_view reason) {
  return Error(Errc::InvalidArgument, fmt::format("certificate request refused: {}", reason));
}

}  // namespace

Result<std::string> make_csr_pem(const PrivateKey& key, std::string_view device_id) {
  if (!device_id.empty()) PALYRA_TRY(validate_device_id(device_id));
  auto x509 = detail::import_key_pem(key.pem());
  if (!x509) return Error(Errc::PrivateKeyParsingFailed, "the key cannot be read back");
  gnutls_privkey_t raw_signer = nullptr;
  if (gnutls_privkey_init(&raw_signer) < 0) return Error(Errc::CryptoFailed, "out of memory");
  detail::PrivKeyHandle signer(raw_signer);
  int rv = gnutls_privkey_import_x509(raw_signer, x509.get(), GNUTLS_PRIVKEY_IMPORT_COPY);
  if (rv < 0) return crypto_error("importing the key", rv);

  gnutls_x509_crq_t raw = nullptr;
  if (gnutls_x509_crq_init(&raw) < 0) return Error(Errc::CryptoFailed, "out of memory");
  detail::CrqHandle crq(raw);
  std::string common_name = device_id.empty()
                                ? std::string("Palyra Device")
                                : std::string(kDeviceCommonNamePrefix) + std::string(device_id);
  static constexpr std::string_view kOrganization = "Palyra";
  if ((rv = gnutls_x509_crq_set_version(raw, 1)) < 0 ||
      (rv = gnutls_x509_crq_set_dn_by_oid(raw, GNUTLS_OID_X520_COMMON_NAME, 0, common_name.data(),
                                          static_cast<unsigned>(common_name.size()))) < 0 ||
      (rv = gnutls_x509_crq_set_dn_by_oid(raw, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
                                          kOrganization.data(),
                                          static_cast<unsigned>(kOrganization.size()))) < 0) {
    return crypto_error("setting the request's subject", rv);
  }
  if ((rv = gnutls_x509_crq_set_key(raw, x509.get())) < 0) {
    return crypto_error("setting the request's key", rv);
  }
  if ((rv = gnutls_x509_crq_privkey_sign(raw, raw_signer, detail::signing_digest(raw_signer), 0)) <
      0) {
    return crypto_error("signing the request", rv);
  }
  detail::Datum pem;
  if ((rv = gnutls_x509_crq_export2(raw, GNUTLS_X509_FMT_PEM, &pem.value)) < 0) {
    return crypto_error("encoding the request", rv);
  }
  return pem.str();
}

Result<CertificateRequest> CertificateRequest::from_pem(std::string_view pem) {
  if (pem.size() > kMaxCsrPemBytes) {
    return invalid(fmt::format("{} bytes, more than the {} allowed", pem.size(), kMaxCsrPemBytes));
  }
  gnutls_x509_crq_t raw = nullptr;
  if (gnutls_x509_crq_init(&raw) < 0) return Error(Errc::CryptoFailed, "out of memory");
  detail::CrqHandle crq(raw);
  std::string copy(pem);  // GnuTLS wants a mutable, sized buffer
  gnutls_datum_t datum = detail::view(copy);
  if (gnutls_x509_crq_import(raw, &datum, GNUTLS_X509_FMT_PEM) < 0) {
    return invalid("not a PEM PKCS#10 request");
  }
  // Proof that the requester holds the private key: without it anyone could
  // get a certificate for a public key they copied.
  if (gnutls_x509_crq_verify(raw, 0) < 0) return invalid("its signature does not verify");
  gnutls_pubkey_t raw_key = nullptr;
  if (gnutls_pubkey_init(&raw_key) < 0) return Error(Errc::CryptoFailed, "out of memory");
  detail::PubKeyHandle key(raw_key);
  if (gnutls_pubkey_import_x509_crq(raw_key, raw, 0) < 0)
    return invalid("its public key is unreadable");
  // The operator of the node sees what their tool generated, by name.
  const std::optional<KeyType> type = detail::key_type_of(raw_key);
  if (!type) {
    return Error(Errc::UnsupportedKeyType,
                 fmt::format("key type {} is not issued here (ECDSA P-256 or Ed25519 only)",
                             detail::describe_key(raw_key)));
  }
  std::string der = detail::export_pubkey_der(raw_key);
  if (der.empty()) return invalid("its public key cannot be re-encoded");
  return CertificateRequest(std::move(der), *type);
}

std::string CertificateRequest::public_key_sha256() const {
  return sha256_fingerprint(std::span<const unsigned char>(
      reinterpret_cast<const unsigned char*>(public_key_der_.data()), public_key_der_.size()));
}

}  // namespace palyra::identity
