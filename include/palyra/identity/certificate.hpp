// X.509 certificates and private keys (GnuTLS underneath), and the checks
// on what identifies a device.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "palyra/common/result.hpp"
#include "palyra/identity/key_type.hpp"

namespace palyra::identity {

using SystemTime = std::chrono::system_clock::time_point;

// An immutable parsed certificate.
class Certificate {
 public:
  // The first certificate of a PEM file or string. CertificateParsingFailed
  // (or IoFailed/NotFound for the file) with the path.
  static Result<Certificate> from_pem_file(const std::filesystem::path& path);
  static Result<Certificate> from_pem(std::string_view pem, std::string_view origin = "PEM input");
  // Every certificate in a PEM chain file or string, in file order (a chain
  // leaf first; a CA bundle signing CA first).
  static Result<std::vector<Certificate>> chain_from_pem_file(const std::filesystem::path& path);
  static Result<std::vector<Certificate>> chain_from_pem(std::string_view pem,
                                                         std::string_view origin = "PEM input");

  const std::string& der() const noexcept { return der_; }
  const std::string& pem() const noexcept { return pem_; }
  std::string fingerprint() const;  // lowercase hex SHA-256 of the DER
  // Lowercase hex SHA-256 of the SubjectPublicKeyInfo DER: what an
  // enrollment token's ca-hash pins (PROTOCOL.md §7), and unlike the
  // fingerprint it survives reissuing a certificate for the same key.
  std::string spki_sha256() const;
  const std::string& common_name() const noexcept { return common_name_; }
  // "<id>" from "CN=Palyra Device <id>"; empty for other names.
  std::string device_id() const;
  const std::string& serial_hex() const noexcept { return serial_hex_; }
  SystemTime not_before() const noexcept { return not_before_; }
  SystemTime not_after() const noexcept { return not_after_; }
  // Subject alternative names, in certificate order; IPs as text ("::1").
  const std::vector<std::string>& dns_names() const noexcept { return dns_names_; }
  const std::vector<std::string>& ip_addresses() const noexcept { return ip_addresses_; }
  // The type of the certified key; nullopt for a type Palyra does not issue
  // (a certificate made elsewhere).
  std::optional<KeyType> key_type() const noexcept { return key_type_; }

 private:
  friend class CertificateBuilder;
  std::string der_;
  std::string pem_;
  std::string common_name_;
  std::string serial_hex_;
  SystemTime not_before_;
  SystemTime not_after_;
  std::vector<std::string> dns_names_;
  std::vector<std::string> ip_addresses_;
  std::optional<KeyType> key_type_;
};

// A private key (PKCS#8). Its PEM never appears in logs or errors.
class PrivateKey {
 public:
  static Result<PrivateKey> generate(KeyType type = kDefaultKeyType);
  static Result<PrivateKey> from_pem_file(const std::filesystem::path& path);
  static Result<PrivateKey> from_pem(std::string_view pem, std::string_view origin = "PEM input");
  const std::string& pem() const noexcept { return pem_; }
  // The SHA-1 key id GnuTLS computes from the public key: equal ids mean the
  // key belongs to the certificate.
  const std::string& key_id() const noexcept { return key_id_; }

 private:
  friend class PrivateKeyBuilder;
  std::string pem_;
  std::string key_id_;
};

// The public-key id of a certificate, comparable with PrivateKey::key_id().
Result<std::string> certificate_key_id(const Certificate& certificate);

inline constexpr std::string_view kDeviceCommonNamePrefix = "Palyra Device ";

// 1–64 characters of [A-Za-z0-9._-]; InvalidDeviceId saying what is wrong.
Status validate_device_id(std::string_view device_id);

// "90s", "30m", "24h", "7d", "52w", "1y", and sums like "1d12h".
// InvalidDuration with the input.
Result<std::chrono::seconds> parse_duration(std::string_view text);

// "2026-11-29T19:04:05Z": how certificate times are shown to people.
std::string format_utc(SystemTime time);

}  // namespace palyra::identity
