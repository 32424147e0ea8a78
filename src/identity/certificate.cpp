#include "palyra/identity/certificate.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <ctime>
#include <optional>

#include "gnutls_handles.hpp"
#include "gnutls_key_types.hpp"
#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/fingerprint.hpp"

namespace palyra::identity {
namespace detail {

CrtHandle import_crt_der(const std::string& der) {
  gnutls_x509_crt_t crt = nullptr;
  gnutls_x509_crt_init(&crt);
  CrtHandle handle(crt);
  gnutls_datum_t datum = view(der);
  if (gnutls_x509_crt_import(crt, &datum, GNUTLS_X509_FMT_DER) < 0) return nullptr;
  return handle;
}

X509KeyHandle import_key_pem(const std::string& pem) {
  gnutls_x509_privkey_t key = nullptr;
  gnutls_x509_privkey_init(&key);
  X509KeyHandle handle(key);
  gnutls_datum_t datum = view(pem);
  if (gnutls_x509_privkey_import2(key, &datum, GNUTLS_X509_FMT_PEM, nullptr, 0) < 0) return nullptr;
  return handle;
}

PubKeyHandle import_pubkey_der(const std::string& der) {
  gnutls_pubkey_t key = nullptr;
  if (gnutls_pubkey_init(&key) < 0) return nullptr;
  PubKeyHandle handle(key);
  gnutls_datum_t datum = view(der);
  if (gnutls_pubkey_import(key, &datum, GNUTLS_X509_FMT_DER) < 0) return nullptr;
  return handle;
}

std::string export_pubkey_der(gnutls_pubkey_t key) {
  Datum der;
  if (gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &der.value) < 0) return {};
  return der.str();
}

}  // namespace detail

namespace {

std::string to_hex(const unsigned char* data, std::size_t size) {
  return lower_hex(std::span<const unsigned char>(data, size));
}

// A certificate's time as a SystemTime, which counts nanoseconds (1677 to
// 2262): from_time_t of RFC 5280's 99991231235959Z ("no expiration") would
// overflow. Times are held within half that range (1824 to 2116), which is
// "never" and "always" for a certificate, and leaves room to subtract two of
// them or add a lifetime to one.
SystemTime from_certificate_time(std::time_t seconds) {
  constexpr std::time_t kLimit =
      std::chrono::duration_cast<std::chrono::seconds>(SystemTime::duration::max()).count() / 2;
  return std::chrono::system_clock::from_time_t(std::clamp(seconds, -kLimit, kLimit));
}

Result<Certificate> describe(gnutls_x509_crt_t crt, std::string_view origin);

}  // namespace

// Certificate needs access to its private fields from describe(); keep the
// parsing in one place.
class CertificateBuilder {
 public:
  static Result<Certificate> build(gnutls_x509_crt_t crt, std::string_view origin) {
    Certificate out;
    detail::Datum der;
    detail::Datum pem;
    if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der.value) < 0 ||
        gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem.value) < 0) {
      return Error(Errc::CertificateParsingFailed,
                   fmt::format("cannot re-encode the certificate in {}", origin));
    }
    out.der_ = der.str();
    out.pem_ = pem.str();
    std::array<char, 256> cn{};
    std::size_t size = cn.size();
    if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn.data(), &size) ==
        0) {
      out.common_name_.assign(cn.data(), size);
    }
    std::array<unsigned char, 64> serial{};
    std::size_t serial_size = serial.size();
    if (gnutls_x509_crt_get_serial(crt, serial.data(), &serial_size) == 0) {
      out.serial_hex_ = to_hex(serial.data(), serial_size);
    }
    out.not_before_ = from_certificate_time(gnutls_x509_crt_get_activation_time(crt));
    out.not_after_ = from_certificate_time(gnutls_x509_crt_get_expiration_time(crt));
    read_alt_names(crt, out);
    out.key_type_ = read_key_type(crt);
    return out;
  }

 private:
  static std::optional<KeyType> read_key_type(gnutls_x509_crt_t crt) {
    gnutls_pubkey_t raw = nullptr;
    if (gnutls_pubkey_init(&raw) < 0) return std::nullopt;
    detail::PubKeyHandle key(raw);
    if (gnutls_pubkey_import_x509(raw, crt, 0) < 0) return std::nullopt;
    return detail::key_type_of(raw);
  }

  static void read_alt_names(gnutls_x509_crt_t crt, Certificate& out) {
    for (unsigned index = 0;; ++index) {
      std::array<char, 256> name{};
      std::size_t size = name.size();
      int type = gnutls_x509_crt_get_subject_alt_name(crt, index, name.data(), &size, nullptr);
      if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) return;
      if (type == GNUTLS_SAN_DNSNAME) {
        out.dns_names_.emplace_back(name.data(), size);
      } else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16)) {
        std::array<char, INET6_ADDRSTRLEN> text{};
        if (::inet_ntop(size == 4 ? AF_INET : AF_INET6, name.data(), text.data(), text.size())) {
          out.ip_addresses_.emplace_back(text.data());
        }
      } else if (type < 0 && type != GNUTLS_E_SHORT_MEMORY_BUFFER) {
        return;
      }
    }
  }
};

