#include "connection_options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <vector>

#include "palyra/identity/device_identity.hpp"
#include "palyra/identity/state_dir.hpp"
#include "palyra/transport/io/qlog_files.hpp"

namespace palyra::cli {
namespace {

// "host:port" or "[v6]:port" -> host, without brackets.
std::string host_part(const std::string& connect) {
  if (connect.starts_with('[')) {
    auto end = connect.find(']');
    return end == std::string::npos ? connect : connect.substr(1, end - 1);
  }
  auto colon = connect.rfind(':');
  return colon == std::string::npos ? connect : connect.substr(0, colon);
}

// The device whose identity to present when --cert/--key are not given.
Result<std::string> pick_device(const identity::StateDir& dir, const std::string& wanted) {
  if (!wanted.empty()) return wanted;
  std::vector<std::string> devices;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir.root / "devices", ec)) {
    // Generation directories of a renewed identity start with '.'.
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && !identity::is_hidden_device_entry(name)) devices.push_back(name);
  }
  std::sort(devices.begin(), devices.end());
  if (devices.size() == 1) return devices.front();
  if (devices.empty()) {
    return Error(Errc::InvalidArgument,
                 fmt::format("no device identity in {}/devices: pass --cert and --key, or issue "
                             "one with `palyra cert device`",
                             dir.root.string()));
  }
  return Error(Errc::InvalidArgument,
               fmt::format("several device identities in {}/devices ({}): choose one with "
                           "--device, or pass --cert and --key",
                           dir.root.string(), fmt::join(devices, ", ")));
}

}  // namespace

void add_connection_options(CLI::App& command, ConnectionOptions& options, Identity identity) {
  command.add_option("--connect", options.connect, "daemon address HOST:PORT")
      ->capture_default_str();
  command.add_option("--server-name", options.server_name,
                     "name the server certificate must carry (default: the host of --connect)");
  command.add_option("--state-dir", options.state_dir,
                     "where the CA and device identities are (default: $PALYRA_STATE_DIR, else "
                     "$XDG_STATE_HOME/palyra, else ~/.local/state/palyra)");
  command
      .add_option("--fallback", options.fallback,
                  "none (default), or tcp: if QUIC cannot reach the daemon (UDP blocked), "
                  "retry over gRPC/TCP and say so. publish never falls back.")
      ->check(CLI::IsMember({"none", "tcp"}));
  command.add_option("--grpc-connect", options.grpc_connect,
                     identity == Identity::Enrolling
                         ? "the daemon's gRPC enrollment listener HOST:PORT (default: the host of "
                           "--connect, port 7442)"
                         : "the daemon's gRPC fallback address HOST:PORT (default: the host of "
                           "--connect, port 7443)");
  command
      .add_option("--timeout", options.timeout_ms, "handshake and response timeout in milliseconds")
      ->capture_default_str();
  command
      .add_option("--qlog-dir", options.qlog_dir,
                  "write a qlog trace of the QUIC connection into this existing directory "
                  "(<connection id>.sqlog, for qvis)")
      ->envname("PALYRA_QLOG_DIR");
  if (identity == Identity::Enrolling) return;
  command.add_option("--ca", options.ca, "CA certificate to trust (default: <state>/ca/ca.pem)");
  command.add_option("--cert", options.cert,
                     "client certificate (default: the device identity in <state>/devices/)");
  command.add_option("--key", options.key, "client private key (with --cert)");
  command.add_option("--device", options.device,
                     "use <state>/devices/<ID>/ when there are several devices");
  command.add_option("--pin-sha256", options.pin_sha256,
                     "also require this SHA-256 of the server certificate (hex)");
  command.add_flag("--anonymous", options.anonymous,
                   "present no client certificate (only a daemon in insecure mode accepts this)");
}

Result<ResolvedConnection> resolve(const ConnectionOptions& options) {
  auto address = transport::SocketAddress::parse(options.connect);
  if (!address) {
    return Error(Errc::InvalidArgument,
                 fmt::format("--connect '{}': {}", options.connect, address.error().message()));
  }
  if (options.timeout_ms == 0) return Error(Errc::InvalidArgument, "--timeout must be > 0");
  const identity::StateDir dir = identity::state_dir_or_default(options.state_dir);
  ResolvedConnection out{*address, {}, {}, std::chrono::milliseconds(options.timeout_ms)};
  out.tls.ca_file = options.ca.empty() ? dir.ca_cert() : std::filesystem::path(options.ca);
  out.tls.server_name =
      options.server_name.empty() ? host_part(options.connect) : options.server_name;
  if (!options.pin_sha256.empty()) out.tls.pinned_sha256 = options.pin_sha256;
  if (options.cert.empty() != options.key.empty()) {
    return Error(Errc::InvalidArgument, "--cert and --key go together");
  }
  if (!options.cert.empty()) {
    out.tls.cert_file = options.cert;
    out.tls.key_file = options.key;
  } else if (!options.anonymous) {
    auto device = pick_device(dir, options.device);
    if (!device) return std::move(device).error();
    out.tls.cert_file = dir.device_cert(*device);
    out.tls.key_file = dir.device_key(*device);
    out.state_dir = dir.root;
    out.device_id = *device;
  }
  out.fallback = options.fallback == "tcp" ? transport::TcpFallbackPolicy::AllowExplicit
                                           : transport::TcpFallbackPolicy::Disabled;
  if (!options.grpc_connect.empty()) {
    out.grpc_address = options.grpc_connect;
  } else {
    const std::string host = host_part(options.connect);
    out.grpc_address = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":7443";
  }
  if (!options.qlog_dir.empty()) {
    auto qlog = transport::qlog_files(options.qlog_dir, [](const Error& error) {
      std::cerr << fmt::format("palyra: warning: {}\n", error.message());
    });
    if (!qlog) {
      return Error(Errc::InvalidArgument, fmt::format("--qlog-dir: {}", qlog.error().message()));
    }
    out.quic.qlog = std::move(*qlog);
  }
  out.limits.handshake_timeout = out.timeout;
  if (out.limits.idle_timeout <= out.limits.keep_alive_interval) {
    out.limits.idle_timeout = out.limits.keep_alive_interval * 2;
  }
  return out;
}

Result<ResolvedConnection> resolve_enrollment(const ConnectionOptions& options,
                                              const std::string& ca_spki_sha256) {
  ConnectionOptions anonymous = options;
  anonymous.anonymous = true;
  anonymous.device.clear();
  auto out = resolve(anonymous);
  if (!out) return out;
  out->tls.ca_file.clear();
  out->tls.alpn = transport::kEnrollAlpn;
  out->tls.ca_spki_sha256 = ca_spki_sha256;
  if (options.grpc_connect.empty()) {
    const std::string host = host_part(options.connect);
    out->grpc_address = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":7442";
  }
  return out;
}

}  // namespace palyra::cli
