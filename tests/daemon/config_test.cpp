#include "../../src/daemon/config.hpp"

#include <gtest/gtest.h>

#include "../common/temp_dir.hpp"

#include <filesystem>
#include <fstream>

namespace palyra::daemon {
namespace {

class ConfigTest : public palyra::testing::TempDirTest {
 protected:
  std::filesystem::path write(const std::string& text) {
    auto path = dir_ / "palyrad.toml";
    std::ofstream(path) << text;
    return path;
  }
};

TEST_F(ConfigTest, DefaultsAreTheProtocols) {
  auto config = load_config(std::nullopt, {}, {});
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->quic_bind_addr, "127.0.0.1");
  EXPECT_EQ(config->quic_port, 7444);
  EXPECT_EQ(config->grpc_port, 7443);
  EXPECT_TRUE(config->quic_enabled);
  EXPECT_TRUE(config->require_client_auth);
  EXPECT_EQ(config->max_connections, 256u);
  EXPECT_EQ(config->idle_timeout_ms, 30'000u);
}

TEST_F(ConfigTest, FileThenEnvironmentThenFlags) {
  auto file = write("[gateway]\nquic_port = 8000\nquic_bind_addr = \"::1\"\nmax_connections = 9\n");
  auto config = load_config(file, {"PALYRA_GATEWAY_QUIC_PORT=8001", "OTHER=1"},
                            {{"--max-connections", "10"}});
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->quic_port, 8001);           // environment beats file
  EXPECT_EQ(config->quic_bind_addr, "::1");     // file beats default
  EXPECT_EQ(config->max_connections, 10u);      // flag beats file

  auto flagged = load_config(file, {"PALYRA_GATEWAY_QUIC_PORT=8001"}, {{"--quic-port", "8002"}});
  ASSERT_TRUE(flagged.ok());
  EXPECT_EQ(flagged->quic_port, 8002);          // flag beats environment
}

TEST_F(ConfigTest, EnvironmentNamesFromTheIssue) {
  auto config = load_config(std::nullopt,
                            {"PALYRA_GATEWAY_QUIC_BIND_ADDR=0.0.0.0", "PALYRA_GATEWAY_QUIC_ENABLED=false",
                             "PALYRA_STATE_DIR=/tmp/x"},
                            {});
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->quic_bind_addr, "0.0.0.0");
  EXPECT_FALSE(config->quic_enabled);
  EXPECT_EQ(config->state_dir, "/tmp/x");
}

TEST_F(ConfigTest, UnknownKeyInFileNamesKeyAndLine) {
  auto file = write("[gateway]\nquic_port = 8000\nquic_prot = 1\n");
  auto config = load_config(file, {}, {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code(), Errc::ConfigInvalid);
  EXPECT_NE(config.error().message().find("gateway.quic_prot"), std::string::npos);
  EXPECT_NE(config.error().message().find("palyrad.toml:3"), std::string::npos);
}

TEST_F(ConfigTest, PortOutOfRangeFromEachSource) {
  auto file = write("[gateway]\nquic_port = 70000\n");
  auto from_file = load_config(file, {}, {});
  ASSERT_FALSE(from_file.ok());
  EXPECT_EQ(from_file.error().code(), Errc::ConfigInvalid);
  EXPECT_NE(from_file.error().message().find("gateway.quic_port"), std::string::npos);
  EXPECT_NE(from_file.error().message().find("70000"), std::string::npos);

  auto from_env = load_config(std::nullopt, {"PALYRA_GATEWAY_QUIC_PORT=65536"}, {});
  ASSERT_FALSE(from_env.ok());
  EXPECT_EQ(from_env.error().code(), Errc::ConfigInvalid);
  EXPECT_NE(from_env.error().message().find("PALYRA_GATEWAY_QUIC_PORT"), std::string::npos);

  auto from_flag = load_config(std::nullopt, {}, {{"--quic-port", "-1"}});
  ASSERT_FALSE(from_flag.ok());
  EXPECT_EQ(from_flag.error().code(), Errc::ConfigInvalid);
  EXPECT_NE(from_flag.error().message().find("--quic-port"), std::string::npos);
}

TEST_F(ConfigTest, UnparsableBoolAndWrongTomlType) {
  auto env = load_config(std::nullopt, {"PALYRA_GATEWAY_QUIC_ENABLED=maybe"}, {});
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().code(), Errc::ConfigInvalid);
  EXPECT_NE(env.error().message().find("'maybe' is not a boolean"), std::string::npos);
  auto file = write("[gateway]\nquic_enabled = \"yes\"\n");
  auto typed = load_config(file, {}, {});
  ASSERT_FALSE(typed.ok());
  EXPECT_EQ(typed.error().code(), Errc::ConfigInvalid);
  EXPECT_NE(typed.error().message().find("expected a boolean"), std::string::npos);
}

