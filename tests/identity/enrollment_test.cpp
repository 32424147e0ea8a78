// Enrollment and renewal on the identity side: CSRs, certificates for a
// node's own key, tokens, the state lock, CA rotation and the node's
// identity on disk.
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

#include "../common/temp_dir.hpp"
#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/ca.hpp"
#include "palyra/identity/csr.hpp"
#include "palyra/identity/device_identity.hpp"
#include "palyra/identity/enrollment_token.hpp"
#include "palyra/identity/state_lock.hpp"
#include "palyra/identity/store.hpp"
#include "palyra/identity/token_store.hpp"

namespace palyra::identity {
namespace {

using namespace std::chrono_literals;

std::string run(const std::string& command) {
  std::array<char, 4096> buffer{};
  std::string output;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return {};
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  pclose(pipe);
  return output;
}

// Verifies `leaf` against every certificate of `bundle_pem` as trust
// anchors, at `when`, the way the server's trust file is used.
bool chains_to(const Certificate& leaf, const std::string& bundle_pem,
               SystemTime when = std::chrono::system_clock::now()) {
  gnutls_x509_trust_list_t list = nullptr;
  gnutls_x509_trust_list_init(&list, 0);
  gnutls_datum_t cas{reinterpret_cast<unsigned char*>(const_cast<char*>(bundle_pem.data())),
                     static_cast<unsigned>(bundle_pem.size())};
  EXPECT_GT(gnutls_x509_trust_list_add_trust_mem(list, &cas, nullptr, GNUTLS_X509_FMT_PEM, 0, 0),
            0);
  gnutls_x509_crt_t crt = nullptr;
  gnutls_x509_crt_init(&crt);
  gnutls_datum_t der{reinterpret_cast<unsigned char*>(const_cast<char*>(leaf.der().data())),
                     static_cast<unsigned>(leaf.der().size())};
  EXPECT_EQ(gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER), 0);
  unsigned status = 1;
  gnutls_typed_vdata_st purpose{
      GNUTLS_DT_KEY_PURPOSE_OID,
      reinterpret_cast<unsigned char*>(const_cast<char*>(GNUTLS_KP_TLS_WWW_CLIENT)), 0};
  (void)when;
  int rv = gnutls_x509_trust_list_verify_crt2(list, &crt, 1, &purpose, 1, 0, &status, nullptr);
  gnutls_x509_crt_deinit(crt);
  gnutls_x509_trust_list_deinit(list, 1);
  return rv == 0 && status == 0;
}

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
  const auto digest = algorithm == GNUTLS_PK_EDDSA_ED25519 ? GNUTLS_DIG_UNKNOWN : GNUTLS_DIG_SHA256;
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

class EnrollmentTest : public palyra::testing::TempDirTest {
 protected:
  StateDir state() const { return StateDir{dir_ / "state"}; }
  std::filesystem::path put(const std::string& name, const std::string& contents) {
    auto path = dir_ / name;
    std::ofstream(path) << contents;
    return path;
  }
};

TEST_F(EnrollmentTest, SpkiHashIsWhatOpensslComputes) {
  auto one = CertificateAuthority::create("One");
  auto two = CertificateAuthority::create("Two");
  ASSERT_TRUE(one.ok() && two.ok());
  auto pem = put("one.pem", one->certificate().pem());
  auto oracle = run("openssl x509 -in " + pem.string() +
                    " -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum");
  ASSERT_GE(oracle.size(), 64u);
  EXPECT_EQ(one->certificate().spki_sha256(), oracle.substr(0, 64));
  EXPECT_NE(one->certificate().spki_sha256(), two->certificate().spki_sha256());
  EXPECT_NE(one->certificate().spki_sha256(), one->certificate().fingerprint());
}

TEST_F(EnrollmentTest, ChainFromPemReadsEveryCertificateInOrder) {
  auto one = CertificateAuthority::create("One");
  auto two = CertificateAuthority::create("Two");
  auto chain = Certificate::chain_from_pem(one->certificate().pem() + two->certificate().pem());
  ASSERT_TRUE(chain.ok());
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[1].common_name(), "Two");
  EXPECT_EQ(Certificate::chain_from_pem("nothing").error().code(), Errc::CertificateParsingFailed);
}

