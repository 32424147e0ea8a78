// QUIC on loopback: the enrollment ALPN (PROTOCOL.md §7).
#include "quic_fixture.hpp"

namespace palyra::transport {
namespace {

// A node without a certificate that trusts the CA whose public key hashes to
// `ca_hash` (the token's), on the enrollment ALPN.
ClientTlsConfig enrolling_tls(const std::string& ca_hash) {
  ClientTlsConfig tls;
  tls.alpn = kEnrollAlpn;
  tls.ca_spki_sha256 = ca_hash;
  tls.server_name = "localhost";
  return tls;
}

std::string ca_hash_of(const TestPki& pki) {
  return identity::Certificate::from_pem_file(pki.ca_cert())->spki_sha256();
}

TEST_F(QuicTest, EnrollmentAlpnIsServedWithoutAClientCertificate) {
  ServerTlsConfig tls = server_tls();
  tls.serve_enrollment = true;
  EchoServer server(tls, quick_limits());
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), enrolling_tls(ca_hash_of(pki_)), quick_limits());
  ASSERT_TRUE(client.ok()) << client.error().describe();
  EXPECT_EQ((*client)->connection().alpn(), kEnrollAlpn);
  EXPECT_EQ(echo(**client, "enroll me"), "enroll me");
  EXPECT_EQ(server.device_ids(), std::vector<std::string>{""});
  // The node ALPN on the same server still requires a certificate.
  ClientTlsConfig anonymous = client_tls();
  anonymous.cert_file.reset();
  anonymous.key_file.reset();
  Error error = refused(anonymous, server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  EXPECT_NE(error.message().find("certificate_required (0x174)"), std::string::npos)
      << error.describe();
  EXPECT_EQ(server.established.load(), 1);  // the enrolling client only
}

TEST_F(QuicTest, ServerThatDoesNotServeEnrollmentRefusesItsAlpn) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  Error error = refused(enrolling_tls(ca_hash_of(pki_)), server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  EXPECT_NE(error.message().find("no_application_protocol"), std::string::npos) << error.describe();
  EXPECT_EQ(server.established.load(), 0);
}

TEST_F(QuicTest, EnrollingClientRefusesAServerWhoseCaIsNotTheTokens) {
  ServerTlsConfig tls = server_tls();
  tls.serve_enrollment = true;
  EchoServer server(tls, quick_limits());
  ASSERT_TRUE(server.ok());
  TestPki other;
  Error error = refused(enrolling_tls(ca_hash_of(other)), server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  // Both hashes: which CA the server has, which the token named.
  EXPECT_NE(error.message().find(ca_hash_of(pki_)), std::string::npos) << error.describe();
  EXPECT_NE(error.message().find(ca_hash_of(other)), std::string::npos) << error.describe();
  EXPECT_EQ(server.established.load(), 0);
}

TEST_F(QuicTest, EnrollingClientStillChecksTheServerNameAgainstTheTokensCa) {
  ServerTlsConfig tls = server_tls();
  tls.serve_enrollment = true;
  EchoServer server(tls, quick_limits());
  ASSERT_TRUE(server.ok());
  ClientTlsConfig enrolling = enrolling_tls(ca_hash_of(pki_));
  enrolling.server_name = "gateway.example";
  Error error = refused(enrolling, server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  EXPECT_NE(error.message().find("for server name gateway.example"), std::string::npos)
      << error.describe();
  EXPECT_EQ(server.established.load(), 0);
}

}  // namespace
}  // namespace palyra::transport
