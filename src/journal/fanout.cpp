#include "fanout.hpp"

#include <utility>

namespace palyra::journal {

Subscription CommitFanout::subscribe(std::function<void(std::uint64_t)> on_commit) {
  std::lock_guard lock(mutex_);
  const std::uint64_t id = next_id_++;
  subscribers_.push_back(Subscriber{id, std::move(on_commit)});
  return Subscription(this, id);
}

void CommitFanout::notify(std::uint64_t newest) {
  std::lock_guard lock(mutex_);
  for (auto& subscriber : subscribers_) subscriber.on_commit(newest);
}

void CommitFanout::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  std::erase_if(subscribers_, [id](const Subscriber& s) { return s.id == id; });
}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    fanout_ = std::exchange(other.fanout_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void Subscription::reset() {
  if (fanout_) fanout_->unsubscribe(id_);
  fanout_ = nullptr;
}

}  // namespace palyra::journal
