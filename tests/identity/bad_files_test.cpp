// Every file palyra and palyrad read, made bad: each gives one line naming
// the file and what is wrong, and a plain failure exit, never an abort
// (nlohmann's get() and value() throw on a wrong type; an uncaught throw is
// std::terminate, exit 134).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../common/process.hpp"
#include "../common/temp_dir.hpp"

namespace {

using palyra::testing::CommandResult;

// The path as errors quote it. Appended, not "'" + path.string(): gcc 12 at
// -O3 warns a false -Wrestrict in operator+(const char*, std::string&&)
// (GCC bug 105329).
std::string quoted(const std::filesystem::path& path) {
  std::string out = "'";
  out += path.string();
  out += '\'';
  return out;
}

class BadFilesTest : public palyra::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    state_ = dir_ / "state";
    auto init = palyra({"init"});
    ASSERT_EQ(init.status, 0) << init.err;
  }

  CommandResult palyra(std::vector<std::string> args) {
    args.insert(args.begin(), PALYRA_CLI);
    args.insert(args.end(), {"--state-dir", state_.string()});
    return palyra::testing::run_command(std::move(args), dir_);
  }

  void put(const std::filesystem::path& path, const std::string& contents) {
    std::ofstream(path, std::ios::trunc | std::ios::binary) << contents;
  }

  // One line on stderr holding every piece of `says`, exit 1.
  static void expect_one_line(const CommandResult& run, const std::vector<std::string>& says) {
    EXPECT_EQ(run.status, 1) << run.err;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
    for (const auto& piece : says) EXPECT_NE(run.err.find(piece), std::string::npos) << run.err;
  }

  std::filesystem::path state_;
};

TEST_F(BadFilesTest, Ledger) {
  put(state_ / "ledger.json", R"([{"fingerprint":"ab","sequence":"1"}])");
  expect_one_line(palyra({"cert", "list"}), {"ledger.json", "'sequence' is not an integer"});
  expect_one_line(palyra({"cert", "list", "--json"}), {"ledger.json", "sequence"});
  expect_one_line(palyra({"cert", "revoke", "--device", "node-1"}), {"ledger.json", "sequence"});
  // A time no clock holds would overflow when listed.
  put(state_ / "ledger.json", R"([{"fingerprint":"ab","not_after_unix":253402300799}])");
  expect_one_line(palyra({"cert", "list"}), {"ledger.json", "not_after_unix"});
  put(state_ / "ledger.json", "[{]");
  expect_one_line(palyra({"cert", "list"}), {"ledger.json", "not a JSON array"});
  // nlohmann stops at a NUL byte: what follows it must not be dropped unseen.
  put(state_ / "ledger.json", std::string("[]\0[{\"fingerprint\":\"ab\"}]", 25));
  expect_one_line(palyra({"cert", "list"}), {"ledger.json", "NUL byte at offset 2"});
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

TEST_F(BadFilesTest, KeysAndCertificates) {
  put(dir_ / "garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
  expect_one_line(palyra({"cert", "fingerprint", (dir_ / "garbage.pem").string()}),
                  {"garbage.pem"});
  expect_one_line(palyra({"cert", "revoke", "--cert", (dir_ / "garbage.pem").string()}),
                  {"garbage.pem"});
  put(state_ / "ca" / "ca.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  expect_one_line(palyra({"cert", "device", "node-2"}), {"ca.key"});
  EXPECT_FALSE(std::filesystem::exists(state_ / "devices" / "node-2"));
  put(state_ / "ca" / "ca.pem", "");
  expect_one_line(palyra({"cert", "device", "node-3"}), {"ca.pem"});
}

TEST_F(BadFilesTest, Tokens) {
  put(state_ / "tokens.json", R"({"tokens":[{"id":1}]})");
  expect_one_line(palyra({"token", "list"}), {"tokens.json"});
  put(state_ / "tokens.json", std::string("{\"tokens\":[]}\0garbage", 21));
  expect_one_line(palyra({"token", "list"}), {"tokens.json"});
}

// The cursor is read before anything is sent: no daemon is needed.
TEST_F(BadFilesTest, EventsCursor) {
  put(dir_ / "cursor", "seven\n");
  expect_one_line(palyra({"events", "--cursor", (dir_ / "cursor").string()}),
                  {quoted(dir_ / "cursor"), "does not hold a sequence number"});
  put(dir_ / "cursor", "99999999999999999999999\n");
  expect_one_line(palyra({"events", "--cursor", (dir_ / "cursor").string()}), {"cursor"});
  std::filesystem::create_directory(dir_ / "cursor.d");
  expect_one_line(palyra({"events", "--cursor", (dir_ / "cursor.d").string()}),
                  {"cursor file", quoted(dir_ / "cursor.d")});
  // std::filesystem::exists() throws on a loop (ELOOP) rather than say no.
  std::filesystem::create_symlink(dir_ / "loop", dir_ / "loop");
  expect_one_line(palyra({"events", "--cursor", (dir_ / "loop").string()}),
                  {"cursor file", quoted(dir_ / "loop")});
}

// The daemon refuses a bad configuration file in one line, exit 2.
TEST_F(BadFilesTest, DaemonConfiguration) {
  put(dir_ / "palyrad.toml", "[gateway]\nquic_port = \"7444\"\n");
  auto run = palyra::testing::run_command(
      {PALYRAD, "--config", (dir_ / "palyrad.toml").string(), "--state-dir", state_.string()},
      dir_);
  EXPECT_EQ(run.status, 2) << run.err;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
  EXPECT_NE(run.err.find("palyrad.toml:2"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("gateway.quic_port"), std::string::npos) << run.err;
}

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
