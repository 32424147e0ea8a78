// Who hears about commits: the subscriptions of Journal::subscribe, called
// on the thread that learnt of the commit (the SQLite writer; a replicated
// backend's stream consumer). Backend-neutral.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "palyra/journal/journal.hpp"

namespace palyra::journal {

class CommitFanout {
 public:
  Subscription subscribe(std::function<void(std::uint64_t)> on_commit);
  // Calls every subscriber with the newest seq. A subscriber removed while
  // this runs is removed once its call has returned.
  void notify(std::uint64_t newest);

 private:
  friend class Subscription;
  void unsubscribe(std::uint64_t id);

  struct Subscriber {
    std::uint64_t id;
    std::function<void(std::uint64_t)> on_commit;
  };
  std::mutex mutex_;  // held while subscribers are called: unsubscribe waits for them
  std::vector<Subscriber> subscribers_;
  std::uint64_t next_id_ = 1;
};

}  // namespace palyra::journal
