// Retry, Initial CONNECTION_CLOSE, Stateless Reset and Version Negotiation: see
// stateless_packets.hpp.
#include "stateless_packets.hpp"

#include <ngtcp2/ngtcp2_crypto.h>

#include <algorithm>
#include <array>
#include <iterator>

#include "quic_random.hpp"

namespace palyra::transport {
namespace {

constexpr std::size_t kServerCidLength = 16;  // as Connection::accept chooses

std::size_t length_or_zero(ngtcp2_ssize n) {
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

}  // namespace

std::size_t write_retry(std::span<std::uint8_t> out, const ngtcp2_pkt_hd& header,
                        const SocketAddress& client, const ServerKeys& keys, std::uint64_t now_ns) {
  ngtcp2_cid retry_scid{};
  retry_scid.datalen = kServerCidLength;
  random_bytes(retry_scid.data, retry_scid.datalen);
  std::array<std::uint8_t, NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN> token{};
  const auto key = keys.token_key();
  ngtcp2_ssize token_length = ngtcp2_crypto_generate_retry_token(
      token.data(), key.data(), key.size(), header.version, client.data(), client.length,
      &retry_scid, &header.dcid, now_ns);
  if (token_length <= 0) return 0;
  return length_or_zero(ngtcp2_crypto_write_retry(
      out.data(), out.size(), header.version, &header.scid, &retry_scid, &header.dcid, token.data(),
      static_cast<std::size_t>(token_length)));
}

bool is_retry_token(const ngtcp2_pkt_hd& header) noexcept {
  return header.token.len > 0 && header.token.base[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY;
}

std::optional<ngtcp2_cid> verify_retry_token(const ngtcp2_pkt_hd& header,
                                             const SocketAddress& client, const ServerKeys& keys,
                                             std::uint64_t now_ns) {
  ngtcp2_cid original_dcid{};
  const auto key = keys.token_key();
  int rv = ngtcp2_crypto_verify_retry_token(
      &original_dcid, header.token.base, header.token.len, key.data(), key.size(), header.version,
      client.data(), client.length, &header.dcid, kRetryTokenLifetimeNs, now_ns);
  if (rv != 0) return std::nullopt;
  return original_dcid;
}

std::size_t write_initial_close(std::span<std::uint8_t> out, const ngtcp2_pkt_hd& header,
                                std::uint64_t error_code) {
  return length_or_zero(ngtcp2_crypto_write_connection_close(
      out.data(), out.size(), header.version, &header.scid, &header.dcid, error_code, nullptr, 0));
}

std::size_t write_stateless_reset(std::span<std::uint8_t> out, std::span<const std::uint8_t> dcid,
                                  std::size_t trigger_size, const ServerKeys& keys) {
  if (trigger_size < kMinStatelessResetTrigger) return 0;
  // Unpredictable bits (ngtcp2 takes the first byte's from them too) and
  // the token, one byte under the trigger.
  const std::size_t total = std::min(trigger_size - 1, out.size());
  const std::size_t random_length = total - NGTCP2_STATELESS_RESET_TOKENLEN;
  std::array<std::uint8_t, NGTCP2_STATELESS_RESET_TOKENLEN> token{};
  keys.stateless_reset_token(dcid, token.data());
  std::array<std::uint8_t, NGTCP2_MAX_UDP_PAYLOAD_SIZE> unpredictable{};
  random_bytes(unpredictable.data(), random_length);
  return length_or_zero(ngtcp2_pkt_write_stateless_reset(out.data(), out.size(), token.data(),
                                                         unpredictable.data(), random_length));
}

std::size_t write_version_negotiation(std::span<std::uint8_t> out,
                                      std::span<const std::uint8_t> client_dcid,
                                      std::span<const std::uint8_t> client_scid,
                                      std::size_t trigger_size) {
  if (trigger_size < NGTCP2_MAX_UDP_PAYLOAD_SIZE) return 0;
  std::uint8_t unused = 0;
  random_bytes(&unused, 1);
  const std::uint32_t versions[] = {NGTCP2_PROTO_VER_V1};
  // Our SCID is the client's DCID and the other way round (RFC 8999 §6).
  return length_or_zero(ngtcp2_pkt_write_version_negotiation(
      out.data(), out.size(), unused, client_scid.data(), client_scid.size(), client_dcid.data(),
      client_dcid.size(), versions, std::size(versions)));
}

}  // namespace palyra::transport
