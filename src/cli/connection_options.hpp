// How `palyra health|events|publish` (and later `bench`) reach a daemon: the
// address, the trust anchor, the device identity and the pin, with defaults
// taken from the state directory `palyra init` created.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <string>

#include "palyra/common/result.hpp"
#include "palyra/transport/fallback.hpp"
#include "palyra/transport/limits.hpp"
#include "palyra/transport/socket_address.hpp"
#include "palyra/transport/tls_config.hpp"

namespace palyra::cli {

struct ConnectionOptions {
  std::string connect = "127.0.0.1:7444";
  std::string server_name;  // default: the host part of `connect`
  std::string state_dir;    // default: identity::default_state_dir()
  std::string ca;           // default: <state>/ca/ca.pem
  std::string cert;         // default: the device in <state>/devices/
  std::string key;
  std::string device;       // picks <state>/devices/<device>/
  std::string pin_sha256;
  bool anonymous = false;   // no client certificate (only an insecure daemon accepts it)
  std::uint64_t timeout_ms = 10'000;
  std::string fallback = "none";  // "tcp": allow the explicit gRPC fallback (PROTOCOL.md §5)
  std::string grpc_connect;       // default: the host of --connect, port 7443
};

void add_connection_options(CLI::App& command, ConnectionOptions& options);

struct ResolvedConnection {
  transport::SocketAddress address;
  transport::ClientTlsConfig tls;
  transport::Limits limits;
  std::chrono::milliseconds timeout;
  transport::TcpFallbackPolicy fallback = transport::TcpFallbackPolicy::Disabled;
  std::string grpc_address;  // "host:port" for the fallback
};

// InvalidArgument for a bad address or an ambiguous/missing device identity,
// with what to pass instead.
Result<ResolvedConnection> resolve(const ConnectionOptions& options);

}  // namespace palyra::cli
