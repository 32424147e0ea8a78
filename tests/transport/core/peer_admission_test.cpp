// Who is let in once the handshake completed: client certificate required,
// revocation, the server pin — each outcome on its own, with real
// fingerprints and a real revocation index, and no connection.
#include "peer_admission.hpp"

#include <gnutls/gnutls.h>
#include <gtest/gtest.h>

#include "../test_pki.hpp"
#include "palyra/identity/revocation.hpp"

namespace palyra::transport {
namespace {

using testing::TestPki;

class PeerAdmissionTest : public ::testing::Test {
 protected:
  PeerIdentity device() const {
    return {pki_.device_fingerprint(), "Palyra Device " + pki_.device_id(), pki_.device_id()};
  }
  PeerIdentity server() const { return {pki_.server_fingerprint(), "localhost", ""}; }
  static Result<PeerIdentity> no_certificate() {
    return Error(Errc::EmptyPeerCertificateChain, "the peer presented no certificate");
  }
  std::shared_ptr<identity::RevocationIndex> revocation() const {
    return std::move(identity::RevocationIndex::load(pki_.revocation_file())).value();
  }

  TestPki pki_;
};

TEST_F(PeerAdmissionTest, ServerAdmitsAClientWithACertificate) {
  auto index = revocation();
  Admission admission = admit_client({true, index.get()}, false, device());
  ASSERT_TRUE(admission.admitted()) << admission.refusal->describe();
  EXPECT_EQ(admission.peer.fingerprint, pki_.device_fingerprint());
  EXPECT_EQ(admission.peer.device_id, pki_.device_id());
}

TEST_F(PeerAdmissionTest, ServerRefusesAClientWithoutACertificate) {
  Admission admission = admit_client({true, nullptr}, false, no_certificate());
  ASSERT_FALSE(admission.admitted());
  EXPECT_EQ(admission.refusal->code(), Errc::MissingPeerIdentity);
  EXPECT_EQ(admission.tls_alert, GNUTLS_A_CERTIFICATE_REQUIRED);
}

TEST_F(PeerAdmissionTest, ServerRefusesARevokedClientWithTheRevokedAlert) {
  pki_.revoke(pki_.device_fingerprint());
  auto index = revocation();
  Admission admission = admit_client({true, index.get()}, false, device());
  ASSERT_FALSE(admission.admitted());
  EXPECT_EQ(admission.refusal->code(), Errc::ConnectionClosed);
  EXPECT_EQ(admission.tls_alert, GNUTLS_A_CERTIFICATE_REVOKED);
  EXPECT_NE(admission.refusal->message().find(pki_.device_fingerprint()), std::string::npos);
  EXPECT_NE(admission.refusal->message().find(pki_.device_id()), std::string::npos);
  EXPECT_TRUE(admission.peer.fingerprint.empty()) << "a refused peer is nobody";
}

TEST_F(PeerAdmissionTest, RevocationOfAnotherCertificateDoesNotRefuse) {
  pki_.revoke(pki_.server_fingerprint());
  auto index = revocation();
  EXPECT_TRUE(admit_client({true, index.get()}, false, device()).admitted());
}

TEST_F(PeerAdmissionTest, AnEnrollingClientIsAdmittedAsNobody) {
  Admission admission = admit_client({true, nullptr}, true, no_certificate());
  ASSERT_TRUE(admission.admitted());
  EXPECT_TRUE(admission.peer.fingerprint.empty());
}

TEST_F(PeerAdmissionTest, InsecureServerAdmitsEveryClientAndKeepsAnIdentityItGot) {
  EXPECT_TRUE(admit_client({false, nullptr}, false, no_certificate()).admitted());
  Admission admission = admit_client({false, nullptr}, false, device());
  ASSERT_TRUE(admission.admitted());
  EXPECT_EQ(admission.peer.fingerprint, pki_.device_fingerprint());
}

TEST_F(PeerAdmissionTest, ClientAdmitsAServerThatMatchesItsPin) {
  Admission admission = admit_server(pki_.server_fingerprint(), server());
  ASSERT_TRUE(admission.admitted()) << admission.refusal->describe();
  EXPECT_EQ(admission.peer.fingerprint, pki_.server_fingerprint());
  EXPECT_TRUE(admit_server(std::nullopt, server()).admitted()) << "no pin: the CA decides";
}

TEST_F(PeerAdmissionTest, ClientRefusesAServerThatMissesItsPinNamingBoth) {
  Admission admission = admit_server(pki_.device_fingerprint(), server());
  ASSERT_FALSE(admission.admitted());
  EXPECT_EQ(admission.refusal->code(), Errc::PinnedCertificateMismatch);
  EXPECT_EQ(admission.tls_alert, GNUTLS_A_BAD_CERTIFICATE);
  EXPECT_NE(admission.refusal->message().find(pki_.device_fingerprint()), std::string::npos);
  EXPECT_NE(admission.refusal->message().find(pki_.server_fingerprint()), std::string::npos);
}

TEST_F(PeerAdmissionTest, ClientRefusesAServerWithoutACertificate) {
  Admission admission = admit_server(std::nullopt, no_certificate());
  ASSERT_FALSE(admission.admitted());
  EXPECT_EQ(admission.refusal->code(), Errc::EmptyPeerCertificateChain);
  EXPECT_EQ(admission.tls_alert, GNUTLS_A_BAD_CERTIFICATE);
}

}  // namespace
}  // namespace palyra::transport