TEST_F(EnrollmentTest, CsrRoundTripAndIssuedCertificateCarriesItsKey) {
  auto key = PrivateKey::generate();
  ASSERT_TRUE(key.ok());
  auto csr_pem = make_csr_pem(*key, "node-1");
  ASSERT_TRUE(csr_pem.ok()) << csr_pem.error().describe();
  EXPECT_NE(run("openssl req -noout -subject -in " + put("r.csr", *csr_pem).string())
                .find("CN = Palyra Device node-1, O = Palyra"),
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
  auto text = run("openssl x509 -noout -text -in " + put("c.pem", certificate->pem()).string());
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

TEST_F(EnrollmentTest, TamperedOversizedAndForeignCsrsAreRefused) {
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
        std::pair{GNUTLS_PK_EDDSA_ED25519, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519)},
        std::pair{GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1)}}) {
    auto other = CertificateRequest::from_pem(crq_for(algorithm, bits));
    ASSERT_FALSE(other.ok()) << algorithm;
    EXPECT_EQ(other.error().code(), Errc::UnsupportedKeyType);
    EXPECT_NE(other.error().message().find("is not issued here"), std::string::npos)
        << other.error().message();
  }
  EXPECT_TRUE(CertificateRequest::from_pem(
                  crq_for(GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1)))
                  .ok());
}

TEST_F(EnrollmentTest, TokenParsing) {
  const std::string id = "0123abcd", secret(32, 'f'), hash(64, '9');
  auto token = parse_enrollment_token(" " + id + "." + secret + "." + hash + "\n");
  ASSERT_TRUE(token.ok()) << token.error().describe();
  EXPECT_EQ(token->id, id);
  EXPECT_EQ(token->secret, secret);
  EXPECT_EQ(token->ca_hash, hash);
  EXPECT_EQ(token->text(), id + "." + secret + "." + hash);
  auto presented = parse_presented_token(id + "." + secret);
  ASSERT_TRUE(presented.ok());
  EXPECT_EQ(presented->secret, secret);

  const std::string secret_like = "5ec8e75ec8e75ec8e75ec8e75ec8e7";  // 30 digits: too short
  struct Case {
    std::string text;
    std::string names;
  };
  for (const Case& c : std::vector<Case>{
           {"", "form"},
           {id + "." + secret, "form"},
           {id + "." + secret + "." + hash + ".", "form"},
           {"0123ABCD." + secret + "." + hash, "id"},
           {"0123abc." + secret + "." + hash, "id"},
           {id + "." + secret_like + "." + hash, "secret"},
           {id + "." + std::string(31, 'f') + "g." + hash, "secret"},
           {id + "." + secret + "." + std::string(63, '9'), "ca-hash"},
           {id + ".." + hash, "secret"},
       }) {
    auto r = parse_enrollment_token(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code(), Errc::InvalidArgument);
    EXPECT_NE(r.error().message().find(c.names), std::string::npos) << r.error().message();
    EXPECT_EQ(r.error().message().find(secret_like), std::string::npos) << "secret echoed";
  }
  EXPECT_FALSE(parse_presented_token(id + "." + secret + "." + hash).ok());
  EXPECT_FALSE(parse_presented_token(id).ok());
  EXPECT_FALSE(parse_presented_token(id + "." + secret_like).ok());
}

class TokenStoreTest : public EnrollmentTest {
 protected:
  const std::string ca_hash_ = std::string(64, 'c');
  const SystemTime now_ = std::chrono::system_clock::now();
  PresentedToken presented(const EnrollmentToken& t) { return {t.id, t.secret}; }
};

