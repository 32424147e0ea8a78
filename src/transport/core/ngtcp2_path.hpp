// Our SocketAddress and ngtcp2's path addresses, each way: ngtcp2 borrows
// our addresses for the path of a packet it reads, and names in its own the
// path of a packet it writes and the path it uses now.
#pragma once

#include <ngtcp2/ngtcp2.h>

#include <algorithm>
#include <cstring>

#include "palyra/transport/socket_address.hpp"

namespace palyra::transport {

// A path that points into `local` and `remote`: they must outlive it.
inline ngtcp2_path make_path(const SocketAddress& local, const SocketAddress& remote) {
  ngtcp2_path path{};
  path.local.addr = const_cast<sockaddr*>(local.data());
  path.local.addrlen = local.length;
  path.remote.addr = const_cast<sockaddr*>(remote.data());
  path.remote.addrlen = remote.length;
  return path;
}

// A copy of ngtcp2's address (empty when ngtcp2 left it empty).
inline SocketAddress address_of(const ngtcp2_addr& addr) {
  SocketAddress address;
  const std::size_t length = std::min<std::size_t>(addr.addrlen, sizeof address.storage);
  if (length > 0) std::memcpy(&address.storage, addr.addr, length);
  address.length = static_cast<socklen_t>(length);
  return address;
}

}  // namespace palyra::transport