TEST_F(ConfigTest, MalformedTomlReportsPosition) {
  auto file = write("[gateway\nquic_port = 1\n");
  auto config = load_config(file, {}, {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code(), Errc::ConfigInvalid);
  EXPECT_NE(config.error().message().find("palyrad.toml:1"), std::string::npos);
}

TEST_F(ConfigTest, CrossFieldValidation) {
  auto config = load_config(std::nullopt, {"PALYRA_GATEWAY_IDLE_TIMEOUT_MS=1000"}, {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code(), Errc::ConfigInvalid);
  EXPECT_NE(config.error().message().find("keep_alive_ms"), std::string::npos);
  auto level = load_config(std::nullopt, {"PALYRA_LOG_LEVEL=loud"}, {});
  ASSERT_FALSE(level.ok());
  EXPECT_EQ(level.error().code(), Errc::ConfigInvalid);
  EXPECT_NE(level.error().message().find("log.level: 'loud' is not one of"), std::string::npos)
      << level.error().message();
}

TEST_F(ConfigTest, DeviceValidityIsADurationFromEachSource) {
  auto defaults = load_config(std::nullopt, {}, {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->enrollment_device_validity, std::chrono::hours(24));
  auto file = write("[enrollment]\ndevice_validity = \"12h\"\n");
  EXPECT_EQ(load_config(file, {}, {})->enrollment_device_validity, std::chrono::hours(12));
  EXPECT_EQ(load_config(file, {"PALYRA_ENROLLMENT_DEVICE_VALIDITY=1d12h"}, {})
                ->enrollment_device_validity,
            std::chrono::hours(36));
  EXPECT_EQ(load_config(file, {}, {{"--device-validity", "20s"}})->enrollment_device_validity,
            std::chrono::seconds(20));
  for (const char* bad : {"0s", "soon", "-5m", ""}) {
    auto refused = load_config(std::nullopt, {}, {{"--device-validity", bad}});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().code(), Errc::ConfigInvalid);
    EXPECT_NE(refused.error().message().find("enrollment.device_validity"), std::string::npos)
        << refused.error().describe();
  }
  auto number = load_config(write("[enrollment]\ndevice_validity = 3600\n"), {}, {});
  ASSERT_FALSE(number.ok());
  EXPECT_NE(number.error().message().find("duration"), std::string::npos) << number.error().describe();
}

TEST_F(ConfigTest, ReferenceListsEverySettingWithEnvAndDefault) {
  const auto& reference = settings_reference();
  auto port = std::find_if(reference.begin(), reference.end(),
                           [](const SettingInfo& s) { return s.toml_key == "gateway.quic_port"; });
  ASSERT_NE(port, reference.end());
  EXPECT_EQ(port->env_var, "PALYRA_GATEWAY_QUIC_PORT");
  EXPECT_EQ(port->default_value, "7444");
  EXPECT_EQ(port->flag, "--quic-port");
}

}  // namespace
}  // namespace palyra::daemon
