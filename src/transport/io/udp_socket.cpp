#include "udp_socket.hpp"

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace palyra::transport {
namespace {

constexpr std::size_t kMaxDatagram = 65536;
constexpr std::size_t kReceiveBatch = 32;
constexpr int kSocketBufferBytes = 4 * 1024 * 1024;

Result<int> open_socket(int family) {
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) {
    return Error(Errc::EndpointBindFailed, fmt::format("socket(): {}", std::strerror(errno)));
  }
  // Bigger kernel buffers absorb bursts (handshake floods, bulk transfers).
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBufferBytes, sizeof kSocketBufferBytes);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBufferBytes, sizeof kSocketBufferBytes);
  if (family == AF_INET6) {
    int off = 0;  // accept IPv4-mapped peers too when bound to [::]
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  return fd;
}

bool probe_gso(int fd) {
  int segment = 1200;
  return setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &segment, sizeof segment) == 0 && [&] {
    int zero = 0;  // leave the per-socket default off; we pass it per message
    setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &zero, sizeof zero);
    return true;
  }();
}

// Asks the kernel to hand us runs of same-sized datagrams from one sender as
// one buffer (split again in receive()): on loopback a GSO burst then crosses
// the stack as one skb instead of being segmented for the receiver.
bool enable_gro(int fd) {
  int on = 1;
  return setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof on) == 0;
}

// Where recvmmsg writes. One per thread, not per socket: a client process
// holding thousands of connections has a socket each, and 2 MiB of zeroed
// buffer per socket cost more than its handshake. The sink consumes each
// datagram before `receive` returns, so sockets on one thread can share it.
// Left uninitialised: only the slots the kernel fills are ever touched.
std::uint8_t* thread_receive_buffer() {
  thread_local auto buffer =
      std::make_unique_for_overwrite<std::uint8_t[]>(kMaxDatagram * kReceiveBatch);
  return buffer.get();
}

Result<SocketAddress> local_address_of(int fd) {
  SocketAddress local;
  local.length = sizeof local.storage;
  if (getsockname(fd, local.data(), &local.length) != 0) {
    return Error(Errc::EndpointBindFailed, fmt::format("getsockname: {}", std::strerror(errno)));
  }
  return local;
}

}  // namespace

// The kernel writes UDP_GRO's control message as an int (udp_cmsg_recv:
// put_cmsg(..., sizeof(int), &gso_size)), unlike UDP_SEGMENT's u16 on the way
// out. Reading a u16 of it would be right on little-endian machines only.
std::size_t gro_segment_size(const msghdr& header) {
  for (const cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&header), const_cast<cmsghdr*>(c))) {
    if (c->cmsg_level != IPPROTO_UDP || c->cmsg_type != UDP_GRO) continue;
    if (c->cmsg_len < CMSG_LEN(sizeof(int))) return 0;
    int segment = 0;
    std::memcpy(&segment, CMSG_DATA(c), sizeof segment);
    // A segment size is what skb_shinfo's u16 gso_size holds: anything else
    // is not one, and the read is handed on whole.
    if (segment <= 0 || segment > 0xffff) return 0;
    return static_cast<std::size_t>(segment);
  }
  return 0;
}

UdpSocket::UdpSocket(int fd, SocketAddress local, bool use_gso)
    : fd_(fd), local_(local), gso_(use_gso && probe_gso(fd)), gro_(use_gso && enable_gro(fd)) {}

UdpSocket::UdpSocket(UdpSocket&& other) noexcept
    : fd_(other.fd_),
      local_(other.local_),
      gso_(other.gso_),
      gro_(other.gro_),
      connected_(other.connected_),
      traffic_(other.traffic_) {
  other.fd_ = -1;
}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    local_ = other.local_;
    gso_ = other.gso_;
    gro_ = other.gro_;
    connected_ = other.connected_;
    traffic_ = other.traffic_;
    other.fd_ = -1;
  }
  return *this;
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) close(fd_);
}

