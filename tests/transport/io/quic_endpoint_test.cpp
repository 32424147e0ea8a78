// QUIC on loopback, the endpoints: configuration errors, ALPN, binding, the
// connection cap, timeouts, the fallback decision, insecure mode.
#include "quic_fixture.hpp"

namespace palyra::transport {
namespace {

TEST_F(QuicTest, ConfigurationErrorsAreReportedBeforeConnecting) {
  ClientTlsConfig empty_pin = client_tls();
  empty_pin.pinned_sha256 = "  ";
  auto a = load_client_tls(empty_pin);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code(), Errc::TlsConfigurationFailed);

  ClientTlsConfig no_key = client_tls();
  no_key.key_file.reset();
  auto b = load_client_tls(no_key);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code(), Errc::ClientIdentityIncomplete);

  ClientTlsConfig bad_name = client_tls();
  bad_name.server_name = "bad name!";
  auto c = load_client_tls(bad_name);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), Errc::InvalidServerName);

  ClientTlsConfig missing = client_tls();
  missing.cert_file = pki_.dir() / "missing.pem";
  auto d = load_client_tls(missing);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), Errc::CertificateParsingFailed);
  EXPECT_NE(d.error().message().find("missing.pem"), std::string::npos);

  ClientTlsConfig corrupt_key = client_tls();
  auto garbage = pki_.dir() / "garbage.key";
  std::ofstream(garbage) << "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
  corrupt_key.key_file = garbage;
  auto e = load_client_tls(corrupt_key);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), Errc::PrivateKeyParsingFailed);

  Limits bad_idle;
  bad_idle.idle_timeout = 0ms;
  EXPECT_EQ(bad_idle.validate().error().code(), Errc::InvalidIdleTimeout);
}

TEST_F(QuicTest, WrongAlpnIsRefused) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  ClientTlsConfig tls = client_tls();
  tls.alpn = "h3";
  Error error = refused(tls, server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  EXPECT_NE(error.message().find("0x178"), std::string::npos) << error.describe();
  EXPECT_EQ(server.established.load(), 0);
}

// "h3" is refused by GnuTLS itself (GNUTLS_ALPN_MANDATORY). A ClientHello
// with no ALPN extension at all is not: only the server's ClientHello hook
// (require_alpn_hook) refuses it, with or without the enrollment ALPN served.
TEST_F(QuicTest, ClientHelloWithoutAnyAlpnIsRefused) {
  ClientTlsConfig tls = client_tls();
  tls.alpn.clear();  // no ALPN extension in the ClientHello
  for (bool serve_enrollment : {false, true}) {
    SCOPED_TRACE(serve_enrollment ? "serving enrollment" : "node ALPN only");
    ServerTlsConfig server_config = server_tls();
    server_config.serve_enrollment = serve_enrollment;
    EchoServer server(server_config, quick_limits());
    ASSERT_TRUE(server.ok()) << server.bind_error();
    Error error = refused(tls, server);
    EXPECT_EQ(error.code(), Errc::ConnectFailed) << error.describe();
    EXPECT_NE(error.message().find("no_application_protocol (0x178)"), std::string::npos)
        << error.describe();
    EXPECT_EQ(server.established.load(), 0);
    EXPECT_EQ(server.frames_received.load(), 0);
  }
}

TEST_F(QuicTest, ServerBindErrorNamesTheAddress) {
  EchoServer first(server_tls(), quick_limits());
  ASSERT_TRUE(first.ok());
  auto loop = std::move(EventLoop::create()).value();
  auto second = Server::bind(*loop, first.address(), server_tls(), quick_limits(), {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), Errc::EndpointBindFailed);
  EXPECT_NE(second.error().message().find(first.address().to_string()), std::string::npos);
}

TEST_F(QuicTest, ConnectionsBeyondTheCapAreRefusedWithoutDisturbingOthers) {
  Limits limits = quick_limits();
  limits.max_connections = 4;
  EchoServer server(server_tls(), limits);
  ASSERT_TRUE(server.ok());
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 4; ++i) {
    auto client = Client::connect(server.address(), client_tls(), limits);
    ASSERT_TRUE(client.ok()) << "client " << i << ": " << client.error().describe();
    clients.push_back(std::move(*client));
  }
  Error error = refused(client_tls(), server, limits);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  EXPECT_NE(error.message().find("CONNECTION_REFUSED (0x2)"), std::string::npos)
      << error.describe();
  for (auto& client : clients) EXPECT_EQ(echo(*client, "still here"), "still here");
  EXPECT_EQ(server.on_loop([](Server& s) { return s.stats().refused_over_capacity; }), 1u);
}

