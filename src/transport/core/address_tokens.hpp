// The tokens a server gives a client it has validated, in a NEW_TOKEN frame
// (RFC 9000 §8.1.3), so that the client's next connection proves its address
// in its first Initial instead of paying a Retry's round trip. Retry tokens
// are in stateless_packets.hpp; the two kinds differ in their first byte.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "palyra/common/clock.hpp"
#include "palyra/transport/server_secret.hpp"
#include "palyra/transport/socket_address.hpp"

namespace palyra::transport {

// How long a NEW_TOKEN token proves its address. A node comes back after a
// daemon restart, a network outage or a renewal: within a day covers those,
// and a day bounds how long a token that leaked with a node's state keeps
// the Retry away from its address (THREAT_MODEL.md).
inline constexpr std::chrono::hours kNewTokenLifetime{24};

// Whether `token` is of the NEW_TOKEN kind (by its first byte; not whether
// it is valid).
bool is_new_token(std::span<const std::uint8_t> token) noexcept;

// A token for the client at `client`, sealed with the keys' new-token key
// and stamped with `now`. It is bound to the client's IP address only: its
// port changes between connections (a new socket, a NAT's new mapping).
// Calendar time, not monotonic: the token outlives the process and the
// machine's uptime. Empty when the sealing fails.
std::string make_new_token(const SocketAddress& client, const ServerKeys& keys, SystemTime now);

// Whether `token` is one of ours for the IP address of `client`, made less
// than kNewTokenLifetime before `now`.
bool verify_new_token(std::span<const std::uint8_t> token, const SocketAddress& client,
                      const ServerKeys& keys, SystemTime now);

}  // namespace palyra::transport
