// Reads behind the tail off the caller's thread. A follower that is behind
// is served from an event loop that also runs handshakes and calls for
// every other connection of its worker, and a read from the stream may wait
// for the servers (a new cursor's round trip; seconds while a server is
// away). So the loop never reads from the stream itself: it visits batches
// a thread of ours has read, and when the batch it needs is not there yet
// it gets nothing (reading_ahead() says why) and is woken by `on_ready`
// once it is.
//
// While a reader visits one batch, the next one (from its last seq) is
// read, so the loop's encoding and the thread's reading overlap.
//
// Bounded: at most `max_batches` read batches wait to be visited (the
// oldest is dropped first; one not visited within `idle_timeout` too), each
// of at most `batch_events` events held in their messages. A request is one
// seq; one is queued per seq however many readers ask.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "catch_up.hpp"

namespace palyra::journal::jetstream {

struct ReadAheadOptions {
  std::size_t batch_events = 2048;
  std::size_t max_batches = 16;
  std::chrono::milliseconds idle_timeout{30'000};
};

class ReadAhead {
 public:
  // `reader` must outlive this; `on_ready` is called on the read-ahead
  // thread after each batch (or failure) is stored.
  ReadAhead(CatchUpReader& reader, ReadAheadOptions options, std::function<void()> on_ready);
  // Waits for a read in progress (bounded by the reader's wait).
  ~ReadAhead();
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // Visits read events after `after` as Journal::visit_after does (until
  // `visit` returns false or `max_events`), without waiting: 0 when the
  // batch starting at after + 1 is not read yet, and it is then asked for,
  // to be read up to `newest`. The error of a failed read is returned once,
  // to the next visit of its seq.
  Result<std::size_t> visit(std::uint64_t after, std::uint64_t newest, std::size_t max_events,
                            const Journal::EventVisitor& visit);
  // Whether events after `after` are asked for or read and waiting: a
  // caller that got 0 from visit() is woken by on_ready.
  bool reading_ahead(std::uint64_t after) const;

 private:
  struct Batch {
    std::vector<HeldEvent> events;
    std::size_t offset = 0;  // events before it were visited
    std::chrono::steady_clock::time_point stored_at;
  };
  struct Request {
    std::uint64_t after;
    std::uint64_t newest;
  };
  // Both with `mutex_` held.
  void ask(std::uint64_t after, std::uint64_t newest);
  void store(std::uint64_t first_seq, Batch batch);
  void run();

  CatchUpReader& reader_;
  const ReadAheadOptions options_;
  const std::function<void()> on_ready_;

  mutable std::mutex mutex_;  // guards what follows
  std::condition_variable wake_;
  std::deque<Request> queue_;
  std::set<std::uint64_t> asked_;          // after + 1 of every queued or running request
  std::map<std::uint64_t, Batch> ready_;   // by the seq the batch's next event follows + 1
  std::map<std::uint64_t, Error> failed_;  // by after + 1 of the failed request
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest is
};

}  // namespace palyra::journal::jetstream
