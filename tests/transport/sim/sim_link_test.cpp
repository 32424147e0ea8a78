// The link model on its own: each impairment does what its name says, and
// the same seed gives the same fates.
#include "sim_link.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace palyra::transport::sim {
namespace {

const std::vector<std::uint8_t> kDatagram(1200, 0xab);

// Sends `count` datagrams 1 ms apart; returns every arrival.
std::vector<Link::Arrival> send_many(Link& link, int count) {
  std::vector<Link::Arrival> arrivals;
  for (int i = 0; i < count; ++i) {
    for (auto& arrival : link.carry(kDatagram, static_cast<std::uint64_t>(i) * kMs)) {
      arrivals.push_back(std::move(arrival));
    }
  }
  return arrivals;
}

TEST(SimLink, PlainLinkDelaysEveryDatagramAndKeepsItIntact) {
  Link link({.delay_ns = 15 * kMs}, 1);
  auto arrivals = link.carry(kDatagram, 100 * kMs);
  ASSERT_EQ(arrivals.size(), 1u);
  EXPECT_EQ(arrivals[0].at_ns, 115 * kMs);
  EXPECT_EQ(arrivals[0].bytes, kDatagram);
}

TEST(SimLink, SameSeedSameFatesAndAnotherSeedOthers) {
  LinkConfig config{.jitter_ns = 3 * kMs, .loss = 0.3, .duplicate = 0.1, .corrupt = 0.1};
  Link first(config, 7), again(config, 7), other(config, 8);
  auto a = send_many(first, 200), b = send_many(again, 200), c = send_many(other, 200);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].at_ns, b[i].at_ns);
    EXPECT_EQ(a[i].bytes, b[i].bytes);
  }
  bool differs = a.size() != c.size();
  for (std::size_t i = 0; !differs && i < a.size(); ++i) differs = a[i].at_ns != c[i].at_ns;
  EXPECT_TRUE(differs);
}

TEST(SimLink, LossDropsAboutItsShare) {
  Link link({.loss = 0.3}, 3);
  const auto arrivals = send_many(link, 10'000);
  EXPECT_NEAR(static_cast<double>(arrivals.size()) / 10'000, 0.7, 0.02);
  EXPECT_EQ(link.counters().lost + arrivals.size(), 10'000u);
}

TEST(SimLink, CorruptionFlipsExactlyOneBit) {
  Link link({.corrupt = 1.0}, 4);
  auto arrivals = link.carry(kDatagram, 0);
  ASSERT_EQ(arrivals.size(), 1u);
  int flipped_bits = 0;
  for (std::size_t i = 0; i < kDatagram.size(); ++i) {
    flipped_bits += __builtin_popcount(arrivals[0].bytes[i] ^ kDatagram[i]);
  }
  EXPECT_EQ(flipped_bits, 1);
}

TEST(SimLink, DuplicationDeliversTwoCopies) {
  Link link({.duplicate = 1.0}, 5);
  auto arrivals = link.carry(kDatagram, 0);
  ASSERT_EQ(arrivals.size(), 2u);
  EXPECT_EQ(arrivals[0].bytes, arrivals[1].bytes);
}

TEST(SimLink, JitterKeepsOrderAndReorderingBreaksIt) {
  Link ordered({.jitter_ns = 5 * kMs}, 6);
  auto arrivals = send_many(ordered, 500);
  for (std::size_t i = 1; i < arrivals.size(); ++i) {
    EXPECT_GE(arrivals[i].at_ns, arrivals[i - 1].at_ns);
  }
  Link shuffled({.reorder = 0.2, .reorder_ns = 5 * kMs}, 6);
  arrivals = send_many(shuffled, 500);
  int overtaken = 0;
  for (std::size_t i = 1; i < arrivals.size(); ++i) {
    overtaken += arrivals[i].at_ns < arrivals[i - 1].at_ns;
  }
  EXPECT_GT(overtaken, 0);
}

TEST(SimLink, BlackholeSwallowsItsWindowOnly) {
  Link link({.blackholes = {{10 * kMs, 20 * kMs}}}, 7);
  EXPECT_EQ(link.carry(kDatagram, 9 * kMs).size(), 1u);
  EXPECT_TRUE(link.carry(kDatagram, 10 * kMs).empty());
  EXPECT_TRUE(link.carry(kDatagram, 19 * kMs).empty());
  EXPECT_EQ(link.carry(kDatagram, 20 * kMs).size(), 1u);
}

TEST(SimLink, RateSpacesDatagramsAndTheQueueOverflows) {
  // 1.2 MB/s: a 1200-byte datagram takes 1 ms; a 5 ms queue holds five.
  Link link({.delay_ns = 0, .rate_bytes_per_s = 1'200'000, .max_queue_ns = 5 * kMs}, 8);
  std::vector<std::uint64_t> times;
  for (int i = 0; i < 10; ++i) {
    for (auto& arrival : link.carry(kDatagram, 0)) times.push_back(arrival.at_ns);
  }
  ASSERT_EQ(times.size(), 6u);  // one on the wire and five queued
  for (std::size_t i = 0; i < times.size(); ++i) EXPECT_EQ(times[i], (i + 1) * kMs);
  EXPECT_EQ(link.counters().lost, 4u);
}

TEST(SimLink, DropFilterCountsDatagramsFromOne) {
  Link link({.drop = [](std::uint64_t n) { return n >= 2 && n <= 3; }}, 9);
  EXPECT_EQ(link.carry(kDatagram, 0).size(), 1u);
  EXPECT_TRUE(link.carry(kDatagram, 0).empty());
  EXPECT_TRUE(link.carry(kDatagram, 0).empty());
  EXPECT_EQ(link.carry(kDatagram, 0).size(), 1u);
}

}  // namespace
}  // namespace palyra::transport::sim
