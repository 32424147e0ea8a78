#include "config.hpp"

// Errors as values here too: toml++ reports parse errors in its result.
#define TOML_EXCEPTIONS 0
#define TOML_HEADER_ONLY 1  // the packaged library is built with exceptions
#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>

#include "config_setting.hpp"
#include "config_validation.hpp"
#include "palyra/common/atomic_file.hpp"
#include "palyra/identity/certificate.hpp"

namespace palyra::daemon {
namespace {

using namespace config_setting;

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = [] {
    std::vector<Setting> t;
    t.push_back({"",
                 "state_dir",
                 "--state-dir",
                 Kind::Text,
                 "state directory (CA, certificates, revocation index, journal)",
                 {},
                 {},
                 [](Config& c, std::string v) { c.state_dir = std::move(v); },
                 [](const Config& c) { return c.state_dir.string(); }});
    t.push_back({"",
                 "qlog_dir",
                 "--qlog-dir",
                 Kind::Text,
                 "write a qlog trace of every QUIC connection into this existing directory "
                 "(<connection id>.sqlog, for qvis); unset: off",
                 {},
                 {},
                 [](Config& c, std::string v) { c.qlog_dir = std::move(v); },
                 [](const Config& c) { return c.qlog_dir.string(); }});
    t.push_back(boolean("gateway", "quic_enabled", "--quic-enabled", &Config::quic_enabled,
                        "serve QUIC (UDP)"));
    t.push_back(text("gateway", "quic_bind_addr", "--quic-bind-addr", &Config::quic_bind_addr,
                     "QUIC listen address (IPv4 or IPv6 literal, or a host name)"));
    t.push_back(port("gateway", "quic_port", "--quic-port", &Config::quic_port,
                     "QUIC listen port (0: any free port, printed at start)"));
    t.push_back(count("gateway", "workers", "--workers", &Config::workers,
                      "QUIC worker threads, each with its own loop and socket on the QUIC port "
                      "(1 to 256; 0: one per CPU this process may run on)"));
    t.push_back(boolean("gateway", "grpc_enabled", "--grpc-enabled", &Config::grpc_enabled,
                        "serve the gRPC fallback (TCP)"));
    t.push_back(text("gateway", "grpc_bind_addr", "--grpc-bind-addr", &Config::grpc_bind_addr,
                     "gRPC listen address"));
    t.push_back(port("gateway", "grpc_port", "--grpc-port", &Config::grpc_port,
                     "gRPC listen port (0: any free port)"));
    t.push_back(port("gateway", "grpc_enroll_port", "--grpc-enroll-port", &Config::grpc_enroll_port,
                     "gRPC enrollment listen port on grpc_bind_addr: TLS without a client "
                     "certificate, node.enroll only (0: any free port)"));
    t.push_back(boolean("gateway", "require_client_auth", "--require-client-auth",
                        &Config::require_client_auth,
                        "mandatory mutual TLS; false is the explicit insecure opt-out"));
    t.push_back(count("gateway", "max_connections", "--max-connections", &Config::max_connections,
                      "concurrent QUIC connections; the next is refused (CONNECTION_REFUSED)"));
    t.push_back(text("gateway", "retry", "--retry", &Config::retry,
                     "Retry before any state: auto (when busy), always, never"));
    t.push_back(count("gateway", "max_handshakes", "", &Config::max_handshakes,
                      "QUIC handshakes in progress; the next Initial is refused"));
    t.push_back(count("gateway", "retry_threshold", "", &Config::retry_threshold,
                      "retry = auto: handshakes in progress from which clients get a Retry"));
    t.push_back(count("gateway", "max_handshakes_per_address", "",
                      &Config::max_handshakes_per_address,
                      "handshakes in progress from one unproven IP address; then a Retry"));
    t.push_back(count("gateway", "handshake_timeout_ms", "", &Config::handshake_timeout_ms,
                      "handshakes that take longer are dropped"));
    t.push_back(count("gateway", "request_frame_timeout_ms", "--request-frame-timeout-ms",
                      &Config::request_frame_timeout_ms,
                      "request streams whose frame has not completed after this long are "
                      "stopped (the answer: stream_failure)"));
    t.push_back(count("gateway", "idle_timeout_ms", "", &Config::idle_timeout_ms,
                      "connections silent for longer are closed"));
    t.push_back(count("gateway", "keep_alive_ms", "", &Config::keep_alive_ms,
                      "PING interval on idle connections"));
    t.push_back(count("journal", "retention_max_events", "", &Config::journal_retention_max_events,
                      "keep at most this many events (0: unlimited)"));
    t.push_back(count("journal", "retention_max_age_s", "", &Config::journal_retention_max_age_s,
                      "drop events older than this many seconds (0: unlimited)"));
    t.push_back(duration("journal", "dedup_window", "--journal-dedup-window",
                         &Config::journal_dedup_window,
                         "how long a publish id is remembered: the same id from the same device "
                         "within it appends nothing (e.g. 2m, 90s)"));
    t.push_back(text("journal", "backend", "--journal-backend", &Config::journal_backend,
                     "where events are stored: sqlite (the state directory) or jetstream (a "
                     "NATS JetStream cluster, journal.nats_urls)"));
    t.push_back(text("journal", "nats_urls", "--journal-nats-urls", &Config::journal_nats_urls,
                     "backend = jetstream: the cluster's servers, comma-separated "
                     "nats://HOST:PORT"));
    t.push_back(text("journal", "nats_stream", "--journal-nats-stream",
                     &Config::journal_nats_stream,
                     "backend = jetstream: the stream that holds the events (A-Z a-z 0-9 _ -); "
                     "every gateway of one fleet names the same one"));
    t.push_back(count("journal", "nats_replicas", "--journal-nats-replicas",
                      &Config::journal_nats_replicas,
                      "backend = jetstream: replicas of the events stream (1, 3 or 5; 0: 3 when "
                      "journal.nats_urls names at least three servers, else 1)"));
    t.push_back(text("journal", "nats_tls_ca", "--journal-nats-tls-ca",
                     &Config::journal_nats_tls_ca,
                     "backend = jetstream: TLS to the NATS servers, their certificates checked "
                     "against this CA file (PEM); empty: plain TCP"));
    t.push_back(text("journal", "nats_tls_cert", "--journal-nats-tls-cert",
                     &Config::journal_nats_tls_cert,
                     "backend = jetstream: the gateway's client certificate for NATS (PEM, "
                     "the leaf first), for servers with tls { verify: true }"));
    t.push_back(text("journal", "nats_tls_key", "--journal-nats-tls-key",
                     &Config::journal_nats_tls_key,
                     "backend = jetstream: the key of journal.nats_tls_cert (PEM)"));
    t.push_back(count("shutdown", "grace_ms", "", &Config::shutdown_grace_ms,
                      "on SIGTERM, how long in-flight requests may take to finish"));
    t.push_back(count("tls", "server_cert_renew_before_s", "", &Config::server_cert_renew_before_s,
                      "reissue the server certificate at start when it expires within this"));
    t.push_back(duration("enrollment", "device_validity", "--device-validity",
                         &Config::enrollment_device_validity,
                         "validity of the device certificates issued at enrollment and renewal "
                         "(e.g. 24h, 20s)"));
    t.push_back(text("log", "level", "--log-level", &Config::log_level,
                     "trace, debug, info, warn, error or off"));
    t.push_back(text("log", "format", "--log-format", &Config::log_format,
                     "text (one line: time level message key=value...) or json (one object "
                     "per line: time, level, message, peer, device_id, fingerprint, error)"));
    t.push_back(text("metrics", "listen", "--metrics-listen", &Config::metrics_listen,
                     "Prometheus /metrics on HOST:PORT, plain HTTP (port 0: any); empty: off"));
    return t;
  }();
  return table;
}

std::optional<bool> parse_bool(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "0" || lower == "no" || lower == "off") return false;
  return std::nullopt;
}

