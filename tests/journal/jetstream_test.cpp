// The JetStream journal against a real nats-server (loopback, its own store
// directory): the Journal promises as the cluster backend keeps them.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "nats_server_test.hpp"
#include "nats_stream_info.hpp"
#include "palyra/journal/journal.hpp"

namespace palyra::journal {
namespace {

using namespace std::chrono_literals;

class JetStreamJournalTest : public palyra::testing::NatsServerTest {
 protected:
  // A journal on the stream; every one opened in a test shares that stream
  // through its own connection, as gateways of one cluster do.
  std::unique_ptr<Journal> open(JournalOptions options = {}) {
    auto journal = open_journal(JetStreamBackend{{server_->url()}}, std::move(options));
    EXPECT_TRUE(journal) << (journal ? "" : journal.error().describe());
    return journal ? std::move(*journal) : nullptr;
  }

  static Result<std::uint64_t> append_sync(Journal& journal, NewEvent event) {
    std::promise<Result<std::uint64_t>> done;
    auto queued = journal.append(
        std::move(event), [&](Result<std::uint64_t> seq) { done.set_value(std::move(seq)); });
    if (!queued) return std::move(queued).error();
    auto answer = done.get_future();
    if (answer.wait_for(10s) != std::future_status::ready)
      return Error(Errc::Internal, "no answer within 10 s");
    return answer.get();
  }

  static std::vector<std::uint64_t> seqs(const std::vector<EventPtr>& events) {
    std::vector<std::uint64_t> out;
    for (const auto& e : events) out.push_back(e->seq);
    return out;
  }
};

TEST_F(JetStreamJournalTest, AppendsInFlightAreAnsweredWithGapFreeSeqsOnceStored) {
  auto journal = open();
  ASSERT_TRUE(journal);
  constexpr std::size_t kAppends = 200;
  std::mutex mutex;
  std::condition_variable answered;
  std::vector<std::uint64_t> got;
  for (std::size_t i = 0; i < kAppends; ++i) {
    ASSERT_TRUE(journal->append(NewEvent{fmt::format("e{}", i), "{}", "dev-1"},
                                [&](Result<std::uint64_t> seq) {
                                  std::lock_guard lock(mutex);
                                  got.push_back(seq ? *seq : 0);
                                  answered.notify_all();
                                }));
  }
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(answered.wait_for(lock, 20s, [&] { return got.size() == kAppends; }));
  }
  std::sort(got.begin(), got.end());
  std::vector<std::uint64_t> expected(kAppends);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(journal->newest_seq(), kAppends);

