// A token bucket on caller-supplied time: at most `burst` events at once and
// `per_second` on average. Bounds how much unsolicited work (stateless
// resets) a stream of packets can make us do, whatever their rate.
#pragma once

#include <algorithm>
#include <cstdint>

namespace palyra::transport {

class TokenBucket {
 public:
  TokenBucket(std::uint64_t per_second, std::uint64_t burst) noexcept
      : per_second_(per_second), burst_(burst), tokens_(burst) {}

  // Takes one token if there is one at `now_ns` (monotonic). Time that runs
  // backwards is treated as no time.
  bool take(std::uint64_t now_ns) noexcept {
    refill(now_ns);
    if (tokens_ == 0) return false;
    --tokens_;
    return true;
  }

 private:
  static constexpr std::uint64_t kNsPerSecond = 1'000'000'000;

  void refill(std::uint64_t now_ns) noexcept {
    if (!started_) {
      started_ = true;
      last_ns_ = now_ns;
      return;
    }
    if (per_second_ == 0 || now_ns <= last_ns_) return;
    const std::uint64_t earned = (now_ns - last_ns_) * per_second_ / kNsPerSecond;
    if (earned == 0) return;  // keep the fraction: last_ns_ stays until a whole token is due
    tokens_ = std::min(burst_, tokens_ + earned);
    last_ns_ += earned * kNsPerSecond / per_second_;
  }

  std::uint64_t per_second_;
  std::uint64_t burst_;
  std::uint64_t tokens_;
  std::uint64_t last_ns_ = 0;
  bool started_ = false;
};

}  // namespace palyra::transport