// Applies a textual value (environment or flag) to one setting.
Status apply_text(Config& config, const Setting& s, std::string_view value,
                  const std::string& source) {
  auto bad = [&](std::string_view expected) {
    return Error(Errc::ConfigInvalid, fmt::format("{} ({}): '{}' is not {}", toml_key(s), source,
                                                  printable(value), expected));
  };
  switch (s.kind) {
    case Kind::Bool: {
      auto v = parse_bool(value);
      if (!v) return bad("a boolean (true/false, 1/0, yes/no, on/off)");
      s.set_bool(config, *v);
      return {};
    }
    case Kind::Port:
    case Kind::Count: {
      std::uint64_t v = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc{} || end != value.data() + value.size() || value.empty()) {
        return bad(s.kind == Kind::Port ? "a port number (0-65535)" : "a non-negative integer");
      }
      if (s.kind == Kind::Port && v > 65535) return bad("a port number (0-65535)");
      s.set_number(config, v);
      return {};
    }
    case Kind::Text:
      if (value.empty()) return bad("a non-empty string");
      s.set_text(config, std::string(value));
      return {};
    case Kind::Duration: {
      auto v = identity::parse_duration(value);
      if (!v || v->count() <= 0) return bad("a positive duration such as 90s, 30m, 24h or 1d12h");
      s.set_number(config, static_cast<std::uint64_t>(v->count()));
      return {};
    }
  }
  return {};
}

