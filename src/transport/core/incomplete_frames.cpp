#include "incomplete_frames.hpp"

#include <algorithm>

namespace palyra::transport {

void IncompleteFrames::opened(std::int64_t id, std::uint64_t now_ns) {
  debts_.try_emplace(id, Debt{0, now_ns + timeout_ns_});
}

bool IncompleteFrames::update(std::int64_t id, std::size_t held_bytes, std::size_t completed_frames,
                              std::uint64_t now_ns) {
  auto it = debts_.find(id);
  if (held_bytes == 0) {
    // Nothing pending: a completed frame pays the debt; data that completed
    // nothing and left nothing (a bare FIN) changes nothing.
    if (it != debts_.end()) {
      held_ -= it->second.held_bytes;
      if (completed_frames > 0) {
        debts_.erase(it);
      } else {
        it->second.held_bytes = 0;
      }
    }
    return true;
  }
  if (it == debts_.end()) {
    it = debts_.emplace(id, Debt{0, now_ns + timeout_ns_}).first;
  } else if (completed_frames > 0) {
    it->second.deadline_ns = now_ns + timeout_ns_;  // a new frame began with this data
  }
  held_ = held_ - it->second.held_bytes + held_bytes;
  it->second.held_bytes = held_bytes;
  return held_ <= budget_;
}

void IncompleteFrames::forget(std::int64_t id) {
  auto it = debts_.find(id);
  if (it == debts_.end()) return;
  held_ -= it->second.held_bytes;
  debts_.erase(it);
}

std::uint64_t IncompleteFrames::next_deadline() const noexcept {
  std::uint64_t next = UINT64_MAX;
  for (const auto& [id, debt] : debts_) next = std::min(next, debt.deadline_ns);
  return next;
}

std::vector<std::int64_t> IncompleteFrames::overdue(std::uint64_t now_ns) const {
  std::vector<std::int64_t> ids;
  for (const auto& [id, debt] : debts_) {
    if (debt.deadline_ns <= now_ns) ids.push_back(id);
  }
  return ids;
}

}  // namespace palyra::transport
