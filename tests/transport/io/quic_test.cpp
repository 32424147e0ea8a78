// The QUIC transport end to end on loopback: real ngtcp2 + GnuTLS on both
// sides, a throwaway CA per test, port 0. Each refusal asserts the exact
// error the client sees and that no stream data reached the server.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "../../common/gnutls_time.hpp"
#include "../../common/manual_clock.hpp"
#include "../test_pki.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/revocation.hpp"
#include "palyra/transport/io/client.hpp"
#include "palyra/transport/io/fallback.hpp"
#include "palyra/transport/io/server.hpp"
#include "test_server.hpp"

namespace palyra::transport {
namespace {

using namespace std::chrono_literals;
using testing::EchoServer;
using testing::TestPki;

class QuicTest : public ::testing::Test {
 protected:
  ServerTlsConfig server_tls() const {
    return {pki_.ca_cert(), pki_.server_chain(), pki_.server_key(), true, nullptr};
  }
  ClientTlsConfig client_tls() const {
    ClientTlsConfig tls;
    tls.ca_file = pki_.ca_cert();
    tls.cert_file = pki_.device_cert();
    tls.key_file = pki_.device_key();
    tls.server_name = "localhost";
    return tls;
  }
  // The default client configuration, presenting another certificate.
  ClientTlsConfig client_tls_with(const TestPki::Pair& identity) const {
    ClientTlsConfig tls = client_tls();
    tls.cert_file = identity.cert;
    tls.key_file = identity.key;
    return tls;
  }
  static Limits quick_limits() {
    Limits limits;
    limits.handshake_timeout = 3s;
    return limits;
  }
  // One round trip on a fresh stream; returns what came back.
  static std::string echo(Client& client, const std::string& payload) {
    auto stream = client.open_stream();
    EXPECT_TRUE(stream.ok()) << stream.error().describe();
    if (!stream) return {};
    EXPECT_TRUE((*stream)->write_frame(payload).ok());
    (*stream)->finish();
    auto frame = client.read_frame(**stream, 10s);
    EXPECT_TRUE(frame.ok()) << frame.error().describe();
    if (!frame || !*frame) return {};
    std::string answer = std::move(**frame);
    auto end = client.read_frame(**stream, 10s);
    EXPECT_TRUE(end.ok() && !end->has_value()) << "expected the stream to end after one frame";
    return answer;
  }
  // Connects and expects a refusal: returns the error.
  Error refused(const ClientTlsConfig& tls, EchoServer& server,
                const Limits& limits = quick_limits()) {
    auto client = Client::connect(server.address(), tls, limits);
    EXPECT_FALSE(client.ok()) << "connection unexpectedly accepted";
    if (client.ok()) return Error(Errc::Internal, "accepted");
    return client.error();
  }

  TestPki pki_;
};

TEST_F(QuicTest, MutualTlsHandshakeAndEcho) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok()) << server.bind_error();
  auto client = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok()) << client.error().describe();
  EXPECT_EQ(echo(**client, R"({"protocol_version":1,"method":"node.health"})"),
            R"({"protocol_version":1,"method":"node.health"})");
  EXPECT_EQ(server.device_ids(), std::vector<std::string>{pki_.device_id()});
  EXPECT_EQ((*client)->connection().peer().fingerprint, pki_.server_fingerprint());
}

TEST_F(QuicTest, Ipv6Loopback) {
  EchoServer server(server_tls(), quick_limits(), nullptr, "[::1]:0");
  ASSERT_TRUE(server.ok()) << server.bind_error();
  EXPECT_EQ(server.address().family(), AF_INET6);
  auto client = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok()) << client.error().describe();
  EXPECT_EQ(echo(**client, "over ::1"), "over ::1");
  EXPECT_EQ(server.address().to_string().substr(0, 5), "[::1]");
}

TEST_F(QuicTest, ManySequentialStreamsAndEmptyFrames) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok()) << client.error().describe();
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(echo(**client, "request " + std::to_string(i)), "request " + std::to_string(i));
  }
  EXPECT_EQ(echo(**client, ""), "");
  EXPECT_EQ(server.frames_received.load(), 201);
}

TEST_F(QuicTest, ManySmallFramesOnOneStream) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok());
  auto stream = (*client)->open_stream();
  ASSERT_TRUE(stream.ok());
  constexpr int kFrames = 5000;
  for (int i = 0; i < kFrames; ++i) ASSERT_TRUE((*stream)->write_frame(std::to_string(i)).ok());
  (*stream)->finish();
  for (int i = 0; i < kFrames; ++i) {
    auto frame = (*client)->read_frame(**stream, 10s);
    ASSERT_TRUE(frame.ok() && frame->has_value()) << "frame " << i;
    ASSERT_EQ(**frame, std::to_string(i));
  }
  auto end = (*client)->read_frame(**stream, 10s);
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
}

TEST_F(QuicTest, MaximalFramesBothWays) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok());
  std::string big(524288, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>('a' + i % 26);
  EXPECT_EQ(echo(**client, big), big);
}