// Opens a socket for `address`'s family and either binds or connects it.
Result<UdpSocket> UdpSocket::open(const SocketAddress& address, bool use_gso, bool connect,
                                  PortSharing sharing) {
  auto fd = open_socket(address.family());
  if (!fd) return std::move(fd).error();
  if (sharing == PortSharing::SharedWithWorkers) {
    // Every socket on the port must ask, the first one included.
    int on = 1;
    if (setsockopt(*fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
      int saved = errno;
      close(*fd);
      return Error(Errc::EndpointBindFailed,
                   fmt::format("cannot share UDP {} between workers (SO_REUSEPORT): {}",
                               address.to_string(), std::strerror(saved)));
    }
  }
  int rv = connect ? ::connect(*fd, address.data(), address.length)
                   : ::bind(*fd, address.data(), address.length);
  if (rv != 0) {
    int saved = errno;
    close(*fd);
    if (connect) {
      return Error(Errc::ConnectStartFailed,
                   fmt::format("cannot connect UDP socket to {}: {}", address.to_string(),
                               std::strerror(saved)));
    }
    return Error(Errc::EndpointBindFailed,
                 fmt::format("cannot bind UDP {}: {}", address.to_string(), std::strerror(saved)));
  }
  auto bound = local_address_of(*fd);
  if (!bound) {
    close(*fd);
    return std::move(bound).error();
  }
  UdpSocket socket(*fd, *bound, use_gso);
  socket.connected_ = connect;
  return socket;
}

Result<UdpSocket> UdpSocket::bind(const SocketAddress& local, bool use_gso, PortSharing sharing) {
  return open(local, use_gso, false, sharing);
}

Result<UdpSocket> UdpSocket::connect(const SocketAddress& remote, bool use_gso) {
  return open(remote, use_gso, true, PortSharing::Exclusive);
}

std::size_t UdpSocket::receive(const DatagramSink& sink, std::size_t max_datagrams) {
  constexpr std::size_t kControlBytes = CMSG_SPACE(sizeof(int));
  std::array<mmsghdr, kReceiveBatch> messages{};
  std::array<iovec, kReceiveBatch> iovecs{};
  std::array<sockaddr_storage, kReceiveBatch> addresses{};
  alignas(cmsghdr) std::array<std::array<char, kControlBytes>, kReceiveBatch> controls{};
  std::uint8_t* buffer = thread_receive_buffer();
  std::size_t delivered = 0;
  while (delivered < max_datagrams) {
    for (std::size_t i = 0; i < kReceiveBatch; ++i) {
      iovecs[i] = {buffer + i * kMaxDatagram, kMaxDatagram};
      messages[i] = {};
      messages[i].msg_hdr.msg_iov = &iovecs[i];
      messages[i].msg_hdr.msg_iovlen = 1;
      messages[i].msg_hdr.msg_name = &addresses[i];
      messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      if (gro_) {
        messages[i].msg_hdr.msg_control = controls[i].data();
        messages[i].msg_hdr.msg_controllen = kControlBytes;
      }
    }
    int n = recvmmsg(fd_, messages.data(), kReceiveBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) break;  // EAGAIN, or an ICMP error reported on a connected socket
    for (int i = 0; i < n; ++i) {
      auto index = static_cast<std::size_t>(i);
      const msghdr& header = messages[index].msg_hdr;
      if ((header.msg_flags & MSG_TRUNC) != 0) continue;  // larger than any QUIC datagram we accept
      SocketAddress from;
      std::memcpy(&from.storage, &addresses[index], header.msg_namelen);
      from.length = header.msg_namelen;
      std::span<std::uint8_t> data(buffer + index * kMaxDatagram, messages[index].msg_len);
      std::size_t segment = gro_ ? gro_segment_size(header) : 0;
      if (segment == 0) segment = data.size();
      while (!data.empty()) {
        std::size_t length = std::min(segment, data.size());
        ++traffic_.datagrams_in;
        traffic_.bytes_in += length;
        sink(from, data.first(length));
        data = data.subspan(length);
        ++delivered;
      }
    }
    if (static_cast<std::size_t>(n) < kReceiveBatch) break;
  }
  return delivered;
}

void UdpSocket::send(const DatagramBatch& batch) {
  for (const auto& burst : batch.bursts) {
    traffic_.datagrams_out += (burst.length + burst.segment_size - 1) / burst.segment_size;
    traffic_.bytes_out += burst.length;
    if (gso_ && burst.length > burst.segment_size) {
      send_burst_gso(batch, burst);
    } else {
      send_burst_plain(batch, burst);
    }
  }
}

void UdpSocket::send_burst_gso(const DatagramBatch& batch, const DatagramBatch::Burst& burst) {
  iovec iov{const_cast<std::uint8_t*>(batch.buffer.data() + burst.offset), burst.length};
  msghdr message{};
  if (!connected_) {
    message.msg_name = const_cast<sockaddr*>(burst.to.data());
    message.msg_namelen = burst.to.length;
  }
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(std::uint16_t))> control{};
  message.msg_control = control.data();
  message.msg_controllen = control.size();
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_UDP;
  header->cmsg_type = UDP_SEGMENT;
  header->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
  auto segment = static_cast<std::uint16_t>(burst.segment_size);
  std::memcpy(CMSG_DATA(header), &segment, sizeof segment);
  ssize_t rv;
  do {
    rv = sendmsg(fd_, &message, 0);
  } while (rv < 0 && errno == EINTR);
  if (rv < 0 && errno == EIO) {
    // The device cannot offload segmentation (e.g. checksum offload off): stop trying.
    gso_ = false;
    send_burst_plain(batch, burst);
  }
}

void UdpSocket::send_burst_plain(const DatagramBatch& batch, const DatagramBatch::Burst& burst) {
  constexpr std::size_t kMaxMessages = 64;
  std::array<mmsghdr, kMaxMessages> messages{};
  std::array<iovec, kMaxMessages> iovecs{};
  std::size_t offset = 0;
  while (offset < burst.length) {
    std::size_t count = 0;
    while (count < kMaxMessages && offset < burst.length) {
      std::size_t length = std::min(burst.segment_size, burst.length - offset);
      iovecs[count] = {const_cast<std::uint8_t*>(batch.buffer.data() + burst.offset + offset),
                       length};
      messages[count] = {};
      messages[count].msg_hdr.msg_iov = &iovecs[count];
      messages[count].msg_hdr.msg_iovlen = 1;
      if (!connected_) {
        messages[count].msg_hdr.msg_name = const_cast<sockaddr*>(burst.to.data());
        messages[count].msg_hdr.msg_namelen = burst.to.length;
      }
      offset += length;
      ++count;
    }
    std::size_t sent = 0;
    while (sent < count) {
      int n = sendmmsg(fd_, messages.data() + sent, static_cast<unsigned>(count - sent), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;  // EAGAIN or ECONNREFUSED: dropped, like a lossy network
      }
      sent += static_cast<std::size_t>(n);
    }
  }
}

}  // namespace palyra::transport