Status apply_toml(Config& config, const Setting& s, const toml::node& node,
                  const std::string& where) {
  auto bad = [&](std::string_view expected) {
    return Error(Errc::ConfigInvalid,
                 fmt::format("{} ({}): expected {}", toml_key(s), where, expected));
  };
  switch (s.kind) {
    case Kind::Bool:
      if (!node.is_boolean()) return bad("a boolean");
      s.set_bool(config, *node.value<bool>());
      return {};
    case Kind::Port:
    case Kind::Count: {
      if (!node.is_integer()) return bad(s.kind == Kind::Port ? "a port number" : "an integer");
      std::int64_t v = *node.value<std::int64_t>();
      if (v < 0 || (s.kind == Kind::Port && v > 65535)) {
        return Error(Errc::ConfigInvalid,
                     fmt::format("{} ({}): {} is out of range{}", toml_key(s), where, v,
                                 s.kind == Kind::Port ? " (0-65535)" : ""));
      }
      s.set_number(config, static_cast<std::uint64_t>(v));
      return {};
    }
    case Kind::Text:
      if (!node.is_string() || node.value<std::string>()->empty()) return bad("a non-empty string");
      s.set_text(config, *node.value<std::string>());
      return {};
    case Kind::Duration: {
      auto v = node.is_string() ? identity::parse_duration(*node.value<std::string>())
                                : Result<std::chrono::seconds>(Error(Errc::InvalidDuration, ""));
      if (!v || v->count() <= 0) return bad("a positive duration string such as \"24h\"");
      s.set_number(config, static_cast<std::uint64_t>(v->count()));
      return {};
    }
  }
  return {};
}

std::string where_in_file(const std::filesystem::path& file, const toml::node& node) {
  return fmt::format("{}:{}", file.string(), node.source().begin.line);
}

// toml++ 3.3.0 (Debian 12's) reaches __builtin_unreachable() when it asks
// whether some non-ASCII characters are whitespace (marzer/tomlplusplus#190,
// #295): undefined behaviour, found by fuzz_config_loader. It asks of every
// character outside a string value (keys, table headers, between tokens, up
// to 127 characters ahead while it scans an unquoted value), and after a
// backslash in a multi-line basic string. So non-ASCII text is let through
// only in comments and in a string that is a whole value on a `key = "..."`
// line, where toml++ reads it as a string; every key we know is ASCII, so
// this refuses no file we would accept.
bool is_key_value_prefix(std::string_view prefix) {
  // [ \t]* key-characters-dots-and-blanks [ \t]* = [ \t]*
  while (!prefix.empty() && (prefix.back() == ' ' || prefix.back() == '\t'))
    prefix.remove_suffix(1);
  if (prefix.empty() || prefix.back() != '=') return false;
  prefix.remove_suffix(1);
  bool any_key_character = false;
  for (char c : prefix) {
    const bool key_character = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    if (!key_character && c != '.' && c != ' ' && c != '\t') return false;
    any_key_character = any_key_character || key_character;
  }
  return any_key_character;
}

Status refuse_non_ascii_where_toml_parses_whitespace(std::string_view text,
                                                     const std::filesystem::path& file) {
  enum class In { Code, Comment, Basic, Literal, MultiBasic, MultiLiteral };
  In in = In::Code;
  bool string_is_value = false;  // non-ASCII text is let through in this string
  std::size_t line = 1;
  std::size_t line_start = 0;
  auto refuse = [&](std::string_view where) {
    return Error(Errc::ConfigInvalid,
                 fmt::format("{}:{}: a non-ASCII character {}", file.string(), line, where));
  };
  auto non_ascii = [](char c) { return static_cast<unsigned char>(c) >= 0x80; };
  // A byte order mark is toml++'s to skip.
  for (std::size_t i = text.starts_with("\xEF\xBB\xBF") ? 3 : 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      line_start = i + 1;
    }
    const std::string_view rest = text.substr(i);
    switch (in) {
      case In::Code:
        if (non_ascii(c)) return refuse("outside a quoted value or a comment");
        if (c == '#') {
          in = In::Comment;
        } else if (c == '"' || c == '\'') {
          const bool triple = rest.starts_with(c == '"' ? "\"\"\"" : "'''");
          in = c == '"' ? (triple ? In::MultiBasic : In::Basic)
                        : (triple ? In::MultiLiteral : In::Literal);
          string_is_value =
              line_start <= i && is_key_value_prefix(text.substr(line_start, i - line_start));
          if (triple) i += 2;
        }
        break;
      case In::Comment:
        if (c == '\n') in = In::Code;
        break;
      case In::Basic:
      case In::Literal:
        if (non_ascii(c) && !string_is_value) return refuse("in a string that is not a value");
        if (c == '\\' && in == In::Basic) {
          ++i;  // the escaped character
          if (i < text.size() && text[i] == '\n') {
            ++line;
            line_start = i + 1;
          }
        } else if (c == (in == In::Basic ? '"' : '\'') || c == '\n') {
          in = In::Code;  // an unterminated string is toml++'s to report
        }
        break;
      case In::MultiBasic:
      case In::MultiLiteral:
        if (non_ascii(c) && !string_is_value) return refuse("in a string that is not a value");
        if (c == '\\' && in == In::MultiBasic) {
          // An escape, or a line-ending backslash with the whitespace after it.
          std::size_t next = i + 1;
          while (next < text.size() && (text[next] == ' ' || text[next] == '\t' ||
                                        text[next] == '\r' || text[next] == '\n')) {
            if (text[next] == '\n') {
              ++line;
              line_start = next + 1;
            }
            ++next;
          }
          if (next < text.size() && non_ascii(text[next])) {
            return refuse("after a backslash in a multi-line string");
          }
          i = next == i + 1 ? next : next - 1;
        } else if (rest.starts_with(in == In::MultiBasic ? "\"\"\"" : "'''")) {
          i += 2;
          // Up to two more quotes are the string's own last characters.
          for (int extra = 0; extra < 2 && i + 1 < text.size() && text[i + 1] == c; ++extra) ++i;
          in = In::Code;
        }
        break;
    }
  }
  return {};
}

