// A stream's send queue (chunks kept until acknowledged) and receive side
// (frames decoded as bytes arrive): see stream.hpp.
#include "palyra/transport/stream.hpp"

#include <fmt/format.h>
#include <ngtcp2/ngtcp2.h>

#include "palyra/transport/connection.hpp"

namespace palyra::transport {
namespace {
// Small frames are appended to a not-yet-sent chunk instead of each taking a
// chunk of its own, up to this size, so many tiny frames share packets and
// allocations.
constexpr std::size_t kCoalesceLimit = std::size_t{16} * 1024;

// Acknowledged chunks at least this large are kept for the next large frame
// instead of being freed: a bulk sender otherwise makes malloc hand fresh
// pages back and forth with the kernel (glibc serves big blocks with mmap or
// trims them), and the page faults cost more than the copy itself.
constexpr std::size_t kRecycleMinBytes = std::size_t{64} * 1024;
constexpr std::size_t kMaxSpareChunks = 4;
}  // namespace

Stream::Stream(Connection& connection, std::int64_t id, std::size_t max_frame_bytes)
    : connection_(connection),
      id_(id),
      max_frame_bytes_(max_frame_bytes),
      decoder_(max_frame_bytes) {}

Status Stream::writable() const {
  if (fin_queued_ || reset_ || closed_) {
    return Error(Errc::FrameWriteFailed,
                 fmt::format("stream {} is {}", id_, reset_ ? "reset" : "finished"));
  }
  return {};
}

bool Stream::can_append_to_last_chunk(std::size_t bytes) const noexcept {
  // An unsent last chunk can grow: ngtcp2 holds no pointer into it yet.
  return !chunks_.empty() && sent_offset_ <= end_offset_ - chunks_.back().size() &&
         chunks_.back().size() + bytes <= kCoalesceLimit;
}

Status Stream::write_frame(std::string_view payload) {
  PALYRA_TRY(writable());
  if (can_append_to_last_chunk(payload.size() + 4)) {
    PALYRA_TRY(append_frame(chunks_.back(), payload, max_frame_bytes_));
  } else {
    std::string chunk = take_spare_chunk(payload.size() + kFrameHeaderBytes);
    PALYRA_TRY(append_frame(chunk, payload, max_frame_bytes_));
    chunks_.push_back(std::move(chunk));
  }
  end_offset_ += payload.size() + kFrameHeaderBytes;
  connection_.note_stream_has_data(*this);
  return {};
}

Status Stream::write_framed(std::string frames) {
  PALYRA_TRY(writable());
  if (frames.empty()) return {};
  const std::size_t bytes = frames.size();
  if (can_append_to_last_chunk(bytes)) {
    chunks_.back() += frames;
  } else {
    chunks_.push_back(std::move(frames));
  }
  end_offset_ += bytes;
  connection_.note_stream_has_data(*this);
  return {};
}

void Stream::finish() {
  if (fin_queued_ || reset_ || closed_) return;
  fin_queued_ = true;
  connection_.note_stream_has_data(*this);
}

void Stream::reset(std::uint64_t app_error_code) {
  if (reset_ || closed_) return;
  reset_ = true;
  connection_.reset_stream(*this, app_error_code);
}

std::optional<std::string> Stream::take_frame() {
  if (frames_.empty()) {
    if (read_ended()) end_observed_ = true;
    return std::nullopt;
  }
  std::string frame = std::move(frames_.front());
  frames_.pop_front();
  connection_.extend_credit(id_, frame.size() + 4);
  return frame;
}

std::size_t Stream::on_data(ConnectionKey, std::span<const std::uint8_t> data, bool fin) {
  if (read_error_) return 0;
  const std::size_t frames_before = frames_.size();
  if (auto status = decoder_.feed(data, frames_); !status) {
    fail_read(std::move(status).error());
    return frames_.size() - frames_before;
  }
  if (fin) {
    fin_received_ = true;
    if (auto status = decoder_.finish(); !status) fail_read(std::move(status).error());
  }
  return frames_.size() - frames_before;
}

void Stream::fail_read(Error error, std::uint64_t app_error_code) {
  read_error_ = std::move(error);
  stop_reading_ = app_error_code;
}

void Stream::on_reset(ConnectionKey, std::uint64_t app_error_code) {
  if (read_error_ || (fin_received_ && decoder_.buffered_bytes() == 0)) return;
  read_error_ =
      Error(Errc::StreamReset,
            fmt::format("peer reset stream {} with application error 0x{:x}", id_, app_error_code));
}

void Stream::abandon_frame(ConnectionKey, Error error, std::uint64_t app_error_code) {
  if (!read_error_) fail_read(std::move(error), app_error_code);
}

std::size_t Stream::release_incomplete_frame(ConnectionKey) {
  if (!read_error_) return 0;
  const std::size_t bytes = decoder_.buffered_bytes();
  decoder_ = FrameDecoder(max_frame_bytes_);  // frees the partial payload now
  return bytes;
}

void Stream::on_closed(ConnectionKey) {
  closed_ = true;
  if (!fin_received_ && !read_error_) {
    read_error_ = Error(Errc::StreamReset, fmt::format("stream {} closed", id_));
  }
}

bool Stream::on_acked(ConnectionKey, std::uint64_t offset, std::uint64_t length) {
  std::uint64_t acked_end = offset + length;
  while (!chunks_.empty() && front_offset_ + chunks_.front().size() <= acked_end) {
    front_offset_ += chunks_.front().size();
    if (chunks_.front().capacity() >= kRecycleMinBytes && spare_chunks_.size() < kMaxSpareChunks) {
      spare_chunks_.push_back(std::move(chunks_.front()));
      spare_chunks_.back().clear();
    }
    chunks_.pop_front();
  }
  // A stream with nothing in flight is not sending in bulk: keep nothing.
  if (chunks_.empty()) spare_chunks_.clear();
  if (writable_low_water_ != 0 && unacknowledged_bytes() < writable_low_water_) {
    writable_low_water_ = 0;
    return true;
  }
  return false;
}

std::size_t Stream::send_buffer_bytes() const noexcept {
  std::size_t bytes = 0;
  for (const auto& chunk : chunks_) bytes += chunk.capacity();
  for (const auto& chunk : spare_chunks_) bytes += chunk.capacity();
  return bytes;
}

std::string Stream::take_spare_chunk(std::size_t bytes) {
  for (auto it = spare_chunks_.begin(); it != spare_chunks_.end(); ++it) {
    if (it->capacity() >= bytes) {
      std::string chunk = std::move(*it);
      spare_chunks_.erase(it);
      return chunk;
    }
  }
  return {};
}

std::size_t Stream::unsent(ConnectionKey, ngtcp2_vec* vecs, std::size_t max_vecs, bool& fin) const {
  std::size_t count = 0;
  std::uint64_t covered = 0;
  std::uint64_t chunk_start = front_offset_;
  for (const auto& chunk : chunks_) {
    if (count == max_vecs) break;
    std::uint64_t chunk_end = chunk_start + chunk.size();
    if (chunk_end > sent_offset_) {
      std::uint64_t skip = sent_offset_ > chunk_start ? sent_offset_ - chunk_start : 0;
      vecs[count].base = reinterpret_cast<std::uint8_t*>(const_cast<char*>(chunk.data())) + skip;
      vecs[count].len = chunk.size() - skip;
      covered += vecs[count].len;
      ++count;
    }
    chunk_start = chunk_end;
  }
  // FIN rides along with the last of the data (or alone, if all was sent).
  fin = fin_queued_ && !fin_sent_ && sent_offset_ + covered == end_offset_;
  return count;
}

void Stream::on_sent(ConnectionKey, std::size_t bytes, bool fin) {
  sent_offset_ += bytes;
  if (fin && sent_offset_ == end_offset_) fin_sent_ = true;
}

}  // namespace palyra::transport
