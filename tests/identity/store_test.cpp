// The state directory's operations: keys written privately, every issue
// recorded in the ledger, and what enrollment asks about devices.
#include "palyra/identity/store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "identity_fixture.hpp"
#include "palyra/identity/csr.hpp"

namespace palyra::identity {
namespace {

using namespace std::chrono_literals;

class StoreTest : public palyra::testing::IdentityDirTest {};

TEST_F(StoreTest, StoreWritesKeysPrivatelyAndRecordsTheLedger) {
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

TEST_F(StoreTest, StoreIssuesForAKeyAndAnswersDeviceQuestions) {
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

}  // namespace
}  // namespace palyra::identity