Status load_text(Config& config, std::string_view text, const std::filesystem::path& file) {
  PALYRA_TRY(refuse_non_ascii_where_toml_parses_whitespace(text, file));
  toml::parse_result parsed = toml::parse(text, file.string());
  if (!parsed) {
    const auto& error = parsed.error();
    return Error(Errc::ConfigInvalid,
                 fmt::format("{}:{}:{}: {}", file.string(), error.source().begin.line,
                             error.source().begin.column, printable(error.description())));
  }
  const toml::table& root = parsed.table();
  // Every key in the file must be known: a typo must not silently use a default.
  for (const auto& root_entry : root) {
    const auto& node = root_entry.second;
    std::string name(root_entry.first.str());
    if (node.is_table()) {
      for (const auto& sub_entry : *node.as_table()) {
        const auto& subnode = sub_entry.second;
        std::string subname(sub_entry.first.str());
        auto it = std::find_if(settings().begin(), settings().end(), [&](const Setting& s) {
          return name == s.section && subname == s.key;
        });
        if (it == settings().end()) {
          return Error(Errc::ConfigInvalid,
                       fmt::format("{}: unknown key '{}.{}'", where_in_file(file, subnode),
                                   printable(name), printable(subname)));
        }
        PALYRA_TRY(apply_toml(config, *it, subnode, where_in_file(file, subnode)));
      }
      continue;
    }
    auto it = std::find_if(settings().begin(), settings().end(),
                           [&](const Setting& s) { return *s.section == '\0' && name == s.key; });
    if (it == settings().end()) {
      return Error(Errc::ConfigInvalid,
                   fmt::format("{}: unknown key '{}'", where_in_file(file, node), printable(name)));
    }
    PALYRA_TRY(apply_toml(config, *it, node, where_in_file(file, node)));
  }
  return {};
}

Status load_file(Config& config, const std::filesystem::path& file) {
  auto text = read_file(file);
  if (!text) return Error(Errc::ConfigInvalid, text.error().message());
  return load_text(config, *text, file);
}

}  // namespace

const std::vector<SettingInfo>& settings_reference() {
  static const std::vector<SettingInfo> reference = [] {
    std::vector<SettingInfo> out;
    Config defaults;
    for (const auto& s : settings()) {
      out.push_back({toml_key(s), env_name(s), s.flag, s.show(defaults), s.description});
    }
    return out;
  }();
  return reference;
}

Result<Config> load_config_text(std::string_view toml, const std::filesystem::path& origin) {
  Config config;
  PALYRA_TRY(load_text(config, toml, origin));
  PALYRA_TRY(validate(config));
  return config;
}

Result<Config> load_config(const std::optional<std::filesystem::path>& file,
                           const std::vector<std::string>& environment, const FlagValues& flags) {
  Config config;
  if (file) PALYRA_TRY(load_file(config, *file));
  for (const auto& s : settings()) {
    std::string name = env_name(s);
    for (const auto& entry : environment) {
      if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
          entry[name.size()] == '=') {
        PALYRA_TRY(apply_text(config, s, std::string_view(entry).substr(name.size() + 1),
                              "environment " + name));
      }
    }
  }
  for (const auto& entry : flags) {
    const std::string& flag = entry.first;
    const std::string& value = entry.second;
    auto it = std::find_if(settings().begin(), settings().end(),
                           [&flag](const Setting& s) { return flag == s.flag; });
    if (it == settings().end()) {
      return Error(Errc::ConfigInvalid, fmt::format("unknown flag {}", printable(flag)));
    }
    PALYRA_TRY(apply_text(config, *it, value, "flag " + flag));
  }
  PALYRA_TRY(validate(config));
  return config;
}

}  // namespace palyra::daemon