TEST_F(QuicTest, ConcurrentStreamsBeyondTheLimitWaitInsteadOfFailing) {
  Limits limits = quick_limits();
  EchoServer server(server_tls(), limits);
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), client_tls(), limits);
  ASSERT_TRUE(client.ok());
  std::vector<Stream*> open;
  for (int i = 0; i < 32; ++i) {
    auto stream = (*client)->open_stream(1s);
    ASSERT_TRUE(stream.ok()) << "stream " << i << ": " << stream.error().describe();
    ASSERT_TRUE((*stream)->write_frame("held").ok());
    open.push_back(*stream);
  }
  // The 33rd waits for a free slot: with none freed it times out, not fails.
  auto waiting = (*client)->open_stream(300ms);
  ASSERT_FALSE(waiting.ok());
  EXPECT_EQ(waiting.error().code(), Errc::Timeout);
  // Finishing one stream frees a slot; the 33rd then opens.
  open[0]->finish();
  auto echoed = (*client)->read_frame(*open[0], 5s);
  ASSERT_TRUE(echoed.ok() && echoed->has_value());
  auto end = (*client)->read_frame(*open[0], 5s);
  ASSERT_TRUE(end.ok() && !end->has_value());
  auto thirty_third = (*client)->open_stream(5s);
  EXPECT_TRUE(thirty_third.ok()) << thirty_third.error().describe();
}

// --- Refusals by the server ---

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

// --- Enrollment (PROTOCOL.md §7) ---

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

// --- Limits ---

// Limits that let one side write (and read) frames above the protocol's maximum.
Limits oversized_limits() {
  Limits limits;
  limits.handshake_timeout = 3s;
  limits.max_frame_bytes = 1 << 20;
  limits.stream_receive_window = 2 << 20;
  return limits;
}

TEST_F(QuicTest, WriterRefusesAnOversizedFrame) {
  EchoServer server(server_tls(), quick_limits());
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok());
  auto stream = (*client)->open_stream();
  ASSERT_TRUE(stream.ok());
  auto refused_write = (*stream)->write_frame(std::string(524289, 'x'));
  ASSERT_FALSE(refused_write.ok());
  EXPECT_EQ(refused_write.error().code(), Errc::FrameTooLarge);
  EXPECT_NE(refused_write.error().message().find("524289"), std::string::npos);
  EXPECT_EQ((*stream)->unacknowledged_bytes(), 0u);  // nothing was queued
}

TEST_F(QuicTest, ServerRefusesAnOversizedFrameAndKeepsTheConnection) {
  EchoServer strict(server_tls(), quick_limits());
  ASSERT_TRUE(strict.ok());
  auto client = Client::connect(strict.address(), client_tls(), oversized_limits());
  ASSERT_TRUE(client.ok());
  auto stream = (*client)->open_stream();
  ASSERT_TRUE(stream.ok());
  ASSERT_TRUE((*stream)->write_frame(std::string(524289, 'y')).ok());
  (*stream)->finish();
  auto answer = (*client)->read_frame(**stream, 5s);
  ASSERT_TRUE(answer.ok() && answer->has_value())
      << (answer.ok() ? "ended" : answer.error().describe());
  EXPECT_EQ(**answer, "read_error:FrameTooLarge");
  EXPECT_EQ(strict.frames_received.load(), 0);
  // The connection and other streams are unaffected.
  EXPECT_EQ(echo(**client, "next"), "next");
}

TEST_F(QuicTest, ClientRefusesAnOversizedFrameFromTheServer) {
  EchoServer generous(server_tls(), oversized_limits());
  ASSERT_TRUE(generous.ok());
  auto client = Client::connect(generous.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok());
  auto stream = (*client)->open_stream();
  ASSERT_TRUE(stream.ok());
  ASSERT_TRUE((*stream)->write_frame("big:614400").ok());
  (*stream)->finish();
  auto frame = (*client)->read_frame(**stream, 5s);
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.error().code(), Errc::FrameTooLarge);
  EXPECT_NE(frame.error().message().find("614400"), std::string::npos) << frame.error().describe();
  EXPECT_EQ(echo(**client, "next"), "next");
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

TEST_F(QuicTest, MultiMegabyteTransferSurvivesFivePercentLoss) {
  NetworkImpairment lossy{0.05, 0.01, 0.02, 7};
  EchoServer server(server_tls(), quick_limits(), &lossy);
  ASSERT_TRUE(server.ok());
  auto client = Client::connect(server.address(), client_tls(), quick_limits());
  ASSERT_TRUE(client.ok()) << client.error().describe();
  (*client)->set_impairment({0.05, 0.01, 0.02, 11});
  auto stream = (*client)->open_stream();
  ASSERT_TRUE(stream.ok());
  std::vector<std::string> sent;
  for (int i = 0; i < 8; ++i) {
    std::string frame(512 * 1024, static_cast<char>('A' + i));
    frame[i * 1000] = '#';
    sent.push_back(frame);
    ASSERT_TRUE((*stream)->write_frame(frame).ok());
  }
  (*stream)->finish();
  for (int i = 0; i < 8; ++i) {
    auto frame = (*client)->read_frame(**stream, 60s);
    ASSERT_TRUE(frame.ok() && frame->has_value())
        << "frame " << i << ": " << (frame.ok() ? "ended" : frame.error().describe());
    ASSERT_TRUE(**frame == sent[static_cast<std::size_t>(i)]) << "frame " << i << " differs";
  }
}

}  // namespace
}  // namespace palyra::transport
