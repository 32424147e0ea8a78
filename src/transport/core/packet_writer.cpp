// The packet writer: what a Connection sends, and in what shape. Streams
// take turns (round robin) filling packets, a half-built packet stays in
// the buffer across NGTCP2_ERR_WRITE_MORE so several streams share it,
// packets are grouped into GSO bursts, pacing caps each call after the
// handshake, and a pending CONNECTION_CLOSE goes out alone.
#include <ngtcp2/ngtcp2.h>

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "connection_errors.hpp"
#include "gso_bursts.hpp"
#include "ngtcp2_path.hpp"
#include "palyra/transport/connection.hpp"

namespace palyra::transport {
namespace {
constexpr std::size_t kMaxVecs = 16;
}  // namespace

void Connection::write_connection_close(std::uint64_t now_ns, DatagramBatch& batch) {
  close_pending_ = false;
  const std::size_t max_payload = ngtcp2_conn_get_max_tx_udp_payload_size(conn_);
  ngtcp2_path_storage path_storage;
  ngtcp2_path_storage_zero(&path_storage);
  ngtcp2_pkt_info info{};
  const ngtcp2_connection_close_error close = to_ngtcp2(close_reason_);
  std::size_t offset = batch.buffer.size();
  batch.buffer.resize(offset + max_payload);
  auto n = ngtcp2_conn_write_connection_close(
      conn_, &path_storage.path, &info, batch.buffer.data() + offset, max_payload, &close, now_ns);
  if (n > 0) {
    GsoBursts(batch, remote_).add(offset, static_cast<std::size_t>(n));
    if (is_server_) {
      close_packet_.assign(batch.buffer.begin() + static_cast<std::ptrdiff_t>(offset),
                           batch.buffer.begin() + static_cast<std::ptrdiff_t>(offset + n));
      closing_until_ns_ = now_ns + 3 * ngtcp2_conn_get_pto(conn_);
    }
  } else {
    batch.buffer.resize(offset);
  }
  dispatch_events();  // tell the application (on_closed), now that it is outside ngtcp2
}

Stream* Connection::next_stream_to_send() {
  while (!send_queue_.empty()) {
    if (send_cursor_ >= send_queue_.size()) send_cursor_ = 0;
    Stream* candidate = find_stream(send_queue_[send_cursor_]);
    if (candidate != nullptr && candidate->wants_to_send(stream_key())) return candidate;
    if (candidate != nullptr) candidate->leave_send_queue(stream_key());
    send_queue_.erase(send_queue_.begin() + static_cast<std::ptrdiff_t>(send_cursor_));
  }
  return nullptr;
}

void Connection::write_datagrams(std::uint64_t now_ns, DatagramBatch& batch,
                                 std::size_t max_datagrams) {
  if (close_pending_) {
    write_connection_close(now_ns, batch);
    return;
  }
  if (std::exchange(repeat_close_, false) && !close_packet_.empty()) {
    const std::size_t offset = batch.buffer.size();
    batch.buffer.insert(batch.buffer.end(), close_packet_.begin(), close_packet_.end());
    GsoBursts(batch, remote_).add(offset, close_packet_.size());
    return;
  }
  if (state_ == State::Closed) return;

  const std::size_t max_payload = ngtcp2_conn_get_max_tx_udp_payload_size(conn_);
  ngtcp2_path_storage path_storage;
  ngtcp2_path_storage_zero(&path_storage);
  ngtcp2_pkt_info info{};
  // Each packet goes where ngtcp2 wrote it for: after the peer's address
  // changed (NAT rebinding), the path challenge and everything after it go
  // to the new address, and a burst never mixes destinations.
  SocketAddress destination = remote_;
  std::optional<GsoBursts> bursts;
  bursts.emplace(batch, destination);

  // Pacing: after the handshake, send no more than ngtcp2's send quantum at
  // once (pacing during the handshake stalls the second flight).
  if (handshake_completed_) {
    std::size_t quantum = ngtcp2_conn_get_send_quantum(conn_);
    max_datagrams = std::clamp<std::size_t>(quantum / max_payload, 1, max_datagrams);
  }

  std::array<ngtcp2_vec, kMaxVecs> vecs{};
  std::size_t written = 0;
  std::size_t offset = 0;    // where the current packet starts in batch.buffer
  bool packet_open = false;  // ngtcp2 asked for more frames for that packet
  while (written < max_datagrams) {
    Stream* stream = next_stream_to_send();
    std::size_t vec_count = 0;
    bool fin = false;
    std::int64_t stream_id = -1;
    if (stream != nullptr) {
      vec_count = stream->unsent(stream_key(), vecs.data(), vecs.size(), fin);
      stream_id = stream->id();
    }
    std::uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
    if (fin) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;

    // After NGTCP2_ERR_WRITE_MORE the packet under construction is still in
    // the buffer and ngtcp2 goes on writing it: keep those bytes.
    const bool continuing_packet = std::exchange(packet_open, false);
    if (!continuing_packet) {
      offset = batch.buffer.size();
      batch.buffer.resize(offset + max_payload);
    }
    ngtcp2_ssize stream_bytes = -1;
    ngtcp2_ssize n = ngtcp2_conn_writev_stream(
        conn_, &path_storage.path, &info, batch.buffer.data() + offset, max_payload, &stream_bytes,
        flags, stream_id, vecs.data(), vec_count, now_ns);
    if (stream != nullptr && stream_bytes >= 0) {
      std::uint64_t offered = 0;
      for (std::size_t i = 0; i < vec_count; ++i) offered += vecs[i].len;
      stream->on_sent(stream_key(), static_cast<std::size_t>(stream_bytes),
                      fin && static_cast<std::uint64_t>(stream_bytes) == offered);
    }
    if (n == NGTCP2_ERR_WRITE_MORE) {
      // The packet has room for more: rotate to the next stream, if any.
      packet_open = true;
      ++send_cursor_;
      continue;
    }
    if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED || n == NGTCP2_ERR_STREAM_SHUT_WR ||
        n == NGTCP2_ERR_STREAM_NOT_FOUND) {
      // Flow-control blocked or gone: wait for extend_max_stream_data. A
      // packet under construction stays open for the next stream.
      packet_open = continuing_packet;
      if (!packet_open) batch.buffer.resize(offset);
      stream->leave_send_queue(stream_key());
      send_queue_.erase(send_queue_.begin() + static_cast<std::ptrdiff_t>(send_cursor_));
      continue;
    }
    if (n < 0) {
      batch.buffer.resize(offset);
      end(ending_after_write(static_cast<int>(n), error_context()));
      dispatch_events();
      return;
    }
    if (n == 0) {
      batch.buffer.resize(offset);
      break;  // congestion- or pacing-limited, or nothing left
    }
    if (SocketAddress to = address_of(path_storage.path.remote);
        to.length != 0 && !(to == destination)) {
      destination = to;
      bursts.emplace(batch, destination);
    }
    bursts->add(offset, static_cast<std::size_t>(n));
    ++written;
    if (stream != nullptr) ++send_cursor_;
  }
  if (handshake_completed_) {
    ngtcp2_conn_update_pkt_tx_time(conn_, now_ns);
    update_keep_alive();
  }
}

void Connection::update_keep_alive() {
  if (limits_.in_flight_probe_interval.count() == 0) return;
  ngtcp2_conn_stat stat;
  ngtcp2_conn_get_conn_stat(conn_, &stat);
  const bool in_flight = stat.bytes_in_flight > 0;
  if (in_flight == probing_in_flight_) return;
  probing_in_flight_ = in_flight;
  const auto to_ns = [](std::chrono::milliseconds ms) {
    return static_cast<std::uint64_t>(std::chrono::nanoseconds(ms).count());
  };
  std::uint64_t timeout = to_ns(limits_.keep_alive_interval);  // 0: none
  if (in_flight) {
    const std::uint64_t probe =
        std::max(to_ns(limits_.in_flight_probe_interval), ngtcp2_conn_get_pto(conn_));
    timeout = timeout == 0 ? probe : std::min(timeout, probe);
  }
  ngtcp2_conn_set_keep_alive_timeout(conn_, timeout);
}

}  // namespace palyra::transport
