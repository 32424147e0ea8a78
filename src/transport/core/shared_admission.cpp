// Daemon-wide admission counts (see shared_admission.hpp).
#include "shared_admission.hpp"

namespace palyra::transport {
namespace {

// Adds one to `count` unless it is at `cap`, atomically: two workers never
// both take the last place.
bool increment_below(std::atomic<std::size_t>& count, std::size_t cap) noexcept {
  std::size_t seen = count.load();
  while (seen < cap) {
    if (count.compare_exchange_weak(seen, seen + 1)) return true;
  }
  return false;
}

// Never below zero: a release without its reservation is a bug elsewhere,
// and must not turn the count into a huge number that refuses everyone.
void decrement(std::atomic<std::size_t>& count) noexcept {
  std::size_t seen = count.load();
  while (seen > 0 && !count.compare_exchange_weak(seen, seen - 1)) {
  }
}

}  // namespace

bool SharedAdmission::try_admit() noexcept {
  if (!increment_below(connections_, max_connections_)) return false;
  if (!increment_below(handshakes_, max_handshakes_)) {
    // A worker refused meanwhile for this brief reservation was refused
    // conservatively: the cap is never exceeded.
    decrement(connections_);
    return false;
  }
  return true;
}

void SharedAdmission::handshake_ended() noexcept {
  decrement(handshakes_);
}

void SharedAdmission::connection_closed() noexcept {
  decrement(connections_);
}

}  // namespace palyra::transport
