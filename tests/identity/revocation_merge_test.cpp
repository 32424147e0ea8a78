// Revocations merged from the cluster: in memory beside the file's, kept
// across reloads, never written to revoked.txt, and reported once.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "identity_fixture.hpp"
#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/revocation.hpp"

namespace palyra::identity {
namespace {

class RevocationMergeTest : public palyra::testing::IdentityDirTest {
 protected:
  std::filesystem::path file() const { return dir_ / "revoked.txt"; }
  const std::string a_ = std::string(64, 'a');
  const std::string b_ = std::string(64, 'b');
};

TEST_F(RevocationMergeTest, MergedFingerprintsAreRefusedAndReportedOnlyWhenNew) {
  auto index = *RevocationIndex::load(file());
  auto added = index->merge({a_, "BB" + std::string(62, 'b')});  // normalized: b_
  ASSERT_TRUE(added.ok()) << added.error().describe();
  EXPECT_EQ(*added, (std::vector<std::string>{a_, b_}));
  EXPECT_TRUE(index->is_revoked(a_));
  EXPECT_TRUE(index->is_revoked(b_));
  EXPECT_TRUE(index->merge({a_})->empty()) << "a fingerprint already held is not new";
  EXPECT_FALSE(std::filesystem::exists(file())) << "a merge writes nothing";
}

TEST_F(RevocationMergeTest, AReloadKeepsTheMergedOnesBesideTheFilesOwn) {
  auto index = *RevocationIndex::load(file());
  ASSERT_TRUE(index->merge({a_}).ok());
  ASSERT_TRUE(write_file_atomically(file(), b_ + "\n", 0644).ok());
  auto added = index->reload();
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(*added, std::vector<std::string>{b_}) << "only the file's new one is new";
  EXPECT_TRUE(index->is_revoked(a_)) << "the reload forgot a merged revocation";
  EXPECT_TRUE(index->is_revoked(b_));
  auto all = index->fingerprints();
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<std::string>{a_, b_}));
}

TEST_F(RevocationMergeTest, AMalformedFingerprintMergesNothing) {
  auto index = *RevocationIndex::load(file());
  auto refused = index->merge({a_, "not-a-fingerprint"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Errc::InvalidArgument);
  EXPECT_FALSE(index->is_revoked(a_));
}

}  // namespace
}  // namespace palyra::identity
