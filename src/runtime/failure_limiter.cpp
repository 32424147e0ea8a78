#include "palyra/runtime/failure_limiter.hpp"

#include <algorithm>

namespace palyra::runtime {

bool FailureLimiter::is_locked_out(const std::string& address, TimePoint now) const {
  auto it = entries_.find(address);
  return it != entries_.end() && now < it->second.locked_until;
}

bool FailureLimiter::record_failure(const std::string& address, TimePoint now) {
  auto it = entries_.find(address);
  if (it == entries_.end()) {
    if (entries_.size() >= policy_.max_addresses) evict_stalest();
    it = entries_.emplace(address, Entry{0, now, TimePoint{}, now}).first;
  }
  Entry& entry = it->second;
  entry.last_seen = now;
  if (now - entry.window_start >= policy_.window) {
    entry.failures = 0;
    entry.window_start = now;
  }
  ++entry.failures;
  if (entry.failures >= policy_.max_failures && now >= entry.locked_until) {
    entry.locked_until = now + policy_.lockout;
    entry.failures = 0;
    entry.window_start = entry.locked_until;
    return true;
  }
  return false;
}

void FailureLimiter::evict_stalest() {
  auto stalest = std::min_element(
      entries_.begin(), entries_.end(),
      [](const auto& a, const auto& b) { return a.second.last_seen < b.second.last_seen; });
  if (stalest != entries_.end()) entries_.erase(stalest);
}

}  // namespace palyra::runtime
