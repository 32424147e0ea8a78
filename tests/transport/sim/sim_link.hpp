// One direction of a simulated network path: what happens to a datagram
// between write_datagrams() on one side and receive() on the other. Loss,
// duplication, corruption, delay with jitter, reordering, a bottleneck rate
// with a bounded queue, and blackhole windows, all drawn from a seeded
// generator so a run is the same every time for the same seed.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <vector>

namespace palyra::transport::sim {

inline constexpr std::uint64_t kMs = 1'000'000;  // nanoseconds per millisecond
inline constexpr std::uint64_t kSecond = 1'000 * kMs;

// A time window [begin, end) of simulated nanoseconds.
struct Window {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

struct LinkConfig {
  std::uint64_t delay_ns = 10 * kMs;  // one way
  std::uint64_t jitter_ns = 0;        // uniform extra delay in [0, jitter), order kept
  double loss = 0;                    // probability a datagram is dropped
  double duplicate = 0;               // probability it arrives twice
  double corrupt = 0;                 // probability one of its bytes is flipped
  double reorder = 0;                 // probability it is held back by reorder_ns
  std::uint64_t reorder_ns = 5 * kMs;
  // Bottleneck: bytes per second (0: unlimited) and how long a datagram may
  // wait in the bottleneck's queue before it is dropped (tail drop).
  std::uint64_t rate_bytes_per_s = 0;
  std::uint64_t max_queue_ns = 100 * kMs;
  // Datagrams sent inside one of these windows vanish.
  std::vector<Window> blackholes;
  // Datagrams for which this returns true vanish; the argument counts the
  // datagrams sent on the link from 1 (e.g. "the client's packets 2 to 7").
  std::function<bool(std::uint64_t number)> drop;
};

// The link model: give it a datagram and the time it was sent, get back
// the copies that arrive and when (none, one, or two when duplicated).
class Link {
 public:
  struct Arrival {
    std::uint64_t at_ns;
    std::vector<std::uint8_t> bytes;
  };
  struct Counters {
    std::uint64_t sent = 0;
    std::uint64_t lost = 0;  // loss, blackhole, drop filter and queue overflow
    std::uint64_t duplicated = 0;
    std::uint64_t corrupted = 0;
    std::uint64_t reordered = 0;
  };

  Link(LinkConfig config, std::uint64_t seed) : config_(std::move(config)), random_(seed) {}

  std::vector<Arrival> carry(std::span<const std::uint8_t> datagram, std::uint64_t now_ns);
  const Counters& counters() const noexcept { return counters_; }
  LinkConfig& config() noexcept { return config_; }

 private:
  bool chance(double probability);
  bool in_blackhole(std::uint64_t now_ns) const;

  LinkConfig config_;
  std::mt19937_64 random_;
  Counters counters_;
  std::uint64_t bottleneck_free_at_ = 0;  // when the bottleneck finishes its queue
  std::uint64_t last_arrival_ = 0;        // arrivals keep their order unless reordered
};

}  // namespace palyra::transport::sim
