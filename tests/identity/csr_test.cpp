// PKCS#10 requests: made for a node's own key, verified before anything is
// issued for them, and refused when tampered with, oversized or for a key
// type not issued here.
#include "palyra/identity/csr.hpp"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>

#include "identity_fixture.hpp"
#include "palyra/identity/ca.hpp"

namespace palyra::identity {
namespace {

using namespace std::chrono_literals;
using palyra::testing::chains_to;
using palyra::testing::run;

// A PKCS#10 request for a key of any type, made with GnuTLS directly.
std::string crq_for(gnutls_pk_algorithm_t algorithm, unsigned bits) {
  gnutls_x509_privkey_t key = nullptr;
  gnutls_x509_privkey_init(&key);
  EXPECT_EQ(gnutls_x509_privkey_generate2(key, algorithm, bits, 0, nullptr, 0), 0);
  gnutls_x509_crq_t crq = nullptr;
  gnutls_x509_crq_init(&crq);
  gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0, "x", 1);
  gnutls_x509_crq_set_key(crq, key);
  gnutls_privkey_t signer = nullptr;
  gnutls_privkey_init(&signer);
  gnutls_privkey_import_x509(signer, key, 0);
  const bool eddsa = algorithm == GNUTLS_PK_EDDSA_ED25519 || algorithm == GNUTLS_PK_EDDSA_ED448;
  const auto digest = eddsa ? GNUTLS_DIG_UNKNOWN : GNUTLS_DIG_SHA256;  // EdDSA hashes itself
  EXPECT_EQ(gnutls_x509_crq_privkey_sign(crq, signer, digest, 0), 0);
  gnutls_datum_t pem{};
  gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_PEM, &pem);
  std::string out(reinterpret_cast<const char*>(pem.data), pem.size);
  gnutls_free(pem.data);
  gnutls_privkey_deinit(signer);
  gnutls_x509_crq_deinit(crq);
  gnutls_x509_privkey_deinit(key);
  return out;
}

class CsrTest : public palyra::testing::IdentityDirTest {};

TEST_F(CsrTest, CsrRoundTripAndIssuedCertificateCarriesItsKey) {
  auto key = PrivateKey::generate();
  ASSERT_TRUE(key.ok());
  auto csr_pem = make_csr_pem(*key, "node-1");
  ASSERT_TRUE(csr_pem.ok()) << csr_pem.error().describe();
  EXPECT_NE(run("openssl req -noout -subject -in " + put("r.csr", *csr_pem).string())
                .output.find("CN = Palyra Device node-1, O = Palyra"),
            std::string::npos);
  auto request = CertificateRequest::from_pem(*csr_pem);
  ASSERT_TRUE(request.ok()) << request.error().describe();
  EXPECT_EQ(request->public_key_sha256().size(), 64u);

  auto ca = CertificateAuthority::create("CA");
  const auto now = std::chrono::system_clock::now();
  auto certificate = ca->issue_device_for_key(*request, "node-1", 24h, now);
  ASSERT_TRUE(certificate.ok()) << certificate.error().describe();
  EXPECT_EQ(*certificate_key_id(*certificate), key->key_id());  // the node's own key
  EXPECT_EQ(certificate->spki_sha256(), request->public_key_sha256());
  EXPECT_EQ(certificate->device_id(), "node-1");
  const auto to_s = [](SystemTime t) { return std::chrono::system_clock::to_time_t(t); };
  EXPECT_EQ(to_s(certificate->not_before()), to_s(now - 60s));
  EXPECT_EQ(to_s(certificate->not_after()), to_s(now + 24h));
  EXPECT_TRUE(chains_to(*certificate, ca->certificate().pem()));
  auto text =
      run("openssl x509 -noout -text -in " + put("c.pem", certificate->pem()).string()).output;
  EXPECT_NE(text.find("TLS Web Client Authentication"), std::string::npos) << text;
  EXPECT_EQ(text.find("TLS Web Server Authentication"), std::string::npos);
  EXPECT_NE(text.find("CA:FALSE"), std::string::npos);
  EXPECT_NE(text.find("Authority Key Identifier"), std::string::npos);
  EXPECT_EQ(ca->issue_device_for_key(*request, "bad id", 24h, now).error().code(),
            Errc::InvalidDeviceId);
  EXPECT_EQ(ca->issue_device_for_key(*request, "x", 0s, now).error().code(), Errc::InvalidArgument);
  // Without a device id the daemon picks one.
  auto anonymous = make_csr_pem(*key, "");
  ASSERT_TRUE(anonymous.ok());
  EXPECT_TRUE(CertificateRequest::from_pem(*anonymous).ok());
}

