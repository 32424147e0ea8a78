// Client certificate chains the server has already verified, so a device
// that reconnects skips the chain's signature checks (an ECDSA verification
// and ASN.1 parsing per certificate, about a third of a handshake's server
// CPU). What is NOT cached, and runs on every handshake: the TLS
// CertificateVerify signature (proof of the private key) and the revocation
// check. An entry is keyed by the SHA-256 of every certificate the client
// presented, in order, and is used only inside the leaf's validity period
// and for at most kMaxAge, so a chain that stops verifying for any other
// reason (e.g. the CA itself expiring) is re-verified soon. An entry also
// keeps the leaf's common name, so the connection's peer identity needs no
// second parse of the certificate.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <ctime>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "palyra/common/clock.hpp"

namespace palyra::transport {

class VerifiedChainCache {
 public:
  using Key = std::string;  // 32 raw bytes
  static constexpr std::size_t kMaxEntries = 16384;
  static constexpr std::chrono::seconds kMaxAge{600};

  // `clock` is what "now" means for this context's verification: for the
  // entries here and for the handshakes that fill them.
  explicit VerifiedChainCache(std::shared_ptr<const palyra::Clock> clock = system_clock())
      : clock_(std::move(clock)) {}

  static Key key_of(std::span<const std::span<const unsigned char>> chain);
  // The clock's time in whole seconds, as certificates keep it.
  std::time_t now() const noexcept { return std::chrono::system_clock::to_time_t(clock_->now()); }

  // The leaf's common name when `key` was verified and `now` is inside its
  // usable window; nothing otherwise.
  std::optional<std::string> find(const Key& key, std::time_t now) const;
  // Records a chain that passed verification; usable within the leaf's
  // [not_before, not_after] and for kMaxAge from `now`.
  void insert(const Key& key, std::time_t not_before, std::time_t not_after,
              std::string common_name, std::time_t now);
  std::size_t size() const;

 private:
  struct Entry {
    std::time_t from;
    std::time_t until;
    std::string common_name;
  };
  std::shared_ptr<const palyra::Clock> clock_;
  mutable std::mutex
      mutex_;  // the gRPC listener does not use it; tests may share contexts across threads
  std::unordered_map<Key, Entry> entries_;
};

}  // namespace palyra::transport
