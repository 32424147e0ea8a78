// Counts failed attempts per source address and refuses an address that
// failed too often, for a while: a token cannot be guessed at network
// speed even if it were short (PROTOCOL.md §7). Time is an argument, so
// tests drive it. Bounded: at most Policy::max_addresses are tracked; the
// stalest is forgotten first.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace palyra::runtime {

class FailureLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Policy {
    std::size_t max_failures = 5;  // within `window`...
    std::chrono::seconds window{60};
    std::chrono::seconds lockout{60};  // ...then refused for this long
    std::size_t max_addresses = 10'000;
  };

  explicit FailureLimiter(Policy policy) : policy_(policy) {}

  // True while `address` is locked out.
  bool is_locked_out(const std::string& address, TimePoint now) const;
  // Records a failure; returns true when this one locked the address out.
  bool record_failure(const std::string& address, TimePoint now);
  std::size_t tracked() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    std::size_t failures = 0;
    TimePoint window_start;
    TimePoint locked_until;
    TimePoint last_seen;
  };
  void evict_stalest();

  Policy policy_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace palyra::runtime
