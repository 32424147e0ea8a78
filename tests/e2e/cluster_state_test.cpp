// Two palyrad gateways sharing state through one nats-server (gateway_pair.hpp):
// a revocation made through one gateway closes the device's live connection
// on the other and refuses its next handshake there; a one-use enrollment
// token made in the cluster's bucket enrolls once, through either gateway;
// revocations still travel after the nats-server was killed and restarted;
// `palyra cert revoke --nats-urls` revokes a device wherever it enrolled.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "gateway_pair.hpp"
#include "refused_as_revoked.hpp"

namespace palyra::e2e {
namespace {

using ::testing::HasSubstr;

// The last non-empty line of `text`.
std::string last_line(const std::string& text) {
  const auto end = text.find_last_not_of('\n');
  if (end == std::string::npos) return {};
  const auto start = text.rfind('\n', end);
  const auto from = start == std::string::npos ? 0 : start + 1;
  return text.substr(from, end - from + 1);
}

class ClusterStateTest : public GatewayPairTest {};

TEST_F(ClusterStateTest, ARevocationThroughOneGatewayClosesTheDevicesConnectionOnTheOther) {
  ASSERT_TRUE(start(a_));
  ASSERT_TRUE(start(b_));
  auto victim = transport::Client::connect(b_.socket_address(), device_tls("node-1"));
  ASSERT_TRUE(victim) << victim.error().describe();

  auto revoke =
      palyra({"cert", "revoke", "--state-dir", a_.state.root.string(), "--device", "node-1"});
  ASSERT_EQ(revoke.status, 0) << revoke.err;
  const auto revoked_at = std::chrono::steady_clock::now();
  a_.process->signal(SIGHUP);
  auto closed = (*victim)->run_until([] { return false; }, 10s);
  const auto took = std::chrono::steady_clock::now() - revoked_at;
  ASSERT_FALSE(closed) << "gateway B kept the revoked device's connection\n" << b_.log();
  EXPECT_EQ(closed.error().code(), Errc::ConnectionClosed) << closed.error().describe();
  EXPECT_THAT(closed.error().message(), HasSubstr("0x11"));
  // The target is 1 s; measured, not asserted tightly (a loaded
  // machine must not fail this test).
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  std::printf("revocation on gateway A closed the connection on gateway B after %lld ms\n",
              static_cast<long long>(ms));
  EXPECT_LT(ms, 5000);
  EXPECT_THAT(b_.log_with("revoked in the cluster: 1 new"),
              HasSubstr("revoked in the cluster: 1 new"));

  EXPECT_TRUE(
      refused_as_revoked(transport::Client::connect(b_.socket_address(), device_tls("node-1"))))
      << "gateway B";
  EXPECT_FALSE(std::filesystem::exists(b_.state.revocations()))
      << "a revocation from the cluster is not written to B's revoked.txt";
}

// kill -9 of the nats-server under both gateways, started again on the same
// port and store: the revocation watch must outlive it, or a revocation made
// afterwards would never reach the gateways that did not make it.
TEST_F(ClusterStateTest, ARevocationAfterTheNatsServerWasKilledAndRestartedStillReachesTheOther) {
  ASSERT_TRUE(start(a_));
  ASSERT_TRUE(start(b_));
  const int port = nats_->port();
  nats_->kill();
  // Longer than the client library's 2 s between reconnect attempts: the
  // gateways fail at least one. (12 s, and 1 s, pass the same way.)
  std::this_thread::sleep_for(3s);
  nats_ = std::make_unique<palyra::testing::NatsServer>(
      PALYRA_NATS_SERVER, dir_ / "nats", std::vector<std::string>{"-p", std::to_string(port)});
  ASSERT_FALSE(nats_->url().empty()) << "nats-server did not start again on port " << port;
  // The buckets are back once JetStream has recovered its store.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (palyra({"token", "list", "--nats-urls", nats_->url()}).status != 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the buckets did not come back";
    std::this_thread::sleep_for(200ms);
  }
  // The device connects to B after the restart, so that only B's watch can
  // tell B about the revocation.
  auto victim = transport::Client::connect(b_.socket_address(), device_tls("node-1"));
  ASSERT_TRUE(victim) << victim.error().describe();

