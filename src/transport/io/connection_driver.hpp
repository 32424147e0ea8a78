// Puts one Connection on a socket and an event loop: flushes what it has to
// send and keeps its timer at ngtcp2's expiry. Shared by Server and Client.
#pragma once

#include <cstdint>

#include "palyra/transport/connection.hpp"
#include "palyra/transport/io/event_loop.hpp"
#include "udp_socket.hpp"

namespace palyra::transport {

class ConnectionDriver {
 public:
  ConnectionDriver(EventLoop& loop, UdpSocket& socket) : loop_(loop), socket_(socket) {}
  ~ConnectionDriver() { cancel_timer(); }
  ConnectionDriver(const ConnectionDriver&) = delete;
  ConnectionDriver& operator=(const ConnectionDriver&) = delete;

  // Sends everything the connection is ready to send, then re-arms the timer
  // so that `on_timer` runs at the connection's next expiry.
  void flush(Connection& connection, std::function<void()> on_timer);
  void cancel_timer();

 private:
  EventLoop& loop_;
  UdpSocket& socket_;
  EventLoop::TimerId timer_ = EventLoop::kNoTimer;
  std::uint64_t timer_deadline_ = UINT64_MAX;
};

// The datagram buffer every driver on a thread shares (one flush at a time).
DatagramBatch& thread_send_batch();

}  // namespace palyra::transport
