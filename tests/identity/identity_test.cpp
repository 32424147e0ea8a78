// The identity library, checked against itself and against external
// oracles: openssl and certtool must accept what we issue.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "../common/temp_dir.hpp"
#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/ca.hpp"
#include "palyra/identity/fingerprint.hpp"
#include "palyra/identity/ledger.hpp"
#include "palyra/identity/revocation.hpp"
#include "palyra/identity/store.hpp"

namespace palyra::identity {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;

struct CommandResult {
  int status;
  std::string output;
};

CommandResult run(const std::string& command) {
  std::array<char, 4096> buffer{};
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, {}};
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  int status = pclose(pipe);
  return {WEXITSTATUS(status), output};
}

class IdentityTest : public palyra::testing::TempDirTest {
 protected:
  std::filesystem::path put(const std::string& name, const std::string& contents) {
    auto path = dir_ / name;
    std::ofstream(path) << contents;
    return path;
  }
};

TEST_F(IdentityTest, FingerprintIsSha256OfDerAsOpensslComputesIt) {
  auto ca = CertificateAuthority::create("Fingerprint CA");
  ASSERT_TRUE(ca.ok()) << ca.error().describe();
  auto pem = put("ca.pem", ca->certificate().pem());
  auto oracle = run("openssl x509 -in " + pem.string() + " -outform DER | sha256sum");
  ASSERT_EQ(oracle.status, 0);
  EXPECT_EQ(oracle.output.substr(0, 64), ca->certificate().fingerprint());
}

