#include "palyra/runtime/enrollment_service.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "../common/manual_clock.hpp"
#include "../common/temp_dir.hpp"
#include "palyra/identity/csr.hpp"
#include "palyra/identity/store.hpp"
#include "palyra/identity/token_store.hpp"

namespace palyra::runtime {
namespace {

using namespace std::chrono_literals;

// The daemon's enrollment and renewal decisions, on a real state directory
// and a real loop, without a network: what each request is answered. The
// service's clock is moved by hand.
class EnrollmentServiceTest : public palyra::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    dir_state_ = identity::StateDir{dir_ / "state"};
    ASSERT_TRUE(identity::IdentityStore(dir_state_).create_ca("Test CA", false).ok());
    loop_ = std::move(transport::EventLoop::create()).value();
    service_ = std::make_unique<EnrollmentService>(*loop_, dir_state_, EnrollmentOptions{}, clock_);
  }
  void TearDown() override {
    service_.reset();
    TempDirTest::TearDown();
  }

  // A token's "<id>.<secret>" as a node presents it.
  std::string new_token(std::optional<std::string> device_id = std::nullopt) {
    identity::TokenCreateOptions options;
    options.device_id = std::move(device_id);
    auto hash = identity::IdentityStore(dir_state_).signing_ca_spki_sha256();
    auto token = identity::FileTokenStore(dir_state_).create(options, *hash, clock_->now());
    EXPECT_TRUE(token.ok());
    return token->id + "." + token->secret;
  }
  static std::string new_csr() {
    auto key = identity::PrivateKey::generate();
    return *identity::make_csr_pem(*key, "");
  }
  Request enroll_request(std::string token, std::optional<std::string> device_id) {
    Request request;
    request.method = Method::Enroll;
    request.token = std::move(token);
    request.csr_pem = new_csr();
    request.device_id = std::move(device_id);
    return request;
  }
  // Runs the loop until the call is answered.
  std::string answer_of(const std::function<void(EnrollmentService::Done)>& call) {
    std::optional<std::string> frame;
    call([&](std::string answer) {
      frame = std::move(answer);
      loop_->stop();
    });
    while (!frame) EXPECT_TRUE(loop_->run_once(100ms).ok());
    return *frame;
  }
  std::string enroll(const Request& request, const std::string& peer = "192.0.2.1:5000") {
    return answer_of(
        [&](EnrollmentService::Done done) { service_->enroll(request, peer, std::move(done)); });
  }
  std::string renew(const std::string& device_id) {
    Request request;
    request.method = Method::RenewCertificate;
    request.csr_pem = new_csr();
    return answer_of([&](EnrollmentService::Done done) {
      service_->renew(request, device_id, "192.0.2.1:5000", std::move(done));
    });
  }
  std::size_t ledger_size() {
    return identity::IdentityStore(dir_state_).ledger()->entries().size();
  }

  std::shared_ptr<palyra::testing::ManualClock> clock_ =
      std::make_shared<palyra::testing::ManualClock>();
  identity::StateDir dir_state_;
  std::unique_ptr<transport::EventLoop> loop_;
  std::unique_ptr<EnrollmentService> service_;
};

TEST_F(EnrollmentServiceTest, AValidTokenEnrollsAndAnswersCertificateAndBundle) {
  auto frame = enroll(enroll_request(new_token(), "n-1"));
  auto response = parse_response(frame);
  ASSERT_TRUE(response.ok()) << frame;
  EXPECT_EQ(response->kind, "enrolled");
  EXPECT_EQ(response->device_id, "n-1");
  auto certificate = identity::Certificate::from_pem(*response->certificate);
  ASSERT_TRUE(certificate.ok());
  EXPECT_EQ(certificate->device_id(), "n-1");
  EXPECT_EQ(*response->ca, *identity::IdentityStore(dir_state_).ca_bundle_pem());
}

