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

// "a, b,c" -> {"a", "b", "c"}: spaces around an entry are not part of it;
// an empty entry stays empty (and is refused by the caller).
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    const auto first = item.find_first_not_of(' ');
    item = first == std::string::npos ? ""
                                      : item.substr(first, item.find_last_not_of(' ') - first + 1);
    out.push_back(std::move(item));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

// --connect, --server-name and --pin-sha256 as one gateway per address. A
// pin list is positional: the i-th pin is the i-th address's, or one pin is
// every gateway's (a certificate shared by the cluster).
Result<std::vector<Gateway>> parse_gateways(const ConnectionOptions& options) {
  const auto addresses = split_list(options.connect);
  const auto pins =
      options.pin_sha256.empty() ? std::vector<std::string>{} : split_list(options.pin_sha256);
  if (!pins.empty() && pins.size() != 1 && pins.size() != addresses.size()) {
    return Error(Errc::InvalidArgument,
                 fmt::format("--pin-sha256 has {} fingerprints for {} --connect addresses: give "
                             "one for every gateway, or one per address in the same order",
                             pins.size(), addresses.size()));
  }
  std::vector<Gateway> out;
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    auto address = transport::SocketAddress::parse(addresses[i]);
    if (!address) {
      return Error(
          Errc::InvalidArgument,
          addresses.size() == 1
              ? fmt::format("--connect '{}': {}", options.connect, address.error().message())
              : fmt::format("--connect '{}': address {} '{}': {}", options.connect, i + 1,
                            addresses[i], address.error().message()));
    }
    Gateway gateway{
        *address, options.server_name.empty() ? host_part(addresses[i]) : options.server_name, {}};
    if (!pins.empty()) gateway.pinned_sha256 = pins.size() == 1 ? pins[0] : pins[i];
    out.push_back(std::move(gateway));
  }
  return out;
}

}  // namespace

ResolvedConnection at_gateway(const ResolvedConnection& connection, std::size_t index) {
  ResolvedConnection out = connection;
  out.gateway = index % connection.gateways.size();
  const Gateway& gateway = connection.gateways[out.gateway];
  out.address = gateway.address;
  out.tls.server_name = gateway.server_name;
  out.tls.pinned_sha256 = gateway.pinned_sha256;
  return out;
}

void add_connection_options(CLI::App& command, ConnectionOptions& options, Identity identity) {
  command
      .add_option("--connect", options.connect,
                  "daemon address HOST:PORT, or several gateways of one cluster comma-separated "
                  "(tried in order; a follower moves on when one goes away)")
      ->envname("PALYRA_CONNECT")
      ->capture_default_str();
  command.add_option("--server-name", options.server_name,
                     "name the server certificate must carry (default: the host of each "
                     "--connect address)");
  command.add_option("--state-dir", options.state_dir,
                     "where the CA and device identities are (default: $PALYRA_STATE_DIR, else "
                     "$XDG_STATE_HOME/palyra, else ~/.local/state/palyra)");
  command
      .add_option("--fallback", options.fallback,
                  "none (default), or tcp: if QUIC cannot reach the daemon (UDP blocked), "
                  "retry over gRPC/TCP and say so. publish never falls back; one --connect "
                  "address only.")
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
                     "also require this SHA-256 of the server certificate (hex); with several "
                     "--connect addresses, one for all or one per address, comma-separated");
  command.add_flag("--anonymous", options.anonymous,
                   "present no client certificate (only a daemon in insecure mode accepts this)");
}

Result<ResolvedConnection> resolve(const ConnectionOptions& options) {
  auto gateways = parse_gateways(options);
  if (!gateways) return std::move(gateways).error();
  if (options.timeout_ms == 0) return Error(Errc::InvalidArgument, "--timeout must be > 0");
  if (options.fallback == "tcp" && gateways->size() > 1) {
    return Error(Errc::InvalidArgument,
                 "--fallback tcp takes one --connect address: the gRPC fallback reaches one "
                 "gateway and does not move on to another; name the one to fall back to");
  }
  const identity::StateDir dir = identity::state_dir_or_default(options.state_dir);
  ResolvedConnection out{
      gateways->front().address, {}, {}, std::chrono::milliseconds(options.timeout_ms)};
  out.tls.ca_file = options.ca.empty() ? dir.ca_cert() : std::filesystem::path(options.ca);
  out.tls.server_name = gateways->front().server_name;
  out.tls.pinned_sha256 = gateways->front().pinned_sha256;
  out.gateways = std::move(*gateways);
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
    const std::string host = host_part(split_list(options.connect).front());
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
    const std::string host = host_part(split_list(options.connect).front());
    out->grpc_address = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":7442";
  }
  return out;
}

}  // namespace palyra::cli
