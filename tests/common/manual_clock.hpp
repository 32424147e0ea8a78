// A clock that moves only when a test says so: certificates expire, tokens
// run out and events grow old at once, every run alike. Tests only: the
// daemon and the CLI need nothing but palyra::system_clock().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "palyra/common/clock.hpp"

namespace palyra::testing {

class ManualClock final : public Clock {
 public:
  // Starts at the real time, so certificates issued for "now" by the real
  // clock are valid on it until the test moves it.
  ManualClock()
      : wall_start_(std::chrono::system_clock::now()),
        steady_start_(std::chrono::steady_clock::now()) {}

  SystemTime now() const noexcept override {
    return wall_start_ + std::chrono::duration_cast<SystemTime::duration>(elapsed());
  }
  SteadyTime steady_now() const noexcept override {
    return steady_start_ + std::chrono::duration_cast<SteadyTime::duration>(elapsed());
  }
  // Moves both clocks forward; safe while other threads read them.
  void advance(std::chrono::nanoseconds by) noexcept {
    elapsed_ns_.fetch_add(by.count(), std::memory_order_acq_rel);
  }

 private:
  std::chrono::nanoseconds elapsed() const noexcept {
    return std::chrono::nanoseconds(elapsed_ns_.load(std::memory_order_acquire));
  }
  const SystemTime wall_start_;
  const SteadyTime steady_start_;
  std::atomic<std::int64_t> elapsed_ns_{0};
};

}  // namespace palyra::testing
