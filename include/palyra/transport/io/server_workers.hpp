// What the workers serving one port share (ARCHITECTURE.md, Workers): the
// daemon-wide admission counts, the port and keys worker 0 bound and
// derived, and each worker's inbox, through which the others hand it the
// datagrams of its connections. One Server per worker, each on its own
// loop, binds with a ServerWorker naming this set and its index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <vector>

#include "palyra/common/result.hpp"
#include "palyra/transport/limits.hpp"
#include "palyra/transport/socket_address.hpp"

namespace palyra::transport {

class SharedAdmission;
class ServerKeys;
class WorkerInbox;

class ServerWorkers {
 public:
  // For `count` workers (1..256) under `limits`' max_connections and
  // max_handshakes, which hold across all of them.
  static Result<std::shared_ptr<ServerWorkers>> create(std::size_t count, const Limits& limits);
  ~ServerWorkers();
  ServerWorkers(const ServerWorkers&) = delete;
  ServerWorkers& operator=(const ServerWorkers&) = delete;

  std::size_t count() const noexcept { return inboxes_.size(); }
  // Daemon-wide: connections open and handshakes in progress.
  std::size_t connections() const noexcept;
  std::size_t handshakes() const noexcept;

 private:
  friend class Server;
  ServerWorkers(std::size_t count, const Limits& limits);

  // Thread-safe: queues a datagram for `worker`'s loop; false when it is
  // full or gone (the datagram is dropped).
  bool forward(std::size_t worker, const SocketAddress& from,
               std::span<const std::uint8_t> datagram);
  void attach(std::size_t worker, WorkerInbox* inbox);
  void detach(std::size_t worker);

  std::shared_ptr<SharedAdmission> admission_;
  // Set by worker 0's bind, read by the others' (Server::bind).
  std::mutex bind_mutex_;
  std::optional<SocketAddress> address_;
  std::shared_ptr<const ServerKeys> keys_;
  // Readers forward (any worker's thread); a server's end detaches its inbox.
  std::shared_mutex inboxes_mutex_;
  std::vector<WorkerInbox*> inboxes_;
};

// The worker a Server is: `index` of `workers`. Empty `workers`: the
// server is alone on its port (one loop, no forwarding, its own caps).
struct ServerWorker {
  std::shared_ptr<ServerWorkers> workers;
  std::size_t index = 0;
};

}  // namespace palyra::transport
