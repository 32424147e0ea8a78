// Device ids across two palyrad gateways on one nats-server
// (gateway_pair.hpp): an id a node enrolled through one gateway is refused
// on the other until its certificate is revoked, and of two nodes enrolling
// one id through both gateways at once exactly one gets it.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "gateway_pair.hpp"

namespace palyra::e2e {
namespace {

using ::testing::HasSubstr;

class ClusterDevicesTest : public GatewayPairTest {
 protected:
  // A one-use token of the cluster, not bound to a device id.
  std::string cluster_token() {
    auto created = palyra(
        {"token", "create", "--state-dir", a_.state.root.string(), "--nats-urls", nats_->url()});
    EXPECT_EQ(created.status, 0) << created.err;
    const auto end = created.out.find_last_not_of('\n');
    const auto start = created.out.rfind('\n', end);
    return created.out.substr(start == std::string::npos ? 0 : start + 1,
                              end - (start == std::string::npos ? 0 : start + 1) + 1);
  }
  // `palyra enroll` of a node (its own state directory) through `gateway`,
  // with its own scratch directory so that two may run at once.
  palyra::testing::CommandResult enroll(const Gateway& gateway, const std::string& token,
                                        const std::string& node, const std::string& device_id) {
    const auto scratch = dir_ / ("scratch-" + node);
    std::filesystem::create_directories(scratch);
    return palyra::testing::run_command(
        {PALYRA_CLI_BINARY, "enroll", token, "--connect", gateway.address, "--state-dir",
         (dir_ / node).string(), "--device", device_id},
        scratch);
  }
};

TEST_F(ClusterDevicesTest, AnIdEnrolledThroughOneGatewayIsRefusedOnTheOtherUntilRevoked) {
  ASSERT_TRUE(start(a_));
  ASSERT_TRUE(start(b_));
  const std::string first_token = cluster_token();
  const std::string second_token = cluster_token();
  auto enrolled = enroll(a_, first_token, "node-first", "edge-7");
  ASSERT_EQ(enrolled.status, 0) << enrolled.err << "\n" << a_.log();

  auto refused = enroll(b_, second_token, "node-second", "edge-7");
  EXPECT_EQ(refused.status, 1) << refused.out;
  // The same answer as a gateway's own ledger gives.
  EXPECT_THAT(refused.err, HasSubstr("enroll_refused"));
  EXPECT_THAT(b_.log_with("belongs to a device with a valid certificate"),
              HasSubstr("device id 'edge-7' belongs to a device with a valid certificate"));

  // Revoked (through A's state directory, published by A): the id is free.
  auto revoke =
      palyra({"cert", "revoke", "--state-dir", a_.state.root.string(), "--device", "edge-7"});
  ASSERT_EQ(revoke.status, 0) << revoke.err;
  a_.process->signal(SIGHUP);
  ASSERT_THAT(b_.log_with("revoked in the cluster: 1 new"),
              HasSubstr("revoked in the cluster: 1 new"));
  // The refused attempt did not use the token up.
  auto again = enroll(b_, second_token, "node-second", "edge-7");
  EXPECT_EQ(again.status, 0) << again.err << "\n" << b_.log();

  // And the new device holds it, on A as well.
  const std::string third_token = cluster_token();
  auto taken = enroll(a_, third_token, "node-third", "edge-7");
  EXPECT_EQ(taken.status, 1) << taken.out;
  EXPECT_THAT(taken.err, HasSubstr("enroll_refused"));
}

// A certificate issued by hand (`palyra cert device`) with --nats-urls is in
// the cluster at once: its id is refused on the other gateway, and a
// revocation from a host with no state directory finds it, without A being
// restarted.
TEST_F(ClusterDevicesTest, ADeviceIssuedByHandWithNatsUrlsHoldsItsIdAtOnce) {
  ASSERT_TRUE(start(a_));
  ASSERT_TRUE(start(b_));
  auto issued = palyra({"cert", "device", "edge-9", "--state-dir", a_.state.root.string(),
                        "--nats-urls", nats_->url()});
  ASSERT_EQ(issued.status, 0) << issued.err;
  EXPECT_THAT(issued.out, HasSubstr("device id 'edge-9' claimed"));

  auto refused = enroll(b_, cluster_token(), "node-b", "edge-9");
  EXPECT_EQ(refused.status, 1) << refused.out;
  EXPECT_THAT(refused.err, HasSubstr("enroll_refused"));

  auto revoke = palyra({"cert", "revoke", "--device", "edge-9", "--nats-urls", nats_->url()});
  ASSERT_EQ(revoke.status, 0) << revoke.err;
  ASSERT_THAT(b_.log_with("revoked in the cluster: 1 new"),
              HasSubstr("revoked in the cluster: 1 new"));
  auto enrolled = enroll(b_, cluster_token(), "node-b", "edge-9");
  EXPECT_EQ(enrolled.status, 0) << enrolled.err << "\n" << b_.log();
}

// Unreachable NATS: refused in one line, and nothing is issued.
TEST_F(ClusterDevicesTest, ADeviceIsNotIssuedWhenTheClusterIsUnreachable) {
  auto issued = palyra({"cert", "device", "edge-10", "--state-dir", a_.state.root.string(),
                        "--nats-urls", "nats://127.0.0.1:1"});
  EXPECT_EQ(issued.status, 1);
  EXPECT_THAT(issued.err, HasSubstr("127.0.0.1:1"));
  EXPECT_FALSE(std::filesystem::exists(a_.state.root / "devices" / "edge-10"));
}

TEST_F(ClusterDevicesTest, OfTwoNodesEnrollingOneIdThroughBothGatewaysAtOnceExactlyOneGetsIt) {
  ASSERT_TRUE(start(a_));
  ASSERT_TRUE(start(b_));
  // Four rounds: each refusal counts against 127.0.0.1 on its gateway, and
  // five within a minute would lock the address out.
  for (int round = 0; round < 4; ++round) {
    const std::string id = fmt::format("raced-{}", round);
    const std::string token_a = cluster_token();
    const std::string token_b = cluster_token();
    palyra::testing::CommandResult through_a;
    palyra::testing::CommandResult through_b;
    std::thread first([&] { through_a = enroll(a_, token_a, fmt::format("a-{}", round), id); });
    std::thread second([&] { through_b = enroll(b_, token_b, fmt::format("b-{}", round), id); });
    first.join();
    second.join();
    EXPECT_EQ((through_a.status == 0 ? 1 : 0) + (through_b.status == 0 ? 1 : 0), 1)
        << "round " << round << "\nA: " << through_a.err << "\nB: " << through_b.err << "\n"
        << a_.log() << "\n"
        << b_.log();
    for (const auto* loser : {&through_a, &through_b}) {
      if (loser->status != 0) {
        EXPECT_THAT(loser->err, HasSubstr("enroll_refused"));
      }
    }
  }
}

}  // namespace
}  // namespace palyra::e2e
