// The server a load run aims at: its resolved address and identity options,
// the client TLS context every connection shares (certificates are loaded
// once), and the event loop that drives all of the run's connections.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "../connection_options.hpp"
#include "bench.hpp"
#include "load_connection.hpp"
#include "palyra/transport/io/client.hpp"
#include "palyra/transport/io/event_loop.hpp"

namespace palyra::cli::bench {

struct Target {
  ResolvedConnection connection;
  std::shared_ptr<const transport::ClientTlsContext> tls;
  std::unique_ptr<transport::EventLoop> loop;
  std::chrono::seconds time_limit;
};

// Also raises the open-file limit to its hard maximum: every client
// connection has its own UDP socket.
Result<Target> prepare_target(const CommonOptions& options);

// A connection to the target, on its loop.
Result<std::unique_ptr<LoadConnection>> open_connection(Target& target,
                                                        LoadConnection::Handlers handlers);

// Opens `count` connections and waits until every one is established. The
// first close of any of them, now or later, is stored in `first_close`,
// which must outlive them.
Result<std::vector<std::unique_ptr<LoadConnection>>> open_established(
    Target& target, std::size_t count, std::optional<Error>& first_close);

// A node.publish_event payload of exactly `bytes` bytes of JSON.
std::string payload_of_size(std::uint64_t bytes);

}  // namespace palyra::cli::bench
