// When a node renews its certificate (2/3 of the lifetime the daemon meant,
// ±10 % of it), and that an expired certificate is not renewed but the node
// is told how to recover. No daemon: both are decided before any call.
#include "../../src/cli/device_renewal.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "../common/temp_dir.hpp"
#include "palyra/identity/ca.hpp"
#include "palyra/identity/csr.hpp"
#include "palyra/identity/device_identity.hpp"
#include "palyra/identity/state_dir.hpp"

namespace palyra::cli {
namespace {

using namespace std::chrono_literals;
using identity::SystemTime;

const SystemTime kIssued = SystemTime(std::chrono::hours(24 * 365 * 50));

TEST(DeviceRenewalTest, RenewsAtTwoThirdsOfTheLifetimeTheDaemonMeant) {
  // The daemon backdates notBefore by a minute: a 24 h certificate issued at
  // kIssued is valid from kIssued - 60 s, and its lifetime counts from kIssued.
  const SystemTime not_before = kIssued - identity::kDeviceClockSkew;
  const SystemTime not_after = kIssued + 24h;
  EXPECT_EQ(renewal_time(not_before, not_after, 0.0), kIssued + 16h);
  EXPECT_EQ(renewal_time(not_before, not_after, 1.0), kIssued + 16h + 144min);
  EXPECT_EQ(renewal_time(not_before, not_after, -1.0), kIssued + 16h - 144min);
  // A certificate no longer than the backdating is taken as it is.
  EXPECT_EQ(renewal_time(kIssued, kIssued + 30s, 0.0), kIssued + 20s);
}

class DeviceRenewerTest : public palyra::testing::TempDirTest {};

TEST_F(DeviceRenewerTest, AnExpiredCertificateIsNotRenewedAndTheErrorSaysHowToRecover) {
  auto ca = identity::CertificateAuthority::create("CA");
  ASSERT_TRUE(ca.ok());
  auto key = identity::PrivateKey::generate();
  ASSERT_TRUE(key.ok());
  auto request = identity::CertificateRequest::from_pem(*identity::make_csr_pem(*key, "n1"));
  ASSERT_TRUE(request.ok());
  auto expired =
      ca->issue_device_for_key(*request, "n1", 24h, std::chrono::system_clock::now() - 48h);
  ASSERT_TRUE(expired.ok()) << expired.error().describe();
  const identity::StateDir state{dir_ / "state"};
  ASSERT_TRUE(
      identity::store_device_identity(state, "n1", *key, *expired, ca->certificate().pem()).ok());

  ConnectionOptions options;
  options.connect = "127.0.0.1:7444";
  options.state_dir = state.root.string();
  auto connection = resolve(options);
  ASSERT_TRUE(connection.ok()) << connection.error().describe();
  DeviceRenewer renewer(*connection);
  auto current = renewer.current();
  ASSERT_FALSE(current.ok());
  EXPECT_EQ(current.error().code(), Errc::NotFound);
  EXPECT_NE(current.error().message().find("palyra token create --device n1"), std::string::npos)
      << current.error().message();
  auto renewed = renewer.renew_once();
  ASSERT_FALSE(renewed.ok());
  EXPECT_EQ(renewed.error().code(), Errc::NotFound);
}

}  // namespace
}  // namespace palyra::cli
