#include "../../src/daemon/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "../common/bad_files.hpp"
#include "../common/quoted_path.hpp"
#include "../common/temp_dir.hpp"

namespace palyra::daemon {
namespace {

using palyra::testing::BadFilesTest;

using palyra::testing::quoted;

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
  EXPECT_EQ(config->quic_port, 8001);        // environment beats file
  EXPECT_EQ(config->quic_bind_addr, "::1");  // file beats default
  EXPECT_EQ(config->max_connections, 10u);   // flag beats file

  auto flagged = load_config(file, {"PALYRA_GATEWAY_QUIC_PORT=8001"}, {{"--quic-port", "8002"}});
  ASSERT_TRUE(flagged.ok());
  EXPECT_EQ(flagged->quic_port, 8002);  // flag beats environment
}

TEST_F(ConfigTest, EnvironmentNamesFromTheIssue) {
  auto config = load_config(std::nullopt,
                            {"PALYRA_GATEWAY_QUIC_BIND_ADDR=0.0.0.0",
                             "PALYRA_GATEWAY_QUIC_ENABLED=false", "PALYRA_STATE_DIR=/tmp/x"},
                            {});
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->quic_bind_addr, "0.0.0.0");
  EXPECT_FALSE(config->quic_enabled);
  EXPECT_EQ(config->state_dir, "/tmp/x");
}

// gateway.retry (PROTOCOL.md §8): auto by default, from each source, and
// nothing but auto, always or never.
TEST_F(ConfigTest, RetrySetting) {
  auto defaults = load_config(std::nullopt, {}, {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->retry, "auto");
  EXPECT_EQ(defaults->max_handshakes, 64u);
  auto file = load_config(write("[gateway]\nretry = \"never\"\n"), {}, {});
  ASSERT_TRUE(file.ok()) << file.error().describe();
  EXPECT_EQ(file->retry, "never");
  auto env = load_config(std::nullopt, {"PALYRA_GATEWAY_RETRY=always"}, {});
  ASSERT_TRUE(env.ok()) << env.error().describe();
  EXPECT_EQ(env->retry, "always");
  auto flag = load_config(std::nullopt, {"PALYRA_GATEWAY_RETRY=always"}, {{"--retry", "never"}});
  ASSERT_TRUE(flag.ok()) << flag.error().describe();
  EXPECT_EQ(flag->retry, "never");
  auto bad = load_config(std::nullopt, {"PALYRA_GATEWAY_RETRY=sometimes"}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Errc::ConfigInvalid);
  EXPECT_NE(bad.error().message().find("gateway.retry: 'sometimes' is not one of"),
            std::string::npos)
      << bad.error().message();
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
  EXPECT_NE(number.error().message().find("duration"), std::string::npos)
      << number.error().describe();
}

TEST_F(ConfigTest, DedupWindowIsADurationFromEachSource) {
  EXPECT_EQ(load_config(std::nullopt, {}, {})->journal_dedup_window, std::chrono::minutes(2));
  auto file = write("[journal]\ndedup_window = \"5m\"\n");
  EXPECT_EQ(load_config(file, {}, {})->journal_dedup_window, std::chrono::minutes(5));
  EXPECT_EQ(load_config(file, {"PALYRA_JOURNAL_DEDUP_WINDOW=90s"}, {})->journal_dedup_window,
            std::chrono::seconds(90));
  EXPECT_EQ(load_config(file, {}, {{"--journal-dedup-window", "1h"}})->journal_dedup_window,
            std::chrono::hours(1));
  auto zero = load_config(std::nullopt, {}, {{"--journal-dedup-window", "0s"}});
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message().find("journal.dedup_window"), std::string::npos)
      << zero.error().describe();
}

