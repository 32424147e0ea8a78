// QUIC on loopback: the client refuses the servers it must refuse; pins;
// a reloaded server certificate.
#include "quic_fixture.hpp"

namespace palyra::transport {
namespace {

TEST_F(QuicTest, ReloadedServerCertificateServesNewHandshakesAndLiveConnectionsStay) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  auto live = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(live.ok()) << live.error().describe();
  const std::string old_fingerprint = (*live)->connection().peer().fingerprint;

  auto replacement = pki_.issue_server("localhost", -1h, 24h);
  ServerTlsConfig reloaded{pki_.ca_cert(), replacement.cert, replacement.key, true, nullptr};
  ASSERT_TRUE(server.on_loop([&](Server& s) { return s.reload_tls(reloaded).ok(); }));

  EXPECT_EQ(echo(**live, "still here"), "still here");
  ClientTlsConfig pinned_new = client_tls();
  pinned_new.pinned_sha256 = replacement.fingerprint;
  EXPECT_TRUE(Client::connect(server.address(), pinned_new, quick_limits()).ok());
  ClientTlsConfig pinned_old = client_tls();
  pinned_old.pinned_sha256 = old_fingerprint;
  EXPECT_EQ(refused(pinned_old, server).code(), Errc::PinnedCertificateMismatch);

  // A bad replacement is refused and the working one stays.
  ServerTlsConfig broken{pki_.ca_cert(), pki_.ca_cert(), replacement.key, true, nullptr};
  Status refused_reload = server.on_loop([&](Server& s) { return s.reload_tls(broken); });
  ASSERT_FALSE(refused_reload.ok());
  EXPECT_EQ(refused_reload.error().code(), Errc::TlsConfigurationFailed);
  EXPECT_NE(refused_reload.error().message().find(pki_.ca_cert().string()), std::string::npos)
      << refused_reload.error().describe();
  EXPECT_TRUE(Client::connect(server.address(), pinned_new, quick_limits()).ok());
}

TEST_F(QuicTest, ClientRefusesAServerFromAnotherCa) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  TestPki other;
  ClientTlsConfig tls = client_tls();
  tls.ca_file = other.ca_cert();
  Error error = refused(tls, server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  EXPECT_NE(error.message().find("we refused the server"), std::string::npos) << error.describe();
  EXPECT_EQ(server.established.load(), 0);
}

TEST_F(QuicTest, ClientRefusesAnExpiredServerCertificate) {
  auto expired = pki_.issue_server("localhost", -48h, -24h);
  EchoServer server({pki_.ca_cert(), expired.cert, expired.key, true, nullptr}, quick_limits());
  ASSERT_TRUE(server.ok());
  Error error = refused(client_tls(), server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  EXPECT_NE(error.message().find("expired"), std::string::npos) << error.describe();
}

// A client context remembers server chains it verified (a reconnect skips
// the chain's signature checks), but only inside the leaf's validity: a
// server certificate that expired since the last handshake is refused. The
// client's clock (and GnuTLS's) moves past the expiry.
TEST_F(QuicTest, ServerCertificateThatExpiredSinceTheLastHandshakeIsRefused) {
  auto clock = std::make_shared<palyra::testing::ManualClock>();
  palyra::testing::ScopedGnutlsTime gnutls_time(clock);
  auto short_lived = pki_.issue_server("localhost", -1h, 1h);
  EchoServer server({pki_.ca_cert(), short_lived.cert, short_lived.key, true, nullptr},
                    quick_limits());
  ASSERT_TRUE(server.ok());
  ClientTlsConfig tls = client_tls();
  tls.clock = clock;
  auto context = load_client_tls(tls);
  ASSERT_TRUE(context.ok()) << context.error().describe();
  auto loop = std::move(EventLoop::create()).value();
  auto connect = [&]() -> Status {
    auto client = Client::start(*loop, server.address(), *context, quick_limits());
    if (!client) return std::move(client).error();
    return (*client)->wait_established();
  };
  ASSERT_TRUE(connect().ok());
  clock->advance(2h);
  Status again = connect();
  ASSERT_FALSE(again.ok()) << "an expired server certificate was accepted from the cache";
  EXPECT_EQ(again.error().code(), Errc::ConnectFailed);
  EXPECT_NE(again.error().message().find("expired"), std::string::npos) << again.error().describe();
}

TEST_F(QuicTest, ClientRefusesAServerCertificateForAnotherName) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  ClientTlsConfig tls = client_tls();
  tls.server_name = "other.example";
  Error error = refused(tls, server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  EXPECT_NE(error.message().find("other.example"), std::string::npos) << error.describe();
}

TEST_F(QuicTest, ClientRefusesAServerCertificateWithoutServerAuth) {
  auto no_eku = pki_.issue_server("localhost", -1h, 24h, /*server_auth=*/false);
  EchoServer server({pki_.ca_cert(), no_eku.cert, no_eku.key, true, nullptr}, quick_limits());
  ASSERT_TRUE(server.ok());
  Error error = refused(client_tls(), server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  EXPECT_NE(error.message().find("purpose"), std::string::npos) << error.describe();
  EXPECT_EQ(server.established.load(), 0);
}

TEST_F(QuicTest, PinnedFingerprintMatchesCaseInsensitivelyAndTrimmed) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  ClientTlsConfig tls = client_tls();
  std::string pin = pki_.server_fingerprint();
  for (auto& c : pin) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  tls.pinned_sha256 = "  " + pin + "\n";
  auto client = Client::connect(server.address(), tls, quick_limits());
  EXPECT_TRUE(client.ok()) << client.error().describe();
}

TEST_F(QuicTest, PinMismatchNamesBothFingerprintsAndSendsNothing) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  ClientTlsConfig tls = client_tls();
  std::string wrong(64, '0');
  tls.pinned_sha256 = wrong;
  Error error = refused(tls, server);
  EXPECT_EQ(error.code(), Errc::PinnedCertificateMismatch);
  EXPECT_NE(error.message().find(wrong), std::string::npos);
  EXPECT_NE(error.message().find(pki_.server_fingerprint()), std::string::npos);
  EXPECT_EQ(server.frames_received.load(), 0);
}

}  // namespace
}  // namespace palyra::transport
