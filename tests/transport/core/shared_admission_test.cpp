// The admission counts the workers share hold their caps exactly, alone and
// when workers race for the last places.
#include "shared_admission.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace palyra::transport {
namespace {

TEST(SharedAdmissionTest, HandshakesAndConnectionsEachHoldTheirCap) {
  SharedAdmission admission(3, 2);
  EXPECT_TRUE(admission.try_admit());
  EXPECT_TRUE(admission.try_admit());
  EXPECT_FALSE(admission.try_admit()) << "a third handshake";
  EXPECT_EQ(admission.connections(), 2u) << "a refusal reserves nothing";
  admission.handshake_ended();
  EXPECT_TRUE(admission.try_admit());
  admission.handshake_ended();
  EXPECT_FALSE(admission.try_admit()) << "a fourth connection";
  EXPECT_EQ(admission.handshakes(), 1u);
  admission.connection_closed();
  EXPECT_TRUE(admission.try_admit());
  EXPECT_EQ(admission.connections(), 3u);
  EXPECT_EQ(admission.handshakes(), 2u);
}

TEST(SharedAdmissionTest, ReleasesNeverGoBelowZero) {
  SharedAdmission admission(1, 1);
  admission.handshake_ended();
  admission.connection_closed();
  EXPECT_EQ(admission.connections(), 0u);
  EXPECT_EQ(admission.handshakes(), 0u);
  EXPECT_TRUE(admission.try_admit());
  EXPECT_FALSE(admission.try_admit());
}

// Four workers race for 100 places: exactly 100 are admitted, never more.
TEST(SharedAdmissionTest, RacingWorkersNeverExceedTheCap) {
  for (int round = 0; round < 20; ++round) {
    SharedAdmission admission(100, 1000);
    std::atomic<std::size_t> admitted{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w) {
      workers.emplace_back([&] {
        for (int i = 0; i < 1000; ++i) {
          if (admission.try_admit()) admitted.fetch_add(1);
        }
      });
    }
    for (auto& worker : workers) worker.join();
    ASSERT_EQ(admitted.load(), 100u) << "round " << round;
    ASSERT_EQ(admission.connections(), 100u);
    ASSERT_EQ(admission.handshakes(), 100u);
  }
}

}  // namespace
}  // namespace palyra::transport
