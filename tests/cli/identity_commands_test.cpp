// The palyra binary's identity commands: exit codes, one-line errors, and
// nothing half-written on bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../common/temp_dir.hpp"

namespace {

struct CliRun {
  int status;
  std::string out;
  std::string err;
};

class IdentityCommandsTest : public palyra::testing::TempDirTest {
 protected:
  CliRun palyra(const std::string& args) {
    std::string err_file = (dir_ / "stderr").string();
    std::string command = std::string(PALYRA_CLI) + " " + args + " --state-dir " +
                          (dir_ / "state").string() + " 2>" + err_file;
    FILE* pipe = popen(command.c_str(), "r");
    std::string out;
    std::array<char, 4096> buffer{};
    while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
    int status = WEXITSTATUS(pclose(pipe));
    std::string err;
    if (FILE* f = fopen(err_file.c_str(), "r")) {
      while (fgets(buffer.data(), buffer.size(), f) != nullptr) err += buffer.data();
      fclose(f);
    }
    return {status, out, err};
  }
};

int lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

TEST_F(IdentityCommandsTest, InitCreatesAReadyStateDirectoryAndRefusesToOverwrite) {
  auto first = palyra("init");
  ASSERT_EQ(first.status, 0) << first.err;
  auto state = dir_ / "state";
  for (const char* f : {"ca/ca.pem", "ca/ca.key", "server/server.pem", "server/server-chain.pem",
                        "server/server.key", "devices/node-1/device.pem", "ledger.json"}) {
    EXPECT_TRUE(std::filesystem::exists(state / f)) << f;
  }
  auto ca_before = std::filesystem::last_write_time(state / "ca/ca.pem");
  auto second = palyra("init");
  EXPECT_EQ(second.status, 1);
  EXPECT_EQ(lines(second.err), 1) << second.err;
  EXPECT_NE(second.err.find("--force"), std::string::npos);
  EXPECT_EQ(std::filesystem::last_write_time(state / "ca/ca.pem"), ca_before);
  EXPECT_EQ(palyra("init --force").status, 0);
}

// What `openssl x509 -text` says a certificate's key is.
std::string key_of(const std::filesystem::path& certificate) {
  std::string command = "openssl x509 -noout -text -in " + certificate.string();
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  std::array<char, 4096> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  pclose(pipe);
  if (out.find("Public Key Algorithm: ED25519") != std::string::npos) return "ed25519";
  if (out.find("ASN1 OID: prime256v1") != std::string::npos) return "p256";
  return out;
}

TEST_F(IdentityCommandsTest, KeyTypeChoosesTheKeysAndLeavesFollowTheCa) {
  auto refused = palyra("init --key-type rsa");
  EXPECT_EQ(refused.status, 2);
  EXPECT_EQ(refused.err,
            "palyra: error: InvalidArgument: key type 'rsa' is not supported: use p256 or "
            "ed25519\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "state/ca/ca.pem")) << "nothing written";

  auto state = dir_ / "state";
  ASSERT_EQ(palyra("init --key-type ed25519").status, 0);
  for (const char* f : {"ca/ca.pem", "server/server.pem", "devices/node-1/device.pem"}) {
    EXPECT_EQ(key_of(state / f), "ed25519") << f;
  }
  ASSERT_EQ(palyra("cert device follows").status, 0);
  EXPECT_EQ(key_of(state / "devices/follows/device.pem"), "ed25519");
  ASSERT_EQ(palyra("cert device other --key-type p256").status, 0);
  EXPECT_EQ(key_of(state / "devices/other/device.pem"), "p256");
  ASSERT_EQ(palyra("cert server --name gw --key-type P256").status, 0);
  EXPECT_EQ(key_of(state / "server/server.pem"), "p256");

  ASSERT_EQ(palyra("ca init --name New --force").status, 0);
  EXPECT_EQ(key_of(state / "ca/ca.pem"), "p256") << "the default stays P-256";
  ASSERT_EQ(palyra("ca init --name New --force --key-type ed25519").status, 0);
  EXPECT_EQ(key_of(state / "ca/ca.pem"), "ed25519");
}

TEST_F(IdentityCommandsTest, DeviceRevokeListAndFingerprint) {
  ASSERT_EQ(palyra("init").status, 0);
  auto device = palyra("cert device edge-42 --valid-for 2h");
  ASSERT_EQ(device.status, 0) << device.err;
  auto cert = dir_ / "state/devices/edge-42/device.pem";
  auto fingerprint = palyra("cert fingerprint " + cert.string());
  ASSERT_EQ(fingerprint.status, 0);
  ASSERT_EQ(fingerprint.out.size(), 65u) << fingerprint.out;  // the hex SHA-256 and a newline
  std::string fp = fingerprint.out.substr(0, 64);
  EXPECT_NE(device.out.find(fp), std::string::npos);

  auto revoke = palyra("cert revoke --cert " + cert.string());
  ASSERT_EQ(revoke.status, 0) << revoke.err;
  EXPECT_EQ(revoke.out.rfind("revoked " + fp + " (", 0), 0u) << revoke.out;
  EXPECT_EQ(lines(revoke.out), 1) << revoke.out;
  auto list = palyra("cert list --json");
  ASSERT_EQ(list.status, 0);
  auto json = nlohmann::json::parse(list.out);
  ASSERT_EQ(json.size(), 4u);
  EXPECT_EQ(json[3]["device_id"], "edge-42");
  EXPECT_EQ(json[3]["status"], "revoked");
  EXPECT_EQ(json[2]["status"], "valid");
  // The table's row for that certificate (it ends with the fingerprint) says revoked.
  auto table = palyra("cert list");
  ASSERT_EQ(table.status, 0) << table.err;
  auto row_end = table.out.find(fp + "\n");
  ASSERT_NE(row_end, std::string::npos) << table.out;
  const auto row_start = table.out.rfind('\n', row_end) + 1;  // npos + 1 == 0: the first line
  const std::string row = table.out.substr(row_start, row_end - row_start);
  EXPECT_NE(row.find(" revoked "), std::string::npos) << row;
  EXPECT_NE(row.find("edge-42"), std::string::npos) << row;
}

TEST_F(IdentityCommandsTest, BadInputGetsOneLineAndANonZeroExit) {
  ASSERT_EQ(palyra("init").status, 0);
  struct Case {
    std::string args;
    int status;
    std::string says;
  } cases[] = {
      {"cert device 'bad id'", 2, "InvalidDeviceId"},
      {"cert device ok --valid-for soon", 2, "InvalidDuration"},
      {"cert revoke --fingerprint " + std::string(64, 'c'), 1, "UnknownFingerprint"},
      {"cert revoke --fingerprint xyz", 2, "InvalidArgument"},
      {"cert fingerprint /nonexistent.pem", 1, "NotFound"},
      {"cert server --name x --ip 999.1.1.1", 2, "999.1.1.1"},
      {"cert device ok --key-type rsa", 2, "key type 'rsa' is not supported: use p256 or ed25519"},
      {"cert server --name x --key-type p384", 2, "key type 'p384' is not supported"},
      {"ca rotate --key-type rsa", 2, "key type 'rsa' is not supported"},
  };
  for (const auto& c : cases) {
    auto run = palyra(c.args);
    EXPECT_EQ(run.status, c.status) << c.args << ": " << run.err;
    EXPECT_EQ(lines(run.err), 1) << c.args << ": " << run.err;
    EXPECT_NE(run.err.find(c.says), std::string::npos) << c.args << ": " << run.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "state/devices/ok"));
}

TEST_F(IdentityCommandsTest, CommandsWithoutACaSayToRunInit) {
  auto run = palyra("cert device node-2");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.err.find("palyra init"), std::string::npos) << run.err;
}