TEST_F(TokenStoreTest, CreateListRevokeAndTheFileHoldsNoSecret) {
  TokenStore store(state());
  EXPECT_TRUE(store.list()->empty());
  auto token = store.create({600s, 2, "node-9"}, ca_hash_, now_);
  ASSERT_TRUE(token.ok()) << token.error().describe();
  EXPECT_TRUE(parse_enrollment_token(token->text()).ok());
  EXPECT_EQ(token->ca_hash, ca_hash_);
  auto records = store.list();
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].id, token->id);
  EXPECT_EQ((*records)[0].uses_left, 2u);
  EXPECT_EQ((*records)[0].device_id, std::optional<std::string>("node-9"));
  EXPECT_EQ((*records)[0].expires_unix - (*records)[0].created_unix, 600);
  auto text = *read_file(state().tokens());
  EXPECT_EQ(text.find(token->secret), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(state().tokens().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  EXPECT_TRUE(store.revoke(token->id).ok());
  EXPECT_TRUE((*store.list())[0].revoked);
  auto refused = store.consume(presented(*token), now_);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("revoked"), std::string::npos);
  auto missing = store.revoke("00000000");
  EXPECT_EQ(missing.error().code(), Errc::NotFound);
  EXPECT_NE(missing.error().message().find("00000000"), std::string::npos);

  EXPECT_EQ(store.create({600s, 0, {}}, ca_hash_, now_).error().code(), Errc::InvalidArgument);
  EXPECT_EQ(store.create({0s, 1, {}}, ca_hash_, now_).error().code(), Errc::InvalidArgument);
  EXPECT_EQ(store.create({600s, 1, "a b"}, ca_hash_, now_).error().code(), Errc::InvalidDeviceId);
  EXPECT_EQ(store.create({600s, 1, {}}, "short", now_).error().code(), Errc::InvalidArgument);
}

TEST_F(TokenStoreTest, ConsumeRefusesEachWayWithThePreciseReason) {
  TokenStore store(state());
  auto token = *store.create({600s, 1, {}}, ca_hash_, now_);
  auto reason = [&](const PresentedToken& p, SystemTime at) {
    auto r = store.consume(p, at);
    return r.ok() ? std::string("accepted") : r.error().message();
  };
  EXPECT_NE(reason({"00000000", token.secret}, now_).find("unknown id"), std::string::npos);
  // One flipped digit, first and last: the comparison must cover it all.
  for (std::size_t at : {std::size_t{0}, token.secret.size() - 1}) {
    auto wrong = token.secret;
    wrong[at] = wrong[at] == '0' ? '1' : '0';
    EXPECT_NE(reason({token.id, wrong}, now_).find("wrong secret"), std::string::npos);
  }
  EXPECT_NE(reason(presented(token), now_ + 601s).find("expired"), std::string::npos);
  EXPECT_EQ((*store.list())[0].uses_left, 1u) << "a refusal uses nothing";
  // The caller's own check (the device id) refuses without using the token up.
  auto declined = store.consume(presented(token), now_ + 1s, [](const TokenRecord&) -> Status {
    return Error(Errc::AlreadyExists, "device id 'x' is taken");
  });
  ASSERT_FALSE(declined.ok());
  EXPECT_NE(declined.error().message().find("device id 'x' is taken"), std::string::npos);
  EXPECT_EQ((*store.list())[0].uses_left, 1u) << "a declined token keeps its use";

  auto consumed = store.consume(presented(token), now_ + 1s);
  ASSERT_TRUE(consumed.ok()) << consumed.error().describe();
  EXPECT_EQ(consumed->uses_left, 0u);
  EXPECT_EQ((*store.list())[0].uses_left, 0u) << "written before returning";
  EXPECT_NE(reason(presented(token), now_ + 2s).find("used up"), std::string::npos);
  EXPECT_EQ(reason(presented(token), now_ + 2s).find(token.secret), std::string::npos);
}

TEST_F(TokenStoreTest, UnusableRecordsArePrunedAfterADay) {
  TokenStore store(state());
  auto old = *store.create({60s, 1, {}}, ca_hash_, now_);
  ASSERT_TRUE(store.consume(presented(old), now_).ok());
  auto live = *store.create({48h, 1, {}}, ca_hash_, now_ + 2h);
  EXPECT_EQ(store.list()->size(), 2u) << "kept within the day";
  ASSERT_TRUE(store.create({48h, 1, {}}, ca_hash_, now_ + 25h).ok());
  auto records = *store.list();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].id, live.id);
}

