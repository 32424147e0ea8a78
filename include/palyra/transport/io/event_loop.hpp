// One event loop per thread: file-descriptor readiness, timers and
// cross-thread posts. Everything else in the transport runs inside callbacks
// of the loop that owns it; post() is the only call another thread may make.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "palyra/common/result.hpp"

namespace palyra::transport {

using Clock = std::chrono::steady_clock;

// Monotonic nanoseconds: the timestamp ngtcp2 and our connections take as `now`.
std::uint64_t monotonic_ns() noexcept;

class EventLoop {
 public:
  using TimerId = std::uint64_t;
  static constexpr TimerId kNoTimer = 0;

  static Result<std::unique_ptr<EventLoop>> create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Calls `on_readable` whenever `fd` is readable (level-triggered).
  Status watch_readable(int fd, std::function<void()> on_readable);
  void unwatch(int fd);

  // Runs `callback` once at `deadline_ns` (monotonic_ns scale). Returns an id
  // for cancel(); a timer that fired or was cancelled is forgotten.
  TimerId schedule_at(std::uint64_t deadline_ns, std::function<void()> callback);
  void cancel(TimerId id);

  // Thread-safe: runs `task` on the loop's thread at its next iteration.
  void post(std::function<void()> task);

  // Runs until stop(). Returns an error only if epoll itself fails.
  Status run();
  // One iteration: waits at most `max_wait` for I/O, then runs due timers
  // and posted tasks.
  Status run_once(std::chrono::milliseconds max_wait);
  void stop() noexcept { stopping_ = true; }
  bool stopping() const noexcept { return stopping_; }

 private:
  EventLoop(int epoll_fd, int wake_fd);
  void run_posted();
  void run_due_timers();

  int epoll_fd_;
  int wake_fd_;
  bool stopping_ = false;
  std::unordered_map<int, std::function<void()>> watchers_;
  // Timers ordered by deadline; the id breaks ties and finds the entry to cancel.
  std::map<std::pair<std::uint64_t, TimerId>, std::function<void()>> timers_;
  std::unordered_map<TimerId, std::uint64_t> timer_deadlines_;
  TimerId next_timer_id_ = 1;
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
};

}  // namespace palyra::transport
