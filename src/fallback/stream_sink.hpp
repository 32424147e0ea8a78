// The way back over a gRPC server-streaming call (node.stream_events): the
// runtime::CallSink that NodeService feeds, in front of gRPC's writer.
//
// gRPC allows one write in flight per call; the frames NodeService sends
// meanwhile wait here, and their bytes are the backlog NodeService reads to
// pause a slow follower above its budget and to resume it once the backlog
// falls below the low-water mark — as it does with a QUIC stream. A cancel
// (the client left, or the daemon cancelled the call) drops what waits,
// ends the call and wakes a paused follower so it sees alive() false and
// lets go of the sink.
//
// Threads: send/finish/backlog_bytes/notify_when_writable/alive run on the
// event loop; on_write_done/on_cancel/on_done run on gRPC's threads. One
// mutex orders them; a resume callback kept for later is posted to the
// loop, never run under the lock or on gRPC's threads.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>

#include "palyra/node/v1/node_transport.pb.h"
#include "palyra/runtime/node_service.hpp"

namespace grpc {
class Status;
}
namespace palyra::transport {
class EventLoop;
}

namespace palyra::fallback {

// What a StreamSink writes to: gRPC's server-streaming reactor in the
// daemon (EventStreamCall). Every start_write is answered by exactly one
// StreamSink::on_write_done; `message` stays valid until then.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual void start_write(const node::v1::NodeResponse* message) = 0;
  virtual void finish(const grpc::Status& status) = 0;
};

class StreamSink final : public runtime::CallSink {
 public:
  // `writer` must stay valid until on_done(); `loop` must outlive the sink.
  StreamSink(transport::EventLoop& loop, ResponseWriter* writer) : loop_(loop), writer_(writer) {}

  // --- runtime::CallSink, on the event loop ---
  // False once the call is cancelled, done or finishing, or when the frame
  // is not a response NodeResponse can carry.
  bool send(std::string_view frame) override;
  // Ends the call with OK once every queued frame is written.
  void finish() override;
  // Bytes of frames queued or being written.
  std::uint64_t backlog_bytes() const override;
  // Calls `resume` at once if the backlog is below `low_water` or the call
  // is cancelled; otherwise keeps it and posts it to the loop when that
  // becomes true. The sink holds at most one `resume`.
  void notify_when_writable(std::uint64_t low_water, std::function<void()> resume) override;
  bool alive() const override;

  // --- from the writer, on gRPC's threads ---
  // The write started last has ended; `ok` false: the client is gone.
  void on_write_done(bool ok);
  // The call was cancelled: nothing more is written.
  void on_cancel();
  // The call is over: the writer is no longer valid.
  void on_done();

 private:
  struct Queued {
    node::v1::NodeResponse message;
    std::size_t bytes;
  };
  void start_next_write_locked();
  void cancel_locked();
  void finish_locked(const grpc::Status& status);
  void wake_locked();

  transport::EventLoop& loop_;
  mutable std::mutex mutex_;
  ResponseWriter* writer_;  // null once the call is done
  std::deque<Queued> queue_;
  node::v1::NodeResponse in_flight_;
  std::size_t in_flight_bytes_ = 0;
  bool writing_ = false;
  bool finish_requested_ = false;
  bool finished_ = false;
  bool cancelled_ = false;
  std::uint64_t backlog_ = 0;
  std::uint64_t low_water_ = 0;
  std::function<void()> resume_;
};

}  // namespace palyra::fallback
