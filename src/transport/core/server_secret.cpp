// Derivation of the server's keys from its long-term secret.
#include "palyra/transport/server_secret.hpp"

#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "quic_random.hpp"

namespace palyra::transport {
namespace {

// HKDF-Expand(HKDF-Extract(salt, secret), label): the salt names the
// protocol, the label the use, so keys of other uses never coincide.
Status expand(const ServerSecret& secret, std::string_view label,
              std::array<std::uint8_t, 32>& out) {
  static constexpr std::string_view kSalt = "palyra server secret v1";
  gnutls_datum_t key{const_cast<unsigned char*>(secret.data()),
                     static_cast<unsigned>(secret.size())};
  gnutls_datum_t salt{reinterpret_cast<unsigned char*>(const_cast<char*>(kSalt.data())),
                      static_cast<unsigned>(kSalt.size())};
  std::array<std::uint8_t, 32> prk{};
  int rv = gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &key, &salt, prk.data());
  if (rv == 0) {
    gnutls_datum_t prk_datum{prk.data(), static_cast<unsigned>(prk.size())};
    gnutls_datum_t info{reinterpret_cast<unsigned char*>(const_cast<char*>(label.data())),
                        static_cast<unsigned>(label.size())};
    rv = gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &prk_datum, &info, out.data(), out.size());
  }
  if (rv != 0) {
    return Error(Errc::CryptoFailed, std::string("deriving the server's ") + std::string(label) +
                                         " key: " + gnutls_strerror(rv));
  }
  return {};
}

}  // namespace

ServerSecret generate_server_secret() {
  ServerSecret secret{};
  random_key_bytes(secret.data(), secret.size());
  return secret;
}

Result<ServerKeys> ServerKeys::derive(const ServerSecret& secret) {
  ServerKeys keys;
  PALYRA_TRY(expand(secret, "stateless reset", keys.reset_key_));
  PALYRA_TRY(expand(secret, "address validation token", keys.token_key_));
  PALYRA_TRY(expand(secret, "new token", keys.new_token_key_));
  PALYRA_TRY(expand(secret, "worker connection id", keys.worker_cid_key_));
  return keys;
}

void ServerKeys::stateless_reset_token(std::span<const std::uint8_t> cid, std::uint8_t* out) const {
  ngtcp2_cid id{};
  id.datalen = std::min(cid.size(), sizeof id.data);
  std::memcpy(id.data, cid.data(), id.datalen);
  // HKDF over (key, cid): fails only on an internal GnuTLS error, in which
  // case an unpredictable token is still a valid one (it just will not
  // survive a restart).
  if (ngtcp2_crypto_generate_stateless_reset_token(out, reset_key_.data(), reset_key_.size(),
                                                   &id) != 0) {
    random_bytes(out, NGTCP2_STATELESS_RESET_TOKENLEN);
  }
}

}  // namespace palyra::transport