  // Stored: another connection reads every one back from the stream.
  auto other = open();
  ASSERT_TRUE(other);
  EXPECT_EQ(other->newest_seq(), kAppends);
  auto events = other->read_after(0, 1000, 1u << 30);
  ASSERT_TRUE(events) << events.error().describe();
  EXPECT_EQ(seqs(*events), expected);
}

TEST_F(JetStreamJournalTest, ReadsAfterASeqFromTheStream) {
  auto writer = open();
  ASSERT_TRUE(writer);
  for (int i = 1; i <= 10; ++i) {
    auto seq = append_sync(*writer, NewEvent{fmt::format("e{}", i), fmt::format("{{\"i\":{}}}", i),
                                             fmt::format("dev-{}", i % 2)});
    ASSERT_TRUE(seq) << seq.error().describe();
  }
  // A fresh journal has nothing in its tail: it reads by sequence.
  auto reader = open();
  ASSERT_TRUE(reader);
  auto events = reader->read_after(4, 100, 1u << 20);
  ASSERT_TRUE(events) << events.error().describe();
  EXPECT_EQ(seqs(*events), (std::vector<std::uint64_t>{5, 6, 7, 8, 9, 10}));
  EXPECT_EQ((*events)[0]->name, "e5");
  EXPECT_EQ((*events)[0]->payload_json, "{\"i\":5}");
  EXPECT_EQ((*events)[0]->device_id, "dev-1");
  EXPECT_GT((*events)[0]->published_at_unix_ms, 0);
  auto limited = reader->read_after(4, 2, 1u << 20);
  ASSERT_TRUE(limited);
  EXPECT_EQ(seqs(*limited), (std::vector<std::uint64_t>{5, 6}));
  auto none = reader->read_after(10, 100, 1u << 20);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

// Followers far behind read their backlog through a few catch-up cursors:
// each reader gets every event once and in order, reads that go on where
// they stopped reuse a cursor, and however many readers there are the
// stream keeps a handful of consumers.
TEST_F(JetStreamJournalTest, ReadersFarBehindTheTailShareAFewConsumers) {
  auto writer = open();
  ASSERT_TRUE(writer);
  constexpr std::uint64_t kEvents = 600;
  std::promise<void> all_stored;
  std::atomic<std::uint64_t> answered{0};
  for (std::uint64_t i = 1; i <= kEvents; ++i) {
    ASSERT_TRUE(writer->append(NewEvent{"e", fmt::format("{{\"i\":{}}}", i), "dev-1"},
                               [&](Result<std::uint64_t> seq) {
                                 EXPECT_TRUE(seq);
                                 if (++answered == kEvents) all_stored.set_value();
                               }));
  }
  ASSERT_EQ(all_stored.get_future().wait_for(20s), std::future_status::ready);

  JournalOptions small_tail;
  small_tail.tail_max_events = 4;
  auto reader = open(small_tail);
  ASSERT_TRUE(reader);
  constexpr std::size_t kReaders = 24;
  std::vector<std::uint64_t> position(kReaders, 0);
  for (bool progressed = true; progressed;) {
    progressed = false;
    for (std::size_t r = 0; r < kReaders; ++r) {
      if (position[r] == kEvents) continue;
      auto events = reader->read_after(position[r], 50, 1u << 20);
      ASSERT_TRUE(events) << events.error().describe();
      for (const auto& event : *events) {
        ASSERT_EQ(event->seq, position[r] + 1) << "reader " << r;
        ASSERT_EQ(event->payload_json, fmt::format("{{\"i\":{}}}", event->seq));
        position[r] = event->seq;
      }
      progressed = progressed || !events->empty();
    }
  }
  for (std::size_t r = 0; r < kReaders; ++r) EXPECT_EQ(position[r], kEvents) << "reader " << r;
  // Two journals' followers and at most eight idle cursors.
  const int consumers = palyra::testing::consumer_count(server_->url(), "PALYRA_EVENTS");
  EXPECT_GT(consumers, 0);
  EXPECT_LE(consumers, 2 + 8);
}

// A follower behind the tail is served on its worker's event loop, with
// every other connection of that worker: the read from the stream happens on
// the journal's own thread, and the loop is told to come back.
TEST_F(JetStreamJournalTest, AReadBehindTheTailNeverWaitsForTheServers) {
  auto writer = open();
  ASSERT_TRUE(writer);
  for (int i = 1; i <= 20; ++i)
    ASSERT_TRUE(append_sync(*writer, NewEvent{fmt::format("e{}", i), "{}", "dev-1"}));
  auto reader = open();  // its tail is empty: all 20 are behind it
  ASSERT_TRUE(reader);
  std::mutex mutex;
  std::condition_variable woken;
  int notifications = 0;
  auto subscription = reader->subscribe([&](std::uint64_t) {
    std::lock_guard lock(mutex);
    ++notifications;
    woken.notify_all();
  });

  // Frozen with its connections open: every request to it waits for the
  // request timeout (5 s).
  server_->signal(SIGSTOP);
  const auto started = std::chrono::steady_clock::now();
  auto visited = reader->visit_after(0, 100, 1u << 20, [](const EventView&) { return true; });
  const auto took = std::chrono::steady_clock::now() - started;
  const bool reading = reader->reading_ahead(0);
  server_->signal(SIGCONT);
  ASSERT_TRUE(visited) << visited.error().describe();
  EXPECT_EQ(*visited, 0u);
  EXPECT_TRUE(reading);
  EXPECT_LT(took, 1s);

  // Back: what was asked for is read, the subscribers are told, and the
  // next visit gets it.
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(woken.wait_for(lock, 10s, [&] { return notifications > 0; }));
  }
  std::vector<std::uint64_t> got;
  visited = reader->visit_after(0, 100, 1u << 20, [&](const EventView& event) {
    got.push_back(event.seq);
    return true;
  });
  ASSERT_TRUE(visited) << visited.error().describe();
  std::vector<std::uint64_t> expected(20);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(got, expected);
}

// A follower whose consumer is gone (its server died, the stream's leader
// moved) delivers nothing until the library notices, two heartbeats later,
// and makes a new one. Readers do not wait for that: once the follower has
// been quiet for a second, acknowledged events are read from the stream.
TEST_F(JetStreamJournalTest, ReadersDoNotWaitForAFollowerThatLostItsConsumer) {
  JetStreamBackend backend{{server_->url()}};
  backend.follower_heartbeat = 10s;  // the loss is noticed after 20 s
  auto journal = open_journal(backend);
  ASSERT_TRUE(journal) << journal.error().describe();
  for (int i = 1; i <= 5; ++i)
    ASSERT_TRUE(append_sync(**journal, NewEvent{fmt::format("e{}", i), "{}", "dev-1"}));
  auto delivered = (*journal)->read_after(0, 100, 1u << 20);
  ASSERT_TRUE(delivered) << delivered.error().describe();
  ASSERT_EQ(delivered->size(), 5u);

  ASSERT_EQ(palyra::testing::delete_consumers(server_->url(), "PALYRA_EVENTS"), 1)
      << "the follower's consumer, alone on the stream";
  for (int i = 6; i <= 10; ++i)
    ASSERT_TRUE(append_sync(**journal, NewEvent{fmt::format("e{}", i), "{}", "dev-1"}));
  auto events = (*journal)->read_after(5, 100, 1u << 20, 10s);
  ASSERT_TRUE(events) << events.error().describe();
  EXPECT_EQ(seqs(*events), (std::vector<std::uint64_t>{6, 7, 8, 9, 10}));
}

// With the default heartbeat the loss is noticed within a second or two
// (the library's own default, 5 s, took 10 s and more).
TEST_F(JetStreamJournalTest, AFollowerThatLostItsConsumerMakesANewOneWithinSeconds) {
  auto journal = open();
  auto writer = open();
  ASSERT_TRUE(journal && writer);
  ASSERT_EQ(palyra::testing::delete_consumers(server_->url(), "PALYRA_EVENTS"), 2);
  ASSERT_TRUE(append_sync(*writer, NewEvent{"e1", "{}", "dev-1"}));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (palyra::testing::consumer_count(server_->url(), "PALYRA_EVENTS") < 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(palyra::testing::consumer_count(server_->url(), "PALYRA_EVENTS"), 2)
      << "a follower's consumer not made again within 5 s";
}

TEST_F(JetStreamJournalTest, FollowersHearOfEventsAnotherGatewayAppendsInOrder) {
  auto follower = open();
  auto writer = open();
  ASSERT_TRUE(follower && writer);
  std::mutex mutex;
  std::condition_variable woken;
  std::vector<std::uint64_t> heard;
  auto subscription = follower->subscribe([&](std::uint64_t newest) {
    std::lock_guard lock(mutex);
    heard.push_back(newest);
    woken.notify_all();
  });
  for (int i = 1; i <= 5; ++i)
    ASSERT_TRUE(append_sync(*writer, NewEvent{fmt::format("e{}", i), "{}", "dev-1"}));
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(woken.wait_for(lock, 10s, [&] { return !heard.empty() && heard.back() == 5; }));
    EXPECT_TRUE(std::is_sorted(heard.begin(), heard.end()));
  }
  // What the follower delivered is in its tail, in order.
  auto events = follower->read_after(0, 100, 1u << 20);
  ASSERT_TRUE(events);
  EXPECT_EQ(seqs(*events), (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ((*events)[4]->name, "e5");
}

TEST_F(JetStreamJournalTest, ADevicesPublishIdAppendsOnceWithinTheWindow) {
  auto journal = open();
  ASSERT_TRUE(journal);
  auto first = append_sync(*journal, NewEvent{"e", "{}", "dev-1", "p-1"});
  ASSERT_TRUE(first) << first.error().describe();
  auto again = append_sync(*journal, NewEvent{"e", "{}", "dev-1", "p-1"});
  ASSERT_TRUE(again) << again.error().describe();
  EXPECT_EQ(*again, *first);
  // The id is scoped per device.
  auto other_device = append_sync(*journal, NewEvent{"e", "{}", "dev-2", "p-1"});
  ASSERT_TRUE(other_device);
  EXPECT_EQ(*other_device, *first + 1);
  auto events = journal->read_after(0, 100, 1u << 20);
  ASSERT_TRUE(events);
  EXPECT_EQ(events->size(), 2u);
}

TEST_F(JetStreamJournalTest, ResumeGapOnceTheStreamsLimitsRemovedUnseenEvents) {
  JournalOptions options;
  options.retention.max_events = 3;
  auto journal = open(options);
  ASSERT_TRUE(journal);
  for (int i = 1; i <= 6; ++i)
    ASSERT_TRUE(append_sync(*journal, NewEvent{fmt::format("e{}", i), "{}", "dev-1"}));
  auto removed = journal->enforce_retention();
  ASSERT_TRUE(removed) << removed.error().describe();
  EXPECT_EQ(*removed, 3u);
  EXPECT_EQ(journal->removed_by_retention(), 3u);
  EXPECT_EQ(journal->oldest_retained_seq(), 4u);
  EXPECT_EQ(journal->gap_for(1), std::optional<std::uint64_t>(4));
  EXPECT_EQ(journal->gap_for(3), std::nullopt);
  // A reader that fell behind gets what is retained, from the first one.
  auto reader = open(options);
  ASSERT_TRUE(reader);
  auto events = reader->read_after(1, 100, 1u << 20);
  ASSERT_TRUE(events);
  EXPECT_EQ(seqs(*events), (std::vector<std::uint64_t>{4, 5, 6}));
  EXPECT_EQ(reader->gap_for(1), std::optional<std::uint64_t>(4));
}

}  // namespace
}  // namespace palyra::journal
