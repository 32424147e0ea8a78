// The node port's one authorisation decision, which both the TLS handshake
// and every call apply: who is let in, who is refused and why, and the
// status a refused call ends with. Real certificates from a throwaway CA
// and a real revocation index file.
#include "peer_authorization.hpp"

#include <grpcpp/support/status.h>
#include <gtest/gtest.h>

#include "../common/temp_dir.hpp"
#include "palyra/identity/ca.hpp"
#include "palyra/identity/revocation.hpp"

namespace palyra::fallback {
namespace {

class PeerAuthorizationTest : public palyra::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    ca_ = std::move(identity::CertificateAuthority::create("Test CA")).value();
    node_ = std::move(ca_->issue_device("node-1")).value().certificate;
    revocation_ = std::move(identity::RevocationIndex::load(dir_ / "revoked.txt")).value();
  }
  PeerAuthorizer required() const { return PeerAuthorizer(revocation_, true); }

  std::optional<identity::CertificateAuthority> ca_;
  std::optional<identity::Certificate> node_;
  std::shared_ptr<identity::RevocationIndex> revocation_;
};

TEST_F(PeerAuthorizationTest, LetsInACertificateInGoodStandingAsItsDevice) {
  auto decision = required().authorize(node_->pem());
  const auto* peer = std::get_if<AuthorizedPeer>(&decision);
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->fingerprint, node_->fingerprint());
  EXPECT_EQ(peer->device_id, "node-1");
}

TEST_F(PeerAuthorizationTest, RefusesARevokedCertificateNamingItAndItsDevice) {
  ASSERT_TRUE(revocation_->add({node_->fingerprint()}).ok());
  auto decision = required().authorize(node_->pem());
  const auto* refused = std::get_if<PeerRefusal>(&decision);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->reason, PeerRefusal::Reason::Revoked);
  EXPECT_EQ(refused->detail, node_->fingerprint() + " (device 'node-1')");
  auto status = refusal_status(*refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), "client certificate revoked");
}

// The index is read at each decision, not when the authoriser is made: a
// connection opened before a revocation is refused at its next call.
TEST_F(PeerAuthorizationTest, ARevocationAppliesToTheNextDecisionOfTheSameAuthorizer) {
  const auto authorizer = required();
  ASSERT_TRUE(std::holds_alternative<AuthorizedPeer>(authorizer.authorize(node_->pem())));
  ASSERT_TRUE(revocation_->add({node_->fingerprint()}).ok());
  EXPECT_TRUE(std::holds_alternative<PeerRefusal>(authorizer.authorize(node_->pem())));
  // Another device of the same CA is not affected.
  auto other = std::move(ca_->issue_device("node-2")).value().certificate;
  EXPECT_TRUE(std::holds_alternative<AuthorizedPeer>(authorizer.authorize(other.pem())));
}

TEST_F(PeerAuthorizationTest, RefusesNoCertificateWhereOneIsRequired) {
  auto decision = required().authorize("");
  const auto* refused = std::get_if<PeerRefusal>(&decision);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->reason, PeerRefusal::Reason::NoCertificate);
  auto status = refusal_status(*refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), "a client certificate is required");
}

// Insecure mode (and the enrollment port's Enroll): no certificate is an
// anonymous caller, and one that is presented is still checked.
TEST_F(PeerAuthorizationTest, WithoutTheRequirementNoCertificateIsAnAnonymousCaller) {
  PeerAuthorizer insecure(revocation_, false);
  auto decision = insecure.authorize("");
  const auto* peer = std::get_if<AuthorizedPeer>(&decision);
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->fingerprint, "");
  EXPECT_EQ(peer->device_id, "");
  ASSERT_TRUE(revocation_->add({node_->fingerprint()}).ok());
  EXPECT_TRUE(std::holds_alternative<PeerRefusal>(insecure.authorize(node_->pem())));
}

TEST_F(PeerAuthorizationTest, RefusesAnUnreadableCertificateWithTheParseError) {
  auto decision = required().authorize("-----BEGIN CERTIFICATE-----\nnot base64\n");
  const auto* refused = std::get_if<PeerRefusal>(&decision);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->reason, PeerRefusal::Reason::UnreadableCertificate);
  EXPECT_NE(refused->detail.find("gRPC client certificate"), std::string::npos) << refused->detail;
  auto status = refusal_status(*refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), refused->detail);
}

TEST_F(PeerAuthorizationTest, WithoutAnIndexNothingIsRevoked) {
  auto decision = PeerAuthorizer(nullptr, true).authorize(node_->pem());
  EXPECT_TRUE(std::holds_alternative<AuthorizedPeer>(decision));
}

}  // namespace
}  // namespace palyra::fallback
