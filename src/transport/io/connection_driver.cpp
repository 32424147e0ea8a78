#include "connection_driver.hpp"

namespace palyra::transport {

DatagramBatch& thread_send_batch() {
  thread_local DatagramBatch batch;
  return batch;
}

void ConnectionDriver::flush(Connection& connection, std::function<void()> on_timer) {
  constexpr std::size_t kDatagramsPerRound = 64;
  constexpr int kMaxRounds = 16;  // bound the time one connection holds the loop
  DatagramBatch& batch = thread_send_batch();
  std::uint64_t now = monotonic_ns();
  for (int round = 0; round < kMaxRounds; ++round) {
    batch.clear();
    connection.write_datagrams(now, batch, kDatagramsPerRound);
    if (batch.empty()) break;
    socket_.send(batch);
    std::size_t datagrams = 0;
    for (const auto& burst : batch.bursts) {
      datagrams += (burst.length + burst.segment_size - 1) / burst.segment_size;
    }
    if (datagrams < kDatagramsPerRound) break;
  }
  std::uint64_t deadline = connection.expiry();
  if (deadline == timer_deadline_ && timer_ != EventLoop::kNoTimer) return;
  cancel_timer();
  if (deadline == UINT64_MAX) return;
  timer_deadline_ = deadline;
  timer_ = loop_.schedule_at(deadline, [this, on_timer = std::move(on_timer)] {
    timer_ = EventLoop::kNoTimer;
    timer_deadline_ = UINT64_MAX;
    on_timer();
  });
}

void ConnectionDriver::cancel_timer() {
  if (timer_ != EventLoop::kNoTimer) loop_.cancel(timer_);
  timer_ = EventLoop::kNoTimer;
  timer_deadline_ = UINT64_MAX;
}

}  // namespace palyra::transport
