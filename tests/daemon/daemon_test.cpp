// What the daemon reads from the state directory when it starts: a bad file
// stops it, in one log line naming the file.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "../common/bad_files.hpp"

namespace palyra::daemon {
namespace {

using palyra::testing::BadFilesTest;

// The daemon refuses to start on a bad state file, in one log line naming it.
TEST_F(BadFilesTest, DaemonStateFiles) {
  auto start = [&] {
    return palyra::testing::run_command(
        {PALYRAD, "--state-dir", state_.string(), "--quic-port", "0", "--grpc-enabled", "false"},
        dir_);
  };
  put(state_ / "revoked.txt", "zz\n");
  auto revoked = start();
  EXPECT_EQ(revoked.status, 1) << revoked.err;
  EXPECT_EQ(std::count(revoked.err.begin(), revoked.err.end(), '\n'), 1) << revoked.err;
  EXPECT_NE(revoked.err.find("revoked.txt:1"), std::string::npos) << revoked.err;
  std::filesystem::remove(state_ / "revoked.txt");

  // std::filesystem::exists() throws on a loop (ELOOP) rather than say no.
  std::filesystem::rename(state_ / "ca" / "ca.pem", dir_ / "ca.pem");
  std::filesystem::create_symlink(state_ / "ca" / "ca.pem", state_ / "ca" / "ca.pem");
  auto loop = start();
  EXPECT_EQ(loop.status, 1) << loop.err;
  EXPECT_EQ(std::count(loop.err.begin(), loop.err.end(), '\n'), 1) << loop.err;
  EXPECT_NE(loop.err.find("ca.pem"), std::string::npos) << loop.err;
  std::filesystem::remove(state_ / "ca" / "ca.pem");
  std::filesystem::rename(dir_ / "ca.pem", state_ / "ca" / "ca.pem");

  put(state_ / "server" / "server.key", "garbage");
  auto key = start();
  EXPECT_EQ(key.status, 1) << key.err;
  EXPECT_EQ(std::count(key.err.begin(), key.err.end(), '\n'), 1) << key.err;
  EXPECT_NE(key.err.find("server.key"), std::string::npos) << key.err;
}

}  // namespace
}  // namespace palyra::daemon
