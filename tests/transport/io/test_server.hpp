// A transport Server on its own thread and loop, answering every frame with
// the same frame (an echo), for the transport's integration tests.
#pragma once

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "palyra/transport/io/server.hpp"

namespace palyra::transport::testing {

class EchoServer {
 public:
  EchoServer(const ServerTlsConfig& tls, const Limits& limits,
             const NetworkImpairment* impairment = nullptr,
             const std::string& bind_address = "127.0.0.1:0", ServerWorker worker = {}) {
    loop_ = std::move(EventLoop::create()).value();
    ServerEvents events;
    events.on_connection = [this](Connection& c) {
      ++established;
      std::lock_guard lock(mutex_);
      device_ids_.push_back(c.peer().device_id);
    };
    events.on_stream_readable = [this](Connection&, Stream& stream) { echo(stream); };
    events.on_refused = [this](const SocketAddress&, const Error& error) {
      std::lock_guard lock(mutex_);
      refusals_.push_back(error.describe());
    };
    auto address = std::move(SocketAddress::parse(bind_address)).value();
    auto server = Server::bind(*loop_, address, tls, limits, std::move(events), std::move(worker));
    if (!server) {
      bind_error_ = server.error().describe();
      return;
    }
    server_ = std::move(*server);
    if (impairment != nullptr) server_->set_impairment(*impairment);
    thread_ = std::thread([this] { (void)loop_->run(); });
  }

  ~EchoServer() {
    if (thread_.joinable()) {
      loop_->post([this] {
        server_.reset();
        loop_->stop();
      });
      thread_.join();
    }
  }

  bool ok() const { return server_ != nullptr; }
  const std::string& bind_error() const { return bind_error_; }
  SocketAddress address() const { return server_->local_address(); }

  // Runs `task` on the server's loop and waits for it.
  template <class F>
  auto on_loop(F task) -> decltype(task(std::declval<Server&>())) {
    std::packaged_task<decltype(task(std::declval<Server&>()))()> packaged(
        [this, &task] { return task(*server_); });
    auto future = packaged.get_future();
    loop_->post([&packaged] { packaged(); });
    return future.get();
  }

  std::vector<std::string> device_ids() {
    std::lock_guard lock(mutex_);
    return device_ids_;
  }
  std::vector<std::string> refusals() {
    std::lock_guard lock(mutex_);
    return refusals_;
  }

  std::atomic<int> established{0};
  std::atomic<int> frames_received{0};
  std::atomic<int> read_errors{0};

 private:
  void echo(Stream& stream) {
    while (auto frame = stream.take_frame()) {
      ++frames_received;
      // "big:N" asks for an N-byte frame back (to test the client's reader).
      if (frame->starts_with("big:")) {
        (void)stream.write_frame(std::string(std::stoul(frame->substr(4)), 'b'));
      } else {
        (void)stream.write_frame(*frame);
      }
    }
    if (stream.read_error()) {
      ++read_errors;
      (void)stream.write_frame(std::string("read_error:") +
                               std::string(errc_name(stream.read_error()->code())));
      stream.finish();
    } else if (stream.read_ended()) {
      stream.finish();
    }
  }

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::string bind_error_;
  std::mutex mutex_;
  std::vector<std::string> device_ids_;
  std::vector<std::string> refusals_;
};

}  // namespace palyra::transport::testing
