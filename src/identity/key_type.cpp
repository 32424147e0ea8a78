#include "palyra/identity/key_type.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "gnutls_key_types.hpp"

namespace palyra::identity {

std::string_view key_type_name(KeyType type) {
  switch (type) {
    case KeyType::P256:
      return "p256";
    case KeyType::Ed25519:
      return "ed25519";
  }
  return "unknown";
}

Result<KeyType> parse_key_type(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (KeyType type : {KeyType::P256, KeyType::Ed25519}) {
    if (lower == key_type_name(type)) return type;
  }
  return Error(Errc::InvalidArgument,
               fmt::format("key type '{}' is not supported: use p256 or ed25519", text));
}

namespace detail {
namespace {

// The curve of an ECDSA or EdDSA key; GNUTLS_ECC_CURVE_INVALID for others.
gnutls_ecc_curve_t curve_of(gnutls_pubkey_t key) {
  gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
  gnutls_datum_t x{}, y{};
  if (gnutls_pubkey_export_ecc_raw(key, &curve, &x, &y) < 0) return GNUTLS_ECC_CURVE_INVALID;
  gnutls_free(x.data);
  gnutls_free(y.data);
  return curve;
}

}  // namespace

KeyGeneration key_generation(KeyType type) {
  switch (type) {
    case KeyType::Ed25519:
      return {GNUTLS_PK_EDDSA_ED25519, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519)};
    case KeyType::P256:
      break;
  }
  return {GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1)};
}

gnutls_digest_algorithm_t signing_digest(gnutls_privkey_t signer) {
  return gnutls_privkey_get_pk_algorithm(signer, nullptr) == GNUTLS_PK_EDDSA_ED25519
             ? GNUTLS_DIG_UNKNOWN
             : GNUTLS_DIG_SHA256;
}

std::optional<KeyType> key_type_of(gnutls_pubkey_t key) {
  switch (gnutls_pubkey_get_pk_algorithm(key, nullptr)) {
    case GNUTLS_PK_ECDSA:
      if (curve_of(key) == GNUTLS_ECC_CURVE_SECP256R1) return KeyType::P256;
      return std::nullopt;
    case GNUTLS_PK_EDDSA_ED25519:
      return KeyType::Ed25519;
    default:
      return std::nullopt;
  }
}

std::string describe_key(gnutls_pubkey_t key) {
  unsigned bits = 0;
  int algorithm = gnutls_pubkey_get_pk_algorithm(key, &bits);
  if (algorithm == GNUTLS_PK_ECDSA) {
    const char* name = gnutls_ecc_curve_get_name(curve_of(key));
    return fmt::format("ECDSA {}", name ? name : "(unknown curve)");
  }
  const char* name =
      algorithm < 0 ? nullptr
                    : gnutls_pk_algorithm_get_name(static_cast<gnutls_pk_algorithm_t>(algorithm));
  return name ? fmt::format("{} ({} bits)", name, bits) : std::string("unknown");
}

}  // namespace detail
}  // namespace palyra::identity
