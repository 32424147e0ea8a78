// What the workers of one port share (see server_workers.hpp).
#include "palyra/transport/io/server_workers.hpp"

#include <fmt/format.h>

#include "core/shared_admission.hpp"
#include "core/worker_cids.hpp"
#include "worker_inbox.hpp"

namespace palyra::transport {

Result<std::shared_ptr<ServerWorkers>> ServerWorkers::create(std::size_t count,
                                                             const Limits& limits) {
  if (count == 0 || count > kMaxWorkers) {
    return Error(Errc::InvalidArgument,
                 fmt::format("{} workers: between 1 and {} serve a port", count, kMaxWorkers));
  }
  return std::shared_ptr<ServerWorkers>(new ServerWorkers(count, limits));
}

ServerWorkers::ServerWorkers(std::size_t count, const Limits& limits)
    : admission_(std::make_shared<SharedAdmission>(limits.max_connections, limits.max_handshakes)),
      inboxes_(count, nullptr) {}

ServerWorkers::~ServerWorkers() = default;

std::size_t ServerWorkers::connections() const noexcept {
  return admission_->connections();
}

std::size_t ServerWorkers::handshakes() const noexcept {
  return admission_->handshakes();
}

bool ServerWorkers::forward(std::size_t worker, const SocketAddress& from,
                            std::span<const std::uint8_t> datagram) {
  std::shared_lock lock(inboxes_mutex_);
  WorkerInbox* inbox = worker < inboxes_.size() ? inboxes_[worker] : nullptr;
  return inbox != nullptr && inbox->push(from, datagram);
}

void ServerWorkers::attach(std::size_t worker, WorkerInbox* inbox) {
  std::unique_lock lock(inboxes_mutex_);
  inboxes_.at(worker) = inbox;
}

void ServerWorkers::detach(std::size_t worker) {
  // Waits for a push in progress: the inbox may be destroyed after this.
  std::unique_lock lock(inboxes_mutex_);
  inboxes_.at(worker) = nullptr;
}

}  // namespace palyra::transport
