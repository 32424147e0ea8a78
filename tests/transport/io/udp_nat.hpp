// A NAT on loopback for the tests: a client sends to its front port, and it
// relays to the server from a back socket; rebind() swaps the back socket
// for one with a new port, as a NAT that forgot its mapping would. The
// server then sees the client's datagrams come from a new address, whose
// hash may lead the kernel to another worker's socket (SO_REUSEPORT).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>

#include "palyra/transport/socket_address.hpp"

namespace palyra::transport::testing {

class UdpNat {
 public:
  explicit UdpNat(const SocketAddress& server) : server_(server) {
    front_ = loopback_socket();
    back_ = loopback_socket();
    thread_ = std::thread([this] { run(); });
  }
  ~UdpNat() {
    stopping_ = true;
    thread_.join();
    ::close(front_);
    ::close(back_);
  }
  UdpNat(const UdpNat&) = delete;
  UdpNat& operator=(const UdpNat&) = delete;

  // Where the client sends.
  SocketAddress front_address() const { return address_of(front_); }
  // From now on the server sees the client from a new port. Returns once
  // the relay uses it.
  void rebind() {
    const unsigned wanted = ++rebinds_requested_;
    while (rebinds_done_.load() < wanted) std::this_thread::yield();
  }

 private:
  static int loopback_socket() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      throw std::runtime_error("UdpNat: cannot bind a loopback socket");
    }
    return fd;
  }
  static SocketAddress address_of(int fd) {
    SocketAddress address;
    address.length = sizeof address.storage;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address.storage), &address.length);
    return address;
  }

  void run() {
    std::uint8_t buffer[65536];
    sockaddr_storage client{};
    socklen_t client_length = 0;
    while (!stopping_) {
      if (rebinds_done_.load() < rebinds_requested_.load()) {
        ::close(back_);
        back_ = loopback_socket();
        ++rebinds_done_;
      }
      pollfd fds[2] = {{front_, POLLIN, 0}, {back_, POLLIN, 0}};
      if (::poll(fds, 2, 5) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        socklen_t length = sizeof client;
        const ssize_t n = ::recvfrom(front_, buffer, sizeof buffer, 0,
                                     reinterpret_cast<sockaddr*>(&client), &length);
        client_length = length;
        if (n > 0) {
          ::sendto(back_, buffer, static_cast<std::size_t>(n), 0,
                   reinterpret_cast<const sockaddr*>(&server_.storage), server_.length);
        }
      }
      if ((fds[1].revents & POLLIN) && client_length != 0) {
        const ssize_t n = ::recv(back_, buffer, sizeof buffer, 0);
        if (n > 0) {
          ::sendto(front_, buffer, static_cast<std::size_t>(n), 0,
                   reinterpret_cast<const sockaddr*>(&client), client_length);
        }
      }
    }
  }

  SocketAddress server_;
  int front_ = -1;
  int back_ = -1;  // the relay thread's alone once it runs
  std::atomic<unsigned> rebinds_requested_{0};
  std::atomic<unsigned> rebinds_done_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace palyra::transport::testing
