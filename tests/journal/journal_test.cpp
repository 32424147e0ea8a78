// The journal: sequence numbers, durability across reopen and kill -9, group
// commit, retention and resume gaps, the in-memory tail and its fallback to
// SQLite, back-pressure on the append queue.
#include "palyra/journal/journal.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <latch>
#include <thread>

#include "../common/manual_clock.hpp"
#include "journal_fixture.hpp"
#include "sqlite/sqlite_journal.hpp"

namespace palyra::journal {
namespace {

using ::testing::HasSubstr;

TEST_F(JournalTest, AssignsConsecutiveSequenceNumbersAndStoresEveryField) {
  auto journal = open_journal();
  ASSERT_TRUE(journal);
  EXPECT_EQ(journal->newest_seq(), 0u);
  EXPECT_EQ(append_sync(*journal, "door.open", R"({"floor":3})", "node-a"), 1u);
  EXPECT_EQ(append_sync(*journal, "door.close", "null", "node-b"), 2u);
  EXPECT_EQ(journal->newest_seq(), 2u);
  EXPECT_EQ(journal->oldest_retained_seq(), 1u);

  auto events = journal->read_after(0, 10, 1 << 20);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0]->seq, 1u);
  EXPECT_EQ((*events)[0]->name, "door.open");
  EXPECT_EQ((*events)[0]->payload_json, R"({"floor":3})");
  EXPECT_EQ((*events)[0]->device_id, "node-a");
  EXPECT_GT((*events)[0]->published_at_unix_ms, 1'700'000'000'000);
  EXPECT_EQ((*events)[1]->device_id, "node-b");
  EXPECT_TRUE(journal->read_after(2, 10, 1 << 20)->empty());
  // A resume point beyond anything stored (even beyond SQLite's int64) is
  // simply "nothing newer", never a wrap-around.
  EXPECT_TRUE(journal->read_after(UINT64_MAX, 10, 1 << 20)->empty());
}

// Without a retention policy the writer still wakes every retention
// interval; it must go back to sleep, not spin once the first interval has
// passed. Real time on purpose (the wake-ups are a thread sleeping), with a
// short interval: 25 intervals pass.
TEST_F(JournalTest, IdleWriterSleepsBetweenIntervals) {
  JournalOptions options;
  options.retention_interval = std::chrono::milliseconds(10);
  auto journal = open_journal(options);
  ASSERT_TRUE(journal);
  const auto& backend = dynamic_cast<const sqlite::SqliteJournal&>(*journal);
  append_sync(*journal, "e");
  const std::uint64_t before = backend.writer_wakeups();
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  // About 25 wake-ups, not millions.
  EXPECT_LE(backend.writer_wakeups() - before, 40u);
}

// Events carry the journal's clock's time, to the millisecond.
TEST_F(JournalTest, EventsAreStampedWithTheJournalsClock) {
  auto clock = std::make_shared<palyra::testing::ManualClock>();
  JournalOptions options;
  options.clock = clock;
  auto journal = open_journal(options);
  append_sync(*journal, "first");
  clock->advance(std::chrono::hours(5));
  append_sync(*journal, "later");
  auto events = journal->read_after(0, 10, 1 << 20);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  const auto expected_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock->now().time_since_epoch())
          .count();
  EXPECT_EQ((*events)[1]->published_at_unix_ms, expected_ms);
  EXPECT_EQ((*events)[1]->published_at_unix_ms - (*events)[0]->published_at_unix_ms,
            5 * 3600 * 1000);
}

