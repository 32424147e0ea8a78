// The gateway certificate authority: every certificate Palyra trusts is
// issued here (PROTOCOL.md §2).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "palyra/common/result.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/csr.hpp"
#include "palyra/identity/key_type.hpp"

namespace palyra::identity {

enum class KeyPurpose { ServerAuth, ClientAuth };

// Everything a leaf certificate can say. Tests use the freedom (validity in
// the past, no EKU) to mint certificates a peer must refuse.
struct IssueRequest {
  std::string common_name;
  std::optional<std::string> organization;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // IPv4 or IPv6 literals
  std::vector<KeyPurpose> purposes;       // may be empty
  SystemTime not_before;
  SystemTime not_after;
  // The type of the key generated for it; nullopt: the CA's own type.
  std::optional<KeyType> key_type;
};

struct IssuedCertificate {
  Certificate certificate;
  PrivateKey key;
};

struct ServerCertificateRequest {
  std::string name;                    // CN; also a DNS SAN
  std::vector<std::string> dns_names;  // extra DNS SANs (DNS:localhost is always there)
  std::vector<std::string> ip_addresses;
  std::chrono::seconds valid_for = std::chrono::hours(24 * 365);
  std::optional<KeyType> key_type;  // nullopt: the CA's own type
};

inline constexpr std::chrono::seconds kDefaultCaValidity = std::chrono::hours(24 * 3650);
inline constexpr std::chrono::seconds kDefaultDeviceValidity = std::chrono::hours(24);
// Device certificates start this much before they are issued, so a node
// whose clock is slightly behind the daemon's can use one at once.
inline constexpr std::chrono::seconds kDeviceClockSkew{60};

// The request that reissues `current` with the same names, validity length
// (at least a day) and key type: what a CA rotation and palyrad's renewal use.
ServerCertificateRequest server_request_like(const Certificate& current);

class CertificateAuthority {
 public:
  // A new self-signed CA with a key of `key_type`: CA:TRUE, keyCertSign +
  // cRLSign + digitalSignature.
  static Result<CertificateAuthority> create(std::string_view common_name,
                                             std::chrono::seconds valid_for = kDefaultCaValidity,
                                             KeyType key_type = kDefaultKeyType);
  // `cert_file` may be a trust bundle (during a rotation): its first
  // certificate is the signing CA. KeyCertificateMismatch when the key is
  // not that certificate's.
  static Result<CertificateAuthority> load(const std::filesystem::path& cert_file,
                                           const std::filesystem::path& key_file);

  const Certificate& certificate() const noexcept { return certificate_; }
  const PrivateKey& key() const noexcept { return key_; }
  // The type of the CA's key, which its leaf keys take unless a request
  // names another (a CA of either type signs keys of both). kDefaultKeyType
  // for a CA key of a type Palyra does not issue (one made elsewhere).
  KeyType key_type() const noexcept { return certificate_.key_type().value_or(kDefaultKeyType); }

  Result<IssuedCertificate> issue(const IssueRequest& request) const;
  // CN = name; SANs: DNS:localhost and the name (deduplicated
  // case-insensitively), the extra names and IPs; EKU serverAuth.
  Result<IssuedCertificate> issue_server(const ServerCertificateRequest& request) const;
  // "CN=Palyra Device <id>, O=Palyra"; EKU clientAuth; valid from now minus
  // kDeviceClockSkew; a key of `key_type` (nullopt: the CA's type).
  // InvalidDeviceId; InvalidArgument for valid_for <= 0.
  Result<IssuedCertificate> issue_device(std::string_view device_id,
                                         std::chrono::seconds valid_for = kDefaultDeviceValidity,
                                         std::optional<KeyType> key_type = std::nullopt) const;
  // The same certificate for the key of a verified request (enrollment and
  // renewal: the node keeps its private key), valid from now - kDeviceClockSkew
  // to now + valid_for. InvalidDeviceId; InvalidArgument for valid_for <= 0.
  Result<Certificate> issue_device_for_key(const CertificateRequest& request,
                                           std::string_view device_id,
                                           std::chrono::seconds valid_for, SystemTime now) const;

 private:
  CertificateAuthority(Certificate certificate, PrivateKey key)
      : certificate_(std::move(certificate)), key_(std::move(key)) {}
  Certificate certificate_;
  PrivateKey key_;
};

}  // namespace palyra::identity
