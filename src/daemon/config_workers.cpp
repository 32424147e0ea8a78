// gateway.workers as a number (see config.hpp).
#include <sched.h>

#include <algorithm>

#include "config.hpp"

namespace palyra::daemon {

std::size_t quic_worker_count(std::uint64_t configured) {
  if (configured != 0) return static_cast<std::size_t>(std::min(configured, kMaxQuicWorkers));
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (::sched_getaffinity(0, sizeof cpus, &cpus) != 0) return 1;
  const auto count = static_cast<std::uint64_t>(CPU_COUNT(&cpus));
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(count, 1, kMaxQuicWorkers));
}

}  // namespace palyra::daemon
