#include "palyra/transport/io/event_loop.hpp"

#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace palyra::transport {

std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    return Error(Errc::IoFailed, fmt::format("epoll_create1: {}", std::strerror(errno)));
  }
  int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    int saved = errno;
    close(epoll_fd);
    return Error(Errc::IoFailed, fmt::format("eventfd: {}", std::strerror(saved)));
  }
  std::unique_ptr<EventLoop> loop(new EventLoop(epoll_fd, wake_fd));
  PALYRA_TRY(loop->watch_readable(wake_fd, [wake_fd] {
    std::uint64_t count = 0;
    while (read(wake_fd, &count, sizeof count) > 0) {
    }
  }));
  return loop;
}

EventLoop::EventLoop(int epoll_fd, int wake_fd) : epoll_fd_(epoll_fd), wake_fd_(wake_fd) {}

EventLoop::~EventLoop() {
  close(wake_fd_);
  close(epoll_fd_);
}

Status EventLoop::watch_readable(int fd, std::function<void()> on_readable) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    return Error(Errc::IoFailed,
                 fmt::format("epoll_ctl(ADD, fd {}): {}", fd, std::strerror(errno)));
  }
  watchers_[fd] = std::move(on_readable);
  return {};
}

void EventLoop::unwatch(int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  watchers_.erase(fd);
}

EventLoop::TimerId EventLoop::schedule_at(std::uint64_t deadline_ns,
                                          std::function<void()> callback) {
  TimerId id = next_timer_id_++;
  timers_.emplace(std::make_pair(deadline_ns, id), std::move(callback));
  timer_deadlines_.emplace(id, deadline_ns);
  return id;
}

void EventLoop::cancel(TimerId id) {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return;
  timers_.erase({it->second, id});
  timer_deadlines_.erase(it);
}

void EventLoop::post(std::function<void()> task) {
  bool first = false;
  {
    std::lock_guard lock(posted_mutex_);
    first = posted_.empty();
    posted_.push_back(std::move(task));
  }
  // One wake-up per batch, not per task (a burst of journal acknowledgements
  // posts one task each): while tasks are queued the loop does not wait
  // (run_once), and it takes them all at once.
  if (!first) return;
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof one);
}

Status EventLoop::run() {
  stopping_ = false;
  while (!stopping_) {
    PALYRA_TRY(run_once(std::chrono::milliseconds(1000)));
  }
  return {};
}

Status EventLoop::run_once(std::chrono::milliseconds max_wait) {
  int timeout_ms = static_cast<int>(max_wait.count());
  if (!timers_.empty()) {
    std::uint64_t now = monotonic_ns();
    std::uint64_t next = timers_.begin()->first.first;
    std::uint64_t wait_ns = next > now ? next - now : 0;
    // Round up so we never wake a hair early and spin.
    auto wait_ms = static_cast<int>((wait_ns + 999'999) / 1'000'000);
    if (wait_ms < timeout_ms) timeout_ms = wait_ms;
  }
  {
    std::lock_guard lock(posted_mutex_);
    if (!posted_.empty()) timeout_ms = 0;
  }
  std::array<epoll_event, 64> events{};
  int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return {};
    return Error(Errc::IoFailed, fmt::format("epoll_wait: {}", std::strerror(errno)));
  }
  for (int i = 0; i < n; ++i) {
    auto it = watchers_.find(events[static_cast<std::size_t>(i)].data.fd);
    if (it != watchers_.end()) {
      auto callback = it->second;  // the callback may unwatch its own fd
      callback();
    }
  }
  run_due_timers();
  run_posted();
  return {};
}

void EventLoop::run_due_timers() {
  std::uint64_t now = monotonic_ns();
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    timer_deadlines_.erase(node.key().second);
    node.mapped()();
  }
}

void EventLoop::run_posted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

}  // namespace palyra::transport
