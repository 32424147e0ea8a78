// NEW_TOKEN tokens: see address_tokens.hpp. ngtcp2's crypto helpers seal
// them (AEAD over a timestamp, with the client's IP address as associated
// data) under a key of their own.
#include "address_tokens.hpp"

#include <ngtcp2/ngtcp2_crypto.h>

#include <array>

namespace palyra::transport {
namespace {

std::uint64_t nanoseconds_since_epoch(SystemTime t) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  return ns.count() > 0 ? static_cast<std::uint64_t>(ns.count()) : 0;
}

}  // namespace

bool is_new_token(std::span<const std::uint8_t> token) noexcept {
  return !token.empty() && token[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_REGULAR;
}

std::string make_new_token(const SocketAddress& client, const ServerKeys& keys, SystemTime now) {
  std::array<std::uint8_t, NGTCP2_CRYPTO_MAX_REGULAR_TOKENLEN> token{};
  const auto key = keys.new_token_key();
  const ngtcp2_ssize length =
      ngtcp2_crypto_generate_regular_token(token.data(), key.data(), key.size(), client.data(),
                                           client.length, nanoseconds_since_epoch(now));
  if (length <= 0) return {};
  return std::string(reinterpret_cast<const char*>(token.data()), static_cast<std::size_t>(length));
}

bool verify_new_token(std::span<const std::uint8_t> token, const SocketAddress& client,
                      const ServerKeys& keys, SystemTime now) {
  if (!is_new_token(token)) return false;
  const auto key = keys.new_token_key();
  constexpr auto lifetime = std::chrono::duration_cast<std::chrono::nanoseconds>(kNewTokenLifetime);
  return ngtcp2_crypto_verify_regular_token(
             token.data(), token.size(), key.data(), key.size(), client.data(), client.length,
             static_cast<std::uint64_t>(lifetime.count()), nanoseconds_since_epoch(now)) == 0;
}

}  // namespace palyra::transport