TEST_F(CsrTest, TamperedOversizedAndForeignCsrsAreRefused) {
  auto key = PrivateKey::generate();
  auto pem = *make_csr_pem(*key, "node-1");
  // Swap the subject for another one of the same length: the signature no
  // longer covers what the request says.
  gnutls_x509_crq_t crq = nullptr;
  gnutls_x509_crq_init(&crq);
  gnutls_datum_t datum{reinterpret_cast<unsigned char*>(pem.data()),
                       static_cast<unsigned>(pem.size())};
  ASSERT_EQ(gnutls_x509_crq_import(crq, &datum, GNUTLS_X509_FMT_PEM), 0);
  gnutls_datum_t der{};
  ASSERT_EQ(gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &der), 0);
  std::string bytes(reinterpret_cast<const char*>(der.data), der.size);
  gnutls_free(der.data);
  gnutls_x509_crq_deinit(crq);
  auto at = bytes.find("node-1");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'm';
  gnutls_datum_t tampered_der{reinterpret_cast<unsigned char*>(bytes.data()),
                              static_cast<unsigned>(bytes.size())};
  gnutls_datum_t tampered_pem{};
  ASSERT_EQ(gnutls_pem_base64_encode2("CERTIFICATE REQUEST", &tampered_der, &tampered_pem), 0);
  std::string tampered(reinterpret_cast<const char*>(tampered_pem.data), tampered_pem.size);
  gnutls_free(tampered_pem.data);
  auto refused = CertificateRequest::from_pem(tampered);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Errc::InvalidArgument);
  EXPECT_NE(refused.error().message().find("signature"), std::string::npos)
      << refused.error().message();

  auto big = CertificateRequest::from_pem(std::string(kMaxCsrPemBytes + 1, 'A'));
  EXPECT_EQ(big.error().code(), Errc::InvalidArgument);
  EXPECT_EQ(CertificateRequest::from_pem("").error().code(), Errc::InvalidArgument);
  EXPECT_EQ(CertificateRequest::from_pem("garbage").error().code(), Errc::InvalidArgument);

  for (auto [algorithm, bits] :
       {std::pair{GNUTLS_PK_RSA, 2048u},
        std::pair{GNUTLS_PK_EDDSA_ED448, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED448)},
        std::pair{GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1)}}) {
    auto other = CertificateRequest::from_pem(crq_for(algorithm, bits));
    ASSERT_FALSE(other.ok()) << algorithm;
    EXPECT_EQ(other.error().code(), Errc::UnsupportedKeyType);
    EXPECT_NE(other.error().message().find("is not issued here"), std::string::npos)
        << other.error().message();
  }
  // The two types issued here, made by a tool other than ours.
  auto p256 = CertificateRequest::from_pem(
      crq_for(GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1)));
  ASSERT_TRUE(p256.ok()) << p256.error().describe();
  EXPECT_EQ(p256->key_type(), KeyType::P256);
  auto ed25519 = CertificateRequest::from_pem(
      crq_for(GNUTLS_PK_EDDSA_ED25519, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519)));
  ASSERT_TRUE(ed25519.ok()) << ed25519.error().describe();
  EXPECT_EQ(ed25519->key_type(), KeyType::Ed25519);
}

}  // namespace
}  // namespace palyra::identity
