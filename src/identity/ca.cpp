#include "palyra/identity/ca.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "gnutls_handles.hpp"
#include "gnutls_key_types.hpp"

namespace palyra::identity {
namespace {

using detail::CrtHandle;

Error crypto_error(std::string_view step, int rv) {
  return Error(Errc::CryptoFailed, fmt::format("{}: {}", step, gnutls_strerror(rv)));
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Fills the fields every certificate we make has: version, serial, validity,
// subject, public key, subject key id.
Status fill_common(gnutls_x509_crt_t crt, gnutls_pubkey_t key, std::string_view common_name,
                   const std::optional<std::string>& organization, SystemTime not_before,
                   SystemTime not_after) {
  int rv = gnutls_x509_crt_set_version(crt, 3);
  if (rv < 0) return crypto_error("setting the certificate version", rv);
  // 16 random bytes, top bit clear: a positive serial, unique with
  // overwhelming probability.
  std::array<unsigned char, 16> serial{};
  gnutls_rnd(GNUTLS_RND_NONCE, serial.data(), serial.size());
  serial[0] = static_cast<unsigned char>((serial[0] & 0x7f) | 0x01);
  if ((rv = gnutls_x509_crt_set_serial(crt, serial.data(), serial.size())) < 0) {
    return crypto_error("setting the serial", rv);
  }
  gnutls_x509_crt_set_activation_time(crt, std::chrono::system_clock::to_time_t(not_before));
  gnutls_x509_crt_set_expiration_time(crt, std::chrono::system_clock::to_time_t(not_after));
  if (common_name.empty() || common_name.size() > 64) {
    return Error(
        Errc::InvalidArgument,
        fmt::format("a common name must be 1 to 64 characters, got {}", common_name.size()));
  }
  if ((rv = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, common_name.data(),
                                          static_cast<unsigned>(common_name.size()))) < 0) {
    return crypto_error("setting the common name", rv);
  }
  if (organization && (rv = gnutls_x509_crt_set_dn_by_oid(
                           crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, organization->data(),
                           static_cast<unsigned>(organization->size()))) < 0) {
    return crypto_error("setting the organization", rv);
  }
  if ((rv = gnutls_x509_crt_set_pubkey(crt, key)) < 0)
    return crypto_error("setting the public key", rv);
  std::array<unsigned char, 64> key_id{};
  std::size_t size = key_id.size();
  if ((rv = gnutls_x509_crt_get_key_id(crt, 0, key_id.data(), &size)) < 0 ||
      (rv = gnutls_x509_crt_set_subject_key_id(crt, key_id.data(), size)) < 0) {
    return crypto_error("setting the subject key id", rv);
  }
  return {};
}

Result<detail::PrivKeyHandle> signing_key(const std::string& pem) {
  auto x509 = detail::import_key_pem(pem);
  if (!x509) return Error(Errc::PrivateKeyParsingFailed, "the CA key cannot be read back");
  gnutls_privkey_t raw = nullptr;
  gnutls_privkey_init(&raw);
  detail::PrivKeyHandle key(raw);
  int rv = gnutls_privkey_import_x509(raw, x509.get(), GNUTLS_PRIVKEY_IMPORT_COPY);
  if (rv < 0) return crypto_error("importing the CA key", rv);
  return key;
}

// The public half of a private key we hold, the form every certificate
// gets its key in (ours or a CSR's): one path for both.
Result<detail::PubKeyHandle> public_key_of(const PrivateKey& key) {
  auto private_key = signing_key(key.pem());
  if (!private_key) return std::move(private_key).error();
  gnutls_pubkey_t raw = nullptr;
  gnutls_pubkey_init(&raw);
  detail::PubKeyHandle public_key(raw);
  int rv = gnutls_pubkey_import_privkey(raw, private_key->get(), 0, 0);
  if (rv < 0) return crypto_error("deriving the public key", rv);
  return public_key;
}

Result<Certificate> finish(gnutls_x509_crt_t crt) {
  detail::Datum pem;
  int rv = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem.value);
  if (rv < 0) return crypto_error("encoding the certificate", rv);
  return Certificate::from_pem(pem.str(), "the issued certificate");
}

// Everything a leaf certificate says, for `public_key`, signed by `ca`.
Result<Certificate> sign_leaf(const CertificateAuthority& ca, const IssueRequest& request,
                              gnutls_pubkey_t public_key) {
  if (request.not_after <= request.not_before) {
    return Error(Errc::InvalidArgument, "a certificate must end after it begins");
  }
  gnutls_x509_crt_t raw = nullptr;
  gnutls_x509_crt_init(&raw);
  CrtHandle crt(raw);
  PALYRA_TRY(fill_common(raw, public_key, request.common_name, request.organization,
                         request.not_before, request.not_after));
  int rv = gnutls_x509_crt_set_basic_constraints(raw, 0, -1);
  if (rv < 0) return crypto_error("setting CA:FALSE", rv);
  if ((rv = gnutls_x509_crt_set_key_usage(raw, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0) {
    return crypto_error("setting the key usage", rv);
  }
  for (KeyPurpose purpose : request.purposes) {
    const char* oid =
        purpose == KeyPurpose::ServerAuth ? GNUTLS_KP_TLS_WWW_SERVER : GNUTLS_KP_TLS_WWW_CLIENT;
    if ((rv = gnutls_x509_crt_set_key_purpose_oid(raw, oid, 0)) < 0) {
      return crypto_error("setting the extended key usage", rv);
    }
  }
  for (const auto& name : request.dns_names) {
    if ((rv = gnutls_x509_crt_set_subject_alt_name(raw, GNUTLS_SAN_DNSNAME, name.data(),
                                                   static_cast<unsigned>(name.size()),
                                                   GNUTLS_FSAN_APPEND)) < 0) {
      return Error(Errc::InvalidArgument,
                   fmt::format("DNS name '{}': {}", name, gnutls_strerror(rv)));
    }
  }
  for (const auto& ip : request.ip_addresses) {
    std::array<unsigned char, 16> bytes{};
    unsigned size = 0;
    if (inet_pton(AF_INET, ip.c_str(), bytes.data()) == 1) {
      size = 4;
    } else if (inet_pton(AF_INET6, ip.c_str(), bytes.data()) == 1) {
      size = 16;
    } else {
      return Error(Errc::InvalidArgument, fmt::format("'{}' is not an IPv4 or IPv6 address", ip));
    }
    if ((rv = gnutls_x509_crt_set_subject_alt_name(raw, GNUTLS_SAN_IPADDRESS, bytes.data(), size,
                                                   GNUTLS_FSAN_APPEND)) < 0) {
      return crypto_error("setting an IP address", rv);
    }
  }
  auto issuer = detail::import_crt_der(ca.certificate().der());
  if (!issuer)
    return Error(Errc::CertificateParsingFailed, "the CA certificate cannot be read back");
  std::array<unsigned char, 64> ca_key_id{};
  std::size_t ca_key_id_size = ca_key_id.size();
  unsigned critical = 0;
  if (gnutls_x509_crt_get_subject_key_id(issuer.get(), ca_key_id.data(), &ca_key_id_size,
                                         &critical) >= 0) {
    gnutls_x509_crt_set_authority_key_id(raw, ca_key_id.data(), ca_key_id_size);
  }
  auto signer = signing_key(ca.key().pem());
  if (!signer) return std::move(signer).error();
  rv = gnutls_x509_crt_privkey_sign(raw, issuer.get(), signer->get(),
                                    detail::signing_digest(signer->get()), 0);
  if (rv < 0) return crypto_error("signing the certificate", rv);
  return finish(raw);
}

// What every device certificate says (PROTOCOL.md §2), whoever made its key.
Result<IssueRequest> device_request(std::string_view device_id, std::chrono::seconds valid_for,
                                    SystemTime now) {
  PALYRA_TRY(validate_device_id(device_id));
  if (valid_for <= std::chrono::seconds::zero()) {
    return Error(Errc::InvalidArgument,
                 fmt::format("a device certificate must be valid for a positive time, not {} s",
                             valid_for.count()));
  }
  IssueRequest request;
  request.common_name = std::string(kDeviceCommonNamePrefix) + std::string(device_id);
  request.organization = "Palyra";
  request.purposes = {KeyPurpose::ClientAuth};
  request.not_before = now - kDeviceClockSkew;
  request.not_after = now + valid_for;
  return request;
}

}  // namespace

Result<CertificateAuthority> CertificateAuthority::create(std::string_view common_name,
                                                          std::chrono::seconds valid_for,
                                                          KeyType key_type) {
  auto key = PrivateKey::generate(key_type);
  if (!key) return std::move(key).error();
  auto public_key = public_key_of(*key);
  if (!public_key) return std::move(public_key).error();
  gnutls_x509_crt_t raw = nullptr;
  gnutls_x509_crt_init(&raw);
  CrtHandle crt(raw);
  auto now = std::chrono::system_clock::now();
  // Backdate a little so a peer with a slightly slow clock accepts it.
  PALYRA_TRY(fill_common(raw, public_key->get(), common_name, std::nullopt,
                         now - std::chrono::minutes(5), now + valid_for));
  int rv = gnutls_x509_crt_set_basic_constraints(raw, 1, -1);
  if (rv < 0) return crypto_error("setting CA:TRUE", rv);
  rv = gnutls_x509_crt_set_key_usage(
      raw, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN | GNUTLS_KEY_DIGITAL_SIGNATURE);
  if (rv < 0) return crypto_error("setting the key usage", rv);
  auto signer = signing_key(key->pem());
  if (!signer) return std::move(signer).error();
  rv = gnutls_x509_crt_privkey_sign(raw, raw, signer->get(), detail::signing_digest(signer->get()),
                                    0);
  if (rv < 0) return crypto_error("self-signing the CA", rv);
  auto certificate = finish(raw);
  if (!certificate) return std::move(certificate).error();
  return CertificateAuthority(std::move(*certificate), std::move(*key));
}

Result<CertificateAuthority> CertificateAuthority::load(const std::filesystem::path& cert_file,
                                                        const std::filesystem::path& key_file) {
  // A trust bundle during a CA rotation: the first certificate is the one
  // that signs, and the key must be its key.
  auto certificate = Certificate::from_pem_file(cert_file);
  if (!certificate) return std::move(certificate).error();
  auto key = PrivateKey::from_pem_file(key_file);
  if (!key) return std::move(key).error();
  auto cert_id = certificate_key_id(*certificate);
  if (!cert_id) return std::move(cert_id).error();
  if (*cert_id != key->key_id()) {
    return Error(Errc::KeyCertificateMismatch,
                 fmt::format("the key in '{}' does not belong to the certificate in '{}'",
                             key_file.string(), cert_file.string()));
  }
  return CertificateAuthority(std::move(*certificate), std::move(*key));
}

Result<IssuedCertificate> CertificateAuthority::issue(const IssueRequest& request) const {
  auto key = PrivateKey::generate(request.key_type.value_or(key_type()));
  if (!key) return std::move(key).error();
  auto public_key = public_key_of(*key);
  if (!public_key) return std::move(public_key).error();
  auto certificate = sign_leaf(*this, request, public_key->get());
  if (!certificate) return std::move(certificate).error();
  return IssuedCertificate{std::move(*certificate), std::move(*key)};
}

Result<IssuedCertificate> CertificateAuthority::issue_server(
    const ServerCertificateRequest& request) const {
  IssueRequest issue_request;
  issue_request.common_name = request.name;
  for (const std::string& name : {std::string("localhost"), request.name}) {
    bool seen = std::any_of(issue_request.dns_names.begin(), issue_request.dns_names.end(),
                            [&](const std::string& n) { return iequals(n, name); });
    if (!seen) issue_request.dns_names.push_back(name);
  }
  for (const auto& name : request.dns_names) {
    bool seen = std::any_of(issue_request.dns_names.begin(), issue_request.dns_names.end(),
                            [&](const std::string& n) { return iequals(n, name); });
    if (!seen) issue_request.dns_names.push_back(name);
  }
  issue_request.ip_addresses = request.ip_addresses;
  issue_request.purposes = {KeyPurpose::ServerAuth};
  auto now = std::chrono::system_clock::now();
  issue_request.not_before = now - std::chrono::minutes(5);
  issue_request.not_after = now + request.valid_for;
  issue_request.key_type = request.key_type;
  return issue(issue_request);
}

ServerCertificateRequest server_request_like(const Certificate& current) {
  ServerCertificateRequest request;
  request.name = current.common_name().empty() ? "localhost" : current.common_name();
  for (const auto& dns : current.dns_names()) {
    // issue_server adds these two itself.
    if (!iequals(dns, request.name) && !iequals(dns, "localhost")) request.dns_names.push_back(dns);
  }
  request.ip_addresses = current.ip_addresses();
  request.valid_for = std::max<std::chrono::seconds>(
      std::chrono::duration_cast<std::chrono::seconds>(current.not_after() - current.not_before()),
      std::chrono::hours(24));
  request.key_type = current.key_type();
  return request;
}

Result<IssuedCertificate> CertificateAuthority::issue_device(
    std::string_view device_id, std::chrono::seconds valid_for,
    std::optional<KeyType> key_type) const {
  auto request = device_request(device_id, valid_for, std::chrono::system_clock::now());
  if (!request) return std::move(request).error();
  request->key_type = key_type;
  return issue(*request);
}

Result<Certificate> CertificateAuthority::issue_device_for_key(const CertificateRequest& request,
                                                               std::string_view device_id,
                                                               std::chrono::seconds valid_for,
                                                               SystemTime now) const {
  auto issue_request = device_request(device_id, valid_for, now);
  if (!issue_request) return std::move(issue_request).error();
  auto public_key = detail::import_pubkey_der(request.public_key_der());
  if (!public_key)
    return Error(Errc::InvalidArgument, "the request's public key cannot be read back");
  return sign_leaf(*this, *issue_request, public_key.get());
}

}  // namespace palyra::identity
