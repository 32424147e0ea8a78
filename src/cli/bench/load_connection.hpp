// One QUIC connection of a load run, on the bench's event loop. Each call
// goes out on a fresh stream (queued while the server's stream limit is
// reached) and its response frames come back through callbacks, so one
// thread can drive thousands of connections and calls at once.
//
// Never destroy a LoadConnection inside one of its own callbacks: post the
// destruction to the loop.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "palyra/common/result.hpp"
#include "palyra/transport/io/client.hpp"

namespace palyra::cli::bench {

class LoadConnection {
 public:
  using OnFrame = std::function<void(std::string&& frame)>;
  // Ok once the server finished the stream; else why the call ended early.
  using OnDone = std::function<void(const Status& outcome)>;
  struct Handlers {
    std::function<void()> on_established;
    std::function<void(const Error&)> on_closed;  // after every call got its OnDone
  };

  static Result<std::unique_ptr<LoadConnection>> start(
      transport::EventLoop& loop, const transport::SocketAddress& server,
      std::shared_ptr<const transport::ClientTlsContext> tls, const transport::Limits& limits,
      const transport::ConnectOptions& options, Handlers handlers);

  // Sends `request` (one frame) and finishes the stream's send side.
  void call(std::string request, OnFrame on_frame, OnDone on_done);
  void close() { client_->close(); }

  bool established() const noexcept;
  bool closed() const noexcept;
  std::size_t calls_in_flight() const noexcept { return active_.size() + waiting_.size(); }

 private:
  struct Call {
    std::string request;
    OnFrame on_frame;
    OnDone on_done;
  };
  explicit LoadConnection(Handlers handlers) : handlers_(std::move(handlers)) {}
  void on_stream_readable(transport::Stream& stream);
  void send_waiting();
  void fail_all(const Error& error);

  Handlers handlers_;
  std::unique_ptr<transport::Client> client_;
  // By stream user_tag. Calls live behind pointers: callbacks may start new
  // calls (and so rehash the map) while one is being served.
  std::unordered_map<std::uint64_t, std::unique_ptr<Call>> active_;
  std::deque<std::unique_ptr<Call>> waiting_;
  std::uint64_t next_tag_ = 1;
};

// One node.health on `connection`. `done(outcome, healthy)` once its stream
// ended: outcome as for OnDone, healthy when a health frame with ok=true came.
void call_health(LoadConnection& connection,
                 std::function<void(const Status& outcome, bool healthy)> done);

// Runs `loop` until `done()`; Timeout (naming `what` and the limit) when the
// time limit passes first.
Status run_until(transport::EventLoop& loop, const std::function<bool()>& done,
                 std::chrono::seconds time_limit, std::string_view what);

}  // namespace palyra::cli::bench
