// The tokens servers gave us in NEW_TOKEN frames (RFC 9000 §8.1.3), kept in
// memory for the next connection to the same server: presented in its first
// Initial, a token proves our address, so a busy server (or one with
// gateway.retry = always) lets us in without a Retry's extra round trip.
//
// A Client given a store presents the token for its server when it starts
// and keeps the one its connection receives. A token stays until a newer one
// replaces it — the server sends a fresh one on every connection — so the
// attempts that fail while a daemon restarts do not use it up, and the one
// that reaches the new daemon still has it. RFC 9000 §8.1.3 advises against
// presenting a token twice, because equal bytes let observers on the path
// link the attempts; ours are bound to the client's IP address, which links
// them already (THREAT_MODEL.md). Nothing is written to disk: a process that
// connects once (most CLI commands) gains nothing, one that reconnects
// (`palyra events --follow`, its renewals) does.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "palyra/transport/socket_address.hpp"

namespace palyra::transport {

// Safe to share between threads (a follower and its renewal thread).
class AddressTokenStore {
 public:
  // The token `server` (reached under `server_name`) gave us last; nullopt
  // when there is none.
  std::optional<std::string> token_for(const SocketAddress& server,
                                       std::string_view server_name) const;
  // Keeps `token` for the next connection to `server` under `server_name`,
  // replacing any older one.
  void keep(const SocketAddress& server, std::string_view server_name, std::string token);
  // How many servers we hold a token for.
  std::size_t size() const;

 private:
  using Key = std::pair<std::string, std::string>;  // address, server name
  mutable std::mutex mutex_;
  std::map<Key, std::string> tokens_;
};

}  // namespace palyra::transport
