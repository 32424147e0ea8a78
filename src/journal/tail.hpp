// The journal's newest events in memory, shared by every reader: followers
// of node.stream_events read from here instead of the backend's storage.
// Backend-neutral: the SQLite writer adds what it commits; a replicated
// backend adds what its stream delivers.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "palyra/journal/journal.hpp"

namespace palyra::journal {

class Tail {
 public:
  Tail(std::size_t max_events, std::size_t max_bytes)
      : max_events_(max_events), max_bytes_(max_bytes) {}

  // Adds events that directly follow the newest one held (a contiguous
  // run), then drops the oldest beyond the count and byte bounds.
  void add(std::span<const EventPtr> events);
  // Drops events with seq < `oldest` (retention removed them).
  void trim_below(std::uint64_t oldest);

  // Visits events after `after` as Journal::visit_after does, when the tail
  // holds seq after + 1; nullopt when it does not (the reader is behind the
  // tail, or the tail is empty), and the caller reads from storage.
  std::optional<std::size_t> visit_after(std::uint64_t after, std::size_t max_events,
                                         std::size_t max_bytes,
                                         const Journal::EventVisitor& visit) const;

 private:
  const std::size_t max_events_;
  const std::size_t max_bytes_;
  // Contiguous recent events, newest last.
  mutable std::mutex mutex_;
  std::deque<EventPtr> events_;
  std::size_t bytes_ = 0;
};

}  // namespace palyra::journal