// Each command's help says what it does, shows its own usage line and
// names every option it takes.
TEST_F(IdentityCommandsTest, HelpExplainsEveryCommand) {
  struct Case {
    std::string command;
    std::string does;
    std::vector<std::string> options;
  } cases[] = {
      {"init",
       "Create a state directory ready for palyrad",
       {"--name", "--device-id", "--force", "--key-type"}},
      {"ca init",
       "Create the gateway CA (10 years; ECDSA P-256, or Ed25519 with --key-type ed25519)",
       {"--name TEXT REQUIRED", "--force", "--key-type"}},
      {"ca rotate", "Replace the gateway CA", {"--name", "--device-validity", "--key-type"}},
      {"cert server",
       "Issue the daemon's certificate",
       {"--name TEXT REQUIRED", "--dns", "--ip", "--valid-for", "--key-type"}},
      {"cert device",
       "Issue a device (client) certificate",
       {"device_id TEXT REQUIRED", "--valid-for", "--out", "--key-type"}},
      {"cert revoke", "Revoke certificates", {"--cert", "--fingerprint", "--device"}},
      {"cert list", "List every certificate the CA issued, with its status", {"--json"}},
      {"cert fingerprint", "Print a certificate's SHA-256 fingerprint", {"file TEXT REQUIRED"}},
  };
  for (const auto& c : cases) {
    auto run = palyra(c.command + " --help");
    EXPECT_EQ(run.status, 0) << c.command << ": " << run.err;
    EXPECT_EQ(run.err, "") << c.command;
    EXPECT_EQ(run.out.rfind(c.does, 0), 0u) << c.command << ":\n" << run.out;
    EXPECT_NE(run.out.find("palyra " + c.command + " [OPTIONS]"), std::string::npos)
        << c.command << ":\n"
        << run.out;
    for (const auto& option : c.options) {
      EXPECT_NE(run.out.find(option), std::string::npos) << c.command << " lacks " << option;
    }
    EXPECT_NE(run.out.find("--state-dir"), std::string::npos) << c.command;
  }
}

}  // namespace
