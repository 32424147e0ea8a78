// How each KeyType looks to GnuTLS: how a key is generated, which digest a
// signature takes, and which type a public key is (if one we issue).
#pragma once

#include <gnutls/abstract.h>

#include <optional>
#include <string>

#include "palyra/identity/key_type.hpp"

namespace palyra::identity::detail {

struct KeyGeneration {
  gnutls_pk_algorithm_t algorithm;
  unsigned bits;  // GnuTLS encodes the curve here
};
KeyGeneration key_generation(KeyType type);

// The digest to pass to GnuTLS's *_privkey_sign for a signature by `signer`:
// SHA-256 for ECDSA; none for Ed25519, which is pure EdDSA (RFC 8410 §6)
// and hashes internally; GnuTLS refuses an explicit SHA-256 for it.
gnutls_digest_algorithm_t signing_digest(gnutls_privkey_t signer);

// The type of a public key; nullopt for any type Palyra does not issue.
std::optional<KeyType> key_type_of(gnutls_pubkey_t key);

// What a key is, for a person reading a refusal: "ECDSA SECP384R1",
// "RSA (2048 bits)", "EdDSA (Ed25519)".
std::string describe_key(gnutls_pubkey_t key);

}  // namespace palyra::identity::detail
