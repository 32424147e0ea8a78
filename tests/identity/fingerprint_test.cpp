// Fingerprints: the SHA-256 of the DER, as openssl computes it, and the
// normalizing of what people type.
#include "palyra/identity/fingerprint.hpp"

#include <gtest/gtest.h>

#include <string>

#include "identity_fixture.hpp"
#include "palyra/identity/ca.hpp"

namespace palyra::identity {
namespace {

using palyra::testing::run;

class FingerprintTest : public palyra::testing::IdentityDirTest {};

TEST_F(FingerprintTest, FingerprintIsSha256OfDerAsOpensslComputesIt) {
  auto ca = CertificateAuthority::create("Fingerprint CA");
  ASSERT_TRUE(ca.ok()) << ca.error().describe();
  auto pem = put("ca.pem", ca->certificate().pem());
  auto oracle = run("openssl x509 -in " + pem.string() + " -outform DER | sha256sum");
  ASSERT_EQ(oracle.status, 0);
  EXPECT_EQ(oracle.output.substr(0, 64), ca->certificate().fingerprint());
}

TEST_F(FingerprintTest, NormalizeFingerprint) {
  std::string upper(64, 'A');
  auto ok = normalize_fingerprint("  " + upper + "\n");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, std::string(64, 'a'));
  EXPECT_EQ(normalize_fingerprint("").error().code(), Errc::InvalidArgument);
  EXPECT_EQ(normalize_fingerprint("   ").error().code(), Errc::InvalidArgument);
  EXPECT_EQ(normalize_fingerprint(std::string(63, 'a')).error().code(), Errc::InvalidArgument);
  EXPECT_EQ(normalize_fingerprint(std::string(63, 'a') + "g").error().code(),
            Errc::InvalidArgument);
}

}  // namespace
}  // namespace palyra::identity
