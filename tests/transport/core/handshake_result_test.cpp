// How a refused handshake is counted: the errors, alerts and verify status
// bits the transport really produces, each mapped to its label.
#include "palyra/transport/handshake_result.hpp"

#include <gnutls/gnutls.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

namespace palyra::transport {
namespace {

constexpr unsigned kNoStatus = 0;
constexpr std::uint8_t kNoAlert = 0;

std::uint8_t alert(gnutls_alert_description_t a) {
  return static_cast<std::uint8_t>(a);
}
unsigned status(unsigned bits) {
  return static_cast<unsigned>(GNUTLS_CERT_INVALID) | bits;
}

TEST(HandshakeResultTest, AdmissionRefusalsMapByTheirAlert) {
  // peer_admission.cpp: no certificate and a revoked one.
  EXPECT_EQ(handshake_result_of(Errc::MissingPeerIdentity, alert(GNUTLS_A_CERTIFICATE_REQUIRED),
                                kNoStatus),
            HandshakeResult::NoClientCertificate);
  EXPECT_EQ(
      handshake_result_of(Errc::ConnectionClosed, alert(GNUTLS_A_CERTIFICATE_REVOKED), kNoStatus),
      HandshakeResult::Revoked);
  // The ALPN hook's refusal, as GnuTLS sends it.
  EXPECT_EQ(
      handshake_result_of(Errc::ConnectFailed, alert(GNUTLS_A_NO_APPLICATION_PROTOCOL), kNoStatus),
      HandshakeResult::NoAlpn);
}

TEST(HandshakeResultTest, VerifyStatusBitsSayMoreThanTheAlert) {
  // check_peer_chain leaves these bits; GnuTLS sends a generic alert.
  const auto bad = alert(GNUTLS_A_BAD_CERTIFICATE);
  EXPECT_EQ(handshake_result_of(Errc::ConnectFailed, bad, status(GNUTLS_CERT_SIGNER_NOT_FOUND)),
            HandshakeResult::UnknownCa);
  EXPECT_EQ(handshake_result_of(Errc::ConnectFailed, bad, status(GNUTLS_CERT_SIGNER_NOT_CA)),
            HandshakeResult::UnknownCa);
  EXPECT_EQ(handshake_result_of(Errc::ConnectFailed, bad, status(GNUTLS_CERT_EXPIRED)),
            HandshakeResult::Expired);
  EXPECT_EQ(handshake_result_of(Errc::ConnectFailed, bad, status(GNUTLS_CERT_NOT_ACTIVATED)),
            HandshakeResult::Expired);
  EXPECT_EQ(handshake_result_of(Errc::ConnectFailed, bad, status(GNUTLS_CERT_PURPOSE_MISMATCH)),
            HandshakeResult::WrongPurpose);
  EXPECT_EQ(handshake_result_of(Errc::ConnectFailed, bad, status(GNUTLS_CERT_REVOKED)),
            HandshakeResult::Revoked);
  EXPECT_EQ(handshake_result_of(Errc::ConnectFailed, bad, status(0)),
            HandshakeResult::BadCertificate);
  // An expired certificate from an unknown CA: both bits; the CA decides.
  EXPECT_EQ(handshake_result_of(Errc::ConnectFailed, bad,
                                status(GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_EXPIRED)),
            HandshakeResult::UnknownCa);
}

TEST(HandshakeResultTest, ErrorsWithoutAlertOrStatusMapByTheirCode) {
  EXPECT_EQ(handshake_result_of(Errc::HandshakeTimeout, kNoAlert, kNoStatus),
            HandshakeResult::Timeout);
  EXPECT_EQ(handshake_result_of(Errc::PinnedCertificateMismatch, alert(GNUTLS_A_BAD_CERTIFICATE),
                                kNoStatus),
            HandshakeResult::PinMismatch);
  // The peer went away mid-handshake.
  EXPECT_EQ(handshake_result_of(Errc::ConnectionClosed, kNoAlert, kNoStatus),
            HandshakeResult::Other);
  EXPECT_EQ(
      handshake_result_of(Errc::ConnectFailed, alert(GNUTLS_A_CERTIFICATE_EXPIRED), kNoStatus),
      HandshakeResult::Expired);
  EXPECT_EQ(handshake_result_of(Errc::ConnectFailed, alert(GNUTLS_A_UNKNOWN_CA), kNoStatus),
            HandshakeResult::UnknownCa);
}

TEST(HandshakeResultTest, EveryResultHasADistinctLabel) {
  std::set<std::string> labels;
  for (std::size_t i = 0; i < kHandshakeResultCount; ++i) {
    labels.emplace(handshake_result_name(static_cast<HandshakeResult>(i)));
  }
  EXPECT_EQ(labels.size(), kHandshakeResultCount);
  EXPECT_EQ(handshake_result_name(HandshakeResult::NoClientCertificate), "no_client_certificate");
  EXPECT_EQ(handshake_result_name(HandshakeResult::RefusedAtCap), "refused_at_cap");
}

}  // namespace
}  // namespace palyra::transport
