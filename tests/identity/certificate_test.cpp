// Certificates and private keys: what is read from PEM, what errors say
// about a bad file, and the checks on device ids and durations.
#include "palyra/identity/certificate.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "../common/bad_files.hpp"
#include "identity_fixture.hpp"
#include "palyra/identity/ca.hpp"

namespace palyra::identity {
namespace {

using namespace std::chrono_literals;
using palyra::testing::BadFilesTest;
using palyra::testing::run;

class CertificateTest : public palyra::testing::IdentityDirTest {};

// RFC 5915: the P-256 private scalar is exactly 32 bytes. GnuTLS alone
// writes 33 when the top bit is set, which rustls refuses; over 16 keys a
// regression shows with probability 1 - 2^-16.
TEST_F(CertificateTest, PrivateKeysUseTheFixedWidthScalarRustlsRequires) {
  for (int i = 0; i < 16; ++i) {
    auto key = PrivateKey::generate();
    ASSERT_TRUE(key.ok());
    // fmt, not "k" + std::to_string(i): gcc 12 at -O3 warns a false -Wrestrict
    // in operator+(const char*, std::string&&) (GCC bug 105329).
    auto path = put(fmt::format("k{}.key", i), key->pem());
    auto parsed = run("openssl asn1parse -in " + path.string() + " -strparse 27");
    ASSERT_EQ(parsed.status, 0) << parsed.output;
    EXPECT_NE(parsed.output.find("l=  32 prim: OCTET STRING"), std::string::npos) << parsed.output;
    EXPECT_EQ(run("openssl pkey -noout -check -in " + path.string()).status, 0);
    auto reloaded = PrivateKey::from_pem(key->pem());
    ASSERT_TRUE(reloaded.ok());
    EXPECT_EQ(reloaded->key_id(), key->key_id());
  }
}

TEST_F(CertificateTest, InvalidDeviceIds) {
  EXPECT_TRUE(validate_device_id("a").ok());
  EXPECT_TRUE(validate_device_id(std::string(64, 'x')).ok());
  EXPECT_EQ(validate_device_id("").error().code(), Errc::InvalidDeviceId);
  EXPECT_EQ(validate_device_id(std::string(65, 'x')).error().code(), Errc::InvalidDeviceId);
  EXPECT_EQ(validate_device_id("a b").error().code(), Errc::InvalidDeviceId);
  EXPECT_EQ(validate_device_id("a/b").error().code(), Errc::InvalidDeviceId);
  auto ca = CertificateAuthority::create("CA");
  EXPECT_EQ(ca->issue_device("no,commas").error().code(), Errc::InvalidDeviceId);
}

TEST_F(CertificateTest, Durations) {
  EXPECT_EQ(*parse_duration("90s"), 90s);
  EXPECT_EQ(*parse_duration("30m"), 30min);
  EXPECT_EQ(*parse_duration("24h"), 24h);
  EXPECT_EQ(*parse_duration("7d"), 7 * 24h);
  EXPECT_EQ(*parse_duration("1y"), 365 * 24h);
  EXPECT_EQ(*parse_duration("1d12h"), 36h);
  for (const char* bad : {"", "h", "12", "1x", "-1d", "0s", "99999999999999y"}) {
    auto r = parse_duration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), Errc::InvalidDuration);
  }
}

TEST_F(CertificateTest, LoadingErrorsNameTheFileAndNeverTheKey) {
  auto missing = Certificate::from_pem_file(dir_ / "missing.pem");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::NotFound);
  EXPECT_NE(missing.error().message().find("missing.pem"), std::string::npos);

  auto corrupt = Certificate::from_pem_file(
      put("corrupt.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.error().code(), Errc::CertificateParsingFailed);

  std::string secret = "-----BEGIN PRIVATE KEY-----\nSECRETSECRET\n-----END PRIVATE KEY-----\n";
  auto key = PrivateKey::from_pem_file(put("bad.key", secret));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code(), Errc::PrivateKeyParsingFailed);
  EXPECT_EQ(key.error().message().find("SECRET"), std::string::npos);
}

// RFC 5280's "no well-defined expiration", 99991231235959Z, is past what a
// SystemTime holds: the certificate still expires in the far future, not in
// 1817 as an overflowed from_time_t made it.
TEST_F(CertificateTest, ACertificateThatNeverExpiresExpiresInTheFarFuture) {
  auto tmpl = put("far.tmpl", "cn = \"Far\"\nexpiration_date = \"9999-12-31 23:59:59\"\nca\n");
  auto key = put("far.key", PrivateKey::generate()->pem());
  auto pem = dir_ / "far.pem";
  auto made = run("certtool --generate-self-signed --load-privkey " + key.string() +
                  " --template " + tmpl.string() + " --outfile " + pem.string());
  ASSERT_EQ(made.status, 0) << made.output;
  auto certificate = Certificate::from_pem_file(pem);
  ASSERT_TRUE(certificate.ok()) << certificate.error().describe();
  EXPECT_GT(certificate->not_after(), std::chrono::system_clock::now() + 24h * 365 * 80);
  EXPECT_LT(certificate->not_before(), certificate->not_after());
  EXPECT_EQ(format_utc(certificate->not_after()).substr(0, 2), "21");
}

TEST_F(CertificateTest, SpkiHashIsWhatOpensslComputes) {
  auto one = CertificateAuthority::create("One");
  auto two = CertificateAuthority::create("Two");
  ASSERT_TRUE(one.ok() && two.ok());
  auto pem = put("one.pem", one->certificate().pem());
  auto oracle = run("openssl x509 -in " + pem.string() +
                    " -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum")
                    .output;
  ASSERT_GE(oracle.size(), 64u);
  EXPECT_EQ(one->certificate().spki_sha256(), oracle.substr(0, 64));
  EXPECT_NE(one->certificate().spki_sha256(), two->certificate().spki_sha256());
  EXPECT_NE(one->certificate().spki_sha256(), one->certificate().fingerprint());
}

TEST_F(CertificateTest, ChainFromPemReadsEveryCertificateInOrder) {
  auto one = CertificateAuthority::create("One");
  auto two = CertificateAuthority::create("Two");
  auto chain = Certificate::chain_from_pem(one->certificate().pem() + two->certificate().pem());
  ASSERT_TRUE(chain.ok());
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[1].common_name(), "Two");
  EXPECT_EQ(Certificate::chain_from_pem("nothing").error().code(), Errc::CertificateParsingFailed);
}

TEST_F(BadFilesTest, KeysAndCertificates) {
  put(dir_ / "garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
  expect_one_line(palyra({"cert", "fingerprint", (dir_ / "garbage.pem").string()}),
                  {"garbage.pem"});
  expect_one_line(palyra({"cert", "revoke", "--cert", (dir_ / "garbage.pem").string()}),
                  {"garbage.pem"});
  put(state_ / "ca" / "ca.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  expect_one_line(palyra({"cert", "device", "node-2"}), {"ca.key"});
  EXPECT_FALSE(std::filesystem::exists(state_ / "devices" / "node-2"));
  put(state_ / "ca" / "ca.pem", "");
  expect_one_line(palyra({"cert", "device", "node-3"}), {"ca.pem"});
}

}  // namespace
}  // namespace palyra::identity