TEST_F(ConfigTest, JournalBackendIsSqliteByDefaultAndJetStreamNeedsServers) {
  auto defaults = load_config(std::nullopt, {}, {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->journal_backend, "sqlite");
  EXPECT_EQ(defaults->journal_nats_replicas, 0u);  // 3 for a cluster of three, else 1
  auto file = write(
      "[journal]\nbackend = \"jetstream\"\nnats_urls = \"nats://a:4222,nats://b:4222\"\n"
      "nats_replicas = 3\n");
  auto from_file = load_config(file, {}, {});
  ASSERT_TRUE(from_file.ok()) << from_file.error().describe();
  EXPECT_EQ(from_file->journal_backend, "jetstream");
  EXPECT_EQ(from_file->journal_nats_urls, "nats://a:4222,nats://b:4222");
  EXPECT_EQ(from_file->journal_nats_replicas, 3u);
  auto from_env =
      load_config(std::nullopt,
                  {"PALYRA_JOURNAL_BACKEND=jetstream", "PALYRA_JOURNAL_NATS_URLS=nats://c:1"}, {});
  ASSERT_TRUE(from_env.ok()) << from_env.error().describe();
  EXPECT_EQ(from_env->journal_nats_urls, "nats://c:1");
  auto from_flag =
      load_config(std::nullopt, {},
                  {{"--journal-backend", "jetstream"}, {"--journal-nats-urls", "nats://d:2"}});
  ASSERT_TRUE(from_flag.ok()) << from_flag.error().describe();
  EXPECT_EQ(from_flag->journal_backend, "jetstream");

  auto no_servers = load_config(std::nullopt, {}, {{"--journal-backend", "jetstream"}});
  ASSERT_FALSE(no_servers.ok());
  EXPECT_NE(no_servers.error().message().find("journal.nats_urls"), std::string::npos);
  auto unknown = load_config(std::nullopt, {}, {{"--journal-backend", "postgres"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("journal.backend"), std::string::npos);
  EXPECT_EQ(defaults->journal_nats_stream, "PALYRA_EVENTS");
  auto stream = load_config(std::nullopt, {}, {{"--journal-nats-stream", "FLEET_B"}});
  ASSERT_TRUE(stream.ok()) << stream.error().describe();
  EXPECT_EQ(stream->journal_nats_stream, "FLEET_B");
  auto dotted = load_config(std::nullopt, {}, {{"--journal-nats-stream", "a.b"}});
  ASSERT_FALSE(dotted.ok());
  EXPECT_NE(dotted.error().message().find("journal.nats_stream"), std::string::npos);
  auto two = load_config(write("[journal]\nnats_replicas = 2\n"), {}, {});
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.error().message().find("journal.nats_replicas"), std::string::npos);
}

TEST_F(ConfigTest, MetricsListenIsOffByDefaultAndMustBeHostAndPort) {
  auto defaults = load_config(std::nullopt, {}, {});
  ASSERT_TRUE(defaults.ok()) << defaults.error().describe();
  EXPECT_EQ(defaults->metrics_listen, "");
  auto from_env = load_config(std::nullopt, {"PALYRA_METRICS_LISTEN=[::1]:0"}, {});
  ASSERT_TRUE(from_env.ok()) << from_env.error().describe();
  EXPECT_EQ(from_env->metrics_listen, "[::1]:0");
  auto from_flag = load_config(std::nullopt, {}, {{"--metrics-listen", "127.0.0.1:9744"}});
  ASSERT_TRUE(from_flag.ok()) << from_flag.error().describe();
  EXPECT_EQ(from_flag->metrics_listen, "127.0.0.1:9744");
  for (const char* bad :
       {"9744", "127.0.0.1", "127.0.0.1:", ":9744", "127.0.0.1:70000", "::1:9744", "host:port"}) {
    auto config = load_config(std::nullopt, {}, {{"--metrics-listen", bad}});
    ASSERT_FALSE(config.ok()) << bad;
    EXPECT_NE(config.error().message().find("metrics.listen"), std::string::npos)
        << config.error().message();
  }
}

// qlog_dir: off by default, from each source under the CLI's variable, and
// checked at start: a directory that is not there, or is a file, is one line
// naming it instead of traces that silently go nowhere.
TEST_F(ConfigTest, QlogDirIsOffByDefaultAndMustBeAWritableDirectory) {
  auto defaults = load_config(std::nullopt, {}, {});
  ASSERT_TRUE(defaults.ok()) << defaults.error().describe();
  EXPECT_TRUE(defaults->qlog_dir.empty());
  auto from_env = load_config(std::nullopt, {"PALYRA_QLOG_DIR=" + dir_.string()}, {});
  ASSERT_TRUE(from_env.ok()) << from_env.error().describe();
  EXPECT_EQ(from_env->qlog_dir, dir_);
  auto from_file = load_config(write("qlog_dir = \"" + dir_.string() + "\"\n"), {}, {});
  ASSERT_TRUE(from_file.ok()) << from_file.error().describe();
  EXPECT_EQ(from_file->qlog_dir, dir_);

  std::ofstream(dir_ / "file") << "not a directory";
  for (const auto& bad : {dir_ / "missing", dir_ / "file", dir_ / "new\nline"}) {
    auto config = load_config(std::nullopt, {}, {{"--qlog-dir", bad.string()}});
    ASSERT_FALSE(config.ok()) << bad;
    EXPECT_EQ(config.error().code(), Errc::ConfigInvalid);
    const std::string& message = config.error().message();
    EXPECT_TRUE(message.starts_with("qlog_dir: ")) << message;
    EXPECT_NE(message.find(dir_.string()), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST_F(ConfigTest, ReferenceListsEverySettingWithEnvAndDefault) {
  const auto& reference = settings_reference();
  auto port = std::find_if(reference.begin(), reference.end(),
                           [](const SettingInfo& s) { return s.toml_key == "gateway.quic_port"; });
  ASSERT_NE(port, reference.end());
  EXPECT_EQ(port->env_var, "PALYRA_GATEWAY_QUIC_PORT");
  EXPECT_EQ(port->default_value, "7444");
  EXPECT_EQ(port->flag, "--quic-port");
  auto metrics = std::find_if(reference.begin(), reference.end(),
                              [](const SettingInfo& s) { return s.toml_key == "metrics.listen"; });
  ASSERT_NE(metrics, reference.end());
  EXPECT_EQ(metrics->env_var, "PALYRA_METRICS_LISTEN");
  EXPECT_EQ(metrics->flag, "--metrics-listen");
  EXPECT_EQ(metrics->default_value, "");
  auto qlog = std::find_if(reference.begin(), reference.end(),
                           [](const SettingInfo& s) { return s.toml_key == "qlog_dir"; });
  ASSERT_NE(qlog, reference.end());
  EXPECT_EQ(qlog->env_var, "PALYRA_QLOG_DIR");
  EXPECT_EQ(qlog->flag, "--qlog-dir");
}

// Every bad file is one ConfigInvalid line naming it: never an exception,
// never a line broken by what the file holds.
TEST_F(ConfigTest, BadFilesAreOneLineNamingTheFile) {
  for (const std::string& text : std::vector<std::string>{
           "[gateway\nquic_port = 1\n",
           "\xff\xfe[gateway]\n",
           "[gateway]\nquic_port = \"7444\"\n",
           "[gateway]\nquic_port = 1.5\n",
           "[gateway]\nmax_connections = -1\n",
           "[gateway]\nquic_bind_addr = [\"::1\"]\n",
           "[[gateway]]\nquic_port = 1\n",
           "[gateway.extra]\nx = 1\n",
           "[\"quoted\\nkey\"]\nx = 1\n",
           "gateway = 7\n",
           "state_dir = \"\"\n",
           "[enrollment]\ndevice_validity = \"forever\"\n",
           "[gateway]\nquic_port = 1\nquic_port = 2\n",
           std::string("[gateway]\nquic_port = 1") + '\0' + "\n",
       }) {
    auto config = load_config(write(text), {}, {});
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_EQ(config.error().code(), Errc::ConfigInvalid) << text;
    EXPECT_NE(config.error().message().find("palyrad.toml"), std::string::npos)
        << text << ": " << config.error().message();
    EXPECT_EQ(config.error().message().find('\n'), std::string::npos) << config.error().message();
  }
  for (const auto& unreadable : {dir_ / "missing.toml", dir_}) {
    auto config = load_config(unreadable, {}, {});
    ASSERT_FALSE(config.ok()) << unreadable;
    EXPECT_EQ(config.error().code(), Errc::ConfigInvalid);
    EXPECT_NE(config.error().message().find(quoted(unreadable)), std::string::npos)
        << config.error().message();
  }
}

TEST_F(ConfigTest, ValuesQuotedInErrorsStayOnOneLine) {
  auto env = load_config(std::nullopt, {"PALYRA_GATEWAY_QUIC_PORT=1\n2"}, {});
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.error().message().find("'1\\x0a2'"), std::string::npos) << env.error().message();
  auto level = load_config(write("[log]\nlevel = \"lo\\nud\"\n"), {}, {});
  ASSERT_FALSE(level.ok());
  EXPECT_NE(level.error().message().find("'lo\\x0aud'"), std::string::npos)
      << level.error().message();
}

TEST_F(ConfigTest, TheTextEntryPointIsTheFileAlone) {
  auto config = load_config_text("[gateway]\nquic_port = 8000\n", "inline.toml");
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->quic_port, 8000);
  EXPECT_EQ(config->grpc_port, 7443);
  auto bad = load_config_text("[gateway]\nquic_prot = 1\n", "inline.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("inline.toml:2"), std::string::npos)
      << bad.error().message();
  EXPECT_FALSE(load_config_text("[gateway]\nidle_timeout_ms = 1\n", "inline.toml").ok());
}

// toml++ 3.3.0 reaches __builtin_unreachable() asking whether some non-ASCII
// characters are whitespace (found by fuzz_config_loader): they are refused
// where it would ask, and accepted in values and comments.
TEST_F(ConfigTest, NonAsciiOnlyInValuesAndComments) {
  for (const std::string& text : std::vector<std::string>{
           "[gateway]\xef\xbb\x9f\nquic_port = 1\n",
           "\xcc\xaa",
           "\"\xc2\xa7\" = 1\n",
           "[\"gateway\xc2\xa7\"]\n",
           "state_dir = \"\"\"\\\n\xc2\xa7\"\"\"\n",
           "state_dir = \"\"\"\\  \n  \n\xc2\xa7\"\"\"\n",
           "state_dir = \"\"\"\\\xc2\xa7\"\"\"\n",
           "state_dir = tr\xc2\xa7"
           "e\n",
       }) {
    auto config = load_config(write(text), {}, {});
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_EQ(config.error().code(), Errc::ConfigInvalid);
    EXPECT_NE(config.error().message().find("palyrad.toml:"), std::string::npos)
        << config.error().message();
    EXPECT_NE(config.error().message().find("non-ASCII character"), std::string::npos)
        << config.error().message();
  }
  auto valued = load_config(write("\xef\xbb\xbf# caf\xc3\xa9\n"
                                  "state_dir = \"/srv/jos\xc3\xa9\" # \xc2\xa7\n"
                                  "[log] # \xe2\x80\x83\n"
                                  "level = '''info'''\n"),
                            {}, {});
  ASSERT_TRUE(valued.ok()) << valued.error().describe();
  EXPECT_EQ(valued->state_dir, "/srv/jos\xc3\xa9");
  auto multi =
      load_config(write("state_dir = \"\"\"/srv/\\\n  d\xc3\xa9j\xc3\xa0\\\"\"\"\"\n"), {}, {});
  ASSERT_TRUE(multi.ok()) << multi.error().describe();
  EXPECT_EQ(multi->state_dir, "/srv/d\xc3\xa9j\xc3\xa0\"");
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

}  // namespace
}  // namespace palyra::daemon
