#include "figures.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>

namespace palyra::cli::bench {

double LatencySamples::percentile_us(double p) {
  if (samples_.empty()) return 0;
  if (!sorted_) {
    std::sort(samples_.begin(), samples_.end());
    sorted_ = true;
  }
  // Nearest rank: the smallest sample with at least p% of samples at or below it.
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(samples_.size())));
  rank = std::clamp<std::size_t>(rank, 1, samples_.size());
  return round3(
      std::chrono::duration<double, std::micro>(Clock::duration(samples_[rank - 1])).count());
}

void Progress::update(std::uint64_t done) {
  auto now = Clock::now();
  if (now - last_print_ < std::chrono::seconds(1)) return;
  last_print_ = now;
  const double rate = static_cast<double>(done) / std::max(since_start_.seconds(), 1e-9);
  if (total_ > 0) {
    std::cerr << fmt::format("palyra bench {}: {}/{} {}, {:.0f}/s\n", what_, done, total_, unit_,
                             rate);
  } else {
    std::cerr << fmt::format("palyra bench {}: {} {}, {:.0f}/s\n", what_, done, unit_, rate);
  }
}

double round3(double value) {
  return std::round(value * 1000.0) / 1000.0;
}

void print_figures(const nlohmann::ordered_json& figures) {
  std::cout << figures.dump() << std::endl;
}

}  // namespace palyra::cli::bench