TEST_F(JournalTest, ReopenKeepsEventsAndContinuesTheSequence) {
  {
    auto journal = open_journal();
    // fmt, not "e" + std::to_string(i): gcc 12 at -O3 warns a false -Wrestrict
    // in operator+(const char*, std::string&&) (GCC bug 105329).
    for (int i = 0; i < 5; ++i) append_sync(*journal, fmt::format("e{}", i));
  }
  auto journal = open_journal();
  EXPECT_EQ(journal->newest_seq(), 5u);
  EXPECT_EQ(seqs(*journal->read_after(2, 10, 1 << 20)), (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_EQ(append_sync(*journal, "after-reopen"), 6u);
}

TEST_F(JournalTest, ReadsBehindTheTailComeFromSqliteInOrder) {
  JournalOptions options;
  options.tail_max_events = 4;
  auto journal = open_journal(options);
  for (int i = 0; i < 20; ++i) append_sync(*journal, "e");
  std::vector<std::uint64_t> expected(20);
  for (std::uint64_t i = 0; i < 20; ++i) expected[i] = i + 1;
  EXPECT_EQ(seqs(*journal->read_after(0, 100, 1 << 20)), expected);  // disk
  EXPECT_EQ(seqs(*journal->read_after(17, 100, 1 << 20)),
            (std::vector<std::uint64_t>{18, 19, 20}));  // tail
  EXPECT_EQ(seqs(*journal->read_after(5, 3, 1 << 20)), (std::vector<std::uint64_t>{6, 7, 8}));
}

TEST_F(JournalTest, ReadStopsAtTheByteBudgetButReturnsAtLeastOneEvent) {
  auto journal = open_journal();
  const std::string big = "\"" + std::string(10'000, 'x') + "\"";
  for (int i = 0; i < 10; ++i) append_sync(*journal, "big", big);
  auto some = journal->read_after(0, 100, 25'000);
  ASSERT_TRUE(some);
  EXPECT_EQ(some->size(), 3u);  // stops once 25,000 bytes are collected
  auto one = journal->read_after(0, 100, 1);
  EXPECT_EQ(one->size(), 1u);
}

// The streaming path: views straight out of the tail and out of SQLite's
// row, in order; the visitor can stop early, and the read statement is
// reused across reads (so a second read after more appends must see them).
TEST_F(JournalTest, VisitAfterSeesEventsInPlaceAndStopsWhenAsked) {
  JournalOptions options;
  options.tail_max_events = 4;
  auto journal = open_journal(options);
  for (int i = 1; i <= 10; ++i)
    append_sync(*journal, fmt::format("e{}", i), std::to_string(i), "node-v");
  std::vector<std::string> seen;
  auto collect_until = [&](std::uint64_t stop_at) {
    return [&seen, stop_at](const EventView& event) {
      seen.push_back(std::to_string(event.seq) + ":" + std::string(event.name) + ":" +
                     std::string(event.payload_json) + ":" + std::string(event.device_id));
      EXPECT_GT(event.published_at_unix_ms, 1'700'000'000'000);
      return event.seq < stop_at;
    };
  };
  auto from_disk = journal->visit_after(1, 100, 1 << 20, collect_until(3));
  ASSERT_TRUE(from_disk) << from_disk.error().describe();
  EXPECT_EQ(*from_disk, 2u);  // 2 and 3; the visitor said stop at 3
  EXPECT_EQ(seen, (std::vector<std::string>{"2:e2:2:node-v", "3:e3:3:node-v"}));
  seen.clear();
  auto from_tail = journal->visit_after(8, 100, 1 << 20, collect_until(100));
  EXPECT_EQ(*from_tail, 2u);
  EXPECT_EQ(seen, (std::vector<std::string>{"9:e9:9:node-v", "10:e10:10:node-v"}));
  append_sync(*journal, "e11", "11", "node-v");
  seen.clear();
  auto again = journal->visit_after(0, 100, 1 << 20, collect_until(100));
  EXPECT_EQ(*again, 11u);
  ASSERT_EQ(seen.size(), 11u);
  EXPECT_EQ(seen.front(), "1:e1:1:node-v");
  EXPECT_EQ(seen.back(), "11:e11:11:node-v");
}

TEST_F(JournalTest, CountRetentionRemovesAPrefixAndReportsTheGap) {
  JournalOptions options;
  options.retention.max_events = 3;
  auto journal = open_journal(options);
  for (int i = 0; i < 10; ++i) append_sync(*journal, "e");
  ASSERT_TRUE(journal->enforce_retention());
  EXPECT_EQ(journal->oldest_retained_seq(), 8u);
  EXPECT_EQ(seqs(*journal->read_after(0, 100, 1 << 20)), (std::vector<std::uint64_t>{8, 9, 10}));
  EXPECT_EQ(journal->gap_for(0), 8u);             // events 1..7 are gone
  EXPECT_EQ(journal->gap_for(6), 8u);             // event 7 is gone
  EXPECT_EQ(journal->gap_for(7), std::nullopt);   // resumes exactly at 8
  EXPECT_EQ(journal->gap_for(10), std::nullopt);  // up to date
}

// Age is judged by the journal's clock: an event exactly max_age old stays,
// one a moment older goes, and retention may empty the table without the
// numbers being reused.
TEST_F(JournalTest, AgeRetentionCanEmptyTheJournalWithoutReusingNumbers) {
  auto clock = std::make_shared<palyra::testing::ManualClock>();
  JournalOptions options;
  options.retention.max_age = std::chrono::seconds(60);
  options.clock = clock;
  {
    auto journal = open_journal(options);
    for (int i = 0; i < 2; ++i) append_sync(*journal, "old");
    clock->advance(std::chrono::seconds(30));
    append_sync(*journal, "younger");
    clock->advance(std::chrono::seconds(30));
    ASSERT_EQ(*journal->enforce_retention(), 0u);  // exactly 60 s old: kept
    clock->advance(std::chrono::milliseconds(1));
    ASSERT_EQ(*journal->enforce_retention(), 2u);
    EXPECT_EQ(journal->oldest_retained_seq(), 3u);
    EXPECT_EQ(journal->gap_for(0), 3u);
    clock->advance(std::chrono::seconds(30));
    ASSERT_EQ(*journal->enforce_retention(), 1u);
    EXPECT_EQ(journal->oldest_retained_seq(), 4u);
    EXPECT_EQ(journal->gap_for(0), 4u);
    EXPECT_TRUE(journal->read_after(0, 10, 1 << 20)->empty());
  }
  auto journal = open_journal(options);
  EXPECT_EQ(journal->newest_seq(), 3u);  // remembered though no row is left
  EXPECT_EQ(append_sync(*journal, "new"), 4u);
}

// The real wiring: the writer applies age retention by itself, every
// retention interval, on the system clock (1 ms old is old enough).
TEST_F(JournalTest, TheWriterAppliesAgeRetentionByItself) {
  JournalOptions options;
  options.retention.max_age = std::chrono::milliseconds(1);
  options.retention_interval = std::chrono::milliseconds(10);
  auto journal = open_journal(options);
  for (int i = 0; i < 3; ++i) append_sync(*journal, "old");
  for (int i = 0; i < 500 && journal->oldest_retained_seq() != 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(journal->oldest_retained_seq(), 4u);
}

TEST_F(JournalTest, GroupCommitPutsEverythingQueuedIntoOneCommit) {
  auto journal = open_journal();
  std::latch release(1);
  std::atomic<int> commits{0};
  bool first = true;
  auto subscription = journal->subscribe([&](std::uint64_t) {
    ++commits;
    if (std::exchange(first, false)) release.wait();  // hold the writer after commit #1
  });
  std::atomic<int> acknowledged{0};
  ASSERT_TRUE(journal->append(NewEvent{"first", "1", ""}, [&](auto) { ++acknowledged; }));
  while (journal->queued_appends() != 0) std::this_thread::yield();
  for (int i = 0; i < 99; ++i) {
    ASSERT_TRUE(journal->append(NewEvent{"e", "1", ""}, [&](auto) { ++acknowledged; }));
  }
  release.count_down();
  for (int i = 0; i < 5000 && acknowledged < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(acknowledged.load(), 100);
  EXPECT_EQ(commits.load(), 2);  // the 99 went into one transaction
  EXPECT_EQ(journal->newest_seq(), 100u);
}

TEST_F(JournalTest, FullQueueRefusesAppendsWithTheNumbers) {
  JournalOptions options;
  options.max_queued_appends = 2;
  auto journal = open_journal(options);
  std::latch release(1);
  bool first = true;
  auto subscription = journal->subscribe([&](std::uint64_t) {
    if (std::exchange(first, false)) release.wait();
  });
  ASSERT_TRUE(journal->append(NewEvent{"a", "1", ""}, [](auto) {}));
  while (journal->queued_appends() != 0) std::this_thread::yield();
  ASSERT_TRUE(journal->append(NewEvent{"b", "1", ""}, [](auto) {}));
  ASSERT_TRUE(journal->append(NewEvent{"c", "1", ""}, [](auto) {}));
  auto refused = journal->append(NewEvent{"d", "1", ""}, [](auto) { ADD_FAILURE(); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::StorageFailed);
  EXPECT_THAT(refused.error().message(), HasSubstr("queue full (2 appends"));
  release.count_down();
}

TEST_F(JournalTest, SubscribersHearEveryCommitUntilUnsubscribed) {
  auto journal = open_journal();
  std::vector<std::uint64_t> heard;
  std::mutex mutex;
  auto subscription = journal->subscribe([&](std::uint64_t newest) {
    std::lock_guard lock(mutex);
    heard.push_back(newest);
  });
  append_sync(*journal, "a");
  append_sync(*journal, "b");
  subscription.reset();
  append_sync(*journal, "c");
  std::lock_guard lock(mutex);
  EXPECT_EQ(heard, (std::vector<std::uint64_t>{1, 2}));
}

TEST_F(JournalTest, UnreadableFileIsAnErrorNamingThePath) {
  std::ofstream(db()) << "this is not an SQLite database, it is text long enough to be checked";
  auto journal = palyra::journal::open_journal(SqliteBackend{db()});
  ASSERT_FALSE(journal);
  EXPECT_EQ(journal.error().code(), Errc::StorageFailed);
  EXPECT_THAT(journal.error().message(), HasSubstr(db().string()));
}

// What a publisher was told is durable survives kill -9 of the process: a
// child appends in a loop and reports each acknowledged seq through a pipe;
// we kill it mid-burst and check every reported seq is there, with no gap.
TEST_F(JournalTest, AcknowledgedEventsSurviveKillNine) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    auto journal = palyra::journal::open_journal(SqliteBackend{db()});
    if (!journal) ::_exit(3);
    for (int i = 0; i < 1'000'000; ++i) {
      (void)(*journal)->append(NewEvent{"burst", std::to_string(i), "dev"},
                               [fd = fds[1]](Result<std::uint64_t> seq) {
                                 if (!seq) ::_exit(4);
                                 std::uint64_t value = *seq;
                                 if (::write(fd, &value, sizeof value) != sizeof value) ::_exit(5);
                               });
      if ((*journal)->queued_appends() > 256) ::usleep(200);
    }
    ::pause();
  }
  ::close(fds[1]);
  std::uint64_t highest_acknowledged = 0;
  for (int received = 0; received < 300;) {
    std::uint64_t value = 0;
    if (::read(fds[0], &value, sizeof value) != sizeof value) break;
    highest_acknowledged = std::max(highest_acknowledged, value);
    ++received;
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
  ASSERT_GE(highest_acknowledged, 300u);

  auto journal = open_journal();
  ASSERT_TRUE(journal);
  EXPECT_GE(journal->newest_seq(), highest_acknowledged);
  auto events = journal->read_after(0, 2'000'000, SIZE_MAX);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), journal->newest_seq());
  for (std::size_t i = 0; i < events->size(); ++i) {
    ASSERT_EQ((*events)[i]->seq, i + 1) << "gap in the journal after kill -9";
    ASSERT_EQ((*events)[i]->payload_json, std::to_string(i));
  }
}

}  // namespace
}  // namespace palyra::journal
