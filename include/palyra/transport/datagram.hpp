// Outgoing datagrams, laid out back to back for batched sending.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "palyra/transport/socket_address.hpp"

namespace palyra::transport {

// A burst is a run of datagrams to one peer, all `segment_size` long except
// possibly the last: the shape GSO (UDP_SEGMENT) sends with one system call.
struct DatagramBatch {
  struct Burst {
    SocketAddress to;
    std::size_t offset = 0;
    std::size_t length = 0;
    std::size_t segment_size = 0;
  };
  std::vector<std::uint8_t> buffer;
  std::vector<Burst> bursts;

  void clear() noexcept {
    buffer.clear();
    bursts.clear();
  }
  bool empty() const noexcept { return bursts.empty(); }
};

}  // namespace palyra::transport