// The race the lock exists for: many threads present the same one-use
// token at once; exactly one may enroll.
TEST_F(TokenStoreTest, ConcurrentConsumersOfAOneUseTokenExactlyOneWins) {
  for (int round = 0; round < 5; ++round) {
    TokenStore store(state());
    auto token = *store.create({600s, 1, {}}, ca_hash_, now_);
    std::atomic<int> wins{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&] {
        while (!go) std::this_thread::yield();
        TokenStore own(state());  // each its own store, as two processes would be
        if (own.consume(presented(token), now_).ok()) ++wins;
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(wins.load(), 1) << "round " << round;
  }
}

TEST_F(TokenStoreTest, CorruptFilesAreOneLineErrorsNamingTheFile) {
  TokenStore store(state());
  ASSERT_TRUE(ensure_private_directory(state().root).ok());
  const std::string good_hash(64, 'a');
  for (
      const std::string& text : std::vector<std::string>{
          std::string("{not json"),
          std::string("[]"),
          std::string(R"({"tokens":{}})"),
          std::string(R"({"tokens":[1]})"),
          R"({"tokens":[{"id":1,"secret_sha256":")" + good_hash +
              R"(","created_unix":0,"expires_unix":1,"uses_left":1}]})",
          R"({"tokens":[{"id":"0123abcd","secret_sha256":"short","created_unix":0,"expires_unix":1,"uses_left":1}]})",
          R"({"tokens":[{"id":"0123abcd","secret_sha256":")" + good_hash +
              R"(","created_unix":"0","expires_unix":1,"uses_left":1}]})",
          R"({"tokens":[{"id":"0123abcd","secret_sha256":")" + good_hash +
              R"(","created_unix":0,"expires_unix":1,"uses_left":-1}]})",
          R"({"tokens":[{"id":"0123abcd","secret_sha256":")" + good_hash +
              R"(","created_unix":0,"expires_unix":1,"uses_left":1,"revoked":"no"}]})",
          R"({"tokens":[{"id":"0123abcd","secret_sha256":")" + good_hash +
              R"(","created_unix":0,"expires_unix":1,"uses_left":1,"device_id":"a b"}]})",
      }) {
    ASSERT_TRUE(write_file_atomically(state().tokens(), text, 0600).ok());
    auto listed = store.list();
    ASSERT_FALSE(listed.ok()) << text;
    EXPECT_EQ(listed.error().code(), Errc::IoFailed);
    EXPECT_NE(listed.error().message().find("tokens.json"), std::string::npos);
    EXPECT_EQ(listed.error().message().find('\n'), std::string::npos);
    EXPECT_FALSE(store.consume({"0123abcd", std::string(32, '0')}, now_).ok());
  }
}

TEST_F(EnrollmentTest, CorruptLedgerTypesAreAnErrorNotACrash) {
  ASSERT_TRUE(ensure_private_directory(state().root).ok());
  for (const char* text :
       {R"([{"fingerprint":"ab","sequence":"1"}])", R"([{"fingerprint":"ab","kind":7}])",
        R"([{"fingerprint":"ab","not_after_unix":1.5}])", R"([{"fingerprint":"ab","sequence":-1}])",
        R"([{"fingerprint":"ab","revoked_at_unix":"yesterday"}])", R"([{"fingerprint":2}])",
        R"([7])", R"({"a":1})"}) {
    ASSERT_TRUE(write_file_atomically(state().ledger(), text).ok());
    auto ledger = Ledger::load(state().ledger());
    ASSERT_FALSE(ledger.ok()) << text;
    EXPECT_EQ(ledger.error().code(), Errc::IoFailed);
    EXPECT_NE(ledger.error().message().find("ledger.json"), std::string::npos);
  }
}

TEST_F(EnrollmentTest, StoreIssuesForAKeyAndAnswersDeviceQuestions) {
  IdentityStore store(state());
  ASSERT_TRUE(store.create_ca("CA", false).ok());
  auto key = *PrivateKey::generate();
  auto request = *CertificateRequest::from_pem(*make_csr_pem(key, ""));
  const auto now = std::chrono::system_clock::now();
  EXPECT_FALSE(*store.device_in_use("n1", now));
  EXPECT_FALSE(*store.device_revoked("n1"));
  auto certificate = store.issue_device_for_key(request, "n1", 24h, now);
  ASSERT_TRUE(certificate.ok()) << certificate.error().describe();
  EXPECT_EQ(store.ledger()->entries().back().fingerprint, certificate->fingerprint());
  EXPECT_EQ(store.ledger()->entries().back().kind, "device");
  EXPECT_TRUE(*store.device_in_use("n1", now));
  EXPECT_FALSE(*store.device_in_use("n1", now + 25h)) << "expired";
  ASSERT_TRUE(store.revoke_device("n1").ok());
  EXPECT_FALSE(*store.device_in_use("n1", now));
  EXPECT_TRUE(*store.device_revoked("n1"));
  // A revoked device cannot renew, and nothing is recorded.
  const auto entries = store.ledger()->entries().size();
  auto renewal = store.issue_device_for_key(request, "n1", 24h, now, IdentityStore::Issue::Renewal);
  ASSERT_FALSE(renewal.ok());
  EXPECT_EQ(renewal.error().code(), Errc::DeviceRevoked);
  EXPECT_EQ(store.ledger()->entries().size(), entries);
  // A newer certificate after the revocation: the id is in use again.
  ASSERT_TRUE(store.issue_device_for_key(request, "n1", 24h, now).ok());
  EXPECT_FALSE(*store.device_revoked("n1"));
  EXPECT_EQ(*store.signing_ca_spki_sha256(), store.load_ca()->certificate().spki_sha256());
  EXPECT_EQ(*store.ca_bundle_pem(), store.load_ca()->certificate().pem());
}

