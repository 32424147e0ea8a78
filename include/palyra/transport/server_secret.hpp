// The server's long-term secret (PROTOCOL.md §8) and the keys derived from
// it. It outlives a process (the daemon keeps it in its state directory), so
// after a restart the server still recognises the connection IDs of its
// previous life well enough to reset them, and still accepts the address
// validation tokens it handed out before (a Retry's for seconds, a
// NEW_TOKEN's for a day).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "palyra/common/result.hpp"

namespace palyra::transport {

inline constexpr std::size_t kServerSecretBytes = 32;
using ServerSecret = std::array<std::uint8_t, kServerSecretBytes>;

// A fresh secret from the key-grade generator (for a new state directory,
// and for servers that keep none: tests, tools).
ServerSecret generate_server_secret();

// One key per use, each HKDF-SHA256(secret, label): a token key that leaks
// cannot be turned into the reset key, and the reverse.
class ServerKeys {
 public:
  // CryptoFailed if GnuTLS refuses the derivation.
  static Result<ServerKeys> derive(const ServerSecret& secret);

  // RFC 9000 §10.3.2: the stateless reset token of a connection ID we issued,
  // a function of the key and the ID alone. Writes 16 bytes.
  void stateless_reset_token(std::span<const std::uint8_t> cid, std::uint8_t* out) const;
  // The key that seals Retry tokens (RFC 9000 §8.1.2).
  std::span<const std::uint8_t> token_key() const noexcept { return token_key_; }
  // The key that seals the tokens of NEW_TOKEN frames (RFC 9000 §8.1.3).
  std::span<const std::uint8_t> new_token_key() const noexcept { return new_token_key_; }
  // The AES-128 key that hides the worker in the connection IDs we issue
  // (16 bytes; ARCHITECTURE.md, Workers).
  std::span<const std::uint8_t> worker_cid_key() const noexcept {
    return std::span(worker_cid_key_).first(16);
  }

 private:
  ServerKeys() = default;
  std::array<std::uint8_t, 32> reset_key_{};
  std::array<std::uint8_t, 32> token_key_{};
  std::array<std::uint8_t, 32> new_token_key_{};
  std::array<std::uint8_t, 32> worker_cid_key_{};
};

}  // namespace palyra::transport
