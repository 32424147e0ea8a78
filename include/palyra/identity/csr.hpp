// PKCS#10 certificate requests: how a node asks for a certificate without
// its private key ever leaving it (PROTOCOL.md §7).
#pragma once

#include <string>
#include <string_view>

#include "palyra/common/result.hpp"
#include "palyra/identity/certificate.hpp"

namespace palyra::identity {

inline constexpr std::size_t kMaxCsrPemBytes = std::size_t{16} * 1024;

// A PKCS#10 request signed by `key`, subject "CN=Palyra Device <device_id>,
// O=Palyra" ("CN=Palyra Device" when device_id is empty: the id then comes
// from the token, which must be bound to one). PEM text. InvalidDeviceId for a
// non-empty malformed id, CryptoFailed if GnuTLS refuses.
Result<std::string> make_csr_pem(const PrivateKey& key, std::string_view device_id);

// A verified request. Only its public key matters: the daemon decides the
// subject and every extension itself, whatever the request asks for.
class CertificateRequest {
 public:
  // Parses PEM PKCS#10 (at most kMaxCsrPemBytes), verifies its self-signature
  // and requires an ECDSA P-256 or Ed25519 key, the types issued here
  // (UnsupportedKeyType otherwise). InvalidArgument with a short reason for
  // anything malformed; never aborts on any input.
  static Result<CertificateRequest> from_pem(std::string_view pem);

  const std::string& public_key_der() const noexcept { return public_key_der_; }  // SPKI DER
  std::string public_key_sha256() const;  // lowercase hex SHA-256 of the SPKI DER
  KeyType key_type() const noexcept { return key_type_; }

 private:
  CertificateRequest(std::string public_key_der, KeyType key_type)
      : public_key_der_(std::move(public_key_der)), key_type_(key_type) {}
  std::string public_key_der_;
  KeyType key_type_;
};

}  // namespace palyra::identity
