// Datagrams one worker hands another: the kernel put them on a worker's
// socket, but their DCID names a connection another worker owns (a NAT
// rebinding moved the client's hash; ARCHITECTURE.md, Workers). Any thread
// may push; the owning worker's loop drains them, woken by an eventfd.
// Bounded: a full inbox drops, as a full socket buffer would, and QUIC
// recovers the loss.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "palyra/common/result.hpp"
#include "palyra/transport/io/event_loop.hpp"
#include "palyra/transport/socket_address.hpp"

namespace palyra::transport {

class WorkerInbox {
 public:
  using DatagramSink = std::function<void(const SocketAddress& from, std::span<std::uint8_t> data)>;

  // An inbox of `capacity` datagrams whose eventfd `loop` watches; `sink`
  // gets each datagram on that loop's thread. `loop` must outlive it.
  static Result<std::unique_ptr<WorkerInbox>> create(EventLoop& loop, std::size_t capacity,
                                                     DatagramSink sink);
  ~WorkerInbox();
  WorkerInbox(const WorkerInbox&) = delete;
  WorkerInbox& operator=(const WorkerInbox&) = delete;

  // Thread-safe: queues a copy of `datagram` and wakes the loop. False when
  // the inbox is full (the datagram is dropped and counted).
  bool push(const SocketAddress& from, std::span<const std::uint8_t> datagram);

  // Datagrams refused because the inbox was full.
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    SocketAddress from;
    std::vector<std::uint8_t> bytes;  // keeps its capacity from use to use
  };

  WorkerInbox(EventLoop& loop, int wake_fd, std::size_t capacity, DatagramSink sink);
  void drain();

  EventLoop& loop_;
  int wake_fd_;
  DatagramSink sink_;
  std::mutex mutex_;
  std::vector<Slot> ring_;  // capacity slots; [head_, head_ + count_) are queued
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::vector<Slot> draining_;  // the loop's side: capacity slots, swapped with the queued
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace palyra::transport
