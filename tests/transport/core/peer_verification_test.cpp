// The handshake's chain check, fed real certificates from a throwaway CA,
// without a handshake: good chains, an unknown CA, expiry, the wrong
// purpose, the wrong name, and the cache of chains verified before.
// Revocation and the pin are checked after the handshake
// (peer_admission_test.cpp).
#include "peer_verification.hpp"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "../test_pki.hpp"
#include "tls_context.hpp"

namespace palyra::transport {
namespace {

using namespace std::chrono_literals;
using testing::TestPki;

// The certificates of a PEM file, as DER: what a peer presents.
class PresentedChain {
 public:
  explicit PresentedChain(const std::filesystem::path& pem) {
    gnutls_datum_t file{};
    EXPECT_EQ(gnutls_load_file(pem.c_str(), &file), 0) << pem;
    gnutls_x509_crt_t* list = nullptr;
    unsigned count = 0;
    EXPECT_GE(gnutls_x509_crt_list_import2(&list, &count, &file, GNUTLS_X509_FMT_PEM, 0), 0);
    for (unsigned i = 0; i < count; ++i) {
      gnutls_datum_t der{};
      EXPECT_EQ(gnutls_x509_crt_export2(list[i], GNUTLS_X509_FMT_DER, &der), 0);
      certificates_.push_back(der);
      gnutls_x509_crt_deinit(list[i]);
    }
    gnutls_free(list);
    gnutls_free(file.data);
  }
  ~PresentedChain() {
    for (auto& der : certificates_) gnutls_free(der.data);
  }
  PresentedChain(const PresentedChain&) = delete;
  PresentedChain& operator=(const PresentedChain&) = delete;

  std::span<const gnutls_datum_t> certificates() const { return certificates_; }

 private:
  std::vector<gnutls_datum_t> certificates_;
};

// GnuTLS's verification without a handshake: the trust-list check that
// gnutls_certificate_verify_peers ends in, against the test CA.
class TrustListVerifier final : public ChainVerifier {
 public:
  explicit TrustListVerifier(const std::filesystem::path& ca) {
    gnutls_x509_trust_list_init(&trust_, 0);
    EXPECT_EQ(gnutls_x509_trust_list_add_trust_file(trust_, ca.c_str(), nullptr,
                                                    GNUTLS_X509_FMT_PEM, 0, 0),
              1);
  }
  ~TrustListVerifier() { gnutls_x509_trust_list_deinit(trust_, 1); }
  TrustListVerifier(const TrustListVerifier&) = delete;
  TrustListVerifier& operator=(const TrustListVerifier&) = delete;

  int verify(std::span<const gnutls_datum_t> chain, const gnutls_typed_vdata_st* checks,
             unsigned check_count, unsigned* status) const override {
    ++calls;
    std::vector<gnutls_x509_crt_t> certificates;
    for (const auto& der : chain) {
      gnutls_x509_crt_t certificate = nullptr;
      gnutls_x509_crt_init(&certificate);
      gnutls_x509_crt_import(certificate, &der, GNUTLS_X509_FMT_DER);
      certificates.push_back(certificate);
    }
    int rv = gnutls_x509_trust_list_verify_crt2(
        trust_, certificates.data(), static_cast<unsigned>(certificates.size()),
        const_cast<gnutls_typed_vdata_st*>(checks), check_count, 0, status, nullptr);
    for (auto certificate : certificates) gnutls_x509_crt_deinit(certificate);
    return rv;
  }

  mutable int calls = 0;

 private:
  gnutls_x509_trust_list_t trust_ = nullptr;
};

class PeerVerificationTest : public ::testing::Test {
 protected:
  // What a server checks of a client's chain (verify_client_certificate).
  int check_client(const PresentedChain& chain) {
    gnutls_typed_vdata_st purpose{};
    purpose.type = GNUTLS_DT_KEY_PURPOSE_OID;
    purpose.data = reinterpret_cast<unsigned char*>(const_cast<char*>(GNUTLS_KP_TLS_WWW_CLIENT));
    check_ = PeerCheck{};
    return check_peer_chain(chain.certificates(), verifier_, *cache_, &purpose, 1,
                            GNUTLS_KP_TLS_WWW_CLIENT, check_);
  }
  // What a client connecting to `server_name` checks of the server's chain
  // (verify_server_certificate), with the client context's own checks.
  int check_server(const PresentedChain& chain, const std::string& server_name) {
    ClientTlsConfig config;
    config.ca_file = pki_.ca_cert();
    config.server_name = server_name;
    auto context = std::move(ClientTlsContext::create(config)).value();
    check_ = PeerCheck{};
    return check_peer_chain(chain.certificates(), verifier_, *cache_, context->verify_data(),
                            ClientTlsContext::kVerifyDataCount, GNUTLS_KP_TLS_WWW_SERVER, check_);
  }
  bool refused_with(unsigned bits) const {
    return (check_.status & GNUTLS_CERT_INVALID) != 0 && (check_.status & bits) == bits;
  }

