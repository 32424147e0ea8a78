// Idempotent publishes (PROTOCOL.md §4, node.publish_event's params.id): a
// second publish with the same device id and id within the deduplication
// window appends nothing and is answered with the first one's seq — in one
// batch or across batches, from many threads at once, and across a restart;
// the index forgets ids once the window has passed, and older journals gain
// it on open.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <latch>
#include <set>
#include <thread>

#include "../common/manual_clock.hpp"
#include "journal_fixture.hpp"
#include "palyra/journal/journal.hpp"
#include "sqlite/connection.hpp"

namespace palyra::journal {
namespace {

using ::testing::HasSubstr;

class PublishIdTest : public JournalTest {
 protected:
  static NewEvent with_id(std::string id, std::string payload = "1", std::string device = "dev-1") {
    return NewEvent{"order.placed", std::move(payload), std::move(device), std::move(id)};
  }
  static std::uint64_t publish(Journal& journal, NewEvent event) {
    auto seq = append_event_sync(journal, std::move(event));
    EXPECT_TRUE(seq) << (seq ? "" : seq.error().describe());
    return seq ? *seq : 0;
  }
  // What the file holds, read through a connection of our own.
  std::int64_t query(const char* sql) const {
    auto opened = sqlite::open(db(), SQLITE_OPEN_READONLY);
    EXPECT_TRUE(opened) << (opened ? "" : opened.error().describe());
    if (!opened) return -1;
    sqlite::ConnectionGuard guard(*opened);
    auto value = sqlite::query_int(guard.get(), sql, 0);
    EXPECT_TRUE(value) << (value ? "" : value.error().describe());
    return value ? *value : -1;
  }
};

TEST_F(PublishIdTest, TheSameIdTwiceAppendsOnceAndAnswersTheFirstSeq) {
  auto journal = open_journal();
  ASSERT_TRUE(journal);
  EXPECT_EQ(publish(*journal, with_id("order-17", R"({"n":1})")), 1u);
  EXPECT_EQ(publish(*journal, with_id("order-17", R"({"n":2})")), 1u);
  EXPECT_EQ(journal->newest_seq(), 1u);
  auto events = journal->read_after(0, 10, 1 << 20);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0]->payload_json, R"({"n":1})");  // the first one's, untouched
  // Other ids, and publishes without one, are appended as always.
  EXPECT_EQ(publish(*journal, with_id("order-18")), 2u);
  EXPECT_EQ(append_sync(*journal, "no.id"), 3u);
  EXPECT_EQ(append_sync(*journal, "no.id"), 4u);
}

TEST_F(PublishIdTest, TheSameIdFromAnotherDeviceIsAnotherEvent) {
  auto journal = open_journal();
  EXPECT_EQ(publish(*journal, with_id("boot", "1", "node-a")), 1u);
  EXPECT_EQ(publish(*journal, with_id("boot", "1", "node-b")), 2u);
  EXPECT_EQ(publish(*journal, with_id("boot", "1", "node-a")), 1u);
  EXPECT_EQ(journal->newest_seq(), 2u);
}

// The window runs from the first publish, by the journal's clock: at exactly
// the window's age the id is still known, a moment later it is not, and
// the new publish starts a window of its own.
TEST_F(PublishIdTest, AfterTheWindowTheSameIdAppendsAgain) {
  auto clock = std::make_shared<palyra::testing::ManualClock>();
  JournalOptions options;
  options.clock = clock;
  auto journal = open_journal(options);
  EXPECT_EQ(publish(*journal, with_id("a")), 1u);
  clock->advance(std::chrono::minutes(2));
  EXPECT_EQ(publish(*journal, with_id("a")), 1u);
  clock->advance(std::chrono::milliseconds(1));
  EXPECT_EQ(publish(*journal, with_id("a")), 2u);
  clock->advance(std::chrono::minutes(1));
  EXPECT_EQ(publish(*journal, with_id("a")), 2u);
  EXPECT_EQ(journal->newest_seq(), 2u);
}

TEST_F(PublishIdTest, TheWindowIsConfigurable) {
  auto clock = std::make_shared<palyra::testing::ManualClock>();
  JournalOptions options;
  options.clock = clock;
  options.dedup_window = std::chrono::seconds(10);
  auto journal = open_journal(options);
  EXPECT_EQ(publish(*journal, with_id("a")), 1u);
  clock->advance(std::chrono::seconds(9));
  EXPECT_EQ(publish(*journal, with_id("a")), 1u);
  clock->advance(std::chrono::seconds(2));
  EXPECT_EQ(publish(*journal, with_id("a")), 2u);
  options.dedup_window = std::chrono::milliseconds(0);
  auto refused = palyra::journal::open_journal(SqliteBackend{dir_ / "other.sqlite3"}, options);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::InvalidArgument);
}

