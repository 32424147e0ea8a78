// The inbox through which one worker hands another the datagrams of its
// connections: a real EventLoop, real threads.
#include "worker_inbox.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <compare>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace palyra::transport {
namespace {

SocketAddress client(std::uint16_t port) {
  return std::move(SocketAddress::parse("127.0.0.1:" + std::to_string(port))).value();
}

std::vector<std::uint8_t> datagram_of(std::uint16_t producer, std::uint16_t number) {
  std::vector<std::uint8_t> bytes(100 + number % 50, static_cast<std::uint8_t>(number));
  bytes[0] = static_cast<std::uint8_t>(producer);
  return bytes;
}

struct Delivered {
  std::uint16_t port;
  std::vector<std::uint8_t> bytes;
  auto operator<=>(const Delivered&) const = default;
};

// Three workers hand a fourth datagrams at once; the fourth's loop, blocked
// in epoll, is woken and gets every one, intact, on its own thread.
TEST(WorkerInboxTest, DatagramsFromOtherThreadsArriveOnTheLoopsThread) {
  auto loop = EventLoop::create().value();
  constexpr std::uint16_t kProducers = 3;
  constexpr std::uint16_t kEach = 200;
  std::set<Delivered> delivered;
  std::thread::id sink_thread;
  auto inbox = WorkerInbox::create(*loop, kProducers * kEach,
                                   [&](const SocketAddress& from, std::span<std::uint8_t> data) {
                                     sink_thread = std::this_thread::get_id();
                                     delivered.insert({from.port(), {data.begin(), data.end()}});
                                     if (delivered.size() == kProducers * kEach) loop->stop();
                                   })
                   .value();
  std::thread consumer([&] { (void)loop->run(); });
  std::vector<std::thread> producers;
  for (std::uint16_t p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (std::uint16_t n = 0; n < kEach; ++n) {
        EXPECT_TRUE(inbox->push(client(40000 + p), datagram_of(p, n)));
      }
    });
  }
  for (auto& producer : producers) producer.join();
  const std::thread::id consumer_id = consumer.get_id();
  consumer.join();

  EXPECT_EQ(sink_thread, consumer_id);
  std::set<Delivered> expected;
  for (std::uint16_t p = 0; p < kProducers; ++p) {
    for (std::uint16_t n = 0; n < kEach; ++n) {
      expected.insert({static_cast<std::uint16_t>(40000 + p), datagram_of(p, n)});
    }
  }
  EXPECT_EQ(delivered.size(), expected.size());
  EXPECT_TRUE(delivered == expected);
  EXPECT_EQ(inbox->dropped(), 0u);
}

// A loop waiting in epoll with no timer due wakes for a pushed datagram: the
// eventfd, not the wait's end, delivers it.
TEST(WorkerInboxTest, APushWakesAWaitingLoop) {
  auto loop = EventLoop::create().value();
  std::size_t delivered = 0;
  auto inbox = WorkerInbox::create(*loop, 4, [&](const SocketAddress&, std::span<std::uint8_t>) {
                 ++delivered;
               }).value();
  std::thread producer([&] { EXPECT_TRUE(inbox->push(client(40000), datagram_of(0, 1))); });
  // One iteration; without a wakeup it would return after the wait with
  // nothing delivered.
  for (int i = 0; i < 2 && delivered == 0; ++i) {
    ASSERT_TRUE(loop->run_once(std::chrono::minutes(1)));
  }
  producer.join();
  EXPECT_EQ(delivered, 1u);
}

// Bounded: past its capacity the inbox refuses and counts; once drained it
// takes datagrams again.
TEST(WorkerInboxTest, AFullInboxDropsAndCounts) {
  auto loop = EventLoop::create().value();
  std::vector<std::vector<std::uint8_t>> delivered;
  auto inbox =
      WorkerInbox::create(*loop, 4, [&](const SocketAddress&, std::span<std::uint8_t> data) {
        delivered.emplace_back(data.begin(), data.end());
      }).value();
  for (std::uint16_t n = 0; n < 6; ++n) {
    EXPECT_EQ(inbox->push(client(40000), datagram_of(0, n)), n < 4) << "datagram " << n;
  }
  EXPECT_EQ(inbox->dropped(), 2u);
  ASSERT_TRUE(loop->run_once(std::chrono::milliseconds(0)));
  ASSERT_EQ(delivered.size(), 4u);
  for (std::uint16_t n = 0; n < 4; ++n) EXPECT_EQ(delivered[n], datagram_of(0, n));  // in order

  EXPECT_TRUE(inbox->push(client(40000), datagram_of(0, 9)));
  ASSERT_TRUE(loop->run_once(std::chrono::milliseconds(0)));
  ASSERT_EQ(delivered.size(), 5u);
  EXPECT_EQ(delivered[4], datagram_of(0, 9));
  EXPECT_FALSE(WorkerInbox::create(*loop, 0, [](const SocketAddress&, std::span<std::uint8_t>) {}));
}

}  // namespace
}  // namespace palyra::transport
