// Key types: ECDSA P-256 and Ed25519 for the CA, the server and devices, in
// every combination of CA and leaf, each certificate accepted by openssl and
// certtool; CSRs of both types; which type a key takes when none is named.
#include "palyra/identity/key_type.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "identity_fixture.hpp"
#include "palyra/identity/ca.hpp"
#include "palyra/identity/csr.hpp"
#include "palyra/identity/store.hpp"

namespace palyra::identity {
namespace {

using namespace std::chrono_literals;
using palyra::testing::chains_to;
using palyra::testing::run;

constexpr KeyType kBoth[] = {KeyType::P256, KeyType::Ed25519};

// What `openssl x509 -text` calls the key of each type.
std::string openssl_says(KeyType type) {
  return type == KeyType::Ed25519 ? "Public Key Algorithm: ED25519" : "ASN1 OID: prime256v1";
}

class KeyTypeTest : public palyra::testing::IdentityDirTest {
 protected:
  // openssl and certtool both accept `leaf` under `ca`, and openssl names
  // the key as `type`.
  void expect_oracles_accept(const std::string& name, const Certificate& leaf,
                             const Certificate& ca, KeyType type) {
    auto ca_pem = put(name + "-ca.pem", ca.pem());
    auto pem = put(name + ".pem", leaf.pem());
    auto text = run("openssl x509 -noout -text -in " + pem.string()).output;
    EXPECT_NE(text.find(openssl_says(type)), std::string::npos) << name << ":\n" << text;
    auto verified = run("openssl verify -CAfile " + ca_pem.string() + " " + pem.string());
    EXPECT_EQ(verified.status, 0) << name << ": " << verified.output;
    auto chain = put(name + "-chain.pem", leaf.pem() + ca.pem());
    auto certtool = run("certtool --verify-chain --infile " + chain.string());
    EXPECT_EQ(certtool.status, 0) << name << ": " << certtool.output;
  }
};

TEST_F(KeyTypeTest, NamesParseBackAndAnythingElseIsOneLineNamingIt) {
  for (KeyType type : kBoth) EXPECT_EQ(*parse_key_type(key_type_name(type)), type);
  EXPECT_EQ(*parse_key_type("ED25519"), KeyType::Ed25519);
  EXPECT_EQ(key_type_name(KeyType::P256), "p256");
  EXPECT_EQ(key_type_name(KeyType::Ed25519), "ed25519");
  for (const char* bad : {"rsa", "", "p384", "ed448", "p256 "}) {
    auto refused = parse_key_type(bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().code(), Errc::InvalidArgument);
    EXPECT_EQ(refused.error().message(),
              "key type '" + std::string(bad) + "' is not supported: use p256 or ed25519");
  }
}

// A CA of either type issues server and device certificates of either type.
TEST_F(KeyTypeTest, EveryCaTypeIssuesEveryLeafTypeAndTheOraclesAcceptThem) {
  for (KeyType ca_type : kBoth) {
    auto ca = CertificateAuthority::create("Typed CA", kDefaultCaValidity, ca_type);
    ASSERT_TRUE(ca.ok()) << ca.error().describe();
    EXPECT_EQ(ca->certificate().key_type(), ca_type);
    EXPECT_EQ(ca->key_type(), ca_type);
    const std::string ca_name(key_type_name(ca_type));
    auto ca_pem = put(ca_name + "-self.pem", ca->certificate().pem());
    EXPECT_EQ(run("openssl verify -CAfile " + ca_pem.string() + " " + ca_pem.string()).status, 0)
        << "the self-signature of a " << ca_name << " CA";
    for (KeyType leaf_type : kBoth) {
      const std::string name = ca_name + "-" + std::string(key_type_name(leaf_type));
      ServerCertificateRequest server_request{"gw.example", {}, {"127.0.0.1"}};
      server_request.key_type = leaf_type;
      auto server = ca->issue_server(server_request);
      ASSERT_TRUE(server.ok()) << name << ": " << server.error().describe();
      EXPECT_EQ(server->certificate.key_type(), leaf_type);
      expect_oracles_accept(name + "-server", server->certificate, ca->certificate(), leaf_type);

      auto device = ca->issue_device("n1", 24h, leaf_type);
      ASSERT_TRUE(device.ok()) << name << ": " << device.error().describe();
      EXPECT_EQ(device->certificate.key_type(), leaf_type);
      EXPECT_TRUE(chains_to(device->certificate, ca->certificate().pem())) << name;
      expect_oracles_accept(name + "-device", device->certificate, ca->certificate(), leaf_type);
      // The key on disk is the certificate's, and openssl reads it.
      auto key_file = put(name + ".key", device->key.pem());
      EXPECT_EQ(run("openssl pkey -noout -in " + key_file.string()).status, 0) << name;
      EXPECT_EQ(PrivateKey::from_pem(device->key.pem())->key_id(),
                *certificate_key_id(device->certificate));
    }
  }
}

// RFC 8410: an Ed25519 PKCS#8 is a 32-byte seed in an OCTET STRING, 48
// bytes in all; ring (rustls) reads exactly that.
TEST_F(KeyTypeTest, Ed25519KeysAreRfc8410Pkcs8) {
  auto key = PrivateKey::generate(KeyType::Ed25519);
  ASSERT_TRUE(key.ok()) << key.error().describe();
  auto path = put("ed.key", key->pem());
  auto parsed = run("openssl asn1parse -in " + path.string());
  ASSERT_EQ(parsed.status, 0) << parsed.output;
  EXPECT_NE(parsed.output.find("0:d=0  hl=2 l=  46 cons: SEQUENCE"), std::string::npos)
      << parsed.output;
  EXPECT_NE(parsed.output.find(":ED25519"), std::string::npos) << parsed.output;
  EXPECT_NE(parsed.output.find("l=  34 prim: OCTET STRING"), std::string::npos) << parsed.output;
}

// Without a type named, a leaf takes the CA's; a reissue keeps the leaf's.
TEST_F(KeyTypeTest, LeavesTakeTheCasTypeAndAReissueKeepsItsOwn) {
  for (KeyType ca_type : kBoth) {
    auto ca = CertificateAuthority::create("CA", kDefaultCaValidity, ca_type);
    ASSERT_TRUE(ca.ok());
    EXPECT_EQ(ca->issue_device("n1")->certificate.key_type(), ca_type);
    auto server = ca->issue_server({"localhost", {}, {}});
    ASSERT_TRUE(server.ok());
    EXPECT_EQ(server->certificate.key_type(), ca_type);
    const KeyType other = ca_type == KeyType::P256 ? KeyType::Ed25519 : KeyType::P256;
    ServerCertificateRequest request{"localhost", {}, {}};
    request.key_type = other;
    auto reissued = ca->issue_server(server_request_like(ca->issue_server(request)->certificate));
    ASSERT_TRUE(reissued.ok());
    EXPECT_EQ(reissued->certificate.key_type(), other);
  }
}

TEST_F(KeyTypeTest, CsrsOfBothTypesAreIssuedForByCasOfBothTypes) {
  for (KeyType ca_type : kBoth) {
    auto ca = CertificateAuthority::create("CA", kDefaultCaValidity, ca_type);
    ASSERT_TRUE(ca.ok());
    for (KeyType node_type : kBoth) {
      auto key = PrivateKey::generate(node_type);
      ASSERT_TRUE(key.ok());
      auto csr = make_csr_pem(*key, "node-1");
      ASSERT_TRUE(csr.ok()) << csr.error().describe();
      auto request = CertificateRequest::from_pem(*csr);
      ASSERT_TRUE(request.ok()) << request.error().describe();
      EXPECT_EQ(request->key_type(), node_type);
      auto certificate =
          ca->issue_device_for_key(*request, "node-1", 24h, std::chrono::system_clock::now());
      ASSERT_TRUE(certificate.ok()) << certificate.error().describe();
      EXPECT_EQ(certificate->key_type(), node_type);
      EXPECT_EQ(*certificate_key_id(*certificate), key->key_id());
      EXPECT_TRUE(chains_to(*certificate, ca->certificate().pem()));
      const std::string name =
          std::string(key_type_name(ca_type)) + "-csr-" + std::string(key_type_name(node_type));
      auto verified = run("openssl req -noout -verify -in " + put(name + ".csr", *csr).string());
      EXPECT_EQ(verified.status, 0) << name << ": " << verified.output;
    }
  }
}

TEST_F(KeyTypeTest, TheStoreKeepsTheCasTypeAcrossARotationUnlessToldToMove) {
  IdentityStore store(state());
  ASSERT_TRUE(store.create_ca("Ed CA", false, KeyType::Ed25519).ok());
  auto device = store.issue_device("n1", 24h, std::nullopt);
  ASSERT_TRUE(device.ok());
  EXPECT_EQ(Certificate::from_pem_file(device->cert)->key_type(), KeyType::Ed25519);
  auto p256 = store.issue_device("n2", 24h, std::nullopt, KeyType::P256);
  ASSERT_TRUE(p256.ok());
  EXPECT_EQ(Certificate::from_pem_file(p256->cert)->key_type(), KeyType::P256);

  auto step = store.rotate_ca("Next Ed CA", 24h);
  ASSERT_TRUE(step.ok()) << step.error().describe();
  EXPECT_NE(step->what_happened.find("(ed25519, "), std::string::npos) << step->what_happened;
  EXPECT_EQ(Certificate::from_pem_file(state().next_ca_cert())->key_type(), KeyType::Ed25519);

  IdentityStore moving(StateDir{dir_ / "moving"});
  ASSERT_TRUE(moving.create_ca("P-256 CA", false).ok());
  ASSERT_TRUE(moving.rotate_ca("Ed CA", 24h, KeyType::Ed25519).ok());
  EXPECT_EQ(Certificate::from_pem_file(moving.dir().next_ca_cert())->key_type(), KeyType::Ed25519);
}

}  // namespace
}  // namespace palyra::identity