TEST_F(IdentityTest, NormalizeFingerprint) {
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

TEST_F(IdentityTest, CaHasTheRequiredExtensions) {
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

TEST_F(IdentityTest, ServerCertificateSansEkuAndOracles) {
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

TEST_F(IdentityTest, DeviceCertificateSubjectEkuAndOracles) {
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

TEST_F(IdentityTest, OpensslRejectsACertificateFromAnotherCa) {
  auto ca = CertificateAuthority::create("CA one");
  auto other = CertificateAuthority::create("CA two");
  ASSERT_TRUE(ca.ok() && other.ok());
  auto device = other->issue_device("stranger");
  ASSERT_TRUE(device.ok());
  auto ca_pem = put("ca.pem", ca->certificate().pem());
  auto pem = put("device.pem", device->certificate.pem());
  EXPECT_NE(run("openssl verify -CAfile " + ca_pem.string() + " " + pem.string()).status, 0);
}

// RFC 5915: the P-256 private scalar is exactly 32 bytes. GnuTLS alone
// writes 33 when the top bit is set, which rustls refuses; over 16 keys a
// regression shows with probability 1 - 2^-16.
TEST_F(IdentityTest, PrivateKeysUseTheFixedWidthScalarRustlsRequires) {
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

TEST_F(IdentityTest, SerialsAreUnique) {
  auto ca = CertificateAuthority::create("Serial CA");
  ASSERT_TRUE(ca.ok());
  std::set<std::string> serials;
  for (int i = 0; i < 20; ++i)
    serials.insert(ca->issue_device(fmt::format("d{}", i))->certificate.serial_hex());
  EXPECT_EQ(serials.size(), 20u);
}

TEST_F(IdentityTest, InvalidDeviceIds) {
  EXPECT_TRUE(validate_device_id("a").ok());
  EXPECT_TRUE(validate_device_id(std::string(64, 'x')).ok());
  EXPECT_EQ(validate_device_id("").error().code(), Errc::InvalidDeviceId);
  EXPECT_EQ(validate_device_id(std::string(65, 'x')).error().code(), Errc::InvalidDeviceId);
  EXPECT_EQ(validate_device_id("a b").error().code(), Errc::InvalidDeviceId);
  EXPECT_EQ(validate_device_id("a/b").error().code(), Errc::InvalidDeviceId);
  auto ca = CertificateAuthority::create("CA");
  EXPECT_EQ(ca->issue_device("no,commas").error().code(), Errc::InvalidDeviceId);
}

TEST_F(IdentityTest, Durations) {
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

TEST_F(IdentityTest, LoadingErrorsNameTheFileAndNeverTheKey) {
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

TEST_F(IdentityTest, CaLoadChecksThatKeyAndCertificateMatch) {
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

TEST_F(IdentityTest, StoreWritesKeysPrivatelyAndRecordsTheLedger) {
  IdentityStore store(StateDir{dir_ / "state"});
  ASSERT_TRUE(store.create_ca("Store CA", false).ok());
  EXPECT_EQ(store.create_ca("Again", false).error().code(), Errc::AlreadyExists);
  ASSERT_TRUE(store.issue_server({"localhost", {}, {"127.0.0.1"}}).ok());
  auto device = store.issue_device("node-1", 24h, std::nullopt);
  ASSERT_TRUE(device.ok());
  for (const auto& key : {store.dir().ca_key(), store.dir().server_key(), device->key}) {
    struct stat st {};
    ASSERT_EQ(::stat(key.c_str(), &st), 0) << key;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << key;
  }
  auto ledger = store.ledger();
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->entries().size(), 3u);
  EXPECT_EQ(ledger->entries()[2].kind, "device");
  EXPECT_EQ(ledger->entries()[2].device_id, "node-1");
  EXPECT_EQ(ledger->entries()[2].sequence, 3u);
  EXPECT_EQ(ledger->entries()[2].fingerprint, device->fingerprint);
  // No temporary files are left behind by the atomic writes.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  }
}

TEST_F(IdentityTest, RevocationThroughTheStoreAndReloadReportsNewOnes) {
  IdentityStore store(StateDir{dir_ / "state"});
  ASSERT_TRUE(store.create_ca("CA", false).ok());
  auto a = store.issue_device("a", 24h, std::nullopt);
  auto b = store.issue_device("b", 24h, std::nullopt);
  auto index = RevocationIndex::load(store.dir().revocations());
  ASSERT_TRUE(index.ok());
  EXPECT_EQ((*index)->size(), 0u);

  auto revoked = store.revoke_device("a");
  ASSERT_TRUE(revoked.ok());
  auto added = (*index)->reload();
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(*added, std::vector<std::string>{a->fingerprint});
  EXPECT_TRUE((*index)->is_revoked(a->fingerprint));
  EXPECT_FALSE((*index)->is_revoked(b->fingerprint));
  EXPECT_TRUE((*index)->reload()->empty());  // nothing new the second time
  EXPECT_TRUE(store.ledger()->entries()[1].revoked_at_unix.has_value());

  EXPECT_EQ(store.revoke_fingerprints({std::string(64, 'e')}).error().code(),
            Errc::UnknownFingerprint);
  EXPECT_EQ(store.revoke_device("a").error().code(), Errc::UnknownFingerprint);  // nothing left
}

TEST_F(IdentityTest, RevocationFileErrorsNameTheLine) {
  auto file = put("revoked.txt", "# comment\n" + std::string(64, 'a') + "\nnot-a-fingerprint\n");
  auto index = RevocationIndex::load(file);
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.error().message().find("revoked.txt:3"), std::string::npos)
      << index.error().describe();
}

// A line quoted in the error cannot break it: control bytes are escaped and
// a long line is cut. A bad file is IoFailed (exit 1), not a usage error.
TEST_F(IdentityTest, RevocationFileErrorsStayOneShortLine) {
  auto control = RevocationIndex::load(put("revoked.txt", "ab\rcd\x1b[2J\0ef\n"s));
  ASSERT_FALSE(control.ok());
  EXPECT_EQ(control.error().code(), Errc::IoFailed);
  const std::string& message = control.error().message();
  EXPECT_NE(message.find("revoked.txt:1: 'ab\\x0dcd\\x1b[2J\\x00ef'"), std::string::npos)
      << message;
  EXPECT_EQ(message.find_first_of(std::string("\r\n\x1b\0", 4)), std::string::npos) << message;

  auto long_line = RevocationIndex::load(put("revoked.txt", std::string(100000, 'g') + "\n"));
  ASSERT_FALSE(long_line.ok());
  EXPECT_LT(long_line.error().message().size(), 300u);
  EXPECT_NE(long_line.error().message().find("'..."), std::string::npos);
}

TEST_F(IdentityTest, LedgerTimesBeyondTheClockAreAnErrorNamingTheField) {
  const std::string fp(64, 'a');
  auto entry = [&](const std::string& field, const std::string& value) {
    return R"([{"fingerprint":")" + fp + R"(",")" + field + R"(":)" + value + "}]";
  };
  for (const char* field : {"not_before_unix", "not_after_unix", "revoked_at_unix"}) {
    for (const char* value :
         {"253402300799", "-253402300799", "18446744073709551615", "1.5", "\"1\""}) {
      auto ledger = Ledger::parse(entry(field, value), dir_ / "ledger.json");
      ASSERT_FALSE(ledger.ok()) << field << " " << value;
      EXPECT_EQ(ledger.error().code(), Errc::IoFailed);
      EXPECT_NE(ledger.error().message().find("ledger.json"), std::string::npos);
      EXPECT_NE(ledger.error().message().find(field), std::string::npos)
          << ledger.error().message();
    }
    // The last second a SystemTime holds (2262) is still a time.
    auto edge = Ledger::parse(entry(field, "9223372036"), dir_ / "ledger.json");
    ASSERT_TRUE(edge.ok()) << edge.error().describe();
  }
}

// RFC 5280's "no well-defined expiration", 99991231235959Z, is past what a
// SystemTime holds: the certificate still expires in the far future, not in
// 1817 as an overflowed from_time_t made it.
TEST_F(IdentityTest, ACertificateThatNeverExpiresExpiresInTheFarFuture) {
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

TEST_F(IdentityTest, AtomicWriteReplacesWithTheRequestedMode) {
  auto path = dir_ / "secret.key";
  ASSERT_TRUE(write_file_atomically(path, "one", 0600).ok());
  ASSERT_TRUE(write_file_atomically(path, "two", 0600).ok());
  EXPECT_EQ(*read_file(path), "two");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(write_file_atomically(dir_ / "no" / "dir" / "f", "x").error().code(), Errc::NotFound);
}

}  // namespace
}  // namespace palyra::identity
