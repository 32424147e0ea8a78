// The JetStream journal on a replicated (R3) stream of a real 3-node
// nats-server cluster on loopback: acknowledged appends are readable through
// another connection, and seqs stay gap-free while the stream's leader is
// down (an R1 stream would be gone with it).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <future>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../common/temp_dir.hpp"
#include "nats_fixture.hpp"
#include "nats_stream_info.hpp"
#include "palyra/journal/journal.hpp"

namespace palyra::journal {
namespace {

using namespace std::chrono_literals;

class JetStreamClusterTest : public palyra::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (std::string(PALYRA_NATS_SERVER).empty()) GTEST_SKIP() << "no nats-server on this machine";
    cluster_ = std::make_unique<palyra::testing::NatsCluster>(PALYRA_NATS_SERVER, dir_);
    ASSERT_TRUE(cluster_->up()) << "a nats-server node did not start; see " << dir_;
  }
  void TearDown() override {
    cluster_.reset();
    TempDirTest::TearDown();
  }

  // Retried until the cluster has elected its leaders (bounded).
  std::unique_ptr<Journal> open_replicated() {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (true) {
      auto journal = open_journal(JetStreamBackend{cluster_->urls(), "PALYRA_EVENTS", 3});
      if (journal) return std::move(*journal);
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << journal.error().describe();
        return nullptr;
      }
      std::this_thread::sleep_for(250ms);
    }
  }

  // An idempotent append (publish id), retried while the cluster elects a
  // new leader: a retry of one that was stored is answered with its seq.
  static std::uint64_t append_retrying(Journal& journal, const std::string& publish_id) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    std::string last_error;
    while (std::chrono::steady_clock::now() < deadline) {
      std::promise<Result<std::uint64_t>> done;
      auto queued =
          journal.append(NewEvent{"e", "{}", "dev-1", publish_id},
                         [&](Result<std::uint64_t> seq) { done.set_value(std::move(seq)); });
      if (queued) {
        auto answer = done.get_future();
        if (answer.wait_for(15s) == std::future_status::ready) {
          auto seq = answer.get();
          if (seq) return *seq;
          last_error = seq.error().describe();
        }
      } else {
        last_error = queued.error().describe();
      }
      std::this_thread::sleep_for(250ms);
    }
    ADD_FAILURE() << "append " << publish_id << " never acknowledged: " << last_error;
    return 0;
  }

  // The index of the node leading the stream.
  std::optional<std::size_t> stream_leader() const {
    return palyra::testing::stream_leader(cluster_->urls(), "PALYRA_EVENTS");
  }

  static std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
    std::vector<std::uint64_t> out(last - first + 1);
    std::iota(out.begin(), out.end(), first);
    return out;
  }
  static std::vector<std::uint64_t> seqs(const std::vector<EventPtr>& events) {
    std::vector<std::uint64_t> out;
    for (const auto& e : events) out.push_back(e->seq);
    return out;
  }

  std::unique_ptr<palyra::testing::NatsCluster> cluster_;
};

TEST_F(JetStreamClusterTest, AnR3StreamKeepsSeqsGapFreeThroughItsLeaderGoingDown) {
  auto writer = open_replicated();
  ASSERT_TRUE(writer);
  std::vector<std::uint64_t> got;
  for (int i = 1; i <= 10; ++i) got.push_back(append_retrying(*writer, fmt::format("p{}", i)));
  EXPECT_EQ(got, range(1, 10));

  // Another gateway, on its own connection, reads what was acknowledged.
  auto reader = open_replicated();
  ASSERT_TRUE(reader);
  auto before = reader->read_after(0, 100, 1u << 20);
  ASSERT_TRUE(before) << before.error().describe();
  EXPECT_EQ(seqs(*before), range(1, 10));

  // Two of three still make a quorum, and elect a new leader.
  const auto leader = stream_leader();
  ASSERT_TRUE(leader.has_value()) << "no stream leader in stream info";
  cluster_->node(*leader).stop();
  got.clear();
  for (int i = 11; i <= 20; ++i) got.push_back(append_retrying(*writer, fmt::format("p{}", i)));
  EXPECT_EQ(got, range(11, 20));
  // The reader's follower (an ordered consumer, recreated if its node went)
  // delivers them; nothing polls the stream for it.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (reader->newest_seq() < 20 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(reader->newest_seq(), 20u);
  auto after = reader->read_after(10, 100, 1u << 20);
  ASSERT_TRUE(after) << after.error().describe();
  EXPECT_EQ(seqs(*after), range(11, 20));
}

}  // namespace
}  // namespace palyra::journal
