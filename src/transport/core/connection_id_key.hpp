// A connection ID as a hash-map key that lives on the stack: looking up the
// DCID of a datagram (every datagram, garbage included) must not allocate.
#pragma once

#include <ngtcp2/ngtcp2.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>

namespace palyra::transport {

class ConnectionIdKey {
 public:
  // Nothing for an ID longer than QUIC v1 allows (20 bytes): no connection
  // of ours has one.
  static std::optional<ConnectionIdKey> of(std::span<const std::uint8_t> cid) noexcept {
    if (cid.size() > NGTCP2_MAX_CIDLEN) return std::nullopt;
    ConnectionIdKey key;
    key.length_ = static_cast<std::uint8_t>(cid.size());
    std::copy(cid.begin(), cid.end(), key.bytes_.begin());
    return key;
  }
  static std::optional<ConnectionIdKey> of(std::string_view cid) noexcept {
    return of({reinterpret_cast<const std::uint8_t*>(cid.data()), cid.size()});
  }

  std::string_view view() const noexcept {
    return {reinterpret_cast<const char*>(bytes_.data()), length_};
  }
  bool operator==(const ConnectionIdKey& other) const noexcept { return view() == other.view(); }

  struct Hash {
    std::size_t operator()(const ConnectionIdKey& key) const noexcept {
      return std::hash<std::string_view>{}(key.view());
    }
  };

 private:
  ConnectionIdKey() = default;
  std::array<std::uint8_t, NGTCP2_MAX_CIDLEN> bytes_{};
  std::uint8_t length_ = 0;
};

}  // namespace palyra::transport