  auto revoke =
      palyra({"cert", "revoke", "--state-dir", a_.state.root.string(), "--device", "node-1"});
  ASSERT_EQ(revoke.status, 0) << revoke.err;
  const auto revoked_at = std::chrono::steady_clock::now();
  a_.process->signal(SIGHUP);
  auto closed = (*victim)->run_until([] { return false; }, 15s);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - revoked_at)
                      .count();
  ASSERT_FALSE(closed) << "gateway B never heard of the revocation after the NATS restart\nA:\n"
                       << a_.log() << "\nB:\n"
                       << b_.log();
  EXPECT_EQ(closed.error().code(), Errc::ConnectionClosed) << closed.error().describe();
  std::printf("after the NATS restart, a revocation on A closed the connection on B in %lld ms\n",
              static_cast<long long>(ms));
  EXPECT_LT(ms, 5000);
  EXPECT_TRUE(
      refused_as_revoked(transport::Client::connect(b_.socket_address(), device_tls("node-1"))))
      << "gateway B";
}

// `palyra cert revoke --nats-urls` from a host with no gateway's state
// directory: the device enrolled through gateway A is found in the shared
// ledger, its live connection on A closes and B refuses its handshake.
TEST_F(ClusterStateTest, CertRevokeWithNatsUrlsReachesEveryGatewayWithoutTheirStateDirectories) {
  ASSERT_TRUE(start(a_));
  ASSERT_TRUE(start(b_));
  auto enroll_node = [&](const std::string& device_id) {
    auto created = palyra(
        {"token", "create", "--state-dir", a_.state.root.string(), "--nats-urls", nats_->url()});
    EXPECT_EQ(created.status, 0) << created.err;
    const identity::StateDir node{dir_ / device_id};
    auto enrolled = palyra({"enroll", last_line(created.out), "--connect", a_.address,
                            "--state-dir", node.root.string(), "--device", device_id});
    EXPECT_EQ(enrolled.status, 0) << enrolled.err << "\n" << a_.log();
    transport::ClientTlsConfig tls;
    tls.ca_file = a_.state.ca_cert();
    tls.cert_file = node.device_cert(device_id);
    tls.key_file = node.device_key(device_id);
    tls.server_name = "127.0.0.1";
    return tls;
  };
  const auto edge = enroll_node("edge-9");
  auto victim = transport::Client::connect(a_.socket_address(), edge);
  ASSERT_TRUE(victim) << victim.error().describe();

  const auto revoked_at = std::chrono::steady_clock::now();  // the command's start, this time
  auto revoke = palyra({"cert", "revoke", "--device", "edge-9", "--nats-urls", nats_->url()});
  ASSERT_EQ(revoke.status, 0) << revoke.err;
  EXPECT_THAT(revoke.out, HasSubstr("revoked "));
  auto closed = (*victim)->run_until([] { return false; }, 10s);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - revoked_at)
                      .count();
  ASSERT_FALSE(closed) << "gateway A kept the revoked device's connection\n" << a_.log();
  EXPECT_EQ(closed.error().code(), Errc::ConnectionClosed) << closed.error().describe();
  std::printf(
      "palyra cert revoke --nats-urls, from its start, closed the connection on A in %lld ms\n",
      static_cast<long long>(ms));
  EXPECT_LT(ms, 5000);  // the target is 1 s; a loaded machine must not fail this
  EXPECT_TRUE(refused_as_revoked(transport::Client::connect(b_.socket_address(), edge)))
      << "gateway B";
  EXPECT_FALSE(std::filesystem::exists(a_.state.revocations()))
      << "no --state-dir: no state directory is written";

  // Marked in the shared ledger: nothing left to revoke.
  auto twice = palyra({"cert", "revoke", "--device", "edge-9", "--nats-urls", nats_->url()});
  EXPECT_EQ(twice.status, 1);
  EXPECT_THAT(twice.err,
              HasSubstr("device 'edge-9' has no unrevoked certificate in PALYRA_LEDGER"));
  // With --state-dir, that directory's revoked.txt records it too, though
  // another gateway issued it (B's ledger.json has never seen it).
  enroll_node("edge-10");
  auto recorded = palyra({"cert", "revoke", "--device", "edge-10", "--nats-urls", nats_->url(),
                          "--state-dir", b_.state.root.string()});
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  const auto fingerprint = recorded.out.substr(8, 64);  // "revoked <fingerprint> (...)"
  auto revoked_txt =
      palyra::testing::run_command({"/bin/cat", b_.state.revocations().string()}, dir_);
  EXPECT_THAT(revoked_txt.out, HasSubstr(fingerprint));

  // One line each when it cannot be done.
  auto unreachable =
      palyra({"cert", "revoke", "--device", "edge-9", "--nats-urls", "nats://127.0.0.1:1"});
  EXPECT_EQ(unreachable.status, 1);
  EXPECT_THAT(unreachable.err, HasSubstr("connecting to nats://127.0.0.1:1"));
  EXPECT_EQ(std::count(unreachable.err.begin(), unreachable.err.end(), '\n'), 1) << unreachable.err;
  palyra::testing::NatsServer empty(PALYRA_NATS_SERVER, dir_ / "nats-empty");
  ASSERT_FALSE(empty.url().empty());
  auto no_bucket = palyra({"cert", "revoke", "--device", "edge-9", "--nats-urls", empty.url()});
  EXPECT_EQ(no_bucket.status, 1);
  EXPECT_THAT(no_bucket.err, HasSubstr("no key-value bucket PALYRA_REVOKED"));
}