TEST_F(EnrollmentTest, CaRotationOverlapsOldAndNewCa) {
  IdentityStore store(state());
  ASSERT_TRUE(store.create_ca("Old CA", false).ok());
  ASSERT_TRUE(store.issue_server({"gw.example", {"alt.example"}, {"127.0.0.1"}}).ok());
  auto old_ca = *store.load_ca();
  auto old_device = *store.issue_device("n1", 24h, std::nullopt);
  auto old_device_cert = *Certificate::from_pem_file(old_device.cert);
  auto bundle_names = [&] {
    std::vector<std::string> names;
    auto chain = Certificate::chain_from_pem(*store.ca_bundle_pem());
    EXPECT_TRUE(chain.ok());
    if (chain) {
      for (const auto& c : *chain) names.push_back(c.common_name());
    }
    return names;
  };
  EXPECT_EQ(*store.ca_rotation_stage(), CaRotationStage::None);

  auto introduced = store.rotate_ca("New CA", 24h);
  ASSERT_TRUE(introduced.ok()) << introduced.error().describe();
  EXPECT_EQ(introduced->now, CaRotationStage::Introduced);
  EXPECT_NE(introduced->next_step.find("(1d)"), std::string::npos) << introduced->next_step;
  EXPECT_EQ(*store.ca_rotation_stage(), CaRotationStage::Introduced);
  EXPECT_EQ(bundle_names(), (std::vector<std::string>{"Old CA", "New CA"}));
  EXPECT_EQ(store.load_ca()->certificate().common_name(), "Old CA") << "the old CA still signs";
  struct stat st {};
  ASSERT_EQ(::stat(state().next_ca_key().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(chains_to(old_device_cert, *store.ca_bundle_pem()));
  const auto server_before = *Certificate::from_pem_file(state().server_cert());

  auto promoted = store.rotate_ca("ignored", 24h);
  ASSERT_TRUE(promoted.ok()) << promoted.error().describe();
  EXPECT_EQ(promoted->now, CaRotationStage::Promoted);
  EXPECT_EQ(bundle_names(), (std::vector<std::string>{"New CA", "Old CA"}));
  auto new_ca = store.load_ca();
  ASSERT_TRUE(new_ca.ok()) << new_ca.error().describe();
  EXPECT_EQ(new_ca->certificate().common_name(), "New CA");
  EXPECT_FALSE(std::filesystem::exists(state().next_ca_cert()));
  EXPECT_FALSE(std::filesystem::exists(state().next_ca_key()));
  EXPECT_EQ(Certificate::from_pem_file(state().retired_ca_cert())->common_name(), "Old CA");
  auto server = *Certificate::chain_from_pem_file(state().server_chain());
  ASSERT_EQ(server.size(), 2u);
  EXPECT_EQ(server[1].common_name(), "New CA");
  EXPECT_NE(server[0].fingerprint(), server_before.fingerprint());
  EXPECT_EQ(server[0].dns_names(), server_before.dns_names());
  EXPECT_EQ(server[0].ip_addresses(), server_before.ip_addresses());
  EXPECT_EQ(*certificate_key_id(server[0]),
            PrivateKey::from_pem_file(state().server_key())->key_id());
  EXPECT_TRUE(chains_to(old_device_cert, *store.ca_bundle_pem()));
  auto new_device = *store.issue_device("n2", 24h, std::nullopt);
  EXPECT_TRUE(chains_to(*Certificate::from_pem_file(new_device.cert), *store.ca_bundle_pem()));
  auto kinds = std::vector<std::string>{};
  auto ledger = store.ledger();
  ASSERT_TRUE(ledger.ok());
  for (const auto& e : ledger->entries()) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"ca", "server", "device", "ca", "server", "device"}));

  auto done = store.rotate_ca("ignored", 24h);
  ASSERT_TRUE(done.ok()) << done.error().describe();
  EXPECT_EQ(done->now, CaRotationStage::None);
  EXPECT_EQ(bundle_names(), (std::vector<std::string>{"New CA"}));
  EXPECT_FALSE(std::filesystem::exists(state().retired_ca_cert()));
  EXPECT_FALSE(chains_to(old_device_cert, *store.ca_bundle_pem()));
  EXPECT_TRUE(chains_to(*Certificate::from_pem_file(new_device.cert), *store.ca_bundle_pem()));
  EXPECT_EQ(*store.ca_rotation_stage(), CaRotationStage::None);
}

