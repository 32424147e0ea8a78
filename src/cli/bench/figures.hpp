// What every `palyra bench` run shares: latency percentiles, a stopwatch,
// progress lines on stderr, and the one line of JSON figures on stdout.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace palyra::cli::bench {

using Clock = std::chrono::steady_clock;

// Rounds to 3 decimals, so the JSON line stays readable.
double round3(double value);

class Stopwatch {
 public:
  Stopwatch() : start_(Clock::now()) {}
  void restart() { start_ = Clock::now(); }
  Clock::duration elapsed() const { return Clock::now() - start_; }
  double seconds() const { return std::chrono::duration<double>(elapsed()).count(); }

 private:
  Clock::time_point start_;
};

class LatencySamples {
 public:
  void reserve(std::size_t count) { samples_.reserve(count); }
  void add(Clock::duration sample) {
    samples_.push_back(sample.count());
    sorted_ = false;
  }
  std::size_t count() const noexcept { return samples_.size(); }
  // The p-th percentile (0..100, nearest rank); 0 without samples.
  double percentile_us(double p);
  double percentile_ms(double p) { return round3(percentile_us(p) / 1000.0); }

 private:
  std::vector<Clock::rep> samples_;
  bool sorted_ = true;
};

// "palyra bench rpc: 12000/20000 calls, 41200/s" on stderr, at most once a
// second, so short runs print nothing and long ones show they are alive.
class Progress {
 public:
  Progress(std::string what, std::string unit, std::uint64_t total)
      : what_(std::move(what)), unit_(std::move(unit)), total_(total) {}
  void update(std::uint64_t done);

 private:
  std::string what_;
  std::string unit_;
  std::uint64_t total_;
  Stopwatch since_start_;
  Clock::time_point last_print_ = Clock::now();
};

// The final line of figures, on stdout. Field order is kept as inserted.
void print_figures(const nlohmann::ordered_json& figures);

}  // namespace palyra::cli::bench
