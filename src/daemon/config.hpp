// palyrad's configuration: defaults, then a TOML file, then PALYRA_*
// environment variables, then command-line flags — each later source
// overriding the earlier. Every setting is defined once, in config.cpp's
// table, with its TOML key, its environment variable and its flag; the
// table also generates the reference in docs/OPERATIONS.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "palyra/common/result.hpp"

namespace palyra::daemon {

// gateway.workers at most: a connection ID names its worker in one byte.
inline constexpr std::uint64_t kMaxQuicWorkers = 256;

struct Config {
  std::filesystem::path state_dir;  // default: identity's default_state_dir()
  // A qlog trace per QUIC connection goes into this existing directory (as
  // the CLI's --qlog-dir, whose environment variable it shares). Empty: none.
  std::filesystem::path qlog_dir;

  bool quic_enabled = true;
  std::string quic_bind_addr = "127.0.0.1";
  std::uint16_t quic_port = 7444;
  bool grpc_enabled = true;
  std::string grpc_bind_addr = "127.0.0.1";
  std::uint16_t grpc_port = 7443;
  std::uint16_t grpc_enroll_port = 7442;  // enrollment: TLS without a client certificate

  // QUIC workers: event loops on threads of their own, sharing the port
  // (ARCHITECTURE.md, Workers). 0: one per CPU the process may use.
  std::uint64_t workers = 0;

  bool require_client_auth = true;  // false only as an explicit insecure opt-out
  std::uint64_t max_connections = 256;
  // Address validation (PROTOCOL.md §8): "auto" (Retry once retry_threshold
  // handshakes are in progress, or max_handshakes_per_address from one
  // address), "always" or "never".
  std::string retry = "auto";
  std::uint64_t max_handshakes = 64;
  std::uint64_t retry_threshold = 16;
  std::uint64_t max_handshakes_per_address = 8;
  std::uint64_t handshake_timeout_ms = 10'000;
  // A request stream whose frame has not completed this long is stopped.
  std::uint64_t request_frame_timeout_ms = 10'000;
  std::uint64_t idle_timeout_ms = 30'000;
  std::uint64_t keep_alive_ms = 5'000;

  std::uint64_t journal_retention_max_events = 0;  // 0: unlimited
  std::uint64_t journal_retention_max_age_s = 0;   // 0: unlimited
  // How long a publish id (PROTOCOL.md §4) is remembered per device.
  std::chrono::seconds journal_dedup_window = std::chrono::minutes(2);
  // Where events are stored: "sqlite" (the state directory) or "jetstream"
  // (a stream of the NATS JetStream cluster at journal_nats_urls).
  std::string journal_backend = "sqlite";
  std::string journal_nats_urls;  // comma-separated nats://HOST:PORT (jetstream)
  std::string journal_nats_stream = "PALYRA_EVENTS";  // the events' stream (jetstream)
  // The stream's replicas: 1, 3 or 5; 0 picks 3 when journal_nats_urls
  // names at least three servers (a cluster), else 1 (jetstream).
  std::uint64_t journal_nats_replicas = 0;
  // TLS to the NATS servers (jetstream; the key-value buckets of the shared
  // state use the same connection settings): the CA their certificates are
  // checked against, the gateway's client certificate and its key (PEM).
  // All empty: plain TCP.
  std::string journal_nats_tls_ca;
  std::string journal_nats_tls_cert;
  std::string journal_nats_tls_key;
  std::uint64_t shutdown_grace_ms = 5'000;
  // The server certificate is reissued at start when it expires within this.
  std::uint64_t server_cert_renew_before_s = 7ULL * 24 * 3600;
  // Validity of the device certificates issued at enrollment and renewal.
  std::chrono::seconds enrollment_device_validity = std::chrono::hours(24);
  std::string log_level = "info";
  std::string log_format = "text";  // text (key=value lines) or json (one object per line)
  // The Prometheus endpoint's "HOST:PORT" ("[::1]:9744" for IPv6; port 0:
  // any free port). Empty: no metrics listener.
  std::string metrics_listen;
};

// gateway.workers as a number of workers: 0 is one per CPU this process
// may run on (its affinity mask), at most kMaxQuicWorkers.
std::size_t quic_worker_count(std::uint64_t configured);

// One setting, for documentation and --help.
struct SettingInfo {
  std::string toml_key;  // "gateway.quic_port"
  std::string env_var;   // "PALYRA_GATEWAY_QUIC_PORT"
  std::string flag;      // "--quic-port", or empty
  std::string default_value;
  std::string description;
};
const std::vector<SettingInfo>& settings_reference();

// Values given on the command line, by flag name ("--quic-port" -> "7445").
using FlagValues = std::map<std::string, std::string>;

// Builds the configuration. ConfigInvalid names the key, the source (file
// path and line, environment variable, or flag) and the bad value; an
// unknown key in the file is an error too. `environment` is a list of
// "NAME=value" (pass environ; tests pass their own).
Result<Config> load_config(const std::optional<std::filesystem::path>& file,
                           const std::vector<std::string>& environment, const FlagValues& flags);

// The defaults and one configuration file's TOML text, validated: what
// load_config does with the file alone. `origin` is the path errors name.
Result<Config> load_config_text(std::string_view toml, const std::filesystem::path& origin);

}  // namespace palyra::daemon
