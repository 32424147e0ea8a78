#include "palyra/transport/socket_address.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace palyra::transport {

Result<SocketAddress> SocketAddress::from_host_and_port(std::string_view host, std::uint16_t port) {
  std::string host_string(host);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  int rv = getaddrinfo(host_string.c_str(), nullptr, &hints, &found);
  if (rv != 0 || found == nullptr) {
    return Error(Errc::InvalidArgument,
                 fmt::format("cannot resolve host '{}': {}", host, gai_strerror(rv)));
  }
  // Prefer IPv4 for names like "localhost" that resolve to both, so a daemon
  // bound to 127.0.0.1 is reached.
  const addrinfo* pick = found;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
  }
  SocketAddress address;
  std::memcpy(&address.storage, pick->ai_addr, pick->ai_addrlen);
  address.length = pick->ai_addrlen;
  freeaddrinfo(found);
  if (address.family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&address.storage)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(&address.storage)->sin6_port = htons(port);
  }
  return address;
}

Result<SocketAddress> SocketAddress::parse(std::string_view host_port) {
  std::string_view host;
  std::string_view port_text;
  if (!host_port.empty() && host_port.front() == '[') {
    auto close = host_port.find(']');
    if (close == std::string_view::npos || close + 1 >= host_port.size() ||
        host_port[close + 1] != ':') {
      return Error(Errc::InvalidArgument,
                   fmt::format("'{}' is not HOST:PORT (IPv6 as [ADDR]:PORT)", host_port));
    }
    host = host_port.substr(1, close - 1);
    port_text = host_port.substr(close + 2);
  } else {
    auto colon = host_port.rfind(':');
    if (colon == std::string_view::npos || host_port.find(':') != colon) {
      return Error(Errc::InvalidArgument,
                   fmt::format("'{}' is not HOST:PORT (IPv6 as [ADDR]:PORT)", host_port));
    }
    host = host_port.substr(0, colon);
    port_text = host_port.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 ||
      host.empty()) {
    return Error(Errc::InvalidArgument,
                 fmt::format("'{}': port must be a number from 0 to 65535", host_port));
  }
  return from_host_and_port(host, static_cast<std::uint16_t>(port));
}

std::uint16_t SocketAddress::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (family() == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

std::string SocketAddress::host() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, text,
              sizeof text);
  } else if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, text,
              sizeof text);
  }
  return text;
}

std::string SocketAddress::to_string() const {
  if (family() == AF_INET6) return fmt::format("[{}]:{}", host(), port());
  return fmt::format("{}:{}", host(), port());
}

bool SocketAddress::operator==(const SocketAddress& other) const noexcept {
  return length == other.length && std::memcmp(&storage, &other.storage, length) == 0;
}

}  // namespace palyra::transport