TEST_F(QuicTest, IdleConnectionsAreClosedAtTheIdleTimeout) {
  Limits limits = quick_limits();
  limits.idle_timeout = 400ms;
  limits.keep_alive_interval = 0ms;  // no keep-alive: let it idle out
  EchoServer server(server_tls(), limits);
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), client_tls(), limits);
  ASSERT_TRUE(client.ok());
  auto status = (*client)->run_until([] { return false; }, 5s);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), Errc::ConnectionClosed);
  EXPECT_NE(status.error().message().find("idle timeout"), std::string::npos)
      << status.error().describe();
  // The server's idle timer runs on its own clock: give it a moment.
  std::size_t remaining = 1;
  for (int i = 0; i < 100 && remaining != 0; ++i) {
    remaining = server.on_loop([](Server& s) { return s.connection_count(); });
    if (remaining != 0) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(remaining, 0u);
}

TEST_F(QuicTest, KeepAliveHoldsAnIdleConnectionOpen) {
  Limits limits = quick_limits();
  limits.idle_timeout = 600ms;
  limits.keep_alive_interval = 150ms;
  EchoServer server(server_tls(), limits);
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), client_tls(), limits);
  ASSERT_TRUE(client.ok());
  auto status = (*client)->run_until([] { return false; }, 1500ms);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), Errc::Timeout);  // still open: our deadline passed first
  EXPECT_EQ(echo(**client, "alive"), "alive");
}

TEST_F(QuicTest, HandshakeTimeoutAgainstASilentPort) {
  int silent = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(silent, 0);
  auto any = std::move(SocketAddress::parse("127.0.0.1:0")).value();
  ASSERT_EQ(bind(silent, any.data(), any.length), 0);
  SocketAddress address;
  address.length = sizeof address.storage;
  getsockname(silent, address.data(), &address.length);
  Limits limits;
  limits.handshake_timeout = 300ms;
  auto client = Client::connect(address, client_tls(), limits);
  close(silent);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code(), Errc::HandshakeTimeout);
  EXPECT_NE(client.error().message().find("300 ms"), std::string::npos)
      << client.error().describe();

  // The explicit-fallback policy: only AllowExplicit on an unprivileged path falls back.
  auto outcome = connect_with_explicit_fallback(address, client_tls(), limits,
                                                TcpFallbackPolicy::AllowExplicit, false);
  ASSERT_TRUE(outcome.ok());
  ASSERT_TRUE(std::holds_alternative<FallbackRequired>(*outcome));
  EXPECT_EQ(std::get<FallbackRequired>(*outcome).quic_error.code(), Errc::HandshakeTimeout);
  auto privileged = connect_with_explicit_fallback(address, client_tls(), limits,
                                                   TcpFallbackPolicy::AllowExplicit, true);
  ASSERT_FALSE(privileged.ok());
  EXPECT_EQ(privileged.error().code(), Errc::HandshakeTimeout);
  auto disabled = connect_with_explicit_fallback(address, client_tls(), limits,
                                                 TcpFallbackPolicy::Disabled, false);
  ASSERT_FALSE(disabled.ok());
  EXPECT_EQ(disabled.error().code(), Errc::HandshakeTimeout);
}

TEST_F(QuicTest, SecurityFailuresNeverFallBack) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  ClientTlsConfig tls = client_tls();
  tls.pinned_sha256 = std::string(64, 'f');
  auto outcome = connect_with_explicit_fallback(server.address(), tls, quick_limits(),
                                                TcpFallbackPolicy::AllowExplicit, false);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code(), Errc::PinnedCertificateMismatch);
}

TEST_F(QuicTest, InsecureServerAcceptsClientsWithoutCertificates) {
  ServerTlsConfig tls = server_tls();
  tls.require_client_auth = false;
  EchoServer server(tls, quick_limits());
  ASSERT_TRUE(server.ok());
  ClientTlsConfig anonymous = client_tls();
  anonymous.cert_file.reset();
  anonymous.key_file.reset();
  auto client = Client::connect(server.address(), anonymous, quick_limits());
  ASSERT_TRUE(client.ok()) << client.error().describe();
  EXPECT_EQ(echo(**client, "hi"), "hi");
  EXPECT_EQ(server.device_ids(), std::vector<std::string>{""});
}

}  // namespace
}  // namespace palyra::transport
