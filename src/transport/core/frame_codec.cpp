#include "palyra/transport/frame_codec.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace palyra::transport {
namespace {

Error too_large(std::size_t size, std::size_t max) {
  return Error(Errc::FrameTooLarge,
               fmt::format("frame of {} bytes exceeds the maximum of {} bytes", size, max));
}

}  // namespace

Status FrameDecoder::feed(std::span<const std::uint8_t> bytes, std::deque<std::string>& frames) {
  if (error_) return *error_;
  while (!bytes.empty()) {
    if (!in_payload_) {
      std::size_t take = std::min(kFrameHeaderBytes - header_filled_, bytes.size());
      std::copy_n(bytes.begin(), take, header_ + header_filled_);
      header_filled_ += take;
      bytes = bytes.subspan(take);
      if (header_filled_ < kFrameHeaderBytes) break;
      expected_ = (std::size_t{header_[0]} << 24) | (std::size_t{header_[1]} << 16) |
                  (std::size_t{header_[2]} << 8) | std::size_t{header_[3]};
      if (expected_ > max_) {
        error_ = too_large(expected_, max_);
        return *error_;
      }
      header_filled_ = 0;
      in_payload_ = true;
      payload_.clear();
      // Reserve what has arrived, not what was announced: four bytes must not
      // pin 512 KiB. The string grows geometrically as the payload arrives.
      payload_.reserve(
          std::min(expected_, std::max<std::size_t>(bytes.size(), std::size_t{16} * 1024)));
    }
    std::size_t take = std::min(expected_ - payload_.size(), bytes.size());
    payload_.append(reinterpret_cast<const char*>(bytes.data()), take);
    bytes = bytes.subspan(take);
    if (payload_.size() == expected_) {
      frames.push_back(std::move(payload_));
      payload_ = std::string();
      in_payload_ = false;
    }
  }
  return {};
}

Status FrameDecoder::finish() const {
  if (error_) return *error_;
  if (in_payload_) {
    return Error(Errc::FrameReadFailed, fmt::format("stream ended after {} of {} payload bytes",
                                                    payload_.size(), expected_));
  }
  if (header_filled_ > 0) {
    return Error(Errc::FrameReadFailed, fmt::format("stream ended after {} of {} length bytes",
                                                    header_filled_, kFrameHeaderBytes));
  }
  return {};
}

Status append_frame(std::string& out, std::string_view payload, std::size_t max_frame_bytes) {
  if (payload.size() > max_frame_bytes) return too_large(payload.size(), max_frame_bytes);
  auto n = static_cast<std::uint32_t>(payload.size());
  const char header[kFrameHeaderBytes] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                                          static_cast<char>(n >> 8), static_cast<char>(n)};
  out.reserve(out.size() + kFrameHeaderBytes + payload.size());
  out.append(header, kFrameHeaderBytes);
  out.append(payload);
  return {};
}

}  // namespace palyra::transport