// Identical publishes in flight at once, all in one batch: the writer is
// held after a first commit while they queue up.
TEST_F(PublishIdTest, DuplicatesInOneBatchAppendOnce) {
  auto journal = open_journal();
  std::latch release(1);
  bool first = true;
  auto subscription = journal->subscribe([&](std::uint64_t) {
    if (std::exchange(first, false)) release.wait();
  });
  ASSERT_TRUE(journal->append(NewEvent{"first", "1", "dev-1"}, [](auto) {}));
  while (journal->queued_appends() != 0) std::this_thread::yield();
  std::mutex mutex;
  std::vector<std::uint64_t> answers;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(journal->append(with_id("same"), [&](Result<std::uint64_t> seq) {
      std::lock_guard lock(mutex);
      answers.push_back(seq ? *seq : 0);
    }));
  }
  EXPECT_EQ(journal->queued_appends(), 20u);  // all waiting for one commit
  release.count_down();
  for (int i = 0; i < 5000; ++i) {
    {
      std::lock_guard lock(mutex);
      if (answers.size() == 20) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::lock_guard lock(mutex);
  EXPECT_EQ(answers, std::vector<std::uint64_t>(20, 2));
  EXPECT_EQ(journal->newest_seq(), 2u);
}

// Many threads publishing the same id at once, landing in whatever batches
// the writer makes of them: one event, one seq for all.
TEST_F(PublishIdTest, ConcurrentDuplicatesFromManyThreadsAppendOnce) {
  auto journal = open_journal();
  std::vector<std::uint64_t> answers(8 * 10);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) answers[t * 10 + i] = publish(*journal, with_id("race"));
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(std::set<std::uint64_t>(answers.begin(), answers.end()), std::set<std::uint64_t>{1});
  EXPECT_EQ(journal->newest_seq(), 1u);
}

TEST_F(PublishIdTest, AnIdSurvivesARestartWithinTheWindow) {
  auto clock = std::make_shared<palyra::testing::ManualClock>();
  JournalOptions options;
  options.clock = clock;
  {
    auto journal = open_journal(options);
    EXPECT_EQ(publish(*journal, with_id("before-restart")), 1u);
  }
  clock->advance(std::chrono::minutes(1));
  auto journal = open_journal(options);
  EXPECT_EQ(publish(*journal, with_id("before-restart")), 1u);
  EXPECT_EQ(journal->newest_seq(), 1u);
}

// Forgetting is by time alone: the index holds the ids of the last window,
// not of every publish ever made.
TEST_F(PublishIdTest, IdsPastTheWindowAreRemovedFromTheIndex) {
  auto clock = std::make_shared<palyra::testing::ManualClock>();
  JournalOptions options;
  options.clock = clock;
  options.dedup_window = std::chrono::seconds(60);
  auto journal = open_journal(options);
  publish(*journal, with_id("a"));
  publish(*journal, with_id("b"));
  clock->advance(std::chrono::seconds(30));
  publish(*journal, with_id("c"));
  ASSERT_TRUE(journal->enforce_retention());
  EXPECT_EQ(query("SELECT COUNT(*) FROM publish_ids"), 3);
  clock->advance(std::chrono::seconds(31));
  ASSERT_TRUE(journal->enforce_retention());
  EXPECT_EQ(query("SELECT COUNT(*) FROM publish_ids"), 1);  // c is 31 s old
  clock->advance(std::chrono::seconds(30));
  ASSERT_TRUE(journal->enforce_retention());
  EXPECT_EQ(query("SELECT COUNT(*) FROM publish_ids"), 0);
  EXPECT_EQ(journal->newest_seq(), 3u);  // the events themselves stay
}

// A journal written before publish ids existed (schema version 1) keeps its
// events and gains the index when opened.
TEST_F(PublishIdTest, AVersionOneJournalIsMigratedOnOpen) {
  {
    auto opened = sqlite::open(db(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(opened);
    sqlite::ConnectionGuard guard(*opened);
    ASSERT_TRUE(sqlite::exec(
        guard.get(),
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, name TEXT NOT NULL, payload TEXT NOT "
        "NULL, device_id TEXT NOT NULL, published_at_unix_ms INTEGER NOT NULL);"
        "CREATE TABLE journal_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
        "INSERT INTO events VALUES (1, 'old', '1', 'dev-1', 1700000000000);"
        "INSERT INTO journal_meta VALUES ('newest_seq', 1);"
        "PRAGMA user_version = 1;"));
  }
  auto journal = open_journal();
  ASSERT_TRUE(journal);
  EXPECT_EQ(journal->newest_seq(), 1u);
  EXPECT_EQ((*journal->read_after(0, 10, 1 << 20))[0]->name, "old");
  EXPECT_EQ(publish(*journal, with_id("a")), 2u);
  EXPECT_EQ(publish(*journal, with_id("a")), 2u);
  EXPECT_EQ(query("PRAGMA user_version"), 2);
}

TEST_F(PublishIdTest, AJournalOfANewerSchemaIsNotTouched) {
  {
    auto opened = sqlite::open(db(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(opened);
    sqlite::ConnectionGuard guard(*opened);
    ASSERT_TRUE(sqlite::exec(guard.get(), "PRAGMA user_version = 3;"));
  }
  auto journal = palyra::journal::open_journal(SqliteBackend{db()});
  ASSERT_FALSE(journal);
  EXPECT_EQ(journal.error().code(), Errc::StorageFailed);
  EXPECT_THAT(journal.error().message(), HasSubstr("schema version 3 is newer"));
  EXPECT_EQ(query("PRAGMA user_version"), 3);
}

}  // namespace
}  // namespace palyra::journal
