// Reads behind the tail for followers that are behind (a resume from long
// ago, a stream from seq 0): a few consumers, "cursors", each standing where
// one read left off. The server pushes a cursor's messages up to a window
// ahead of its reader (acknowledge-all, `window` messages), so a read finds
// them waiting instead of making a round trip (a direct get per event, or a
// fetch per batch, whose reader and parser threads hand over one message at
// a time); a follower that goes on reading takes the cursor back where it
// stopped. The window fits the subscription's buffer, so nothing is dropped:
// a seq that is missing was removed by retention. While no cursor can be
// made or kept (a stream leader change takes ephemeral consumers with it,
// and a new one may be placed on the server that went), reads fall back to
// one direct get per event for ten seconds.
//
// Bounded: at most `max_idle` cursors wait between reads (the least
// recently used one is deleted, on the server too) and one that waited
// longer than `idle_timeout` is deleted; a cursor in use belongs to the one
// read using it, so concurrent reads (one per worker thread) never share or
// wait for one. Ten thousand followers of one gateway still make a handful
// of JetStream consumers.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nats_handles.hpp"
#include "palyra/journal/journal.hpp"

namespace palyra::journal::jetstream {

// An event read from the stream, viewing the message it came in (owned).
struct HeldEvent {
  NatsPtr<natsMsg> message;
  EventView view;
};

struct CatchUpOptions {
  std::size_t max_idle = 8;
  std::chrono::milliseconds idle_timeout{30'000};
  // How long a read waits for a message it knows was stored.
  std::chrono::milliseconds wait{5'000};
  // How far ahead of its reader the server fills a cursor, in messages.
  int window = 4096;
};

class CatchUpReader {
 public:
  // `js` must outlive the reader.
  CatchUpReader(jsCtx* js, std::string stream, std::string subject, CatchUpOptions options);
  ~CatchUpReader();
  CatchUpReader(const CatchUpReader&) = delete;
  CatchUpReader& operator=(const CatchUpReader&) = delete;

  // Appends to `into` the stored events after `after`, up to and including
  // `newest` (the newest acknowledged seq), in order, at most `max_events`;
  // what retention removed is skipped. Blocks for as long as the servers
  // take (up to the wait): call it off any event loop. Returns how many were
  // read. StorageFailed naming the stream and the seq.
  Result<std::size_t> read(std::uint64_t after, std::uint64_t newest, std::size_t max_events,
                           std::vector<HeldEvent>& into);

 private:
  // Deleting a cursor deletes its consumer on the server (unsubscribes).
  struct Cursor {
    Cursor() = default;
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    ~Cursor();
    NatsPtr<natsSubscription> subscription;
    std::uint64_t next = 0;  // the seq its next message has at least
    std::chrono::steady_clock::time_point idle_since;
  };
  Result<std::unique_ptr<Cursor>> take(std::uint64_t next);
  void give_back(std::unique_ptr<Cursor> cursor);
  Result<std::unique_ptr<Cursor>> open(std::uint64_t next) const;
  // One direct get (a round trip) per event: what reads do while no cursor
  // can be made, e.g. just after a stream leader change.
  Result<std::size_t> read_directly(std::uint64_t after, std::uint64_t newest,
                                    std::size_t max_events, std::vector<HeldEvent>& into) const;
  // The cursor's next message; nullopt when nothing is stored from its
  // position; an error when its consumer is gone.
  Result<std::optional<NatsPtr<natsMsg>>> next_message(Cursor& cursor) const;

  jsCtx* const js_;
  const std::string stream_;
  const std::string subject_;
  const CatchUpOptions options_;
  std::atomic<std::chrono::steady_clock::time_point> direct_until_{};
  mutable std::mutex mutex_;
  std::list<std::unique_ptr<Cursor>> idle_;  // most recently used first
};

}  // namespace palyra::journal::jetstream
