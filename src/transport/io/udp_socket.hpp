// Non-blocking UDP socket with batched I/O: recvmmsg (with UDP_GRO, runs of
// datagrams arrive coalesced and are split here) on the way in, GSO
// (UDP_SEGMENT) on the way out when the kernel has it, sendmmsg otherwise.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "palyra/common/result.hpp"
#include "palyra/transport/datagram.hpp"
#include "palyra/transport/socket_address.hpp"

namespace palyra::transport {

// Whether other sockets may bind the same port: each worker of a server has
// its own socket on the one port (SO_REUSEPORT), and the kernel spreads the
// datagrams over them by a hash of their addresses (ARCHITECTURE.md, Workers).
enum class PortSharing { Exclusive, SharedWithWorkers };

class UdpSocket {
 public:
  static Result<UdpSocket> bind(const SocketAddress& local, bool use_gso,
                                PortSharing sharing = PortSharing::Exclusive);
  // A socket connected to `remote` (clients), bound to an ephemeral port.
  static Result<UdpSocket> connect(const SocketAddress& remote, bool use_gso);

  UdpSocket(UdpSocket&& other) noexcept;
  UdpSocket& operator=(UdpSocket&& other) noexcept;
  ~UdpSocket();

  int fd() const noexcept { return fd_; }
  const SocketAddress& local_address() const noexcept { return local_; }
  bool gso_enabled() const noexcept { return gso_; }
  bool gro_enabled() const noexcept { return gro_; }

  using DatagramSink = std::function<void(const SocketAddress& from, std::span<std::uint8_t> data)>;
  // Reads until the socket would block or about `max_datagrams` were read
  // (a coalesced read is delivered whole). Returns how many datagrams were
  // delivered to `sink`, one call each.
  std::size_t receive(const DatagramSink& sink, std::size_t max_datagrams = 256);

  // Sends every burst. Datagrams the kernel refuses (buffer full) are
  // dropped, as a network would drop them: QUIC recovers.
  void send(const DatagramBatch& batch);

  // What went through this socket: datagrams delivered by receive() and
  // handed to the kernel by send() (including any it then dropped).
  struct Traffic {
    std::uint64_t datagrams_in = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t datagrams_out = 0;
    std::uint64_t bytes_out = 0;
  };
  const Traffic& traffic() const noexcept { return traffic_; }

 private:
  UdpSocket(int fd, SocketAddress local, bool use_gso);
  static Result<UdpSocket> open(const SocketAddress& address, bool use_gso, bool connect,
                                PortSharing sharing);
  void send_burst_gso(const DatagramBatch& batch, const DatagramBatch::Burst& burst);
  void send_burst_plain(const DatagramBatch& batch, const DatagramBatch::Burst& burst);

  int fd_ = -1;
  SocketAddress local_;
  bool gso_ = false;
  bool gro_ = false;
  bool connected_ = false;
  Traffic traffic_;
};

// The segment size of a coalesced read, from its UDP_GRO control message;
// 0 when the read is a single datagram. Exposed for its unit test.
std::size_t gro_segment_size(const msghdr& header);

}  // namespace palyra::transport
