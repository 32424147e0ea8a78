// palyra bench: load figures for sizing a deployment (docs/BENCHMARKS.md).
// Each run prints progress on stderr when it is long, and exactly one line
// of JSON figures on stdout. Runs against any server speaking PROTOCOL.md
// (palyrad, or another implementation such as the quinn peer); `publish`
// and `stream --seed` need palyrad's node.publish_event.
#pragma once

#include <cstdint>
#include <string>

#include "../connection_options.hpp"

namespace palyra::cli::bench {

struct CommonOptions {
  ConnectionOptions connection;
  std::uint64_t time_limit_s = 300;  // every run is bounded in time as well as count
};

struct HandshakeOptions {
  CommonOptions common;
  std::uint64_t count = 1000;
  std::uint64_t concurrency = 8;
};

struct RpcOptions {
  CommonOptions common;
  std::uint64_t count = 20000;
  std::uint64_t concurrency = 16;
};

struct PublishOptions {
  CommonOptions common;
  std::uint64_t count = 20000;
  std::uint64_t concurrency = 64;
  std::uint64_t event_bytes = 64;  // size of each event's JSON payload
};

struct StreamOptions {
  CommonOptions common;
  std::uint64_t resume_from = 0;
  std::uint64_t seed = 0;          // publish this many events first
  std::uint64_t event_bytes = 64;  // payload size of seeded events
  std::string transport = "quic";  // or "grpc": the fallback's StreamEvents
};

struct ConnectionsOptions {
  CommonOptions common;
  std::uint64_t count = 1000;
  std::uint64_t hold_s = 10;
  std::uint64_t concurrency = 64;  // handshakes in flight while opening
  int server_pid = 0;              // when given: the server's RSS per held connection
};

struct ReconnectOptions {
  CommonOptions common;
  std::uint64_t count = 1000;
  std::uint64_t concurrency = 64;  // handshakes in flight, opening and reconnecting
};

struct BulkOptions {
  std::uint64_t bytes = 512ull << 20;
  bool gso = true;
  std::uint64_t time_limit_s = 300;
};

int run_handshake(const HandshakeOptions& options);
int run_rpc(const RpcOptions& options);
int run_publish(const PublishOptions& options);
int run_stream(const StreamOptions& options);
int run_connections(const ConnectionsOptions& options);
int run_bulk(const BulkOptions& options);
int run_reconnect(const ReconnectOptions& options);

// One line on stderr ("palyra bench WHAT: ..."); the exit code for `error`.
int report_failure(std::string_view what, const Error& error);

}  // namespace palyra::cli::bench
