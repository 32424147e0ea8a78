// End to end: idempotent publishes (PROTOCOL.md §4, params.id) through the
// real palyra CLI (`palyra publish --id`) and raw frames against the real
// palyrad: a repeat is answered with the first seq and appends nothing,
// across a restart too; another device's same id is its own event; a bad id
// is invalid_params; journal.dedup_window reaches the journal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include "daemon_fixture.hpp"
#include "palyra/runtime/protocol.hpp"

namespace palyra::e2e {
namespace {

using ::testing::HasSubstr;

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST_F(DaemonTest, CliPublishWithAnIdAppendsOnceAcrossARestart) {
  ASSERT_TRUE(start_daemon());
  auto first = palyra({"publish", "--id", "order-17", "order.placed", R"({"total":3})"});
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(first.out, "published seq=1\n");
  auto again = palyra({"publish", "--id", "order-17", "order.placed", R"({"total":3})"});
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(again.out, "published seq=1\n");
  EXPECT_EQ(palyra({"publish", "--id", "order-18", "order.placed"}).out, "published seq=2\n");

  // The index is in the journal's file: a restarted daemon still knows the id.
  daemon_->signal(SIGTERM);
  ASSERT_EQ(daemon_->wait(10s), 0);
  ASSERT_TRUE(start_daemon());
  EXPECT_EQ(palyra({"publish", "--id", "order-17", "order.placed"}).out, "published seq=1\n");
  auto events = palyra({"events", "--json"});
  ASSERT_EQ(events.status, 0) << events.err;
  EXPECT_EQ(count_lines(events.out), 2u);

  // The CLI refuses an id the protocol would refuse, before connecting.
  auto too_long = palyra({"publish", "--id", std::string(65, 'i'), "x"});
  EXPECT_EQ(too_long.status, 2);
  EXPECT_THAT(too_long.err, HasSubstr("--id must be 1 to 64 bytes"));
}

TEST_F(DaemonTest, APublishIdIsPerDeviceAndABadOneIsInvalidParams) {
  ASSERT_TRUE(start_daemon());
  ASSERT_EQ(palyra({"cert", "device", "--state-dir", state_.root.string(), "node-2"}, false).status,
            0);
  auto node1 = connect_device("node-1");
  auto node2 = connect_device("node-2");
  ASSERT_TRUE(node1 && node2);
  const auto published = [](std::uint64_t seq) {
    return std::vector<std::string>{runtime::encode_published(seq)};
  };
  EXPECT_EQ(call(*node1, runtime::encode_publish_request("boot", "1", "boot-1")), published(1));
  EXPECT_EQ(call(*node2, runtime::encode_publish_request("boot", "1", "boot-1")), published(2));
  EXPECT_EQ(call(*node1, runtime::encode_publish_request("boot", "1", "boot-1")), published(1));
  const auto invalid =
      std::vector<std::string>{runtime::encode_error(runtime::ProtocolError::InvalidParams)};
  EXPECT_EQ(call(*node1, runtime::encode_publish_request("boot", "1", "")), invalid);
  EXPECT_EQ(call(*node1, runtime::encode_publish_request("boot", "1", std::string(65, 'i'))),
            invalid);
  EXPECT_EQ(
      call(
          *node1,
          R"({"protocol_version":1,"method":"node.publish_event","params":{"name":"boot","payload":1,"id":7}})"),
      invalid);
  EXPECT_EQ(call(*node1, runtime::encode_stream_events_request(std::nullopt, false)).size(), 2u);
}

// The setting reaches the journal. Real time, as the daemon runs on the
// system clock: a three-second window, a repeat within it (a CLI call takes
// a fraction of a second) and one well after it.
TEST_F(DaemonTest, TheDedupWindowSettingIsTheJournals) {
  ASSERT_TRUE(start_daemon({"--journal-dedup-window", "3s"}));
  EXPECT_EQ(palyra({"publish", "--id", "tick", "tick"}).out, "published seq=1\n");
  EXPECT_EQ(palyra({"publish", "--id", "tick", "tick"}).out, "published seq=1\n");
  std::this_thread::sleep_for(3500ms);
  EXPECT_EQ(palyra({"publish", "--id", "tick", "tick"}).out, "published seq=2\n");
}

}  // namespace
}  // namespace palyra::e2e
