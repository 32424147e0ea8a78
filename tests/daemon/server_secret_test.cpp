// The daemon's QUIC secret in its state directory: made once, kept across
// starts, refused when it could have leaked or is not a secret of ours.
#include "../../src/daemon/server_secret.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "../common/temp_dir.hpp"
#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/state_dir.hpp"

namespace palyra::daemon {
namespace {

using ::testing::HasSubstr;

class ServerSecretTest : public palyra::testing::TempDirTest {
 protected:
  std::filesystem::path path() const { return identity::StateDir{dir_ / "state"}.server_secret(); }
};

TEST_F(ServerSecretTest, CreatedPrivateOnFirstStartAndKeptAfterwards) {
  auto created = load_or_create_server_secret(path());
  ASSERT_TRUE(created.ok()) << created.error().describe();
  struct stat st {};
  ASSERT_EQ(::stat(path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  auto again = load_or_create_server_secret(path());
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(*again, *created);
}

TEST_F(ServerSecretTest, RefusedWhenOpenToOthers) {
  ASSERT_TRUE(load_or_create_server_secret(path()).ok());
  ASSERT_EQ(::chmod(path().c_str(), 0644), 0);
  auto refused = load_or_create_server_secret(path());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Errc::ConfigInvalid);
  EXPECT_THAT(refused.error().message(), HasSubstr("mode 0644"));
  EXPECT_THAT(refused.error().message(), HasSubstr(path().string()));
}

TEST_F(ServerSecretTest, RefusedWhenOfAnotherSize) {
  std::filesystem::create_directories(path().parent_path());
  ASSERT_TRUE(write_file_atomically(path(), "short", 0600).ok());
  auto refused = load_or_create_server_secret(path());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Errc::ConfigInvalid);
  EXPECT_THAT(refused.error().message(), HasSubstr("5 bytes instead of 32"));
}

TEST_F(ServerSecretTest, RefusedWhenUnreadable) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  ASSERT_TRUE(load_or_create_server_secret(path()).ok());
  ASSERT_EQ(::chmod(path().c_str(), 0000), 0);
  auto refused = load_or_create_server_secret(path());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Errc::IoFailed);
}

}  // namespace
}  // namespace palyra::daemon
