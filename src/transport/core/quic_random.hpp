// Randomness for the QUIC core: connection IDs, stateless reset tokens and
// ngtcp2's rand callback. GnuTLS's nonce generator: fast, and
// unpredictable, as CIDs and tokens must be.
#pragma once

#include <gnutls/crypto.h>

#include <cstddef>
#include <cstdint>

namespace palyra::transport {

inline void random_bytes(std::uint8_t* out, std::size_t length) {
  (void)gnutls_rnd(GNUTLS_RND_NONCE, out, length);
}

// For long-term keys (the server secret): GnuTLS's key-grade generator.
inline void random_key_bytes(std::uint8_t* out, std::size_t length) {
  (void)gnutls_rnd(GNUTLS_RND_KEY, out, length);
}

}  // namespace palyra::transport