namespace {
Result<Certificate> describe(gnutls_x509_crt_t crt, std::string_view origin) {
  return CertificateBuilder::build(crt, origin);
}
}  // namespace

namespace {
Result<std::vector<Certificate>> parse_chain(std::string_view pem, std::string_view origin) {
  gnutls_x509_crt_t* list = nullptr;
  unsigned count = 0;
  std::string copy(pem);
  gnutls_datum_t datum = detail::view(copy);
  int rv = gnutls_x509_crt_list_import2(&list, &count, &datum, GNUTLS_X509_FMT_PEM, 0);
  if (rv < 0 || count == 0) {
    return Error(Errc::CertificateParsingFailed,
                 fmt::format("{} holds no valid PEM certificate ({})", origin,
                             rv < 0 ? gnutls_strerror(rv) : "empty"));
  }
  std::vector<Certificate> out;
  Status status;
  for (unsigned i = 0; i < count; ++i) {
    auto certificate = describe(list[i], origin);
    if (certificate) {
      out.push_back(std::move(*certificate));
    } else if (status.ok()) {
      status = std::move(certificate).error();
    }
    gnutls_x509_crt_deinit(list[i]);
  }
  gnutls_free(list);
  if (!status) return status.error();
  return out;
}
}  // namespace

Result<std::vector<Certificate>> Certificate::chain_from_pem(std::string_view pem,
                                                             std::string_view origin) {
  return parse_chain(pem, origin);
}

Result<Certificate> Certificate::from_pem(std::string_view pem, std::string_view origin) {
  auto chain = parse_chain(pem, origin);
  if (!chain) return std::move(chain).error();
  return std::move(chain->front());
}

Result<Certificate> Certificate::from_pem_file(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return std::move(text).error();
  return from_pem(*text, fmt::format("'{}'", path.string()));
}

Result<std::vector<Certificate>> Certificate::chain_from_pem_file(
    const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return std::move(text).error();
  return parse_chain(*text, fmt::format("'{}'", path.string()));
}

std::string Certificate::fingerprint() const {
  return sha256_fingerprint(std::span<const unsigned char>(
      reinterpret_cast<const unsigned char*>(der_.data()), der_.size()));
}

std::string Certificate::spki_sha256() const {
  // der_ was produced by GnuTLS itself, so these only fail on memory
  // exhaustion; an empty answer then matches no pin.
  auto crt = detail::import_crt_der(der_);
  if (!crt) return {};
  gnutls_pubkey_t raw = nullptr;
  if (gnutls_pubkey_init(&raw) < 0) return {};
  detail::PubKeyHandle key(raw);
  if (gnutls_pubkey_import_x509(raw, crt.get(), 0) < 0) return {};
  std::string spki = detail::export_pubkey_der(raw);
  if (spki.empty()) return {};
  return sha256_fingerprint(std::span<const unsigned char>(
      reinterpret_cast<const unsigned char*>(spki.data()), spki.size()));
}

