// Two gateways on one JetStream stream, through the palyra CLI: one journal
// seen from both, one order for publishers and followers on both, a
// follower that moves to the other gateway when its own is killed, a
// publish whose answer was lost retried there (with --id only), and
// connection attempts that go through the --connect list with a pin per
// address.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "cluster_fixture.hpp"
#include "palyra/identity/certificate.hpp"
#include "prometheus_scrape.hpp"

namespace palyra::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (auto end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}
std::uint64_t seq_of(const std::string& frame) {
  auto json = nlohmann::json::parse(frame, nullptr, false);
  return json.is_object() && json.contains("seq") ? json["seq"].get<std::uint64_t>() : 0;
}
// A loopback UDP port nothing listens on now.
std::string silent_address() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

TEST_F(ClusterTest, AnEventPublishedThroughOneGatewayStreamsFromTheOtherWithItsSeq) {
  const std::string a = gateways_[0].address, b = gateways_[1].address;
  auto first = palyra({"publish", "door.open", R"({"room":7})"}, a);
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(first.out, "published seq=1\n");
  auto second = palyra({"publish", "door.close", "2"}, b);
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_EQ(second.out, "published seq=2\n");

  auto from_a = palyra({"events", "--json"}, a);
  auto from_b = palyra({"events", "--json"}, b);
  ASSERT_EQ(from_a.status, 0) << from_a.err;
  ASSERT_EQ(from_b.status, 0) << from_b.err;
  // The same frames: seq, name, payload, device and publication time.
  EXPECT_EQ(from_a.out, from_b.out);
  const auto events = lines_of(from_b.out);
  ASSERT_EQ(events.size(), 2u) << from_b.out;
  EXPECT_THAT(events[0], HasSubstr(R"("seq":1,"event":{"name":"door.open","payload":{"room":7})"));
  EXPECT_THAT(events[1], HasSubstr(R"("seq":2,"event":{"name":"door.close","payload":2)"));
}

TEST_F(ClusterTest, PublishersAndFollowersOnBothGatewaysSeeOneOrder) {
  auto on_a = follower(gateways_[0].address, "follower-a");
  auto on_b = follower(gateways_[1].address, "follower-b");
  constexpr int kEach = 25;
  std::vector<std::thread> publishers;
  std::vector<std::string> failures(2);
  for (std::size_t p = 0; p < 2; ++p) {
    publishers.emplace_back([this, p, &failures] {
      auto client = connect(p);
      if (!client) {
        failures[p] = client.error().describe();
        return;
      }
      std::uint64_t previous = 0;
      for (int i = 0; i < kEach; ++i) {
        auto seq = publish(**client, "order", fmt::format(R"({{"p":{},"i":{}}})", p, i), {});
        if (!seq || *seq <= previous) {
          failures[p] = seq ? "seq went backwards" : seq.error().describe();
          return;
        }
        previous = *seq;
      }
      (*client)->close();
    });
  }
  for (auto& t : publishers) t.join();
  ASSERT_EQ(failures, std::vector<std::string>(2)) << "publishers failed";

  std::vector<std::string> seen[2];
  for (std::size_t f = 0; f < 2; ++f) {
    auto& process = f == 0 ? on_a : on_b;
    for (int i = 0; i < 2 * kEach; ++i) {
      auto line = process->read_line(15s);
      ASSERT_FALSE(line.empty()) << "follower " << f << " stopped after " << i << " events";
      seen[f].push_back(line);
    }
  }
  EXPECT_EQ(seen[0], seen[1]) << "the two followers saw different orders";
  std::set<std::string> payloads;
  for (std::size_t i = 0; i < seen[0].size(); ++i) {
    EXPECT_EQ(seq_of(seen[0][i]), i + 1) << seen[0][i];
    payloads.insert(nlohmann::json::parse(seen[0][i])["event"]["payload"].dump());
  }
  EXPECT_EQ(payloads.size(), 2u * kEach) << "an event twice, or one missing";
}

TEST_F(ClusterTest, AFollowerOfAKilledGatewayContinuesOnTheOtherExactlyOnce) {
  const std::string b = gateways_[1].address;
  auto process = follower(both(), "follower");
  for (int i = 1; i <= 3; ++i)
    ASSERT_EQ(palyra({"publish", "tick", std::to_string(i)}, b).status, 0);
  std::vector<std::uint64_t> seqs;
  for (int i = 0; i < 3; ++i) seqs.push_back(seq_of(process->read_line(15s)));
  ASSERT_EQ(seqs, (std::vector<std::uint64_t>{1, 2, 3}));

  kill_gateway(0);  // the follower's: it was first in --connect
  for (int i = 4; i <= 6; ++i)
    ASSERT_EQ(palyra({"publish", "tick", std::to_string(i)}, b).status, 0);
  for (int i = 0; i < 3; ++i) seqs.push_back(seq_of(process->read_line(20s)));
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6})) << "a gap or a repeat";
  EXPECT_EQ(process->read_line(1500ms), "") << "an event printed twice";
  process->signal(SIGTERM);
  EXPECT_EQ(process->wait(10s), 0);
  EXPECT_THAT(read_text(dir_ / "follower.stderr"),
              HasSubstr("; switching to " + b + " (resuming after seq 3)"));
}

