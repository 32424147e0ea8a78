// Hand-made QUIC packets on a plain UDP socket, for tests that play an
// attacker: Initials that parse but never decrypt (the flood of issue 14),
// Initials carrying any token, short-header packets for any connection ID.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "palyra/transport/socket_address.hpp"

namespace palyra::transport::testing {

// A UDP socket on 127.0.0.1, an ephemeral port of its own.
class RawUdp {
 public:
  RawUdp() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local);
  }
  ~RawUdp() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawUdp(const RawUdp&) = delete;
  RawUdp& operator=(const RawUdp&) = delete;

  bool send_to(const SocketAddress& to, const std::vector<std::uint8_t>& datagram) const {
    return ::sendto(fd_, datagram.data(), datagram.size(), 0, to.data(), to.length) ==
           static_cast<ssize_t>(datagram.size());
  }
  // The next datagram within `timeout_ms`, or nothing.
  std::optional<std::vector<std::uint8_t>> receive(int timeout_ms) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return std::nullopt;
    std::vector<std::uint8_t> buffer(65536);
    ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) return std::nullopt;
    buffer.resize(static_cast<std::size_t>(n));
    return buffer;
  }

 private:
  int fd_ = -1;
};

inline std::vector<std::uint8_t> random_bytes_for_test(std::size_t n, std::mt19937& rng) {
  std::vector<std::uint8_t> out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

// A 1200-byte QUIC v1 Initial whose header parses (so a server may accept
// it) and whose payload is noise: it can never be decrypted, the cheapest
// packet with which to ask a server for connection state.
inline std::vector<std::uint8_t> crafted_initial(const std::vector<std::uint8_t>& dcid,
                                                 const std::vector<std::uint8_t>& scid,
                                                 const std::vector<std::uint8_t>& token,
                                                 std::mt19937& rng) {
  std::vector<std::uint8_t> p;
  p.reserve(1200);
  for (std::uint8_t b : {0xc3, 0x00, 0x00, 0x00, 0x01}) p.push_back(b);  // Initial, QUIC v1
  p.push_back(static_cast<std::uint8_t>(dcid.size()));
  p.insert(p.end(), dcid.begin(), dcid.end());
  p.push_back(static_cast<std::uint8_t>(scid.size()));
  p.insert(p.end(), scid.begin(), scid.end());
  // Token length as a 2-byte varint, then the token.
  p.push_back(static_cast<std::uint8_t>(0x40 | (token.size() >> 8)));
  p.push_back(static_cast<std::uint8_t>(token.size() & 0xff));
  p.insert(p.end(), token.begin(), token.end());
  const std::size_t remaining = 1200 - p.size() - 2;  // after the 2-byte Length field
  p.push_back(static_cast<std::uint8_t>(0x40 | (remaining >> 8)));
  p.push_back(static_cast<std::uint8_t>(remaining & 0xff));
  auto noise = random_bytes_for_test(remaining, rng);
  p.insert(p.end(), noise.begin(), noise.end());
  return p;
}

// A short-header packet of `size` bytes to connection ID `dcid`.
inline std::vector<std::uint8_t> short_header_packet(const std::vector<std::uint8_t>& dcid,
                                                     std::size_t size, std::mt19937& rng) {
  std::vector<std::uint8_t> p = random_bytes_for_test(size, rng);
  p[0] = 0x41;  // short header, fixed bit
  std::copy(dcid.begin(), dcid.end(), p.begin() + 1);
  return p;
}

// What a Retry packet carries: the server's new CID and the token.
struct RetryFields {
  std::vector<std::uint8_t> scid;
  std::vector<std::uint8_t> token;
};

inline std::optional<RetryFields> parse_retry(const std::vector<std::uint8_t>& p) {
  if (p.size() < 7 || (p[0] & 0xf0) != 0xf0) return std::nullopt;  // long header, type Retry
  std::size_t at = 5;
  at += 1 + p[at];  // DCID
  if (at >= p.size()) return std::nullopt;
  std::size_t scid_length = p[at++];
  if (at + scid_length + 16 > p.size()) return std::nullopt;
  RetryFields fields;
  fields.scid.assign(p.begin() + static_cast<long>(at),
                     p.begin() + static_cast<long>(at + scid_length));
  at += scid_length;
  fields.token.assign(p.begin() + static_cast<long>(at), p.end() - 16);  // before the tag
  return fields;
}

}  // namespace palyra::transport::testing
