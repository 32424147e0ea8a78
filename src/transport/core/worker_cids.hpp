// The connection IDs a worker issues, and which worker a datagram's
// destination connection ID names (ARCHITECTURE.md, Workers). With several
// workers on one port the kernel may hand a connection's datagram to another
// worker (a NAT rebinding moves its hash); the CID tells where it belongs.
//
// A CID is one AES-128 block: plaintext = worker index, a zero byte, 14
// random bytes. Encrypted, the CIDs of one connection cannot be linked by an
// observer (RFC 9000 §5.1), as a plain worker byte would let them be.
#pragma once

#include <nettle/aes.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "palyra/common/result.hpp"

namespace palyra::transport {

inline constexpr std::size_t kWorkerCidLength = 16;  // the server's CID length, one AES block
inline constexpr std::size_t kMaxWorkers = 256;      // the index is one byte

class WorkerCids {
 public:
  // `key`: 16 bytes (ServerKeys::worker_cid_key()). InvalidArgument unless
  // 1 <= workers <= kMaxWorkers and worker < workers.
  static Result<WorkerCids> make(std::span<const std::uint8_t> key, std::size_t worker,
                                 std::size_t workers);

  std::size_t worker() const noexcept { return worker_; }
  std::size_t workers() const noexcept { return workers_; }

  // Writes a fresh kWorkerCidLength-byte CID naming this worker.
  void issue(std::uint8_t* out) const;

  // The worker a CID names, or nullopt when it names none of ours (another
  // length, an older run's CID of a worker that no longer exists, garbage).
  // Garbage names some worker with probability workers / 65536; that worker
  // then treats it as any unknown CID.
  std::optional<std::size_t> worker_of(std::span<const std::uint8_t> cid) const;

  // Where a datagram belongs, from its header: the worker its DCID names, or
  // nullopt to keep it here. Initial and 0-RTT packets carry a DCID the
  // client chose and are never interpreted (RFC 9000 §9: the client's
  // address is stable during the handshake, so they land where it started);
  // so are other versions and unparseable datagrams.
  std::optional<std::size_t> owner_of_datagram(std::span<const std::uint8_t> datagram) const;

 private:
  WorkerCids() = default;
  aes128_ctx encrypt_{};
  aes128_ctx decrypt_{};
  std::size_t worker_ = 0;
  std::size_t workers_ = 1;
};

}  // namespace palyra::transport
