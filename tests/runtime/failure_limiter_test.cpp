#include "palyra/runtime/failure_limiter.hpp"

#include <gtest/gtest.h>

namespace palyra::runtime {
namespace {

using namespace std::chrono_literals;
using TimePoint = FailureLimiter::TimePoint;

class FailureLimiterTest : public ::testing::Test {
 protected:
  TimePoint at(std::chrono::seconds offset) const { return start_ + offset; }
  TimePoint start_ = TimePoint{} + 1000h;
  FailureLimiter limiter_{FailureLimiter::Policy{5, 60s, 60s, 3}};
};

TEST_F(FailureLimiterTest, FiveFailuresInAMinuteLockOutForAMinute) {
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(limiter_.record_failure("198.51.100.7", at(std::chrono::seconds(i))));
    EXPECT_FALSE(limiter_.is_locked_out("198.51.100.7", at(std::chrono::seconds(i))));
  }
  EXPECT_TRUE(limiter_.record_failure("198.51.100.7", at(4s)));
  EXPECT_TRUE(limiter_.is_locked_out("198.51.100.7", at(5s)));
  EXPECT_TRUE(limiter_.is_locked_out("198.51.100.7", at(63s)));
  EXPECT_FALSE(limiter_.is_locked_out("198.51.100.7", at(64s)));
  // Another address is not affected.
  EXPECT_FALSE(limiter_.is_locked_out("198.51.100.8", at(5s)));
}

TEST_F(FailureLimiterTest, FailuresSpreadOverMoreThanAMinuteDoNotLockOut) {
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(limiter_.record_failure("a", at(std::chrono::seconds(i * 15))));
  }
  EXPECT_FALSE(limiter_.is_locked_out("a", at(150s)));
}

TEST_F(FailureLimiterTest, AfterALockoutTheCountStartsAgain) {
  for (int i = 0; i < 5; ++i) (void)limiter_.record_failure("a", at(0s));
  ASSERT_TRUE(limiter_.is_locked_out("a", at(1s)));
  EXPECT_FALSE(limiter_.record_failure("a", at(61s)));
  EXPECT_FALSE(limiter_.is_locked_out("a", at(61s)));
}

TEST_F(FailureLimiterTest, TracksABoundedNumberOfAddressesForgettingTheStalest) {
  (void)limiter_.record_failure("old", at(0s));
  (void)limiter_.record_failure("mid", at(1s));
  (void)limiter_.record_failure("new", at(2s));
  (void)limiter_.record_failure("newer", at(3s));
  EXPECT_EQ(limiter_.tracked(), 3u);
  // "old" was forgotten: its next four failures do not lock it out yet.
  for (int i = 0; i < 4; ++i) (void)limiter_.record_failure("old", at(4s));
  EXPECT_FALSE(limiter_.is_locked_out("old", at(4s)));
}

}  // namespace
}  // namespace palyra::runtime
