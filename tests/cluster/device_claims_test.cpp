// Device-id claims (PALYRA_DEVICES) against a real nats-server, each
// SharedState with its own connection as gateways have: one id is given to
// one enrollment however many race for it; a claim without a certificate is
// given back or lapses; an expired or revoked certificate frees its id; a
// renewal keeps the claim; ids with dots are keys too.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "../../src/cluster/kv_device_claims.hpp"
#include "gateway_state_test.hpp"
#include "palyra/cluster/shared_state.hpp"

namespace palyra::cluster {
namespace {

using namespace std::chrono_literals;

class DeviceClaimsTest : public GatewayStateTest {
 protected:
  // A device certificate's ledger entry valid from `now` for `valid_for`.
  identity::LedgerEntry certificate(const std::string& device_id, int n,
                                    std::chrono::seconds valid_for = 3600s) const {
    identity::LedgerEntry e;
    e.kind = "device";
    e.device_id = device_id;
    e.subject = "Palyra Device " + device_id;
    e.fingerprint = test_fingerprint(n);
    e.not_before_unix = unix(now_);
    e.not_after_unix = unix(now_ + valid_for);
    return e;
  }
  static std::int64_t unix(identity::SystemTime t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  }

  const identity::SystemTime now_ = std::chrono::system_clock::now();
};

TEST_F(DeviceClaimsTest, AnIdEnrolledThroughOneGatewayIsRefusedOnAnotherUntilRevoked) {
  auto a = gateway();
  auto b = gateway();
  ASSERT_TRUE(a && b);
  auto claim = a->device_claims()->claim("node-7", false, now_);
  ASSERT_TRUE(claim) << claim.error().describe();
  // While the enrollment is in progress...
  auto racing = b->device_claims()->claim("node-7", false, now_);
  ASSERT_FALSE(racing);
  EXPECT_EQ(racing.error().code(), Errc::AlreadyExists);
  EXPECT_NE(racing.error().message().find("being enrolled"), std::string::npos);
  // ...and once its certificate is issued.
  ASSERT_TRUE((*claim)->settle(certificate("node-7", 1)).ok());
  claim->reset();  // settled: destroying it gives nothing back
  auto refused = b->device_claims()->claim("node-7", false, now_ + 10s);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::AlreadyExists);
  EXPECT_NE(refused.error().message().find("valid certificate"), std::string::npos);

