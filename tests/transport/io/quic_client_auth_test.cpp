// QUIC on loopback: the server refuses the clients it must refuse (PROTOCOL.md §2),
// and revocation closes live connections.
#include "quic_fixture.hpp"

namespace palyra::transport {
namespace {

TEST_F(QuicTest, ClientWithoutCertificateIsRefusedWithCertificateRequired) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  ClientTlsConfig tls = client_tls();
  tls.cert_file.reset();
  tls.key_file.reset();
  Error error = refused(tls, server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  EXPECT_NE(error.message().find("0x174"), std::string::npos) << error.describe();
  EXPECT_EQ(server.frames_received.load(), 0);
  EXPECT_EQ(server.established.load(), 0);
}

TEST_F(QuicTest, ClientCertificateFromAnotherCaIsRefused) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  TestPki other;
  ClientTlsConfig tls = client_tls();
  tls.cert_file = other.device_cert();
  tls.key_file = other.device_key();
  Error error = refused(tls, server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  // GnuTLS withholds a certificate the server's CA list does not name, so the
  // server sees none (certificate_required); a sent one fails as bad_certificate.
  EXPECT_TRUE(error.message().find("0x174") != std::string::npos ||
              error.message().find("0x12a") != std::string::npos)
      << error.describe();
  EXPECT_EQ(server.established.load(), 0);
}

TEST_F(QuicTest, ExpiredClientCertificateIsRefused) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  Error error = refused(client_tls_with(pki_.issue_device("expired-node", -48h, -24h)), server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  EXPECT_NE(error.message().find("0x12a"), std::string::npos) << error.describe();
  EXPECT_EQ(server.established.load(), 0);
}

// The server remembers chains it verified (a reconnect skips the chain's
// signature checks), but only inside the leaf's validity period: a
// certificate that expires after a successful handshake is refused on the
// next one. The server's clock (and GnuTLS's) moves past the expiry.
TEST_F(QuicTest, CertificateThatExpiredSinceItsLastHandshakeIsRefused) {
  auto clock = std::make_shared<palyra::testing::ManualClock>();
  palyra::testing::ScopedGnutlsTime gnutls_time(clock);
  ServerTlsConfig tls = server_tls();
  tls.clock = clock;
  EchoServer server(tls, quick_limits());
  ASSERT_TRUE(server.ok());
  ClientTlsConfig short_lived = client_tls_with(pki_.issue_device("short-lived-node", -1h, 1h));
  short_lived.clock = clock;
  {
    auto client = Client::connect(server.address(), short_lived, quick_limits());
    ASSERT_TRUE(client.ok()) << client.error().describe();
    EXPECT_EQ(echo(**client, "while valid"), "while valid");
    (*client)->close();
  }
  clock->advance(2h);
  Error error = refused(short_lived, server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  EXPECT_NE(error.message().find("0x12a"), std::string::npos) << error.describe();
  EXPECT_EQ(server.established.load(), 1);
}

TEST_F(QuicTest, DeviceCertificateWithoutClientAuthIsRefused) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  Error error = refused(
      client_tls_with(pki_.issue_device("no-eku-node", -1h, 24h, /*client_auth=*/false)), server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  EXPECT_NE(error.message().find("0x12a"), std::string::npos) << error.describe();
  EXPECT_EQ(server.established.load(), 0);
}

TEST_F(QuicTest, RevokedClientIsRefusedWithCertificateRevoked) {
  pki_.revoke(pki_.device_fingerprint());
  auto index = identity::RevocationIndex::load(pki_.revocation_file());
  ASSERT_TRUE(index.ok());
  ServerTlsConfig tls = server_tls();
  tls.revocation = *index;
  EchoServer server(tls, quick_limits());
  ASSERT_TRUE(server.ok());
  Error error = refused(client_tls(), server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  EXPECT_NE(error.message().find("certificate_revoked"), std::string::npos) << error.describe();
  EXPECT_NE(error.message().find("0x12c"), std::string::npos) << error.describe();
  EXPECT_EQ(server.established.load(), 0);
  EXPECT_EQ(server.frames_received.load(), 0);
}

TEST_F(QuicTest, RevokingALiveClientClosesItsConnection) {
  auto index = identity::RevocationIndex::load(pki_.revocation_file());
  ASSERT_TRUE(index.ok());
  ServerTlsConfig tls = server_tls();
  tls.revocation = *index;
  EchoServer server(tls, quick_limits());
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok()) << client.error().describe();
  ASSERT_EQ(echo(**client, "before"), "before");

  pki_.revoke(pki_.device_fingerprint());
  auto newly = (*index)->reload();
  ASSERT_TRUE(newly.ok());
  EXPECT_EQ(server.on_loop([](Server& s) { return s.close_revoked_connections(); }), 1u);

  auto closed = (*client)->run_until([] { return false; }, 5s);
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code(), Errc::ConnectionClosed);
  EXPECT_NE(closed.error().message().find("0x11"), std::string::npos) << closed.error().describe();
  // And the next handshake is refused.
  Error again = refused(client_tls(), server);
  EXPECT_NE(again.message().find("0x12c"), std::string::npos) << again.describe();
}

// --- Refusals by the client ---

}  // namespace
}  // namespace palyra::transport
