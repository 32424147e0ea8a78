#include "read_ahead.hpp"

#include <algorithm>
#include <utility>

namespace palyra::journal::jetstream {

ReadAhead::ReadAhead(CatchUpReader& reader, ReadAheadOptions options,
                     std::function<void()> on_ready)
    : reader_(reader), options_(options), on_ready_(std::move(on_ready)) {
  thread_ = std::thread([this] { run(); });
}

ReadAhead::~ReadAhead() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Result<std::size_t> ReadAhead::visit(std::uint64_t after, std::uint64_t newest,
                                     std::size_t max_events, const Journal::EventVisitor& visit) {
  if (max_events == 0 || after >= newest) return std::size_t{0};
  Batch batch;
  {
    std::lock_guard lock(mutex_);
    if (auto failed = failed_.find(after + 1); failed != failed_.end()) {
      Error error = std::move(failed->second);
      failed_.erase(failed);
      return error;
    }
    auto found = ready_.find(after + 1);
    if (found == ready_.end()) {
      ask(after, newest);
      return std::size_t{0};
    }
    batch = std::move(found->second);
    ready_.erase(found);
    // Read the next batch while this one is visited.
    const std::uint64_t last = batch.events.back().view.seq;
    if (last < newest) ask(last, newest);
  }
  // Visited outside the lock: the visitor is the caller's (it encodes frames).
  std::size_t visited = 0;
  std::uint64_t next = after + 1;
  while (visited < max_events && batch.offset < batch.events.size()) {
    const EventView& event = batch.events[batch.offset].view;
    ++batch.offset;
    ++visited;
    next = event.seq + 1;
    if (!visit(event)) break;
  }
  if (batch.offset < batch.events.size()) {
    std::lock_guard lock(mutex_);
    store(next, std::move(batch));
  }
  return visited;
}

bool ReadAhead::reading_ahead(std::uint64_t after) const {
  std::lock_guard lock(mutex_);
  return asked_.count(after + 1) != 0 || ready_.count(after + 1) != 0 ||
         failed_.count(after + 1) != 0;
}

void ReadAhead::ask(std::uint64_t after, std::uint64_t newest) {
  if (ready_.count(after + 1) != 0 || !asked_.insert(after + 1).second) return;
  queue_.push_back(Request{after, newest});
  wake_.notify_one();
}

void ReadAhead::store(std::uint64_t first_seq, Batch batch) {
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(ready_, [&](const auto& entry) {
    return now - entry.second.stored_at > options_.idle_timeout;
  });
  // Room for this one: the batch stored longest ago goes first.
  while (!ready_.empty() && ready_.size() >= options_.max_batches) {
    ready_.erase(std::min_element(ready_.begin(), ready_.end(), [](const auto& a, const auto& b) {
      return a.second.stored_at < b.second.stored_at;
    }));
  }
  batch.stored_at = now;
  ready_.insert_or_assign(first_seq, std::move(batch));
}

void ReadAhead::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const Request request = queue_.front();
    queue_.pop_front();
    lock.unlock();
    Batch batch;
    auto read = reader_.read(request.after, request.newest, options_.batch_events, batch.events);
    lock.lock();
    asked_.erase(request.after + 1);
    if (!read) {
      failed_.insert_or_assign(request.after + 1, std::move(read).error());
      // Kept for the reader that asked; bounded should it never come back.
      while (failed_.size() > options_.max_batches) failed_.erase(failed_.begin());
    } else if (!batch.events.empty()) {
      store(request.after + 1, std::move(batch));
    }
    // Nothing read means nothing is stored there (retention removed it):
    // the reader that asked sees reading_ahead() false and ends.
    lock.unlock();
    on_ready_();
    lock.lock();
  }
}

}  // namespace palyra::journal::jetstream