  ASSERT_TRUE(a->publish_revocations({test_fingerprint(1)}, unix(now_)).ok());
  auto again = b->device_claims()->claim("node-7", false, now_ + 20s);
  ASSERT_TRUE(again) << "a revoked device's id stays taken: " << again.error().describe();
}

TEST_F(DeviceClaimsTest, AnExpiredCertificateFreesItsIdAndABoundTokenReplacesALiveOne) {
  auto a = gateway();
  ASSERT_TRUE(a);
  auto claims = a->device_claims();
  ASSERT_TRUE(claims->keep(certificate("node-8", 2, 60s), now_).ok());
  EXPECT_FALSE(claims->claim("node-8", false, now_ + 59s));
  auto after_expiry = claims->claim("node-8", false, now_ + 61s);
  ASSERT_TRUE(after_expiry) << after_expiry.error().describe();
  ASSERT_TRUE((*after_expiry)->settle(certificate("node-8", 3)).ok());

  // A token bound to the id enrolls over a live device; if that enrollment
  // fails, the live device keeps its id.
  {
    auto replacing = claims->claim("node-8", true, now_ + 62s);
    ASSERT_TRUE(replacing) << replacing.error().describe();
  }
  auto still = claims->claim("node-8", false, now_ + 63s);
  ASSERT_FALSE(still) << "a failed replacement gave the live device's id away";
  EXPECT_NE(still.error().message().find(test_fingerprint(3)), std::string::npos)
      << still.error().message();
}

TEST_F(DeviceClaimsTest, AClaimWithoutACertificateIsGivenBackOrLapses) {
  auto a = gateway();
  auto b = gateway();
  ASSERT_TRUE(a && b);
  {
    auto failed = a->device_claims()->claim("node-9", false, now_);
    ASSERT_TRUE(failed);
  }  // the token was used up meanwhile: no certificate, the claim goes
  auto next = b->device_claims()->claim("node-9", false, now_ + 1s);
  ASSERT_TRUE(next) << "a failed enrollment kept the id: " << next.error().describe();

  // A gateway that dies holding a claim: it lapses after kPendingClaimLifetime.
  auto abandoned = a->device_claims()->claim("node-10", false, now_);
  ASSERT_TRUE(abandoned);
  EXPECT_FALSE(b->device_claims()->claim("node-10", false, now_ + kPendingClaimLifetime - 1s));
  auto taken = b->device_claims()->claim("node-10", false, now_ + kPendingClaimLifetime + 1s);
  ASSERT_TRUE(taken) << taken.error().describe();
  ASSERT_TRUE((*taken)->settle(certificate("node-10", 4)).ok());
  // The dead gateway's claim, destroyed late, does not undo the new one.
  abandoned->reset();
  EXPECT_FALSE(b->device_claims()->claim("node-10", false, now_ + kPendingClaimLifetime + 2s));
}

TEST_F(DeviceClaimsTest, ARenewalKeepsTheClaimOnTheNewCertificate) {
  auto a = gateway();
  auto b = gateway();
  ASSERT_TRUE(a && b);
  auto claim = a->device_claims()->claim("node-11", false, now_);
  ASSERT_TRUE(claim);
  ASSERT_TRUE((*claim)->settle(certificate("node-11", 5, 600s)).ok());
  // Renewed through b: a certificate that lasts longer.
  ASSERT_TRUE(b->device_claims()->keep(certificate("node-11", 6, 1200s), now_ + 300s).ok());
  // The first certificate revoked and expired: the renewed one still holds.
  ASSERT_TRUE(a->publish_revocations({test_fingerprint(5)}, unix(now_)).ok());
  auto refused = a->device_claims()->claim("node-11", false, now_ + 700s);
  ASSERT_FALSE(refused) << "the renewal did not keep the device's claim";
  EXPECT_NE(refused.error().message().find(test_fingerprint(6)), std::string::npos);
  // An older certificate found later (a gateway's ledger.json at start)
  // does not take the claim back.
  ASSERT_TRUE(a->device_claims()->keep(certificate("node-11", 7, 900s), now_ + 310s).ok());
  auto found = dynamic_cast<KvDeviceClaims&>(*a->device_claims()).find("node-11");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->record.fingerprint, test_fingerprint(6));
}

TEST_F(DeviceClaimsTest, DeviceIdsWithDotsAreKeysToo) {
  auto a = gateway();
  ASSERT_TRUE(a);
  int n = 100;
  for (const std::string id : {".", "..", ".node", "node.", "a..b", "a.b", "a=b", "-_-"}) {
    if (id == "a=b") {
      EXPECT_FALSE(a->device_claims()->claim(id, false, now_)) << "not a device id";
      continue;
    }
    auto claim = a->device_claims()->claim(id, false, now_);
    ASSERT_TRUE(claim) << id << ": " << claim.error().describe();
    ASSERT_TRUE((*claim)->settle(certificate(id, ++n)).ok()) << id;
  }
  // One to one: "a.b" and "a..b" are two devices, each holding its own id.
  EXPECT_EQ(device_claim_key("a.b"), "a=b");
  auto a_b = dynamic_cast<KvDeviceClaims&>(*a->device_claims()).find("a.b");
  ASSERT_TRUE(a_b && a_b->has_value());
  EXPECT_EQ((*a_b)->record.device_id, "a.b");
}

TEST_F(DeviceClaimsTest, OfGatewaysRacingForOneIdExactlyOneGetsIt) {
  constexpr int kGateways = 4;
  std::vector<std::shared_ptr<SharedState>> gateways;
  for (int i = 0; i < kGateways; ++i) {
    gateways.push_back(gateway());
    ASSERT_TRUE(gateways.back());
  }
  for (int round = 0; round < 8; ++round) {
    const std::string id = "raced-" + std::to_string(round);
    std::atomic<int> wins{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < kGateways; ++i) {
      threads.emplace_back([&, i] {
        while (!go) std::this_thread::yield();
        auto claim = gateways[static_cast<std::size_t>(i)]->device_claims()->claim(id, false, now_);
        if (!claim) {
          EXPECT_EQ(claim.error().code(), Errc::AlreadyExists) << claim.error().describe();
          return;
        }
        ++wins;
        EXPECT_TRUE((*claim)->settle(certificate(id, 1000 + round * kGateways + i)).ok());
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(wins.load(), 1) << "round " << round;
  }
}

}  // namespace
}  // namespace palyra::cluster
