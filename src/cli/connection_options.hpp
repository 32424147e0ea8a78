// How `palyra health|events|publish` (and later `bench`) reach a daemon: the
// address, the trust anchor, the device identity and the pin, with defaults
// taken from the state directory `palyra init` created. `--connect` may name
// several gateways of one cluster (comma-separated): each is checked against
// the same CA, so moving on to the next one is never a weaker trust.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "palyra/common/result.hpp"
#include "palyra/transport/io/address_token_store.hpp"
#include "palyra/transport/io/fallback.hpp"
#include "palyra/transport/limits.hpp"
#include "palyra/transport/socket_address.hpp"
#include "palyra/transport/tls_config.hpp"

namespace palyra::cli {

struct ConnectionOptions {
  std::string connect = "127.0.0.1:7444";  // HOST:PORT, or several comma-separated
  std::string server_name;                 // default: the host part of each address
  std::string state_dir;                   // default: identity::default_state_dir()
  std::string ca;                          // default: <state>/ca/ca.pem
  std::string cert;                        // default: the device in <state>/devices/
  std::string key;
  std::string device;      // picks <state>/devices/<device>/
  std::string pin_sha256;  // one for every gateway, or one per address (comma-separated)
  bool anonymous = false;  // no client certificate (only an insecure daemon accepts it)
  std::uint64_t timeout_ms = 10'000;
  std::string fallback = "none";  // "tcp": allow the explicit gRPC fallback (PROTOCOL.md §5)
  std::string grpc_connect;       // default: the host of --connect, port 7443
  std::string qlog_dir;           // a qlog trace of each QUIC connection goes here
};

// Which options a command takes: a node's identity (--ca, --cert, --key,
// --device, --pin-sha256, --anonymous), or none (enrollment: the token is
// the trust, the node has no certificate yet).
enum class Identity { Device, Enrolling };
void add_connection_options(CLI::App& command, ConnectionOptions& options,
                            Identity identity = Identity::Device);

// One gateway of --connect: where it is, the name its certificate must
// carry, and the SHA-256 it must have if pinned.
struct Gateway {
  transport::SocketAddress address;
  std::string server_name;
  std::optional<std::string> pinned_sha256;
};

struct ResolvedConnection {
  transport::SocketAddress address;  // the gateway in use: gateways[gateway]
  transport::ClientTlsConfig tls;    // server_name and pinned_sha256: the gateway in use's
  transport::Limits limits;
  std::chrono::milliseconds timeout;
  transport::ConnectOptions quic;  // the qlog traces of --qlog-dir
  transport::TcpFallbackPolicy fallback = transport::TcpFallbackPolicy::Disabled;
  std::string grpc_address;  // "host:port" for the fallback
  // Set when the client identity is a device in a state directory (not
  // --cert/--key): what renewal rewrites.
  std::optional<std::filesystem::path> state_dir;
  std::string device_id;
  // The daemon's NEW_TOKEN tokens, shared by every copy of this connection:
  // a command that reconnects (a follower, its renewals) skips the daemon's
  // Retry. In memory only, for this process.
  std::shared_ptr<transport::AddressTokenStore> address_tokens =
      std::make_shared<transport::AddressTokenStore>();
  // Every --connect address, in the order given (at least one), and which
  // one `address` and `tls` aim at now.
  std::vector<Gateway> gateways;
  std::size_t gateway = 0;
};

// A copy of `connection` aimed at gateways[index % gateways.size()].
ResolvedConnection at_gateway(const ResolvedConnection& connection, std::size_t index);

// InvalidArgument for a bad address, an ambiguous/missing device identity, a
// --qlog-dir that is not a writable directory, as many pins as neither one
// nor the addresses, or --fallback tcp with several addresses (the gRPC
// fallback reaches one gateway), with what to pass instead.
Result<ResolvedConnection> resolve(const ConnectionOptions& options);
// For `palyra enroll`: the enrollment ALPN, no CA file and no client
// certificate; the server's CA must have the token's SPKI SHA-256. The gRPC
// fallback goes to the enrollment listener (default port 7442).
Result<ResolvedConnection> resolve_enrollment(const ConnectionOptions& options,
                                              const std::string& ca_spki_sha256);

}  // namespace palyra::cli
