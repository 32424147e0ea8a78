// The figures `palyra bench` reports: latency percentiles by nearest rank,
// rounded to 3 decimals.
#include "../../../src/cli/bench/figures.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace palyra::cli::bench {
namespace {

using namespace std::chrono_literals;

TEST(FiguresTest, PercentilesAreTheNearestRank) {
  LatencySamples samples;
  EXPECT_EQ(samples.percentile_us(50), 0.0) << "no samples";
  // Added out of order: the percentile sorts them.
  for (int us : {7, 3, 10, 1, 5, 2, 9, 4, 8, 6}) samples.add(std::chrono::microseconds(us));
  EXPECT_EQ(samples.count(), 10u);
  EXPECT_EQ(samples.percentile_us(50), 5.0);
  EXPECT_EQ(samples.percentile_us(90), 9.0);
  EXPECT_EQ(samples.percentile_us(91), 10.0);
  EXPECT_EQ(samples.percentile_us(100), 10.0);
  EXPECT_EQ(samples.percentile_us(0), 1.0) << "the smallest sample, not below it";
  samples.add(1500us);
  EXPECT_EQ(samples.percentile_ms(100), 1.5);
}

TEST(FiguresTest, RoundsToThreeDecimals) {
  EXPECT_EQ(round3(1.23456), 1.235);
  EXPECT_EQ(round3(0.0004), 0.0);
  EXPECT_EQ(round3(2.0), 2.0);
}

}  // namespace
}  // namespace palyra::cli::bench