std::string Certificate::device_id() const {
  if (!common_name_.starts_with(kDeviceCommonNamePrefix)) return {};
  return common_name_.substr(kDeviceCommonNamePrefix.size());
}

namespace {

// Left-pads or strips leading zero bytes to exactly `width` bytes.
std::optional<std::string> fixed_width(const gnutls_datum_t& value, std::size_t width) {
  std::string_view bytes(reinterpret_cast<const char*>(value.data), value.size);
  while (bytes.size() > width && bytes.front() == '\0') bytes.remove_prefix(1);
  if (bytes.size() > width) return std::nullopt;
  return std::string(width - bytes.size(), '\0') + std::string(bytes);
}

// PKCS#8 for a P-256 key in exactly the shape RFC 5915 prescribes. GnuTLS
// 3.7 writes the private scalar as 33 bytes (a leading zero) whenever its
// top bit is set; RFC 5915 says 32, and ring (rustls) refuses anything else,
// which would lock out about half of the rustls nodes holding our keys.
// nullopt for every other key: GnuTLS's own PKCS#8 of an Ed25519 key is
// already RFC 8410's (a 32-byte seed), which ring reads as it is.
std::optional<std::string> p256_pkcs8_der(gnutls_x509_privkey_t key) {
  gnutls_ecc_curve_t curve{};
  gnutls_datum_t x{}, y{}, k{};
  if (gnutls_x509_privkey_export_ecc_raw(key, &curve, &x, &y, &k) < 0) return std::nullopt;
  auto fx = fixed_width(x, 32), fy = fixed_width(y, 32), fk = fixed_width(k, 32);
  gnutls_free(x.data);
  gnutls_free(y.data);
  gnutls_free(k.data);
  if (curve != GNUTLS_ECC_CURVE_SECP256R1 || !fx || !fy || !fk) return std::nullopt;
  static constexpr unsigned char kP256Oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                               0xce, 0x3d, 0x03, 0x01, 0x07};
  static constexpr unsigned char kEcPublicKeyOid[] = {0x06, 0x07, 0x2a, 0x86, 0x48,
                                                      0xce, 0x3d, 0x02, 0x01};
  auto bytes = [](std::string& out, std::initializer_list<unsigned char> b) {
    for (unsigned char c : b) out.push_back(static_cast<char>(c));
  };
  // ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING (32),
  //                             [0] parameters, [1] publicKey BIT STRING }
  std::string ec;
  bytes(ec, {0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20});
  ec += *fk;
  bytes(ec, {0xa0, 0x0a});
  ec.append(reinterpret_cast<const char*>(kP256Oid), sizeof kP256Oid);
  bytes(ec, {0xa1, 0x44, 0x03, 0x42, 0x00, 0x04});
  ec += *fx + *fy;
  // PrivateKeyInfo ::= SEQUENCE { version 0, AlgorithmIdentifier, OCTET STRING }
  std::string der;
  bytes(der, {0x30, 0x81, 0x93, 0x02, 0x01, 0x00, 0x30, 0x13});
  der.append(reinterpret_cast<const char*>(kEcPublicKeyOid), sizeof kEcPublicKeyOid);
  der.append(reinterpret_cast<const char*>(kP256Oid), sizeof kP256Oid);
  bytes(der, {0x04, 0x79});
  der += ec;
  return der;
}

}  // namespace

class PrivateKeyBuilder {
 public:
  static Result<PrivateKey> build(gnutls_x509_privkey_t key, std::string_view origin) {
    PrivateKey out;
    if (auto der = p256_pkcs8_der(key)) {
      detail::Datum pem;
      gnutls_datum_t der_datum = detail::view(*der);
      if (gnutls_pem_base64_encode2("PRIVATE KEY", &der_datum, &pem.value) < 0) {
        return Error(Errc::CryptoFailed,
                     fmt::format("cannot PEM-encode the private key from {}", origin));
      }
      out.pem_ = pem.str();
    } else {
      detail::Datum pem;
      if (gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, nullptr, GNUTLS_PKCS_PLAIN,
                                            &pem.value) < 0) {
        return Error(Errc::PrivateKeyParsingFailed,
                     fmt::format("cannot encode the private key from {}", origin));
      }
      out.pem_ = pem.str();
    }
    std::array<unsigned char, 64> id{};
    std::size_t size = id.size();
    if (gnutls_x509_privkey_get_key_id(key, 0, id.data(), &size) < 0) {
      return Error(Errc::PrivateKeyParsingFailed,
                   fmt::format("cannot compute the key id of {}", origin));
    }
    out.key_id_ = to_hex(id.data(), size);
    return out;
  }
};

