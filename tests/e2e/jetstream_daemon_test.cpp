// palyrad with journal.backend = jetstream against a real nats-server on
// loopback: events published through the CLI are stored in the stream, not
// the state directory, and survive the daemon.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <future>
#include <string>
#include <thread>

#include "../journal/nats_fixture.hpp"
#include "daemon_fixture.hpp"

namespace palyra::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class JetStreamDaemonTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    if (std::string(PALYRA_NATS_SERVER).empty()) GTEST_SKIP() << "no nats-server on this machine";
    nats_ = std::make_unique<palyra::testing::NatsServer>(PALYRA_NATS_SERVER, dir_ / "nats");
    ASSERT_FALSE(nats_->url().empty()) << "nats-server did not start";
  }
  void TearDown() override {
    DaemonTest::TearDown();  // the daemon first: it holds a connection
    nats_.reset();
  }
  ::testing::AssertionResult start_on_jetstream() {
    return start_daemon({"--journal-backend", "jetstream", "--journal-nats-urls", nats_->url()});
  }
  std::unique_ptr<palyra::testing::NatsServer> nats_;
};

TEST_F(JetStreamDaemonTest, PublishedEventsLiveInTheStreamAcrossDaemonRestarts) {
  ASSERT_TRUE(start_on_jetstream());
  for (int i = 1; i <= 3; ++i) {
    auto published = palyra({"publish", "sensor.reading", std::to_string(i)});
    ASSERT_EQ(published.status, 0) << published.err;
    EXPECT_EQ(published.out, "published seq=" + std::to_string(i) + "\n");
  }
  auto resumed = palyra({"events", "--resume-from", "2"});
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_THAT(resumed.out, StartsWith("seq=3 name=sensor.reading device_id=node-1 at="));
  EXPECT_THAT(resumed.out, HasSubstr("payload=3\n"));
  EXPECT_EQ(stop_daemon(), 0);
  EXPECT_FALSE(std::filesystem::exists(state_.journal())) << "the SQLite journal was used";

  ASSERT_TRUE(start_on_jetstream());
  auto next = palyra({"publish", "sensor.reading", "4"});
  ASSERT_EQ(next.status, 0) << next.err;
  EXPECT_EQ(next.out, "published seq=4\n");
}

// A follower behind the tail is read for on the journal's thread, not on
// the worker's loop: with one worker, a health call is answered at once
// while a stream from seq 0 waits for a frozen nats-server (whose requests
// time out after 5 s), and the stream is whole once it is back.
TEST_F(JetStreamDaemonTest, CallsAreAnsweredWhileABacklogReadWaitsForNats) {
  using namespace std::chrono_literals;
  ASSERT_TRUE(start_on_jetstream());
  for (int i = 1; i <= 3; ++i) ASSERT_EQ(palyra({"publish", "e", std::to_string(i)}).status, 0);
  // Restarted, its tail is empty: the three are behind it.
  EXPECT_EQ(stop_daemon(), 0);
  ASSERT_TRUE(start_daemon(
      {"--journal-backend", "jetstream", "--journal-nats-urls", nats_->url(), "--workers", "1"}));

  nats_->signal(SIGSTOP);
  auto stream = std::async(std::launch::async, [this] { return palyra({"events"}); });
  std::this_thread::sleep_for(300ms);  // the stream has asked for its backlog
  const auto started = std::chrono::steady_clock::now();
  auto health = palyra({"health"});
  const auto took = std::chrono::steady_clock::now() - started;
  nats_->signal(SIGCONT);
  EXPECT_EQ(health.status, 0) << health.err;
  EXPECT_LT(took, 2s);

  ASSERT_EQ(stream.wait_for(20s), std::future_status::ready);
  auto events = stream.get();
  ASSERT_EQ(events.status, 0) << events.err;
  EXPECT_THAT(events.out, StartsWith("seq=1 name=e "));
  EXPECT_THAT(events.out, HasSubstr("\nseq=3 name=e "));
}

}  // namespace
}  // namespace palyra::e2e
