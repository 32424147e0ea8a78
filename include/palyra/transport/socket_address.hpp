// An IPv4 or IPv6 UDP/TCP endpoint address.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "palyra/common/result.hpp"

namespace palyra::transport {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  // "127.0.0.1:7444", "[::1]:7444", "localhost:7444" (resolved, IPv4 first).
  // InvalidArgument with the input on anything else.
  static Result<SocketAddress> parse(std::string_view host_port);
  static Result<SocketAddress> from_host_and_port(std::string_view host, std::uint16_t port);

  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage); }
  int family() const noexcept { return storage.ss_family; }
  std::uint16_t port() const noexcept;
  std::string host() const;       // "127.0.0.1" or "::1"
  std::string to_string() const;  // "127.0.0.1:7444" or "[::1]:7444"

  bool operator==(const SocketAddress& other) const noexcept;
};

}  // namespace palyra::transport
