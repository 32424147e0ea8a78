// palyrad: the Palyra daemon. Configuration comes from a TOML file, then
// PALYRA_* environment variables, then flags (later wins); see
// docs/OPERATIONS.md or `palyrad --help` for every setting.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "config.hpp"
#include "daemon.hpp"
#include "json_log.hpp"
#include "palyra/identity/state_dir.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

std::vector<std::string> environment() {
  std::vector<std::string> out;
  for (char** entry = environ; entry && *entry; ++entry) out.emplace_back(*entry);
  return out;
}

void configure_logging(const std::string& level, const std::string& format) {
  // Logs go to stderr; stdout carries only the "listening" line.
  auto logger = spdlog::stderr_logger_mt("palyrad");
  if (format == "json") {
    logger->set_formatter(std::make_unique<palyra::daemon::JsonLogFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

int run(int argc, char** argv) {
  CLI::App app{
      "palyrad: the Palyra daemon. Serves node.* calls over QUIC with mutual TLS, from the state "
      "directory `palyra init` created.\n"
      "Settings come from --config FILE, then PALYRA_* environment variables, then these flags.\n"
      "Signals: SIGTERM/SIGINT drain and exit 0; SIGHUP reloads the revocation index and the "
      "server certificate, key and CA bundle."};
  app.set_version_flag("--version", "palyrad 0.1.0");
  std::optional<std::string> config_file;
  app.add_option("--config", config_file, "TOML configuration file")->check(CLI::ExistingFile);

  // One flag per setting that has one, straight from the configuration table.
  std::map<std::string, std::string> flag_values;
  for (const auto& setting : palyra::daemon::settings_reference()) {
    if (setting.flag.empty()) continue;
    app.add_option(setting.flag, flag_values[setting.flag],
                   setting.description + " (" + setting.env_var + ", default " +
                       (setting.default_value.empty() ? "none" : setting.default_value) + ")");
  }
  bool print_settings = false;
  app.add_flag("--print-settings", print_settings,
               "list every setting: TOML key, environment variable, flag, default");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }

  if (print_settings) {
    for (const auto& s : palyra::daemon::settings_reference()) {
      std::printf("%-36s %-42s %-24s %s\n", s.toml_key.c_str(), s.env_var.c_str(),
                  s.flag.empty() ? "-" : s.flag.c_str(), s.default_value.c_str());
    }
    return kExitOk;
  }

  palyra::daemon::FlagValues given;
  for (const auto& [flag, value] : flag_values) {
    if (app.count(flag) > 0) given[flag] = value;
  }
  std::optional<std::filesystem::path> file;
  if (config_file) file = *config_file;
  auto config = palyra::daemon::load_config(file, environment(), given);
  if (!config) {
    std::fprintf(stderr, "palyrad: invalid configuration: %s\n", config.error().message().c_str());
    return kExitUsage;
  }
  if (config->state_dir.empty()) config->state_dir = palyra::identity::default_state_dir();
  configure_logging(config->log_level, config->log_format);

  if (auto blocked = palyra::daemon::Daemon::block_signals(); !blocked) {
    spdlog::critical("cannot start: {}", blocked.error().describe());
    return kExitFailure;
  }
  auto daemon = palyra::daemon::Daemon::start(*config);
  if (!daemon) {
    spdlog::critical("cannot start: {}", daemon.error().describe());
    return kExitFailure;
  }
  auto ran = (*daemon)->run();
  if (!ran) {
    spdlog::critical("event loop failed: {}", ran.error().describe());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

// Every failure we expect is a value with its own message; this catches what
// escapes anyway (an allocation failure, a library's exception) so it still
// ends as one line and an exit code, not an abort.
int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "palyrad: unexpected error: %s\n", e.what());
    return kExitFailure;
  }
}