Result<PrivateKey> PrivateKey::generate(KeyType type) {
  gnutls_x509_privkey_t raw = nullptr;
  gnutls_x509_privkey_init(&raw);
  detail::X509KeyHandle key(raw);
  const detail::KeyGeneration how = detail::key_generation(type);
  int rv = gnutls_x509_privkey_generate2(raw, how.algorithm, how.bits, 0, nullptr, 0);
  if (rv < 0) {
    return Error(Errc::CryptoFailed,
                 fmt::format("{} key generation: {}", key_type_name(type), gnutls_strerror(rv)));
  }
  return PrivateKeyBuilder::build(raw, "a new key");
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem, std::string_view origin) {
  auto key = detail::import_key_pem(std::string(pem));
  if (!key) {
    // Never echo the input: it would be key material.
    return Error(Errc::PrivateKeyParsingFailed,
                 fmt::format("{} is not a valid PEM private key", origin));
  }
  return PrivateKeyBuilder::build(key.get(), origin);
}

Result<PrivateKey> PrivateKey::from_pem_file(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return std::move(text).error();
  return from_pem(*text, fmt::format("'{}'", path.string()));
}

Result<std::string> certificate_key_id(const Certificate& certificate) {
  auto crt = detail::import_crt_der(certificate.der());
  if (!crt) return Error(Errc::CertificateParsingFailed, "cannot re-read the certificate");
  std::array<unsigned char, 64> id{};
  std::size_t size = id.size();
  if (gnutls_x509_crt_get_key_id(crt.get(), 0, id.data(), &size) < 0) {
    return Error(Errc::CertificateParsingFailed, "cannot compute the certificate's key id");
  }
  return to_hex(id.data(), size);
}

Status validate_device_id(std::string_view device_id) {
  if (device_id.empty() || device_id.size() > 64) {
    return Error(Errc::InvalidDeviceId,
                 fmt::format("device id '{}' must be 1 to 64 characters long, not {}", device_id,
                             device_id.size()));
  }
  for (char c : device_id) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Error(Errc::InvalidDeviceId,
                   fmt::format("device id '{}' may only contain A-Z a-z 0-9 . _ - (found '{}')",
                               device_id, c));
    }
  }
  return {};
}

Result<std::chrono::seconds> parse_duration(std::string_view text) {
  auto bad = [&] {
    return Error(Errc::InvalidDuration,
                 fmt::format("'{}' is not a duration (e.g. 90s, 30m, 24h, 7d, 1y, 1d12h)", text));
  };
  if (text.empty()) return bad();
  std::chrono::seconds total{0};
  std::string_view rest = text;
  while (!rest.empty()) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc{} || end == rest.data() || end == rest.data() + rest.size()) return bad();
    char unit = *end;
    rest = rest.substr(static_cast<std::size_t>(end - rest.data()) + 1);
    std::uint64_t factor = 0;
    switch (unit) {
      case 's':
        factor = 1;
        break;
      case 'm':
        factor = 60;
        break;
      case 'h':
        factor = 3600;
        break;
      case 'd':
        factor = 86400;
        break;
      case 'w':
        factor = 7ULL * 86400;
        break;
      case 'y':
        factor = 365ULL * 86400;
        break;
      default:
        return bad();
    }
    if (value > 1000ULL * 365 * 86400 / factor) return bad();  // no overflow, no millennia
    total += std::chrono::seconds(static_cast<std::int64_t>(value * factor));
  }
  if (total.count() == 0) return bad();
  return total;
}

std::string format_utc(SystemTime time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace palyra::identity
