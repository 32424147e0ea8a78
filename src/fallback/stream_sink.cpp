// The backlog, low-water mark and cancellation of a gRPC server stream
// (see stream_sink.hpp).
#include "stream_sink.hpp"

#include <grpcpp/support/status.h>
#include <spdlog/spdlog.h>

#include "palyra/fallback/mapping.hpp"
#include "palyra/transport/io/event_loop.hpp"

namespace palyra::fallback {

bool StreamSink::send(std::string_view frame) {
  auto message = to_response_message(frame);
  if (!message) {
    spdlog::error("grpc stream: cannot map a response frame: {}", message.error().describe());
    return false;
  }
  std::lock_guard lock(mutex_);
  if (writer_ == nullptr || cancelled_ || finish_requested_) return false;
  backlog_ += frame.size();
  queue_.push_back(Queued{std::move(*message), frame.size()});
  start_next_write_locked();
  return true;
}

void StreamSink::finish() {
  std::lock_guard lock(mutex_);
  if (std::exchange(finish_requested_, true)) return;
  if (!writing_) finish_locked(grpc::Status::OK);
}

std::uint64_t StreamSink::backlog_bytes() const {
  std::lock_guard lock(mutex_);
  return backlog_;
}

void StreamSink::notify_when_writable(std::uint64_t low_water, std::function<void()> resume) {
  {
    std::lock_guard lock(mutex_);
    if (writer_ != nullptr && !cancelled_ && backlog_ >= low_water) {
      low_water_ = low_water;
      resume_ = std::move(resume);
      return;
    }
  }
  resume();
}

bool StreamSink::alive() const {
  std::lock_guard lock(mutex_);
  return writer_ != nullptr && !cancelled_;
}

void StreamSink::on_write_done(bool ok) {
  std::lock_guard lock(mutex_);
  writing_ = false;
  backlog_ -= in_flight_bytes_;
  in_flight_bytes_ = 0;
  in_flight_.Clear();
  if (!ok) {
    cancel_locked();  // the client is gone: nothing more will be written
  } else if (cancelled_) {
    finish_locked(grpc::Status::CANCELLED);  // cancelled while this write was in flight
  } else if (!queue_.empty()) {
    start_next_write_locked();
  } else if (finish_requested_) {
    finish_locked(grpc::Status::OK);
  }
  wake_locked();
}

void StreamSink::on_cancel() {
  std::lock_guard lock(mutex_);
  cancel_locked();
  wake_locked();
}

void StreamSink::on_done() {
  std::lock_guard lock(mutex_);
  writer_ = nullptr;  // first: a finished call takes no more Finish
  writing_ = false;
  in_flight_bytes_ = 0;
  in_flight_.Clear();
  cancel_locked();
  wake_locked();
}

void StreamSink::start_next_write_locked() {
  if (writing_ || queue_.empty() || writer_ == nullptr || finished_) return;
  in_flight_ = std::move(queue_.front().message);
  in_flight_bytes_ = queue_.front().bytes;
  queue_.pop_front();
  writing_ = true;
  writer_->start_write(&in_flight_);
}

// Drops the queued frames (their memory and their bytes in the backlog);
// a write in flight ends in on_write_done, which then finishes the call.
void StreamSink::cancel_locked() {
  cancelled_ = true;
  std::deque<Queued>().swap(queue_);
  backlog_ = in_flight_bytes_;
  if (!writing_) finish_locked(grpc::Status::CANCELLED);
}

// gRPC wants exactly one Finish per call, and none once the call is done.
void StreamSink::finish_locked(const grpc::Status& status) {
  if (finished_ || writer_ == nullptr) return;
  finished_ = true;
  writer_->finish(status);
}

// Hands a kept `resume` to the loop once the follower may go on: the
// backlog fell below its low-water mark, or the call is over (the follower
// then finds alive() false and lets go of the sink).
void StreamSink::wake_locked() {
  if (!resume_) return;
  if (cancelled_ || backlog_ < low_water_) loop_.post(std::exchange(resume_, nullptr));
}

}  // namespace palyra::fallback