// The cluster without quorum (two of three nodes frozen) holds a publish in
// gateway A until A is killed: the answer is lost with the connection.
class LostAnswerTest : public ClusterTest {
 protected:
  std::unique_ptr<palyra::testing::ChildProcess> publish_into_a_lost_answer(
      std::vector<std::string> args) {
    cluster_->node(1).signal(SIGSTOP);
    cluster_->node(2).signal(SIGSTOP);
    args.insert(args.begin(), PALYRA_CLI_BINARY);
    args.insert(args.end(), {"--timeout", "6000", "--state-dir", gateways_[0].state.root.string(),
                             "--connect", both()});
    auto cli = std::make_unique<palyra::testing::ChildProcess>(args, dir_ / "publish.stderr");
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    bool held = false;
    while (!held && std::chrono::steady_clock::now() < deadline) {
      auto body = http_get_metrics(gateways_[0].metrics);
      auto metrics = body ? Scrape::parse(*body) : Result<Scrape>(body.error());
      held = metrics && metrics->value("palyra_journal_append_queue_depth") == 1.0;
      if (!held) std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(held) << "the publish never reached gateway A";
    kill_gateway(0);
    cluster_->node(1).signal(SIGCONT);
    cluster_->node(2).signal(SIGCONT);
    return cli;
  }
};

TEST_F(LostAnswerTest, ARetriedPublishWithTheSameIdAppendsOnceAndWithoutAnIdIsNotRetried) {
  const std::string b = gateways_[1].address;
  auto with_id = publish_into_a_lost_answer({"publish", "--id", "order-1", "order.placed", "1"});
  EXPECT_EQ(with_id->wait(30s), 0) << read_text(dir_ / "publish.stderr");
  EXPECT_EQ(with_id->read_rest(), "published seq=1\n");
  EXPECT_THAT(read_text(dir_ / "publish.stderr"), HasSubstr("the answer was lost"));
  auto events = palyra({"events", "--json"}, b);
  ASSERT_EQ(events.status, 0) << events.err;
  EXPECT_EQ(lines_of(events.out).size(), 1u) << events.out;

  ASSERT_TRUE(start_gateway(0));
  auto without_id = publish_into_a_lost_answer({"publish", "order.placed", "2"});
  EXPECT_EQ(without_id->wait(30s), 1);
  const std::string err = read_text(dir_ / "publish.stderr");
  EXPECT_THAT(err, HasSubstr("the event may or may not be stored. Not retried on another gateway: "
                             "without --id a retry could append it twice"));
  EXPECT_THAT(err, Not(HasSubstr("retrying on")));
}

TEST_F(ClusterTest, ConnectionAttemptsGoThroughTheListAndEachAddressHasItsPin) {
  const std::string a = gateways_[0].address, b = gateways_[1].address;
  const std::string silent = silent_address(), also_silent = silent_address();
  auto passed_over = palyra({"health", "--timeout", "1000"}, silent + "," + a);
  EXPECT_EQ(passed_over.status, 0) << passed_over.err;
  EXPECT_EQ(passed_over.out, "healthy: " + a + " (mutual TLS required)\n");
  EXPECT_THAT(passed_over.err, HasSubstr(silent + ": HandshakeTimeout"));
  EXPECT_THAT(passed_over.err, HasSubstr("; trying " + a));

  auto none = palyra({"health", "--timeout", "500"}, silent + "," + also_silent);
  EXPECT_EQ(none.status, 1);
  EXPECT_EQ(lines_of(none.err).size(), 2u) << none.err;  // "trying ..." and the verdict
  EXPECT_THAT(none.err, HasSubstr("no gateway answered (2 tried): " + silent +
                                  " (server name 127.0.0.1): HandshakeTimeout"));
  EXPECT_THAT(none.err, HasSubstr("; " + also_silent + " (server name 127.0.0.1): "));

  auto pin = [this](std::size_t i) {
    return identity::Certificate::from_pem_file(gateways_[i].state.server_cert())->fingerprint();
  };
  ASSERT_NE(pin(0), pin(1));
  EXPECT_EQ(palyra({"health", "--pin-sha256", pin(0) + "," + pin(1)}, both()).status, 0);
  auto swapped = palyra({"health", "--pin-sha256", pin(1) + "," + pin(0)}, both());
  EXPECT_EQ(swapped.status, 1);
  EXPECT_THAT(swapped.err, HasSubstr(a + " (server name 127.0.0.1): PinnedCertificateMismatch"));
  EXPECT_THAT(swapped.err, HasSubstr(b + " (server name 127.0.0.1): PinnedCertificateMismatch"));
  kill_gateway(0);
  auto second =
      palyra({"health", "--timeout", "1000", "--pin-sha256", pin(0) + "," + pin(1)}, both());
  EXPECT_EQ(second.status, 0) << second.err;
  EXPECT_EQ(second.out, "healthy: " + b + " (mutual TLS required)\n");
}

}  // namespace
}  // namespace palyra::e2e
