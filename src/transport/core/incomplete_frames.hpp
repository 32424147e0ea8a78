// What a server connection holds of request frames that have not completed:
// their bytes against a per-connection budget, and each stream's deadline
// for completing its frame. Sans I/O: streams report what they hold and the
// time, and the connection asks which to stop. Without it, 32 streams each
// stalled halfway through a large frame pin a connection's whole receive
// window (megabytes) for as long as the peer likes.
//
// A stream owes a frame from the moment it opens until its first frame
// completes, and again from the first byte of each later frame until that
// one completes; its deadline is `timeout` after the debt began.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace palyra::transport {

class IncompleteFrames {
 public:
  IncompleteFrames(std::size_t budget_bytes, std::uint64_t timeout_ns) noexcept
      : budget_(budget_bytes), timeout_ns_(timeout_ns) {}

  // The peer opened stream `id` at `now_ns`: its first frame is due by
  // now_ns + timeout.
  void opened(std::int64_t id, std::uint64_t now_ns);
  // After data on stream `id`: it now holds `held_bytes` of a frame that has
  // not completed, and the data completed `completed_frames` frames. False
  // when the connection's incomplete frames now exceed the budget: the caller
  // stops that stream and forgets it.
  bool update(std::int64_t id, std::size_t held_bytes, std::size_t completed_frames,
              std::uint64_t now_ns);
  // The stream is stopped, reset or gone: it owes nothing and its bytes no
  // longer count.
  void forget(std::int64_t id);

  // Bytes held in incomplete frames across the connection's streams.
  std::size_t held_bytes() const noexcept { return held_; }
  std::size_t budget_bytes() const noexcept { return budget_; }
  // The earliest deadline of a stream that owes a frame; UINT64_MAX for none.
  std::uint64_t next_deadline() const noexcept;
  // Streams whose deadline is at or before `now_ns`, in no particular order.
  std::vector<std::int64_t> overdue(std::uint64_t now_ns) const;

 private:
  struct Debt {
    std::size_t held_bytes = 0;
    std::uint64_t deadline_ns = 0;
  };

  std::size_t budget_;
  std::uint64_t timeout_ns_;
  std::size_t held_ = 0;
  // At most the peer's concurrent stream limit (32): scans are cheap.
  std::unordered_map<std::int64_t, Debt> debts_;
};

}  // namespace palyra::transport
