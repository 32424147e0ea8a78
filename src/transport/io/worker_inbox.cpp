// A bounded multi-producer inbox drained by one loop (see worker_inbox.hpp).
#include "worker_inbox.hpp"

#include <fmt/format.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace palyra::transport {

Result<std::unique_ptr<WorkerInbox>> WorkerInbox::create(EventLoop& loop, std::size_t capacity,
                                                         DatagramSink sink) {
  if (capacity == 0)
    return Error(Errc::InvalidArgument, "a worker inbox needs room for a datagram");
  int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    return Error(Errc::IoFailed, fmt::format("worker inbox eventfd: {}", std::strerror(errno)));
  }
  std::unique_ptr<WorkerInbox> inbox(new WorkerInbox(loop, wake_fd, capacity, std::move(sink)));
  PALYRA_TRY(loop.watch_readable(wake_fd, [raw = inbox.get()] { raw->drain(); }));
  return inbox;
}

WorkerInbox::WorkerInbox(EventLoop& loop, int wake_fd, std::size_t capacity, DatagramSink sink)
    : loop_(loop),
      wake_fd_(wake_fd),
      sink_(std::move(sink)),
      ring_(capacity),
      draining_(capacity) {}

WorkerInbox::~WorkerInbox() {
  loop_.unwatch(wake_fd_);
  close(wake_fd_);
}

bool WorkerInbox::push(const SocketAddress& from, std::span<const std::uint8_t> datagram) {
  bool was_empty = false;
  {
    std::lock_guard lock(mutex_);
    if (count_ == ring_.size()) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    Slot& slot = ring_[(head_ + count_) % ring_.size()];
    slot.from = from;
    slot.bytes.assign(datagram.begin(), datagram.end());
    was_empty = count_++ == 0;
  }
  // One wakeup per batch: the loop takes everything queued when it drains.
  if (was_empty) {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof one);
  }
  return true;
}

void WorkerInbox::drain() {
  std::uint64_t count = 0;
  [[maybe_unused]] auto n = read(wake_fd_, &count, sizeof count);
  std::size_t taken = 0;
  {
    // Swap the queued slots out, so producers never wait on the sink. Both
    // sides' buffers keep their capacity: no allocation once warmed up.
    std::lock_guard lock(mutex_);
    for (; taken < count_; ++taken) {
      std::swap(draining_[taken], ring_[(head_ + taken) % ring_.size()]);
    }
    head_ = 0;
    count_ = 0;
  }
  for (std::size_t i = 0; i < taken; ++i) sink_(draining_[i].from, draining_[i].bytes);
}

}  // namespace palyra::transport
