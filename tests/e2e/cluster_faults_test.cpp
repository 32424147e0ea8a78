// Two gateways on one JetStream stream when parts fail or another client
// speaks: kill -9 of the stream's leader node under 64 publishes in flight
// (nothing acknowledged lost, nothing twice, no gap), a revocation made
// while the cluster has lost its quorum, and the independent quinn peer's
// client against a gateway in cluster mode.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "cluster_fixture.hpp"
#include "refused_as_revoked.hpp"

namespace palyra::e2e {
namespace {

using ::testing::HasSubstr;

// 64 publishers, one call in flight each, half on each gateway, every event
// with its own id: a publish that fails is retried with the same id (on a
// new connection if its own went), so each event ends acknowledged exactly
// once however the cluster answered in between.
TEST_F(ClusterTest, KillingTheStreamLeaderUnder64PublishesInFlightLosesAndRepeatsNothing) {
  constexpr int kPublishers = 64;
  constexpr int kEach = 12;
  std::mutex mutex;
  std::map<std::string, std::uint64_t> acknowledged;  // "t-i" -> seq
  std::vector<std::string> gave_up;
  std::atomic<int> acked{0};
  std::vector<std::thread> publishers;
  for (int t = 0; t < kPublishers; ++t) {
    publishers.emplace_back([&, t] {
      const std::size_t gateway = static_cast<std::size_t>(t % 2);
      std::unique_ptr<transport::Client> client;
      for (int i = 0; i < kEach; ++i) {
        const std::string id = fmt::format("{}-{}", t, i);
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        std::optional<std::uint64_t> seq;
        std::string last_error;
        while (!seq && std::chrono::steady_clock::now() < deadline) {
          if (!client || client->connection().state() == transport::Connection::State::Closed) {
            auto connected = connect(gateway);
            client = connected ? std::move(*connected) : nullptr;
            if (!client) {
              last_error = connected.error().describe();
              continue;
            }
          }
          auto answer = publish(*client, "burst", fmt::format(R"({{"id":"{}"}})", id), id);
          if (answer) {
            seq = *answer;
          } else {
            last_error = answer.error().describe();
            std::this_thread::sleep_for(100ms);
          }
        }
        std::lock_guard lock(mutex);
        if (!seq) {
          gave_up.push_back(id + ": " + last_error);
          return;
        }
        acknowledged.emplace(id, *seq);
        ++acked;
      }
      if (client) client->close();
    });
  }
  // Under way: a fifth acknowledged, the rest in flight or to come.
  const auto started = std::chrono::steady_clock::now();
  while (acked.load() < kPublishers * kEach / 5 && std::chrono::steady_clock::now() < started + 60s)
    std::this_thread::sleep_for(5ms);
  const auto leader = stream_leader();
  ASSERT_TRUE(leader.has_value()) << "no stream leader in stream info";
  cluster_->node(*leader).kill();
  const int acked_at_kill = acked.load();
  for (auto& publisher : publishers) publisher.join();
  ASSERT_EQ(gave_up, std::vector<std::string>{});
  ASSERT_LT(acked_at_kill, kPublishers * kEach) << "the burst was over before the kill";

  // The journal, read through the other gateway: 1..N, each event once, at
  // the seq it was acknowledged with. That gateway's follower restarts its
  // ordered consumer after the leader change and may trail for a moment: a
  // read ends at the newest event the gateway has seen, so read until it
  // has seen them all (bounded).
  std::map<std::string, std::uint64_t> stored;
  const auto read_deadline = std::chrono::steady_clock::now() + 20s;
  do {
    auto events = palyra({"events", "--json"}, gateways_[1].address);
    if (events.status != 0 && std::chrono::steady_clock::now() < read_deadline) {
      // The cluster may still be electing the stream's new leader.
      std::this_thread::sleep_for(200ms);
      continue;
    }
    ASSERT_EQ(events.status, 0) << events.err;
    stored.clear();
    std::uint64_t expected_seq = 1;
    std::size_t start = 0;
    for (auto end = events.out.find('\n'); end != std::string::npos;
         end = events.out.find('\n', start)) {
      auto frame = nlohmann::json::parse(events.out.substr(start, end - start));
      start = end + 1;
      const auto seq = frame["seq"].get<std::uint64_t>();
      ASSERT_EQ(seq, expected_seq++) << "a gap in the journal";
      const auto id = frame["event"]["payload"]["id"].get<std::string>();
      ASSERT_TRUE(stored.emplace(id, seq).second) << "event " << id << " stored twice";
    }
    if (stored.size() >= acknowledged.size()) break;
    std::this_thread::sleep_for(200ms);
  } while (std::chrono::steady_clock::now() < read_deadline);
  EXPECT_EQ(stored, acknowledged) << "an acknowledged event is missing, or at another seq";
}

// The revocations bucket's leader and one more node killed: the bucket
// (three replicas) has no leader, so a revocation made through gateway A is
// not stored (the node left is a follower: it takes no writes, and keeps
// none for later). A tries again until the cluster takes it: once the two
// are back, gateway B refuses the device, without A being restarted.
TEST_F(ClusterTest, ARevocationMadeWithoutAQuorumReachesTheOtherGatewayOnceItIsBack) {
  const auto leader = palyra::testing::stream_leader(cluster_->urls(), "KV_PALYRA_REVOKED");
  ASSERT_TRUE(leader) << "no leader named for the revocations bucket";
  const std::size_t other = (*leader + 1) % 3;
  cluster_->node(*leader).kill();
  cluster_->node(other).kill();
  const auto& a = gateways_[0];
  auto revoke = cli({"cert", "revoke", "--state-dir", a.state.root.string(), "--device", "node-1"});
  ASSERT_EQ(revoke.status, 0) << revoke.err;
  a.process->signal(SIGHUP);
  const std::string failed = "not published (attempt 1";
  ASSERT_THAT(log_with(0, failed, 30s), HasSubstr(failed))
      << "gateway A did not try to publish the revocation";

  ASSERT_TRUE(cluster_->restart(*leader));
  ASSERT_TRUE(cluster_->restart(other));
  const std::string heard = "revoked in the cluster: 1 new";
  // A's tries back off up to 30 s apart; the cluster elects its leaders first.
  EXPECT_THAT(log_with(1, heard, 60s), HasSubstr(heard))
      << "gateway B never heard of the revocation made without a quorum\nA:\n"
      << read_text(a.log);
  EXPECT_TRUE(refused_as_revoked(connect(1))) << "gateway B";
}

TEST_F(ClusterTest, TheQuinnPeersClientAgainstAGatewayInClusterMode) {
  if (std::string(PALYRA_QUINN_PEER).empty()) GTEST_SKIP() << "quinn peer not built";
  for (int i = 1; i <= 4; ++i)
    ASSERT_EQ(palyra({"publish", "interop", std::to_string(i)}, gateways_[0].address).status, 0);
  // Gateway B: the CA copied from A, its own server certificate.
  auto peer = [this](const std::string& command, std::vector<std::string> args) {
    const auto& a = gateways_[0].state;
    std::vector<std::string> argv = {PALYRA_QUINN_PEER,
                                     command,
                                     "--connect",
                                     gateways_[1].address,
                                     "--server-name",
                                     "localhost",
                                     "--ca",
                                     a.ca_cert().string(),
                                     "--cert",
                                     a.device_cert("node-1").string(),
                                     "--key",
                                     a.device_key("node-1").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return palyra::testing::run_command(argv, dir_);
  };
  auto health = peer("health", {});
  EXPECT_EQ(health.status, 0) << health.err;
  EXPECT_EQ(health.out, runtime::encode_health(true) + "\n");
  auto events = peer("events", {});
  EXPECT_EQ(events.status, 0) << events.err;
  EXPECT_EQ(std::count(events.out.begin(), events.out.end(), '\n'), 4) << events.out;
  EXPECT_THAT(events.out,
              HasSubstr(R"("seq":4,"event":{"name":"interop","payload":4,"device_id":"node-1")"));
  auto resumed = peer("events", {"--resume-from", "2"});
  EXPECT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_EQ(std::count(resumed.out.begin(), resumed.out.end(), '\n'), 2) << resumed.out;
  EXPECT_THAT(resumed.out, HasSubstr(R"("seq":3,)"));
  EXPECT_EQ(resumed.out.find(R"("seq":2,)"), std::string::npos);
}

}  // namespace
}  // namespace palyra::e2e
