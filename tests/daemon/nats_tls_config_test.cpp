// journal.nats_tls_*: TLS to the NATS servers, from the file, the
// environment and flags like every setting; a certificate without its key
// (or a key without its certificate) is refused at start.
#include <gtest/gtest.h>

#include <fstream>

#include "../../src/daemon/config.hpp"
#include "../common/temp_dir.hpp"

namespace palyra::daemon {
namespace {

class NatsTlsConfigTest : public palyra::testing::TempDirTest {};

TEST_F(NatsTlsConfigTest, FileEnvironmentAndFlagsSetTheThreeFiles) {
  const auto file = dir_ / "palyrad.toml";
  std::ofstream(file) << "[journal]\nnats_tls_ca = \"/etc/palyra/nats-ca.pem\"\n";
  auto config = load_config(file,
                            {"PALYRA_JOURNAL_NATS_TLS_CERT=/etc/palyra/gw.pem",
                             "PALYRA_JOURNAL_NATS_TLS_KEY=/etc/palyra/env.key"},
                            {{"--journal-nats-tls-key", "/etc/palyra/gw.key"}});
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->journal_nats_tls_ca, "/etc/palyra/nats-ca.pem");
  EXPECT_EQ(config->journal_nats_tls_cert, "/etc/palyra/gw.pem");
  EXPECT_EQ(config->journal_nats_tls_key, "/etc/palyra/gw.key") << "the flag wins";
}

TEST_F(NatsTlsConfigTest, ACertificateWithoutItsKeyIsRefused) {
  for (const auto& flag : {"--journal-nats-tls-cert", "--journal-nats-tls-key"}) {
    auto config = load_config(std::nullopt, {}, {{flag, "/etc/palyra/gw.pem"}});
    ASSERT_FALSE(config.ok()) << flag;
    EXPECT_EQ(config.error().code(), Errc::ConfigInvalid);
    EXPECT_NE(config.error().message().find("journal.nats_tls_cert and journal.nats_tls_key"),
              std::string::npos)
        << config.error().message();
  }
}

}  // namespace
}  // namespace palyra::daemon
