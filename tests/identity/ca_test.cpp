// The gateway CA: the extensions of what it issues, checked against
// external oracles (openssl and certtool must accept what we issue), and
// loading a CA from its files.
#include "palyra/identity/ca.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "identity_fixture.hpp"

namespace palyra::identity {
namespace {

using namespace std::chrono_literals;
using palyra::testing::run;

class CaTest : public palyra::testing::IdentityDirTest {};

TEST_F(CaTest, CaHasTheRequiredExtensions) {
  auto ca = CertificateAuthority::create("Palyra Test CA");
  ASSERT_TRUE(ca.ok());
  auto pem = put("ca.pem", ca->certificate().pem());
  auto text = run("openssl x509 -in " + pem.string() + " -noout -text");
  ASSERT_EQ(text.status, 0);
  EXPECT_NE(text.output.find("CA:TRUE"), std::string::npos);
  EXPECT_NE(text.output.find("Digital Signature, Certificate Sign, CRL Sign"), std::string::npos)
      << text.output;
  EXPECT_NE(text.output.find("ASN1 OID: prime256v1"), std::string::npos);
  EXPECT_NE(text.output.find("Subject: CN = Palyra Test CA"), std::string::npos);
  auto years = ca->certificate().not_after() - ca->certificate().not_before();
  EXPECT_GT(years, 3649 * 24h);
}

TEST_F(CaTest, ServerCertificateSansEkuAndOracles) {
  auto ca = CertificateAuthority::create("Palyra Test CA");
  ASSERT_TRUE(ca.ok());
  auto server =
      ca->issue_server({"gateway.example", {"LOCALHOST", "alt.example"}, {"127.0.0.1", "::1"}});
  ASSERT_TRUE(server.ok()) << server.error().describe();
  auto ca_pem = put("ca.pem", ca->certificate().pem());
  auto pem = put("server.pem", server->certificate.pem());
  auto text = run("openssl x509 -in " + pem.string() + " -noout -text");
  EXPECT_NE(text.output.find("DNS:localhost, DNS:gateway.example, DNS:alt.example, "
                             "IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"),
            std::string::npos)
      << text.output;
  EXPECT_EQ(text.output.find("LOCALHOST"), std::string::npos) << "case-insensitive duplicate kept";
  EXPECT_NE(text.output.find("TLS Web Server Authentication"), std::string::npos);
  EXPECT_NE(text.output.find("CA:FALSE"), std::string::npos);
  EXPECT_EQ(run("openssl verify -CAfile " + ca_pem.string() + " " + pem.string()).status, 0);
  auto chain = put("chain.pem", server->certificate.pem() + ca->certificate().pem());
  auto certtool = run("certtool --verify-chain --infile " + chain.string());
  EXPECT_EQ(certtool.status, 0) << certtool.output;
  EXPECT_NE(certtool.output.find("Verified"), std::string::npos);
  // What palyrad reads back when it reissues a certificate with the same names.
  auto loaded = Certificate::from_pem_file(pem);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->dns_names(),
            (std::vector<std::string>{"localhost", "gateway.example", "alt.example"}));
  EXPECT_EQ(loaded->ip_addresses(), (std::vector<std::string>{"127.0.0.1", "::1"}));
}

TEST_F(CaTest, DeviceCertificateSubjectEkuAndOracles) {
  auto ca = CertificateAuthority::create("Palyra Test CA");
  ASSERT_TRUE(ca.ok());
  auto device = ca->issue_device("node-7.a_b");
  ASSERT_TRUE(device.ok()) << device.error().describe();
  EXPECT_EQ(device->certificate.device_id(), "node-7.a_b");
  auto validity = device->certificate.not_after() - device->certificate.not_before();
  EXPECT_GE(validity, 24h);
  EXPECT_LE(validity, 24h + 10min);
  auto ca_pem = put("ca.pem", ca->certificate().pem());
  auto pem = put("device.pem", device->certificate.pem());
  auto text = run("openssl x509 -in " + pem.string() + " -noout -text");
  EXPECT_NE(text.output.find("Subject: CN = Palyra Device node-7.a_b, O = Palyra"),
            std::string::npos)
      << text.output;
  EXPECT_NE(text.output.find("TLS Web Client Authentication"), std::string::npos);
  EXPECT_EQ(run("openssl verify -CAfile " + ca_pem.string() + " " + pem.string()).status, 0);
  auto chain = put("chain.pem", device->certificate.pem() + ca->certificate().pem());
  EXPECT_EQ(run("certtool --verify-chain --infile " + chain.string()).status, 0);
}

TEST_F(CaTest, OpensslRejectsACertificateFromAnotherCa) {
  auto ca = CertificateAuthority::create("CA one");
  auto other = CertificateAuthority::create("CA two");
  ASSERT_TRUE(ca.ok() && other.ok());
  auto device = other->issue_device("stranger");
  ASSERT_TRUE(device.ok());
  auto ca_pem = put("ca.pem", ca->certificate().pem());
  auto pem = put("device.pem", device->certificate.pem());
  EXPECT_NE(run("openssl verify -CAfile " + ca_pem.string() + " " + pem.string()).status, 0);
}

TEST_F(CaTest, SerialsAreUnique) {
  auto ca = CertificateAuthority::create("Serial CA");
  ASSERT_TRUE(ca.ok());
  std::set<std::string> serials;
  for (int i = 0; i < 20; ++i)
    serials.insert(ca->issue_device(fmt::format("d{}", i))->certificate.serial_hex());
  EXPECT_EQ(serials.size(), 20u);
}

TEST_F(CaTest, CaLoadChecksThatKeyAndCertificateMatch) {
  auto one = CertificateAuthority::create("One");
  auto two = CertificateAuthority::create("Two");
  auto cert = put("one.pem", one->certificate().pem());
  auto own_key = put("one.key", one->key().pem());
  auto other_key = put("two.key", two->key().pem());
  EXPECT_TRUE(CertificateAuthority::load(cert, own_key).ok());
  auto mismatch = CertificateAuthority::load(cert, other_key);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code(), Errc::KeyCertificateMismatch);
}

}  // namespace
}  // namespace palyra::identity
