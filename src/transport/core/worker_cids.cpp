// Worker-naming connection IDs: AES-128 over (worker, 0, 14 random bytes).
#include "worker_cids.hpp"

#include <fmt/format.h>
#include <ngtcp2/ngtcp2.h>

#include <array>

#include "quic_random.hpp"

namespace palyra::transport {
namespace {

constexpr std::uint8_t kLongHeaderBit = 0x80;
// RFC 9000 §17.2: the long header packet type, bits 0x30 of the first byte.
constexpr std::uint8_t kLongPacketTypeMask = 0x30;
constexpr std::uint8_t kInitialType = 0x00;
constexpr std::uint8_t kZeroRttType = 0x10;

}  // namespace

Result<WorkerCids> WorkerCids::make(std::span<const std::uint8_t> key, std::size_t worker,
                                    std::size_t workers) {
  if (key.size() != AES128_KEY_SIZE) {
    return Error(Errc::InvalidArgument,
                 fmt::format("a worker CID key has {} bytes, not {}", key.size(), AES128_KEY_SIZE));
  }
  if (workers == 0 || workers > kMaxWorkers || worker >= workers) {
    return Error(Errc::InvalidArgument,
                 fmt::format("worker {} of {}: workers must be 1 to {} and the index below them",
                             worker, workers, kMaxWorkers));
  }
  WorkerCids cids;
  aes128_set_encrypt_key(&cids.encrypt_, key.data());
  aes128_set_decrypt_key(&cids.decrypt_, key.data());
  cids.worker_ = worker;
  cids.workers_ = workers;
  return cids;
}

void WorkerCids::issue(std::uint8_t* out) const {
  std::array<std::uint8_t, kWorkerCidLength> plain{};
  plain[0] = static_cast<std::uint8_t>(worker_);
  plain[1] = 0;  // a check byte: garbage rarely decrypts to a worker
  random_bytes(plain.data() + 2, plain.size() - 2);
  aes128_encrypt(&encrypt_, plain.size(), out, plain.data());
}

std::optional<std::size_t> WorkerCids::worker_of(std::span<const std::uint8_t> cid) const {
  if (cid.size() != kWorkerCidLength) return std::nullopt;
  std::array<std::uint8_t, kWorkerCidLength> plain{};
  aes128_decrypt(&decrypt_, plain.size(), plain.data(), cid.data());
  if (plain[1] != 0 || plain[0] >= workers_) return std::nullopt;
  return plain[0];
}

std::optional<std::size_t> WorkerCids::owner_of_datagram(
    std::span<const std::uint8_t> datagram) const {
  if (datagram.empty()) return std::nullopt;  // ngtcp2 asserts on it
  ngtcp2_version_cid header{};
  if (ngtcp2_pkt_decode_version_cid(&header, datagram.data(), datagram.size(), kWorkerCidLength) !=
      0) {
    return std::nullopt;
  }
  if (datagram[0] & kLongHeaderBit) {
    if (header.version != NGTCP2_PROTO_VER_V1) return std::nullopt;
    const std::uint8_t type = datagram[0] & kLongPacketTypeMask;
    if (type == kInitialType || type == kZeroRttType) return std::nullopt;
  }
  return worker_of({header.dcid, header.dcidlen});
}

}  // namespace palyra::transport
