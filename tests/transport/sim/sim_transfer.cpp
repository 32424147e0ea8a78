#include "sim_transfer.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace palyra::transport::sim {

std::uint8_t Transfer::content(std::size_t file, std::uint64_t offset) noexcept {
  // Differs between neighbouring files and offsets, and repeats only after
  // 251 * 256 bytes, so a shifted, repeated or swapped chunk shows.
  return static_cast<std::uint8_t>(file * 131 + offset % 251 + (offset / 251) * 7);
}

void Transfer::fail(std::string what) {
  if (failures_.size() < 10) failures_.push_back(std::move(what));
}

std::string Transfer::failures() const {
  std::string out = fmt::format("{} of {} files complete", files_done_, plan_.files);
  for (const auto& failure : failures_) out += "; " + failure;
  return out;
}

void Transfer::serve(Connection& server) {
  server.events.on_stream_readable = [this](Connection&, Stream& stream) {
    on_server_readable(stream);
  };
  server.events.on_stream_writable = [this](Connection&, Stream& stream) { write_file(stream); };
}

void Transfer::on_server_readable(Stream& stream) {
  while (auto frame = stream.take_frame()) {
    const std::size_t file = std::stoul(*frame);
    uploads_[stream.id()] = Upload{file};
    write_file(stream);
  }
}

void Transfer::write_file(Stream& stream) {
  auto it = uploads_.find(stream.id());
  if (it == uploads_.end()) return;
  Upload& upload = it->second;
  while (upload.written < plan_.file_bytes && stream.unacknowledged_bytes() < plan_.high_water) {
    const std::uint64_t size =
        std::min<std::uint64_t>(plan_.frame_bytes, plan_.file_bytes - upload.written);
    std::string frame(size, '\0');
    for (std::uint64_t i = 0; i < size; ++i) {
      frame[i] = static_cast<char>(content(upload.file, upload.written + i));
    }
    if (auto written = stream.write_frame(frame); !written) {
      fail(fmt::format("server, file {}: {}", upload.file, written.error().describe()));
      return;
    }
    upload.written += size;
  }
  if (upload.written == plan_.file_bytes) {
    stream.finish();
    uploads_.erase(it);
    return;
  }
  stream.notify_when_writable(plan_.high_water / 2);
}

void Transfer::request(Connection& client) {
  client.events.on_established = [this](Connection& c) { open_requests(c); };
  client.events.on_streams_available = [this](Connection& c) { open_requests(c); };
  client.events.on_stream_readable = [this](Connection&, Stream& stream) {
    on_client_readable(stream);
  };
}

void Transfer::open_requests(Connection& client) {
  while (files_requested_ < plan_.files) {
    auto stream = client.open_stream();
    if (!stream) return;  // the stream limit: on_streams_available calls again
    const std::size_t file = files_requested_++;
    file_of_stream_[(*stream)->id()] = file;
    if (auto written = (*stream)->write_frame(std::to_string(file)); !written) {
      fail(fmt::format("client, file {}: {}", file, written.error().describe()));
    }
    (*stream)->finish();
  }
}

void Transfer::on_client_readable(Stream& stream) {
  const auto it = file_of_stream_.find(stream.id());
  if (it == file_of_stream_.end()) {
    fail(fmt::format("data on stream {} that carries no request", stream.id()));
    return;
  }
  const std::size_t file = it->second;
  if (file_ended_[file]) return;  // told once more as ngtcp2 forgets the stream
  std::uint64_t& received = received_[file];
  while (auto frame = stream.take_frame()) {
    for (std::size_t i = 0; i < frame->size(); ++i) {
      const auto expected = content(file, received + i);
      if (static_cast<std::uint8_t>((*frame)[i]) != expected) {
        fail(fmt::format("file {}: byte {} is {:#04x}, expected {:#04x}", file, received + i,
                         static_cast<std::uint8_t>((*frame)[i]), expected));
        break;
      }
    }
    received += frame->size();
    bytes_received_ += frame->size();
    if (received > plan_.file_bytes)
      fail(fmt::format("file {}: {} bytes too many", file, received));
  }
  if (!stream.read_ended()) return;
  if (stream.read_error()) {
    fail(fmt::format("file {}: {}", file, stream.read_error()->describe()));
  } else if (received != plan_.file_bytes) {
    fail(fmt::format("file {} ended after {} of {} bytes", file, received, plan_.file_bytes));
  } else {
    ++files_done_;
  }
  file_ended_[file] = true;
}

}  // namespace palyra::transport::sim
