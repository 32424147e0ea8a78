// The account of a connection's incomplete request frames, on given time:
// bytes against the budget, and when each stream's frame is due.
#include "incomplete_frames.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "palyra/transport/frame_codec.hpp"
#include "palyra/transport/limits.hpp"

namespace palyra::transport {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000;
constexpr std::uint64_t kTimeout = 10 * kSecond;

TEST(IncompleteFramesTest, HeldBytesAreTheSumOfEachStreamsLatestCount) {
  IncompleteFrames frames(1000, kTimeout);
  EXPECT_TRUE(frames.update(0, 300, 0, kSecond));
  EXPECT_TRUE(frames.update(4, 200, 0, kSecond));
  EXPECT_EQ(frames.held_bytes(), 500u);
  // A stream's count replaces its previous one; it is not added to it.
  EXPECT_TRUE(frames.update(0, 450, 0, kSecond));
  EXPECT_EQ(frames.held_bytes(), 650u);
  // Its frame completed with nothing after it: its bytes no longer count.
  EXPECT_TRUE(frames.update(4, 0, 1, kSecond));
  EXPECT_EQ(frames.held_bytes(), 450u);
  frames.forget(0);
  EXPECT_EQ(frames.held_bytes(), 0u);
  frames.forget(0);  // twice is harmless
  EXPECT_EQ(frames.held_bytes(), 0u);
}

TEST(IncompleteFramesTest, TheStreamThatPassesTheBudgetIsRefusedAndForgettingItReleasesItsBytes) {
  IncompleteFrames frames(1000, kTimeout);
  EXPECT_TRUE(frames.update(0, 600, 0, kSecond));
  EXPECT_TRUE(frames.update(4, 400, 0, kSecond));  // exactly the budget is within it
  EXPECT_FALSE(frames.update(8, 1, 0, kSecond));
  EXPECT_EQ(frames.held_bytes(), 1001u);
  frames.forget(8);
  EXPECT_EQ(frames.held_bytes(), 1000u);
  // Growth of a stream already counted is refused the same way.
  EXPECT_FALSE(frames.update(4, 500, 0, kSecond));
  frames.forget(4);
  EXPECT_EQ(frames.held_bytes(), 600u);
  EXPECT_TRUE(frames.update(8, 400, 0, kSecond));
}

TEST(IncompleteFramesTest, AStreamsFirstFrameIsDueATimeoutAfterItOpened) {
  IncompleteFrames frames(1000, kTimeout);
  EXPECT_EQ(frames.next_deadline(), UINT64_MAX);
  frames.opened(0, kSecond);
  EXPECT_EQ(frames.next_deadline(), kSecond + kTimeout);
  // Bytes arriving later do not move the deadline of the first frame.
  EXPECT_TRUE(frames.update(0, 10, 0, 5 * kSecond));
  EXPECT_EQ(frames.next_deadline(), kSecond + kTimeout);
  EXPECT_TRUE(frames.overdue(kSecond + kTimeout - 1).empty());
  EXPECT_EQ(frames.overdue(kSecond + kTimeout), std::vector<std::int64_t>{0});
  // Once it completes, nothing is due.
  EXPECT_TRUE(frames.update(0, 0, 1, 6 * kSecond));
  EXPECT_EQ(frames.next_deadline(), UINT64_MAX);
  EXPECT_TRUE(frames.overdue(100 * kSecond).empty());
}

TEST(IncompleteFramesTest, AStreamOpenedWithoutDataOwesItsFirstFrame) {
  IncompleteFrames frames(1000, kTimeout);
  frames.opened(0, kSecond);
  // A bare FIN (or an empty STREAM frame) completes nothing: still due.
  EXPECT_TRUE(frames.update(0, 0, 0, 2 * kSecond));
  EXPECT_EQ(frames.overdue(kSecond + kTimeout), std::vector<std::int64_t>{0});
  frames.forget(0);
  EXPECT_EQ(frames.next_deadline(), UINT64_MAX);
}

TEST(IncompleteFramesTest, ALaterFrameIsDueATimeoutAfterItsFirstByte) {
  IncompleteFrames frames(1000, kTimeout);
  frames.opened(0, kSecond);
  EXPECT_TRUE(frames.update(0, 0, 1, 2 * kSecond));  // the first frame, whole
  EXPECT_EQ(frames.next_deadline(), UINT64_MAX);
  EXPECT_TRUE(frames.update(0, 7, 0, 30 * kSecond));  // a second one begins
  EXPECT_EQ(frames.next_deadline(), 30 * kSecond + kTimeout);
  // A frame that completes with the start of the next in the same data: the
  // next one's clock starts then.
  EXPECT_TRUE(frames.update(0, 3, 1, 35 * kSecond));
  EXPECT_EQ(frames.next_deadline(), 35 * kSecond + kTimeout);
  EXPECT_EQ(frames.held_bytes(), 3u);
}

TEST(IncompleteFramesTest, TheEarliestDeadlineIsNextAndEveryPassedOneIsOverdue) {
  IncompleteFrames frames(1000, kTimeout);
  frames.opened(8, 3 * kSecond);
  frames.opened(0, 1 * kSecond);
  frames.opened(4, 2 * kSecond);
  EXPECT_EQ(frames.next_deadline(), 1 * kSecond + kTimeout);
  auto overdue = frames.overdue(2 * kSecond + kTimeout);
  std::sort(overdue.begin(), overdue.end());
  EXPECT_EQ(overdue, (std::vector<std::int64_t>{0, 4}));
  frames.forget(0);
  frames.forget(4);
  EXPECT_EQ(frames.next_deadline(), 3 * kSecond + kTimeout);
}

// A budget that cannot hold one maximal frame would refuse every maximal
// request; a zero timeout would stop every stream at once.
TEST(IncompleteFramesTest, LimitsRefuseABudgetBelowOneFrameAndANonPositiveTimeout) {
  Limits limits;
  EXPECT_TRUE(limits.validate().ok());
  limits.max_incomplete_frame_bytes = limits.max_frame_bytes + kFrameHeaderBytes - 1;
  ASSERT_FALSE(limits.validate().ok());
  EXPECT_EQ(limits.validate().error().code(), Errc::InvalidArgument);
  limits.max_incomplete_frame_bytes = limits.max_frame_bytes + kFrameHeaderBytes;
  EXPECT_TRUE(limits.validate().ok());
  limits.request_frame_timeout = std::chrono::milliseconds(0);
  ASSERT_FALSE(limits.validate().ok());
  EXPECT_EQ(limits.validate().error().code(), Errc::InvalidArgument);
}

}  // namespace
}  // namespace palyra::transport