  TestPki pki_;
  TrustListVerifier verifier_{pki_.ca_cert()};
  std::unique_ptr<VerifiedChainCache> cache_ = std::make_unique<VerifiedChainCache>();
  PeerCheck check_;
};

TEST_F(PeerVerificationTest, AcceptsAGoodClientChainAndRemembersIt) {
  PresentedChain chain(pki_.device_cert());
  ASSERT_EQ(check_client(chain), 0) << describe_refusal(check_);
  EXPECT_EQ(check_.status, 0u);
  EXPECT_EQ(describe_refusal(check_), "");
  EXPECT_EQ(cache_->find(check_.chain_key, std::time(nullptr)),
            "Palyra Device " + pki_.device_id());
}

TEST_F(PeerVerificationTest, AcceptsAGoodServerChainForItsName) {
  PresentedChain chain(pki_.server_chain());
  EXPECT_EQ(check_server(chain, "localhost"), 0) << describe_refusal(check_);
  cache_ = std::make_unique<VerifiedChainCache>();  // the cache does not know names
  EXPECT_EQ(check_server(chain, "127.0.0.1"), 0) << describe_refusal(check_);
}

TEST_F(PeerVerificationTest, AChainVerifiedBeforeSkipsGnutls) {
  PresentedChain chain(pki_.device_cert());
  ASSERT_EQ(check_client(chain), 0);
  ASSERT_EQ(verifier_.calls, 1);
  ASSERT_EQ(check_client(chain), 0);
  EXPECT_EQ(verifier_.calls, 1) << "the second check should come from the cache";
}

TEST_F(PeerVerificationTest, RefusesAChainFromAnotherCa) {
  TestPki other;
  PresentedChain chain(other.device_cert());
  EXPECT_EQ(check_client(chain), GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
  EXPECT_TRUE(refused_with(GNUTLS_CERT_SIGNER_NOT_FOUND)) << describe_refusal(check_);
  EXPECT_EQ(cache_->size(), 0u) << "a refused chain is not remembered";
}

TEST_F(PeerVerificationTest, RefusesAnExpiredCertificateAndSaysSo) {
  PresentedChain chain(pki_.issue_device("expired", -2h, -1h).cert);
  EXPECT_EQ(check_client(chain), GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
  EXPECT_TRUE(refused_with(GNUTLS_CERT_EXPIRED)) << describe_refusal(check_);
  EXPECT_NE(describe_refusal(check_).find("expired"), std::string::npos)
      << describe_refusal(check_);
  EXPECT_EQ(cache_->size(), 0u);
}

TEST_F(PeerVerificationTest, RefusesACertificateNotValidYet) {
  PresentedChain chain(pki_.issue_device("early", 1h, 2h).cert);
  EXPECT_EQ(check_client(chain), GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
  EXPECT_TRUE(refused_with(GNUTLS_CERT_NOT_ACTIVATED)) << describe_refusal(check_);
}

// GnuTLS takes a leaf without any EKU as fit for every purpose; the
// protocol does not.
TEST_F(PeerVerificationTest, RefusesALeafWithoutThePurposeInItsKeyUsage) {
  PresentedChain chain(pki_.issue_device("no-eku", -1h, 1h, /*client_auth=*/false).cert);
  EXPECT_EQ(check_client(chain), GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
  EXPECT_TRUE(refused_with(GNUTLS_CERT_PURPOSE_MISMATCH)) << describe_refusal(check_);
  EXPECT_EQ(cache_->size(), 0u);
}

TEST_F(PeerVerificationTest, RefusesAServerCertificateAsAClientAndTheReverse) {
  PresentedChain server(pki_.server_chain());
  EXPECT_EQ(check_client(server), GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
  EXPECT_NE(check_.status, 0u);
  PresentedChain device(pki_.device_cert());
  EXPECT_EQ(check_server(device, "localhost"), GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
  EXPECT_NE(check_.status, 0u);
}

TEST_F(PeerVerificationTest, RefusesAServerChainForAnotherName) {
  PresentedChain chain(pki_.server_chain());
  EXPECT_EQ(check_server(chain, "gateway.example"), GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
  EXPECT_TRUE(refused_with(GNUTLS_CERT_UNEXPECTED_OWNER)) << describe_refusal(check_);
}

TEST_F(PeerVerificationTest, LeafFactsComeFromTheFirstCertificate) {
  PresentedChain chain(pki_.server_chain());
  ASSERT_EQ(chain.certificates().size(), 2u);
  LeafFacts leaf = inspect_leaf(chain.certificates(), GNUTLS_KP_TLS_WWW_SERVER);
  EXPECT_TRUE(leaf.has_purpose);
  EXPECT_EQ(leaf.common_name, "localhost");
  EXPECT_LT(leaf.not_before, leaf.not_after);
  EXPECT_FALSE(inspect_leaf(chain.certificates(), GNUTLS_KP_TLS_WWW_CLIENT).has_purpose);
  EXPECT_FALSE(inspect_leaf({}, GNUTLS_KP_TLS_WWW_SERVER).has_purpose);
}

}  // namespace
}  // namespace palyra::transport
