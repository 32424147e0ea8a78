#include "sim_link.hpp"

#include <algorithm>

namespace palyra::transport::sim {

bool Link::chance(double probability) {
  if (probability <= 0) return false;
  return std::uniform_real_distribution<double>(0, 1)(random_) < probability;
}

bool Link::in_blackhole(std::uint64_t now_ns) const {
  return std::any_of(config_.blackholes.begin(), config_.blackholes.end(),
                     [now_ns](const Window& w) { return now_ns >= w.begin && now_ns < w.end; });
}

std::vector<Link::Arrival> Link::carry(std::span<const std::uint8_t> datagram,
                                       std::uint64_t now_ns) {
  std::vector<Arrival> arrivals;
  const std::uint64_t number = ++counters_.sent;
  // Every draw happens for every datagram, in the same order, so changing one
  // probability does not reshuffle the fate of the others.
  const bool lost = chance(config_.loss);
  const bool duplicated = chance(config_.duplicate);
  const bool corrupted = chance(config_.corrupt);
  const bool reordered = chance(config_.reorder);
  const std::uint64_t jitter =
      config_.jitter_ns == 0
          ? 0
          : std::uniform_int_distribution<std::uint64_t>(0, config_.jitter_ns - 1)(random_);
  const std::size_t corrupt_at =
      std::uniform_int_distribution<std::size_t>(0, datagram.size() - 1)(random_);
  const auto corrupt_bit = static_cast<std::uint8_t>(1u << (random_() % 8));

  if (lost || in_blackhole(now_ns) || (config_.drop && config_.drop(number))) {
    ++counters_.lost;
    return arrivals;
  }
  std::uint64_t leaves = now_ns;
  if (config_.rate_bytes_per_s > 0) {
    const std::uint64_t start = std::max(now_ns, bottleneck_free_at_);
    if (start - now_ns > config_.max_queue_ns) {
      ++counters_.lost;
      return arrivals;
    }
    bottleneck_free_at_ = start + datagram.size() * kSecond / config_.rate_bytes_per_s;
    leaves = bottleneck_free_at_;
  }
  std::uint64_t at = leaves + config_.delay_ns + jitter;
  if (reordered) {
    ++counters_.reordered;
    at += config_.reorder_ns;  // overtaken by what follows; does not hold the rest back
  } else {
    at = std::max(at, last_arrival_);
    last_arrival_ = at;
  }
  Arrival arrival{at, std::vector<std::uint8_t>(datagram.begin(), datagram.end())};
  if (corrupted) {
    ++counters_.corrupted;
    arrival.bytes[corrupt_at] ^= corrupt_bit;
  }
  if (duplicated) {
    ++counters_.duplicated;
    arrivals.push_back({at + 1, arrival.bytes});
  }
  arrivals.insert(arrivals.begin(), std::move(arrival));
  return arrivals;
}

}  // namespace palyra::transport::sim
