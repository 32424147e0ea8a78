#include "tail.hpp"

namespace palyra::journal {

void Tail::add(std::span<const EventPtr> events) {
  std::lock_guard lock(mutex_);
  for (const auto& event : events) {
    bytes_ += event->approximate_bytes();
    events_.push_back(event);
  }
  while (!events_.empty() && (events_.size() > max_events_ || bytes_ > max_bytes_)) {
    bytes_ -= events_.front()->approximate_bytes();
    events_.pop_front();
  }
}

void Tail::trim_below(std::uint64_t oldest) {
  std::lock_guard lock(mutex_);
  while (!events_.empty() && events_.front()->seq < oldest) {
    bytes_ -= events_.front()->approximate_bytes();
    events_.pop_front();
  }
}

std::optional<std::size_t> Tail::visit_after(std::uint64_t after, std::size_t max_events,
                                             std::size_t max_bytes,
                                             const Journal::EventVisitor& visit) const {
  // Share the events out under the lock, then visit outside it: the visitor
  // may be slow, and the writer must not wait for it.
  thread_local std::vector<EventPtr> recent;
  recent.clear();
  {
    std::lock_guard lock(mutex_);
    if (events_.empty() || after + 1 < events_.front()->seq) return std::nullopt;
    std::size_t bytes = 0;
    // The tail is contiguous, so the position of seq after+1 is arithmetic.
    for (auto i = static_cast<std::size_t>(after + 1 - events_.front()->seq);
         i < events_.size() && recent.size() < max_events && (recent.empty() || bytes < max_bytes);
         ++i) {
      bytes += events_[i]->approximate_bytes();
      recent.push_back(events_[i]);
    }
  }
  if (recent.empty()) return std::nullopt;
  std::size_t visited = 0;
  for (const auto& event : recent) {
    ++visited;
    if (!visit(event->view())) break;
  }
  recent.clear();
  return visited;
}

}  // namespace palyra::journal
