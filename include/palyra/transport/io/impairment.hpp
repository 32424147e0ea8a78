// A seeded lossy network on the receive path, for tests: drop, duplicate
// and reorder datagrams with fixed probabilities, reproducibly.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "palyra/transport/socket_address.hpp"

namespace palyra::transport {

struct NetworkImpairment {
  double loss = 0.0;       // probability a datagram is dropped
  double duplicate = 0.0;  // probability it is delivered twice
  double reorder = 0.0;    // probability it is held back and delivered after the next one
  std::uint64_t seed = 1;
};

class DatagramImpairer {
 public:
  using Deliver = std::function<void(const SocketAddress&, std::span<const std::uint8_t>)>;
  explicit DatagramImpairer(NetworkImpairment settings)
      : settings_(settings), random_(settings.seed) {}

  void process(const SocketAddress& from, std::span<const std::uint8_t> datagram,
               const Deliver& deliver);

  std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  bool roll(double probability) { return probability > 0 && unit_(random_) < probability; }

  NetworkImpairment settings_;
  std::mt19937_64 random_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  std::optional<std::pair<SocketAddress, std::vector<std::uint8_t>>> held_;
  std::uint64_t dropped_ = 0;
};

}  // namespace palyra::transport
