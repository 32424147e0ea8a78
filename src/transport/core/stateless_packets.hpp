// Packets a server sends without keeping any state (PROTOCOL.md §8): Retry,
// the CONNECTION_CLOSE that answers a bad token or a full house, the
// Stateless Reset and Version Negotiation. Each writes into `out` and returns the length, or 0 when
// nothing is to be sent.
#pragma once

#include <ngtcp2/ngtcp2.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "palyra/transport/server_secret.hpp"
#include "palyra/transport/socket_address.hpp"

namespace palyra::transport {

// How long a Retry token is accepted: one round trip is all it needs.
inline constexpr std::uint64_t kRetryTokenLifetimeNs = 3'000'000'000;
// RFC 9000 §10.3: never answer a datagram shorter than this with a reset.
// It is the smallest short-header packet anyone can send to our 16-byte
// connection IDs (first byte, CID, then the 4 bytes of packet number and
// payload and the 16 of the AEAD tag that header protection's sample
// needs): 37 bytes. A keep-alive PING packet is about that small, and it
// is what a restarted server usually hears first from an idle client, so a
// higher floor (41 was considered) would leave idle clients to their idle
// timeout. Each reset is one byte smaller than its trigger, so two
// endpoints resetting each other run out of bytes after a few rounds.
inline constexpr std::size_t kMinStatelessResetTrigger = 37;

// A Retry for the Initial `header` from `client`: a token sealed with our
// token key, bound to the client's address and the Initial's DCID, and a
// fresh server CID the client must use next.
std::size_t write_retry(std::span<std::uint8_t> out, const ngtcp2_pkt_hd& header,
                        const SocketAddress& client, const ServerKeys& keys, std::uint64_t now_ns);

// Whether the Initial's token is one of our Retry tokens.
bool is_retry_token(const ngtcp2_pkt_hd& header) noexcept;

// The original DCID sealed in the Initial's Retry token when it is ours,
// unexpired and bound to `client`; nullopt otherwise.
std::optional<ngtcp2_cid> verify_retry_token(const ngtcp2_pkt_hd& header,
                                             const SocketAddress& client, const ServerKeys& keys,
                                             std::uint64_t now_ns);

// An Initial CONNECTION_CLOSE with a transport error code (e.g.
// NGTCP2_INVALID_TOKEN, NGTCP2_CONNECTION_REFUSED) for the Initial `header`.
std::size_t write_initial_close(std::span<std::uint8_t> out, const ngtcp2_pkt_hd& header,
                                std::uint64_t error_code);

// A Stateless Reset for a short-header packet of `trigger_size` bytes to the
// connection ID `dcid`: one byte smaller than the trigger (so two servers
// cannot reset each other forever), and nothing for a trigger under
// kMinStatelessResetTrigger.
std::size_t write_stateless_reset(std::span<std::uint8_t> out, std::span<const std::uint8_t> dcid,
                                  std::size_t trigger_size, const ServerKeys& keys);

// RFC 9000 §6: a Version Negotiation (listing QUIC v1) for a long-header
// packet of another version. Only a datagram of an Initial's minimum size
// (1200 bytes) earns one, so the answer is always far smaller than its
// trigger; nothing for a smaller one.
std::size_t write_version_negotiation(std::span<std::uint8_t> out,
                                      std::span<const std::uint8_t> client_dcid,
                                      std::span<const std::uint8_t> client_scid,
                                      std::size_t trigger_size);

}  // namespace palyra::transport
