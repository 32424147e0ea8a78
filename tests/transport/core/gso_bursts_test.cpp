// Packets grouped into the bursts GSO sends with one system call: equal
// sizes join, a shorter one ends its burst, and a burst stays within the
// kernel's limits.
#include "gso_bursts.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace palyra::transport {
namespace {

class GsoBurstsTest : public ::testing::Test {
 protected:
  // Writes a packet of `size` bytes the way the packet writer does: room
  // for a full packet, then the bytes written.
  void write(std::size_t size) {
    const std::size_t offset = batch_.buffer.size();
    batch_.buffer.resize(offset + 1500);
    bursts_.add(offset, size);
  }
  std::vector<std::size_t> lengths() const {
    std::vector<std::size_t> out;
    for (const auto& burst : batch_.bursts) out.push_back(burst.length);
    return out;
  }

  SocketAddress peer_ = std::move(SocketAddress::parse("127.0.0.1:7444")).value();
  DatagramBatch batch_;
  GsoBursts bursts_{batch_, peer_};
};

TEST_F(GsoBurstsTest, EqualPacketsShareABurstAndAShortOneEndsIt) {
  write(1200);
  write(1200);
  write(700);
  write(1200);
  ASSERT_EQ(batch_.bursts.size(), 2u);
  EXPECT_EQ(lengths(), (std::vector<std::size_t>{3100, 1200}));
  EXPECT_EQ(batch_.bursts[0].segment_size, 1200u);
  EXPECT_EQ(batch_.bursts[1].offset, 3100u) << "packets lie back to back";
  EXPECT_EQ(batch_.buffer.size(), 4300u) << "the room left after a packet is trimmed";
  EXPECT_EQ(batch_.bursts[0].to.to_string(), "127.0.0.1:7444");
}

TEST_F(GsoBurstsTest, ALargerPacketStartsANewBurst) {
  write(700);
  write(1200);
  EXPECT_EQ(lengths(), (std::vector<std::size_t>{700, 1200}));
}

TEST_F(GsoBurstsTest, ABurstHoldsAtMost64Segments) {
  for (int i = 0; i < 65; ++i) write(100);
  ASSERT_EQ(batch_.bursts.size(), 2u);
  EXPECT_EQ(batch_.bursts[0].length, 64u * 100);
  EXPECT_EQ(batch_.bursts[1].length, 100u);
}

TEST_F(GsoBurstsTest, ABurstStaysUnder64KiB) {
  for (int i = 0; i < 50; ++i) write(1400);
  ASSERT_EQ(batch_.bursts.size(), 2u);
  EXPECT_LE(batch_.bursts[0].length, GsoBursts::kMaxBytes);
  EXPECT_EQ(batch_.bursts[0].length, 46u * 1400);
  EXPECT_EQ(batch_.bursts[1].length, 4u * 1400);
}

}  // namespace
}  // namespace palyra::transport
