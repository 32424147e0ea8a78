// QUIC on loopback with Ed25519 keys (PROTOCOL.md §2): an Ed25519 CA, server
// and device complete the mutual handshake (each side signs its
// CertificateVerify with Ed25519), keys of the two types mix under one CA,
// and a certificate from another Ed25519 CA is still refused.
#include "quic_fixture.hpp"

namespace palyra::transport {
namespace {

using identity::KeyType;

ServerTlsConfig server_tls_of(const TestPki& pki) {
  return {pki.ca_cert(), pki.server_chain(), pki.server_key(), true, nullptr};
}

ClientTlsConfig client_tls_of(const TestPki& pki, const TestPki::Pair& device) {
  ClientTlsConfig tls;
  tls.ca_file = pki.ca_cert();
  tls.cert_file = device.cert;
  tls.key_file = device.key;
  tls.server_name = "localhost";
  return tls;
}

class QuicKeyTypesTest : public QuicTest {
 protected:
  TestPki ed25519_{KeyType::Ed25519};
};

TEST_F(QuicKeyTypesTest, Ed25519CaServerAndDeviceCompleteTheMutualHandshake) {
  ASSERT_EQ(identity::Certificate::from_pem_file(ed25519_.server_chain())->key_type(),
            KeyType::Ed25519);
  ASSERT_EQ(identity::Certificate::from_pem_file(ed25519_.device_cert())->key_type(),
            KeyType::Ed25519);
  EchoServer server(server_tls_of(ed25519_), quick_limits());
  ASSERT_TRUE(server.ok());
  ClientTlsConfig tls = client_tls_of(
      ed25519_, {ed25519_.device_cert(), ed25519_.device_key(), ed25519_.device_fingerprint()});
  tls.pinned_sha256 = ed25519_.server_fingerprint();
  auto client = Client::connect(server.address(), tls, quick_limits());
  ASSERT_TRUE(client.ok()) << client.error().describe();
  EXPECT_EQ(echo(**client, "over ed25519"), "over ed25519");
  EXPECT_EQ(server.device_ids(), std::vector<std::string>{ed25519_.device_id()});
}

// A CA of one type signs keys of the other: every pairing of server and
// device key types under one CA connects.
TEST_F(QuicKeyTypesTest, KeysOfBothTypesMixUnderOneCa) {
  for (TestPki* pki : {&pki_, &ed25519_}) {
    EchoServer server(server_tls_of(*pki), quick_limits());
    ASSERT_TRUE(server.ok());
    for (KeyType device_type : {KeyType::P256, KeyType::Ed25519}) {
      const std::string id = std::string("mixed-") + std::string(key_type_name(device_type));
      auto device = pki->issue_device(id, -1h, 24h, true, device_type);
      ASSERT_EQ(identity::Certificate::from_pem_file(device.cert)->key_type(), device_type);
      auto client = Client::connect(server.address(), client_tls_of(*pki, device), quick_limits());
      ASSERT_TRUE(client.ok()) << id << ": " << client.error().describe();
      EXPECT_EQ(echo(**client, id), id);
    }
    EXPECT_EQ(server.established.load(), 2);
  }
}

TEST_F(QuicKeyTypesTest, AnEd25519DeviceOfAnotherEd25519CaIsRefused) {
  EchoServer server(server_tls_of(ed25519_), quick_limits());
  ASSERT_TRUE(server.ok());
  TestPki other(KeyType::Ed25519);
  ClientTlsConfig tls = client_tls_of(
      ed25519_, {other.device_cert(), other.device_key(), other.device_fingerprint()});
  Error error = refused(tls, server);
  EXPECT_EQ(error.code(), Errc::ConnectFailed);
  EXPECT_TRUE(error.message().find("0x174") != std::string::npos ||
              error.message().find("0x12a") != std::string::npos)
      << error.describe();
  EXPECT_EQ(server.established.load(), 0);
}

}  // namespace
}  // namespace palyra::transport
