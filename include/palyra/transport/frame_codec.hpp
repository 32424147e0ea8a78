// Length-prefixed frames (PROTOCOL.md §3): a u32 big-endian length, then
// that many payload bytes. Sans I/O: bytes in, whole frames out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "palyra/common/result.hpp"

namespace palyra::transport {

inline constexpr std::size_t kDefaultMaxFrameBytes = 524288;  // 512 KiB
inline constexpr std::size_t kFrameHeaderBytes = 4;

class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_frame_bytes = kDefaultMaxFrameBytes) noexcept
      : max_(max_frame_bytes) {}

  // Consumes all of `bytes`, appending each completed payload to `frames`.
  // FrameTooLarge as soon as a header announces more than the maximum —
  // before anything is allocated for it. After an error the decoder stays
  // failed and returns the same error.
  Status feed(std::span<const std::uint8_t> bytes, std::deque<std::string>& frames);
  // At end of stream: FrameReadFailed if it ended inside a frame (length or
  // payload), saying how far in.
  Status finish() const;

  std::size_t buffered_bytes() const noexcept { return header_filled_ + payload_.size(); }
  bool failed() const noexcept { return error_.has_value(); }

 private:
  std::size_t max_;
  std::uint8_t header_[kFrameHeaderBytes] = {};
  std::size_t header_filled_ = 0;
  std::size_t expected_ = 0;  // payload length once the header is complete
  bool in_payload_ = false;
  std::string payload_;
  std::optional<Error> error_;
};

// Appends one frame (header + payload) to `out`. FrameTooLarge, with `out`
// untouched, when the payload exceeds `max_frame_bytes`.
Status append_frame(std::string& out, std::string_view payload,
                    std::size_t max_frame_bytes = kDefaultMaxFrameBytes);

}  // namespace palyra::transport
