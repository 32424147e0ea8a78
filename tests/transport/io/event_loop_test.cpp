// EventLoop::post, the one call other threads make: every task runs once,
// on the loop's thread, and a loop blocked in epoll is woken for it.
#include "palyra/transport/io/event_loop.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace palyra::transport {
namespace {

using namespace std::chrono_literals;

// Runs `loop` on its own thread, each iteration waiting up to 10 s, until a
// posted task stops it: a wake-up that is lost shows as a 10 s stall.
class LoopThread {
 public:
  explicit LoopThread(EventLoop& loop) : loop_(loop), thread_([this] { run(); }) {}
  ~LoopThread() {
    loop_.post([this] { loop_.stop(); });
    thread_.join();
  }
  std::thread::id id() const { return thread_.get_id(); }

 private:
  void run() {
    while (!loop_.stopping()) ASSERT_TRUE(loop_.run_once(10s));
  }
  EventLoop& loop_;
  std::thread thread_;
};

// One task at a time, each posted once the previous one ran: every post
// finds the queue empty and the loop waiting in epoll.
TEST(EventLoopTest, APostWakesALoopWaitingInEpollEveryTime) {
  auto loop = EventLoop::create().value();
  std::mutex mutex;
  std::condition_variable ran;
  int count = 0;
  LoopThread thread(*loop);
  for (int i = 1; i <= 200; ++i) {
    loop->post([&] {
      std::lock_guard lock(mutex);
      ++count;
      ran.notify_all();
    });
    std::unique_lock lock(mutex);
    ASSERT_TRUE(ran.wait_for(lock, 5s, [&] { return count == i; })) << "task " << i << " not run";
  }
}

// Four threads posting at once, many tasks queued behind each other: each
// runs exactly once, on the loop's thread.
TEST(EventLoopTest, TasksPostedFromManyThreadsAtOnceEachRunOnceOnTheLoop) {
  auto loop = EventLoop::create().value();
  constexpr int kThreads = 4;
  constexpr int kEach = 5000;
  std::atomic<int> count{0};
  std::atomic<int> elsewhere{0};
  std::thread::id loop_id;
  {
    LoopThread thread(*loop);
    loop_id = thread.id();
    std::vector<std::thread> posters;
    for (int t = 0; t < kThreads; ++t) {
      posters.emplace_back([&] {
        for (int i = 0; i < kEach; ++i) {
          loop->post([&] {
            if (std::this_thread::get_id() != loop_id) ++elsewhere;
            ++count;
          });
        }
      });
    }
    for (auto& poster : posters) poster.join();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (count.load() < kThreads * kEach && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(count.load(), kThreads * kEach);
  EXPECT_EQ(elsewhere.load(), 0);
}

}  // namespace
}  // namespace palyra::transport
