// How a node with no CA yet checks a daemon's chain against the CA hash of
// its enrollment token (the chain is verified against that CA alone).
#include "palyra/identity/ca_hash_check.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "palyra/identity/ca.hpp"

namespace palyra::identity {
namespace {

// A throwaway CA and the chain a daemon would send: its server certificate
// for localhost, then the CA.
struct Gateway {
  CertificateAuthority ca;
  std::string server_pem;
  std::string chain_pem() const { return server_pem + ca.certificate().pem(); }
};

Gateway make_gateway(std::string_view name) {
  auto ca = CertificateAuthority::create(name);
  EXPECT_TRUE(ca.ok());
  auto server = ca->issue_server({"localhost", {}, {"127.0.0.1"}});
  EXPECT_TRUE(server.ok());
  return {std::move(*ca), server->certificate.pem()};
}

TEST(CaHashCheckTest, AChainEndingInTheTokensCaIsAccepted) {
  const Gateway gateway = make_gateway("Gateway CA");
  const std::string hash = gateway.ca.certificate().spki_sha256();
  auto checked = verify_chain_against_ca_hash(gateway.chain_pem(), hash, "localhost");
  EXPECT_TRUE(checked.ok()) << checked.error().describe();
  // The hash is normalized as an operator may paste it.
  EXPECT_TRUE(
      verify_chain_against_ca_hash(gateway.chain_pem(), " " + hash + "\n", "127.0.0.1").ok());
}

TEST(CaHashCheckTest, AnotherCaOrAChainThatDoesNotVerifyIsRefused) {
  const Gateway gateway = make_gateway("Gateway CA");
  const Gateway impostor = make_gateway("Impostor CA");
  const std::string hash = gateway.ca.certificate().spki_sha256();

  auto other = verify_chain_against_ca_hash(impostor.chain_pem(), hash, "localhost");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code(), Errc::PinnedCertificateMismatch);
  EXPECT_NE(other.error().message().find(hash), std::string::npos) << other.error().message();
  EXPECT_NE(other.error().message().find(impostor.ca.certificate().spki_sha256()),
            std::string::npos)
      << other.error().message();

  // The impostor's server certificate followed by the real CA: the last
  // certificate has the hash, but the chain does not verify against it.
  const std::string spliced = impostor.server_pem + gateway.ca.certificate().pem();
  auto forged = verify_chain_against_ca_hash(spliced, hash, "localhost");
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().code(), Errc::ConnectFailed);

  auto wrong_name = verify_chain_against_ca_hash(gateway.chain_pem(), hash, "elsewhere.example");
  ASSERT_FALSE(wrong_name.ok());
  EXPECT_EQ(wrong_name.error().code(), Errc::ConnectFailed);
}

}  // namespace
}  // namespace palyra::identity
