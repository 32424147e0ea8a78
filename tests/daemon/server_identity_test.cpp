#include "server_identity.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../common/manual_clock.hpp"
#include "../common/temp_dir.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/store.hpp"

namespace palyra::daemon {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// When palyrad reissues its own certificate, judged at the time it is
// handed: the clock moves, no test waits for a certificate to age.
class ServerIdentityTest : public palyra::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    state_ = identity::StateDir{dir_ / "state"};
    ASSERT_TRUE(identity::IdentityStore(state_).create_ca("Test CA", false).ok());
  }
  std::string fingerprint_on_disk() const {
    return identity::Certificate::from_pem_file(state_.server_cert())->fingerprint();
  }

  identity::StateDir state_;
  palyra::testing::ManualClock clock_;
};

TEST_F(ServerIdentityTest, KeepsTheCertificateUntilItEntersTheRenewalWindow) {
  identity::ServerCertificateRequest request{"localhost", {}, {"127.0.0.1"}};
  request.valid_for = 24h;
  auto issued = identity::IdentityStore(state_).issue_server(request);
  ASSERT_TRUE(issued.ok()) << issued.error().describe();

  clock_.advance(22h);  // about 2 h left: outside a 1 h window
  auto kept = ensure_server_certificate(state_, 1h, clock_.now());
  ASSERT_TRUE(kept.ok()) << kept.error().describe();
  EXPECT_FALSE(kept->reissued);
  EXPECT_EQ(kept->fingerprint, issued->fingerprint);
  EXPECT_EQ(fingerprint_on_disk(), issued->fingerprint);

  clock_.advance(90min);  // about 30 min left
  auto renewed = ensure_server_certificate(state_, 1h, clock_.now());
  ASSERT_TRUE(renewed.ok()) << renewed.error().describe();
  EXPECT_TRUE(renewed->reissued);
  EXPECT_THAT(renewed->reason, HasSubstr("expires in 0 h"));
  EXPECT_NE(renewed->fingerprint, issued->fingerprint);
  EXPECT_EQ(fingerprint_on_disk(), renewed->fingerprint);
  // The same names: what the old one was reached by.
  auto current = identity::Certificate::from_pem_file(state_.server_cert());
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->ip_addresses(), std::vector<std::string>{"127.0.0.1"});
}

}  // namespace
}  // namespace palyra::daemon
