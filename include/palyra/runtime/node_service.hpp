// The node.* methods (PROTOCOL.md §4), once, for every transport.
//
// A transport decodes one request frame per call and hands it to
// NodeService::handle with a CallSink: the call's way back to the caller.
// QUIC streams and gRPC calls each implement CallSink; the handlers don't
// know which carries them. Everything here runs on one event loop's thread;
// the journal's writer thread posts its completions back to it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "palyra/journal/journal.hpp"
#include "palyra/runtime/protocol.hpp"
#include "palyra/transport/event_loop.hpp"

namespace palyra::runtime {

// The way back to one caller.
class CallSink {
 public:
  virtual ~CallSink() = default;
  // Queues one response frame; false when the call is gone (reset, closed).
  virtual bool send(std::string_view frame) = 0;
  // Ends the response (FIN). Idempotent.
  virtual void finish() = 0;
  // Response bytes the peer has not yet taken: event streams pause above a budget.
  virtual std::uint64_t backlog_bytes() const = 0;
  // Calls `resume` once the backlog falls below `low_water`.
  virtual void notify_when_writable(std::uint64_t low_water, std::function<void()> resume) = 0;
  virtual bool alive() const = 0;
};

struct Caller {
  std::string device_id;  // from the client certificate; empty in insecure mode
};

struct NodeServiceOptions {
  bool mtls_required = true;                     // reported by node.health
  std::uint64_t stream_backlog_budget = 1 << 20;  // pause an event stream above this
  std::size_t read_batch = 512;                   // events per journal read
};

class NodeService {
 public:
  NodeService(transport::EventLoop& loop, journal::Journal& journal, NodeServiceOptions options);
  ~NodeService();
  NodeService(const NodeService&) = delete;
  NodeService& operator=(const NodeService&) = delete;

  // One call: the request frame as received.
  void handle(std::string_view request_frame, const Caller& caller, std::shared_ptr<CallSink> sink);
  // A call whose request could not be read (too large, cut short, missing):
  // answers stream_failure.
  void handle_unreadable(const std::shared_ptr<CallSink>& sink);

  // Event streams in progress (following or catching up).
  std::size_t active_streams() const noexcept { return streams_.size(); }
  // Publishes whose completion has not come back from the journal yet.
  std::size_t pending_publishes() const noexcept { return pending_publishes_; }

 private:
  struct EventStream;
  void start_stream(const Request& request, std::shared_ptr<CallSink> sink);
  void publish(const Request& request, const Caller& caller, std::shared_ptr<CallSink> sink);
  void pump(std::uint64_t stream_id);
  void on_journal_commit();

  transport::EventLoop& loop_;
  journal::Journal& journal_;
  NodeServiceOptions options_;
  std::unordered_map<std::uint64_t, std::unique_ptr<EventStream>> streams_;
  std::uint64_t next_stream_id_ = 1;
  std::size_t pending_publishes_ = 0;
  // Lifetime guard for completions posted by the journal's thread.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::shared_ptr<std::atomic<bool>> commit_posted_ = std::make_shared<std::atomic<bool>>(false);
  journal::Subscription subscription_;
};

}  // namespace palyra::runtime
