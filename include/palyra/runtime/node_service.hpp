// The node.* methods (PROTOCOL.md §4), once, for every transport.
//
// A transport reads one request frame per call and hands it to
// NodeService::handle with a CallSink, the call's way back to the caller.
// QUIC streams and gRPC calls each implement CallSink; the handlers don't
// know which carries them. Everything here runs on one event loop's thread;
// the journal's writer thread posts its completions back to that loop.
// palyrad makes one NodeService per QUIC worker, each on that worker's loop
// (ARCHITECTURE.md, Workers): they share the journal (thread-safe) and the
// one EnrollmentService, whose calls hop to its loop and back.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "palyra/journal/journal.hpp"
#include "palyra/runtime/enrollment_service.hpp"
#include "palyra/runtime/protocol.hpp"
#include "palyra/transport/io/event_loop.hpp"

namespace palyra::runtime {

// The way back to one caller.
class CallSink {
 public:
  virtual ~CallSink() = default;
  // Queues one response frame; false when the call is gone (reset, closed).
  virtual bool send(std::string_view frame) = 0;
  // Queues many frames at once, each already length-prefixed (PROTOCOL.md
  // §3) and within the maximum frame size: the event stream's batches. The
  // default splits them and sends each; a transport that carries the
  // framing as is takes the buffer whole.
  virtual bool send_framed(std::string framed);
  // Ends the response (FIN). Idempotent.
  virtual void finish() = 0;
  // Response bytes the peer has not taken yet: event streams pause above a budget.
  virtual std::uint64_t backlog_bytes() const = 0;
  // Calls `resume` once the backlog falls below `low_water`, or once the
  // call is gone (then alive() is false).
  virtual void notify_when_writable(std::uint64_t low_water, std::function<void()> resume) = 0;
  virtual bool alive() const = 0;
};

struct Caller {
  std::string device_id;  // from the client certificate; empty in insecure mode
  std::string peer;       // "address:port", for logs and the enrollment failure limit
  // Connected over the enrollment ALPN (no certificate): node.enroll only.
  bool enrolling = false;
};

struct NodeServiceOptions {
  bool mtls_required = true;                         // what node.health reports
  std::uint64_t stream_backlog_budget = 512u << 10;  // pause an event stream above this
  std::size_t read_batch_events = 1024;              // per journal read
  std::size_t read_batch_bytes = 64u << 10;          // ...and its size: one stream chunk
  std::size_t max_frame_bytes = 524288;              // an event must fit one response frame
};

class NodeService {
 public:
  // `enrollment` (may be null: node.enroll and node.renew_certificate are
  // then unsupported_method) must outlive the service; it may run on
  // another loop, which must then not run after this loop is destroyed.
  NodeService(transport::EventLoop& loop, journal::Journal& journal, NodeServiceOptions options,
              EnrollmentService* enrollment = nullptr);
  ~NodeService();
  NodeService(const NodeService&) = delete;
  NodeService& operator=(const NodeService&) = delete;

  // One call: the request frame as received.
  void handle(std::string_view request_frame, const Caller& caller, std::shared_ptr<CallSink> sink);
  // A call whose request could not be read (too large, cut short, missing):
  // answers stream_failure.
  static void handle_unreadable(CallSink& sink);

  // Forgets event streams whose caller is gone (call after a connection closed).
  void drop_dead_streams();

  // Calls that will end by themselves: publishes waiting for the disk and
  // event streams without `follow` still catching up. Shutdown waits for
  // these (up to a grace period); followers never end by themselves.
  std::size_t calls_in_flight() const noexcept;
  std::size_t active_streams() const noexcept { return streams_.size(); }
  std::size_t pending_publishes() const noexcept { return pending_publishes_; }
  // Event streams with `follow`, and how many events the one furthest
  // behind the journal's newest has yet to receive. On the loop's thread.
  struct FollowerStats {
    std::size_t followers = 0;
    std::uint64_t slowest_lag = 0;
  };
  FollowerStats follower_stats() const noexcept;

 private:
  struct EventStream;
  void start_stream(const Request& request, std::shared_ptr<CallSink> sink);
  void publish(const Request& request, const Caller& caller, std::shared_ptr<CallSink> sink);
  void issue(const Request& request, const Caller& caller, const std::shared_ptr<CallSink>& sink);
  void issue_on_enrollment_loop(const Request& request, const Caller& caller,
                                std::shared_ptr<CallSink> sink);
  void pump(std::uint64_t stream_id);
  // Ends the stream with `final_frame` (if any) and forgets it.
  void end_stream(std::uint64_t stream_id, std::optional<std::string> final_frame);
  void on_journal_commit();

  transport::EventLoop& loop_;
  journal::Journal& journal_;
  NodeServiceOptions options_;
  EnrollmentService* enrollment_;
  std::unordered_map<std::uint64_t, std::unique_ptr<EventStream>> streams_;
  std::uint64_t next_stream_id_ = 1;
  std::size_t pending_publishes_ = 0;
  std::size_t pending_issues_ = 0;  // hopped to the enrollment service's loop
  // Completions posted by the journal's thread hold a weak copy: they do
  // nothing once we are gone.
  std::shared_ptr<int> lifetime_ = std::make_shared<int>(0);
  // At most one "new commit" wake-up in flight to the loop.
  std::shared_ptr<std::atomic<bool>> commit_posted_ = std::make_shared<std::atomic<bool>>(false);
  journal::Subscription subscription_;
};

}  // namespace palyra::runtime
