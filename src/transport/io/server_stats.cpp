// The workers' ServerStats summed into the daemon's (see server.hpp).
#include <cstddef>

#include "palyra/transport/io/server.hpp"

namespace palyra::transport {
namespace {

template <std::size_t N>
void add_each(std::array<std::uint64_t, N>& total, const std::array<std::uint64_t, N>& more) {
  for (std::size_t i = 0; i < N; ++i) total[i] += more[i];
}

}  // namespace

void add_stats(ServerStats& total, const ServerStats& more) {
  total.accepted += more.accepted;
  total.refused_over_capacity += more.refused_over_capacity;
  total.failed_handshakes += more.failed_handshakes;
  add_each(total.handshakes, more.handshakes);
  add_each(total.closes_by_us, more.closes_by_us);
  add_each(total.closes_by_peer, more.closes_by_peer);
  total.connections_handshaking += more.connections_handshaking;
  total.connections_established += more.connections_established;
  total.streams_open += more.streams_open;
  total.incomplete_frame_bytes += more.incomplete_frame_bytes;
  total.request_streams_stopped_over_budget += more.request_streams_stopped_over_budget;
  total.request_streams_stopped_stalled += more.request_streams_stopped_stalled;
  total.datagrams_in += more.datagrams_in;
  total.bytes_in += more.bytes_in;
  total.datagrams_out += more.datagrams_out;
  total.bytes_out += more.bytes_out;
  total.datagrams_forwarded += more.datagrams_forwarded;
  total.datagrams_forward_dropped += more.datagrams_forward_dropped;
  total.datagrams_from_workers += more.datagrams_from_workers;
  total.retries_sent += more.retries_sent;
  total.retry_tokens_validated += more.retry_tokens_validated;
  total.invalid_tokens += more.invalid_tokens;
  total.new_tokens_issued += more.new_tokens_issued;
  total.new_tokens_accepted += more.new_tokens_accepted;
  total.new_tokens_ignored += more.new_tokens_ignored;
  total.stateless_resets_sent += more.stateless_resets_sent;
  total.stateless_resets_suppressed += more.stateless_resets_suppressed;
  total.version_negotiations_sent += more.version_negotiations_sent;
  total.version_negotiations_suppressed += more.version_negotiations_suppressed;
  add_each(total.datagrams_dropped, more.datagrams_dropped);
}

}  // namespace palyra::transport