TEST_F(EnrollmentServiceTest, EveryRefusalIsTheSameAnswer) {
  const std::string refused = encode_error(ProtocolError::EnrollRefused);
  std::string wrong = new_token();
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(enroll(enroll_request(wrong, "n-1"), "192.0.2.1:1"), refused);
  EXPECT_EQ(
      enroll(enroll_request("deadbeef.00112233445566778899aabbccddeeff", "n-1"), "192.0.2.2:1"),
      refused);
  EXPECT_EQ(enroll(enroll_request("not a token", "n-1"), "192.0.2.3:1"), refused);
  EXPECT_EQ(enroll(enroll_request(new_token("n-2"), "n-3"), "192.0.2.4:1"), refused);
  EXPECT_EQ(enroll(enroll_request(new_token(), std::nullopt), "192.0.2.5:1"), refused);
  EXPECT_EQ(enroll(enroll_request(new_token(), "bad id!"), "192.0.2.6:1"), refused);
  EXPECT_EQ(ledger_size(), 1u) << "only the CA: nothing was issued";
}

// A token is judged by the service's clock: refused, with the same answer
// as every other refusal, once its time is up (900 s by default).
TEST_F(EnrollmentServiceTest, ATokenWhoseTimeIsUpIsRefusedLikeAnyOther) {
  const std::string token = new_token();
  clock_->advance(900s);
  EXPECT_EQ(enroll(enroll_request(token, "n-1")), encode_error(ProtocolError::EnrollRefused));
  EXPECT_EQ(ledger_size(), 1u) << "only the CA: nothing was issued";
  EXPECT_EQ(parse_response(enroll(enroll_request(new_token(), "n-1")))->kind, "enrolled")
      << "a token made at the clock's new time is valid";
}

TEST_F(EnrollmentServiceTest, AMalformedCsrIsInvalidParamsAndKeepsTheTokensUse) {
  const std::string token = new_token();
  Request request = enroll_request(token, "n-1");
  request.csr_pem =
      "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
  EXPECT_EQ(enroll(request), encode_error(ProtocolError::InvalidParams));
  EXPECT_EQ(parse_response(enroll(enroll_request(token, "n-1")))->kind, "enrolled");
}

TEST_F(EnrollmentServiceTest, FiveFailuresFromAnAddressLockItOutWithoutUsingAToken) {
  std::string wrong = new_token();
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  for (int i = 0; i < 5; ++i)
    enroll(enroll_request(wrong, "n-1"), "198.51.100.9:" + std::to_string(4000 + i));
  const std::string good = new_token();
  EXPECT_EQ(enroll(enroll_request(good, "n-1"), "198.51.100.9:4999"),
            encode_error(ProtocolError::EnrollRefused));
  // Another address is served, with the token the locked-out one could not use.
  EXPECT_EQ(parse_response(enroll(enroll_request(good, "n-1"), "198.51.100.10:4000"))->kind,
            "enrolled");
}

// The lockout lasts Policy::lockout (60 s) on the service's clock.
TEST_F(EnrollmentServiceTest, ALockedOutAddressIsServedAgainAfterTheLockout) {
  std::string wrong = new_token();
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  for (int i = 0; i < 5; ++i) enroll(enroll_request(wrong, "n-1"), "198.51.100.9:4000");
  const std::string good = new_token();
  clock_->advance(59s);
  EXPECT_EQ(enroll(enroll_request(good, "n-1"), "198.51.100.9:4000"),
            encode_error(ProtocolError::EnrollRefused));
  clock_->advance(2s);
  EXPECT_EQ(parse_response(enroll(enroll_request(good, "n-1"), "198.51.100.9:4000"))->kind,
            "enrolled");
}

TEST_F(EnrollmentServiceTest, RenewalGivesTheCallersDeviceANewCertificate) {
  ASSERT_EQ(parse_response(enroll(enroll_request(new_token(), "n-1")))->kind, "enrolled");
  auto response = parse_response(renew("n-1"));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->kind, "certificate");
  EXPECT_EQ(identity::Certificate::from_pem(*response->certificate)->device_id(), "n-1");
}

TEST_F(EnrollmentServiceTest, ARevokedDeviceOrAnAnonymousCallerCannotRenew) {
  ASSERT_EQ(parse_response(enroll(enroll_request(new_token(), "n-1")))->kind, "enrolled");
  ASSERT_TRUE(identity::IdentityStore(dir_state_).revoke_device("n-1").ok());
  const std::size_t before = ledger_size();
  EXPECT_EQ(renew("n-1"), encode_error(ProtocolError::RenewalRefused));
  EXPECT_EQ(renew(""), encode_error(ProtocolError::RenewalRefused));
  EXPECT_EQ(ledger_size(), before);
}

}  // namespace
}  // namespace palyra::runtime