TEST_F(EnrollmentTest, NodeIdentityIsReplacedThroughAnAtomicSymlink) {
  auto ca = *CertificateAuthority::create("CA");
  const auto node = state();
  auto store_once = [&](const std::string& id) {
    auto key = *PrivateKey::generate();
    auto request = *CertificateRequest::from_pem(*make_csr_pem(key, id));
    auto certificate = *ca.issue_device_for_key(request, id, 24h, std::chrono::system_clock::now());
    EXPECT_TRUE(store_device_identity(node, id, key, certificate, ca.certificate().pem()).ok());
    return std::pair{key, certificate};
  };
  // A plain directory from `palyra cert device` is replaced too.
  ASSERT_TRUE(ensure_private_directory(node.device_dir("n1")).ok());
  ASSERT_TRUE(write_file_atomically(node.device_cert("n1"), "old").ok());
  auto [key1, cert1] = store_once("n1");
  auto [key2, cert2] = store_once("n1");
  ASSERT_TRUE(std::filesystem::is_symlink(node.device_dir("n1")));
  EXPECT_EQ(std::filesystem::read_symlink(node.device_dir("n1")).string(),
            ".n1." + cert2.serial_hex());
  EXPECT_EQ(Certificate::from_pem_file(node.device_cert("n1"))->fingerprint(), cert2.fingerprint());
  EXPECT_EQ(PrivateKey::from_pem_file(node.device_key("n1"))->key_id(), key2.key_id());
  struct stat st {};
  ASSERT_EQ(::stat(node.device_key("n1").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*read_file(node.ca_cert()), ca.certificate().pem());
  // Only the current generation is left; another device whose id extends
  // this one's keeps its own.
  store_once("n1.ff");
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(node.devices_dir())) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names.size(), 4u);
  EXPECT_EQ(std::count_if(names.begin(), names.end(),
                          [](const std::string& n) { return is_hidden_device_entry(n); }),
            2);

  auto stranger = *PrivateKey::generate();
  EXPECT_EQ(
      store_device_identity(node, "n1", stranger, cert2, ca.certificate().pem()).error().code(),
      Errc::KeyCertificateMismatch);
  EXPECT_EQ(store_device_identity(node, "n2", key2, cert2, ca.certificate().pem()).error().code(),
            Errc::InvalidArgument);
  IdentityStore ca_state(StateDir{dir_ / "ca-state"});
  ASSERT_TRUE(ca_state.create_ca("CA", false).ok());
  auto refused = store_device_identity(ca_state.dir(), "n1", key2, cert2, ca.certificate().pem());
  EXPECT_EQ(refused.error().code(), Errc::InvalidArgument);
}

TEST_F(EnrollmentTest, StateLockExcludesASecondHolder) {
  auto first = StateLock::acquire(state());
  ASSERT_TRUE(first.ok());
  struct stat st {};
  ASSERT_EQ(::stat(state().lock_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::atomic<bool> acquired{false};
  std::thread other([&] {
    auto second = StateLock::acquire(state());
    acquired = second.ok();
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(acquired.load());
  { auto release = std::move(*first); }
  other.join();
  EXPECT_TRUE(acquired.load());
}

}  // namespace
}  // namespace palyra::identity
