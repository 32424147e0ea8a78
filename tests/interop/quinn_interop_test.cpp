// Interoperability with an independent implementation of the protocol
// (quinn + rustls): our QUIC client against its server, with a PKI made by
// our identity library, so the peer's webpki checks our certificates too.
// Its client against the real palyrad is in tests/e2e/quinn_client_test.cpp.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>

#include "../common/process.hpp"
#include "../transport/call_frames.hpp"
#include "../transport/test_pki.hpp"
#include "palyra/runtime/protocol.hpp"
#include "palyra/transport/io/client.hpp"

namespace palyra {
namespace {

using namespace std::chrono_literals;
using transport::testing::TestPki;

const char* peer_binary() {
  return PALYRA_QUINN_PEER;
}

// `quinn-peer serve` as a child process on port 0.
class PeerServer {
 public:
  PeerServer(const TestPki& pki, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {peer_binary(), "serve",
                                     "--listen",    "127.0.0.1:0",
                                     "--ca",        pki.ca_cert().string(),
                                     "--cert",      pki.server_chain().string(),
                                     "--key",       pki.server_key().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    child_ = std::make_unique<palyra::testing::ChildProcess>(args, pki.dir() / "peer.stderr");
    std::string line = child_->read_line(10s);
    if (line.starts_with("listening ")) address_ = line.substr(10);
  }
  ~PeerServer() {
    child_->signal(SIGTERM);
    child_->wait(5s);
  }
  const std::string& address() const { return address_; }

 private:
  std::unique_ptr<palyra::testing::ChildProcess> child_;
  std::string address_;
};

class QuinnInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string(peer_binary()).empty()) {
      GTEST_SKIP() << "quinn peer not built (scripts/test builds it when its sources are beside "
                      "the project)";
    }
  }
  transport::ClientTlsConfig client_tls() const { return client_tls_of(pki_); }
  static transport::ClientTlsConfig client_tls_of(const TestPki& pki) {
    transport::ClientTlsConfig tls;
    tls.ca_file = pki.ca_cert();
    tls.cert_file = pki.device_cert();
    tls.key_file = pki.device_key();
    return tls;
  }
  static std::vector<std::string> call(transport::Client& client, const std::string& request) {
    return transport::testing::call_frames(client, request);
  }
  static transport::SocketAddress parse(const std::string& address) {
    return std::move(transport::SocketAddress::parse(address)).value();
  }
  TestPki pki_;
};

std::string event_frame(std::uint64_t seq) {
  return R"({"protocol_version":1,"kind":"event","ok":true,"seq":)" + std::to_string(seq) + "}";
}

TEST_F(QuinnInterop, OurClientAgainstTheirServer) {
  PeerServer peer(pki_, {});
  ASSERT_FALSE(peer.address().empty()) << "quinn-peer serve did not start";
  auto client = transport::Client::connect(parse(peer.address()), client_tls());
  ASSERT_TRUE(client.ok()) << client.error().describe();
  EXPECT_EQ(call(**client, runtime::encode_health_request()),
            std::vector<std::string>{runtime::encode_health(true)});
  auto all = call(**client, runtime::encode_stream_events_request(std::nullopt, false));
  EXPECT_EQ(all, (std::vector<std::string>{event_frame(1), event_frame(2), event_frame(3),
                                           event_frame(4), event_frame(5)}));
  EXPECT_EQ(call(**client, runtime::encode_stream_events_request(3, false)),
            (std::vector<std::string>{event_frame(4), event_frame(5)}));
  EXPECT_TRUE(call(**client, runtime::encode_stream_events_request(5, false)).empty());
  EXPECT_EQ(
      call(**client, R"({"protocol_version":2,"method":"node.health"})"),
      std::vector<std::string>{runtime::encode_error(runtime::ProtocolError::ProtocolMismatch)});
  EXPECT_EQ(
      call(**client, R"({"protocol_version":1,"method":"node.nope"})"),
      std::vector<std::string>{runtime::encode_error(runtime::ProtocolError::UnsupportedMethod)});
  EXPECT_EQ(
      call(**client, R"({"protocol_version":1,)"),
      std::vector<std::string>{runtime::encode_error(runtime::ProtocolError::InvalidRequest)});
  // Many requests on one connection, beyond the stream limit over time.
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(call(**client, runtime::encode_health_request()).size(), 1u);
}

TEST_F(QuinnInterop, OurClientPinsTheirServer) {
  PeerServer peer(pki_, {});
  ASSERT_FALSE(peer.address().empty());
  auto tls = client_tls();
  tls.pinned_sha256 = pki_.server_fingerprint();
  EXPECT_TRUE(transport::Client::connect(parse(peer.address()), tls).ok());
  tls.pinned_sha256 = std::string(64, '0');
  auto mismatch = transport::Client::connect(parse(peer.address()), tls);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code(), Errc::PinnedCertificateMismatch);
}

// Ed25519 through rustls and webpki: their server loads our Ed25519 key
// (RFC 8410 PKCS#8) and chain and signs its CertificateVerify with it, and
// verifies our Ed25519 device certificate and signature; a pin still holds.
TEST_F(QuinnInterop, Ed25519OurClientAgainstTheirServer) {
  TestPki ed25519(identity::KeyType::Ed25519);
  PeerServer peer(ed25519, {});
  ASSERT_FALSE(peer.address().empty()) << "quinn-peer serve did not start with Ed25519 keys";
  auto tls = client_tls_of(ed25519);
  tls.pinned_sha256 = ed25519.server_fingerprint();
  auto client = transport::Client::connect(parse(peer.address()), tls);
  ASSERT_TRUE(client.ok()) << client.error().describe();
  EXPECT_EQ(call(**client, runtime::encode_health_request()),
            std::vector<std::string>{runtime::encode_health(true)});
  EXPECT_EQ(call(**client, runtime::encode_stream_events_request(4, false)),
            std::vector<std::string>{event_frame(5)});
  // A device of another Ed25519 CA is refused by their server.
  TestPki other(identity::KeyType::Ed25519);
  tls.cert_file = other.device_cert();
  tls.key_file = other.device_key();
  EXPECT_FALSE(transport::Client::connect(parse(peer.address()), tls).ok());
}

TEST_F(QuinnInterop, TheirServerRefusesOurClientWithoutCertificate) {
  PeerServer peer(pki_, {});
  ASSERT_FALSE(peer.address().empty());
  auto tls = client_tls();
  tls.cert_file.reset();
  tls.key_file.reset();
  auto refused = transport::Client::connect(parse(peer.address()), tls);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Errc::ConnectFailed);
  EXPECT_NE(refused.error().message().find("0x174"), std::string::npos)
      << refused.error().describe();
}

}  // namespace
}  // namespace palyra
