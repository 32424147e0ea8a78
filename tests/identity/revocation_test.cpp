// The revocation index (revoked.txt): revoking through the store, what a
// reload reports, and errors that name the line and stay one short line.
#include "palyra/identity/revocation.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "../common/bad_files.hpp"
#include "identity_fixture.hpp"
#include "palyra/identity/store.hpp"

namespace palyra::identity {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using palyra::testing::BadFilesTest;

class RevocationTest : public palyra::testing::IdentityDirTest {};

TEST_F(RevocationTest, RevocationThroughTheStoreAndReloadReportsNewOnes) {
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

TEST_F(RevocationTest, RevocationFileErrorsNameTheLine) {
  auto file = put("revoked.txt", "# comment\n" + std::string(64, 'a') + "\nnot-a-fingerprint\n");
  auto index = RevocationIndex::load(file);
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.error().message().find("revoked.txt:3"), std::string::npos)
      << index.error().describe();
}

// A line quoted in the error cannot break it: control bytes are escaped and
// a long line is cut. A bad file is IoFailed (exit 1), not a usage error.
TEST_F(RevocationTest, RevocationFileErrorsStayOneShortLine) {
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

TEST_F(BadFilesTest, RevocationList) {
  put(state_ / "revoked.txt", "# revoked\n" + std::string(64, 'a') + "\nnot-a-fingerprint\n");
  expect_one_line(palyra({"cert", "revoke", "--device", "node-1"}),
                  {"revoked.txt:3", "'not-a-fingerprint'"});
  // The ledger is left as it was: nothing is marked revoked.
  auto list = palyra({"cert", "list"});
  ASSERT_EQ(list.status, 0) << list.err;
  EXPECT_EQ(list.out.find("revoked"), std::string::npos) << list.out;
}

}  // namespace
}  // namespace palyra::identity