TEST_F(ClusterStateTest, AGatewayStartingLaterRefusesWhatWasRevokedBeforeIt) {
  ASSERT_TRUE(start(a_));
  ASSERT_EQ(palyra({"cert", "revoke", "--state-dir", a_.state.root.string(), "--device", "node-1"})
                .status,
            0);
  a_.process->signal(SIGHUP);
  ASSERT_THAT(a_.log_with("revocation index reloaded (SIGHUP)"),
              HasSubstr("revocation index reloaded (SIGHUP)"));
  // A publishes off its loop: give it the moment it needs.
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(start(b_));
  EXPECT_TRUE(
      refused_as_revoked(transport::Client::connect(b_.socket_address(), device_tls("node-1"))))
      << "gateway B did not load the cluster's revocations at start";
}

TEST_F(ClusterStateTest, AOneUseTokenEnrollsOnceAcrossBothGateways) {
  ASSERT_TRUE(start(a_));
  ASSERT_TRUE(start(b_));
  auto created = palyra(
      {"token", "create", "--state-dir", a_.state.root.string(), "--nats-urls", nats_->url()});
  ASSERT_EQ(created.status, 0) << created.err;
  const std::string token = last_line(created.out);
  EXPECT_FALSE(std::filesystem::exists(a_.state.tokens())) << "the token went to tokens.json";

  const identity::StateDir first{dir_ / "node-first"};
  auto enrolled = palyra({"enroll", token, "--connect", a_.address, "--state-dir",
                          first.root.string(), "--device", "node-first"});
  ASSERT_EQ(enrolled.status, 0) << enrolled.err << "\n" << a_.log();
  const identity::StateDir second{dir_ / "node-second"};
  auto refused = palyra({"enroll", token, "--connect", b_.address, "--state-dir",
                         second.root.string(), "--device", "node-second"});
  EXPECT_EQ(refused.status, 1) << refused.out;
  EXPECT_THAT(refused.err, HasSubstr("enroll_refused"));
  EXPECT_THAT(b_.log_with("used up"), HasSubstr("reason=\"enrollment token"));

  // The enrolled node is a device of the cluster: gateway B serves it.
  auto health = palyra({"health", "--state-dir", first.root.string(), "--connect", b_.address});
  EXPECT_EQ(health.status, 0) << health.err;
  auto listed = palyra({"token", "list", "--nats-urls", nats_->url()});
  ASSERT_EQ(listed.status, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr("used up"));
}

}  // namespace
}  // namespace palyra::e2e
