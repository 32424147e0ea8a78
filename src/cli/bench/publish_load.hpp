// Durable publishes at a given concurrency, spread over as many connections
// as the server's stream limit needs: `palyra bench publish`, and the
// seeding step of `palyra bench stream --seed`.
#pragma once

#include <optional>
#include <string_view>

#include "figures.hpp"
#include "target.hpp"

namespace palyra::cli::bench {

struct PublishFigures {
  std::uint64_t published = 0;
  std::uint64_t failed = 0;
  double seconds = 0;
  LatencySamples latencies;
  std::uint64_t first_seq = 0;  // lowest and highest seq the daemon confirmed
  std::uint64_t last_seq = 0;
  std::optional<Error> first_error;
};

// Err only when the run could not start or did not finish in time; failed
// publishes are counted in the figures.
Result<PublishFigures> publish_load(Target& target, std::uint64_t count, std::uint64_t concurrency,
                                    std::uint64_t event_bytes, std::string_view what);

}  // namespace palyra::cli::bench
