// Groups the packets written into a DatagramBatch into bursts GSO
// (UDP_SEGMENT) can send with one system call each: a run of datagrams to
// one peer, all the same size except possibly a shorter last one, within
// the kernel's limits per call.
#pragma once

#include <cstddef>

#include "palyra/transport/datagram.hpp"
#include "palyra/transport/socket_address.hpp"

namespace palyra::transport {

class GsoBursts {
 public:
  // GSO sends at most 64 segments and 64 KiB per system call.
  static constexpr std::size_t kMaxSegments = 64;
  static constexpr std::size_t kMaxBytes = 65000;

  // Packets added go to `to`, in bursts appended to `batch`.
  GsoBursts(DatagramBatch& batch, const SocketAddress& to) : batch_(batch), to_(to) {}

  // The packet of `size` bytes just written at `offset` in the batch's
  // buffer, which is trimmed to end with it.
  void add(std::size_t offset, std::size_t size) {
    batch_.buffer.resize(offset + size);
    if (open_) {
      auto& burst = batch_.bursts.back();
      if (size <= burst.segment_size && burst.length + size <= kMaxBytes &&
          burst.length / burst.segment_size < kMaxSegments) {
        burst.length += size;
        // A short datagram must be the last of its burst.
        if (size < burst.segment_size) open_ = false;
        return;
      }
    }
    batch_.bursts.push_back({to_, offset, size, size});
    open_ = true;
  }

 private:
  DatagramBatch& batch_;
  const SocketAddress& to_;
  bool open_ = false;  // the last burst may take more packets
};

}  // namespace palyra::transport
