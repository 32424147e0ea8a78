#include "config_validation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iterator>

#include "listen_address.hpp"
#include "palyra/common/atomic_file.hpp"

namespace palyra::daemon {

std::string printable(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

Status validate(const Config& config) {
  if (config.max_connections == 0) {
    return Error(Errc::ConfigInvalid, "gateway.max_connections must be at least 1");
  }
  if (config.workers > kMaxQuicWorkers) {
    return Error(Errc::ConfigInvalid,
                 fmt::format("gateway.workers ({}) must be at most {} (0: one per CPU)",
                             config.workers, kMaxQuicWorkers));
  }
  if (config.idle_timeout_ms == 0 || config.idle_timeout_ms <= config.keep_alive_ms) {
    return Error(Errc::ConfigInvalid,
                 fmt::format("gateway.idle_timeout_ms ({}) must exceed gateway.keep_alive_ms ({})",
                             config.idle_timeout_ms, config.keep_alive_ms));
  }
  if (config.handshake_timeout_ms == 0) {
    return Error(Errc::ConfigInvalid, "gateway.handshake_timeout_ms must be positive");
  }
  if (config.request_frame_timeout_ms == 0) {
    return Error(Errc::ConfigInvalid, "gateway.request_frame_timeout_ms must be positive");
  }
  if (config.retry != "auto" && config.retry != "always" && config.retry != "never") {
    return Error(Errc::ConfigInvalid,
                 fmt::format("gateway.retry: '{}' is not one of auto, always, never",
                             printable(config.retry)));
  }
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), config.log_level) == std::end(kLevels)) {
    return Error(Errc::ConfigInvalid, fmt::format("log.level: '{}' is not one of trace, debug, "
                                                  "info, warn, error, off",
                                                  printable(config.log_level)));
  }
  if (config.log_format != "text" && config.log_format != "json") {
    return Error(Errc::ConfigInvalid, fmt::format("log.format: '{}' is not one of text, json",
                                                  printable(config.log_format)));
  }
  if (config.journal_backend != "sqlite" && config.journal_backend != "jetstream") {
    return Error(Errc::ConfigInvalid,
                 fmt::format("journal.backend: '{}' is not one of sqlite, jetstream",
                             printable(config.journal_backend)));
  }
  // A stream name becomes part of API subjects: no dots, wildcards or spaces.
  const bool stream_name_ok =
      !config.journal_nats_stream.empty() && config.journal_nats_stream.size() <= 64 &&
      std::all_of(config.journal_nats_stream.begin(), config.journal_nats_stream.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
      });
  if (!stream_name_ok) {
    return Error(Errc::ConfigInvalid,
                 fmt::format("journal.nats_stream: '{}' is not a stream name (1 to 64 of "
                             "A-Z a-z 0-9 _ -)",
                             printable(config.journal_nats_stream)));
  }
  if (config.journal_backend == "jetstream" && config.journal_nats_urls.empty()) {
    return Error(Errc::ConfigInvalid,
                 "journal.backend = jetstream needs journal.nats_urls (nats://HOST:PORT,...)");
  }
  if (config.journal_nats_replicas != 0 && config.journal_nats_replicas != 1 &&
      config.journal_nats_replicas != 3 && config.journal_nats_replicas != 5) {
    return Error(Errc::ConfigInvalid,
                 fmt::format("journal.nats_replicas ({}) must be 1, 3 or 5 (or 0: 3 for a cluster "
                             "of at least three, else 1)",
                             config.journal_nats_replicas));
  }
  if (config.journal_nats_tls_cert.empty() != config.journal_nats_tls_key.empty()) {
    return Error(
        Errc::ConfigInvalid,
        "journal.nats_tls_cert and journal.nats_tls_key go together: give both or neither");
  }
  PALYRA_TRY(check_listen_address("metrics.listen", config.metrics_listen));
  if (!config.qlog_dir.empty()) {
    // At start, not at the first connection: a trace that silently goes
    // nowhere is found out only when it is needed.
    if (auto usable = check_writable_directory(config.qlog_dir); !usable) {
      return Error(Errc::ConfigInvalid,
                   fmt::format("qlog_dir: {}", printable(usable.error().message())));
    }
  }
  return {};
}

}  // namespace palyra::daemon
