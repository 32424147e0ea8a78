#include "palyra/transport/io/server.hpp"

#include <fmt/format.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <array>
#include <vector>

#include "connection_driver.hpp"
#include "core/stateless_packets.hpp"
#include "core/tls_context.hpp"
#include "core/token_bucket.hpp"
#include "palyra/identity/revocation.hpp"
#include "udp_socket.hpp"

namespace palyra::transport {
namespace {
constexpr std::size_t kServerCidLength = 16;  // as Connection::accept chooses

std::string cid_key(const ngtcp2_cid& cid) {
  return std::string(reinterpret_cast<const char*>(cid.data), cid.datalen);
}

bool is_long_header(std::span<const std::uint8_t> datagram) {
  return !datagram.empty() && (datagram[0] & 0x80) != 0;
}
}  // namespace

struct Server::Entry {
  Entry(EventLoop& loop, UdpSocket& socket, std::unique_ptr<Connection> c)
      : connection(std::move(c)), driver(loop, socket) {}
  std::unique_ptr<Connection> connection;
  ConnectionDriver driver;
  std::vector<std::string> routes;
  bool was_established = false;
  bool in_handshake = true;
  // The sender's IP address while its handshake counts against
  // max_handshakes_per_address (no Retry token proved it); empty otherwise.
  std::string unvalidated_host;
};

Result<std::unique_ptr<Server>> Server::bind(EventLoop& loop, const SocketAddress& address,
                                             const ServerTlsConfig& tls, const Limits& limits,
                                             ServerEvents events) {
  PALYRA_TRY(limits.validate());
  auto context = ServerTlsContext::create(tls);
  if (!context) return std::move(context).error();
  auto socket = UdpSocket::bind(address, limits.use_gso);
  if (!socket) return std::move(socket).error();
  std::unique_ptr<Server> server(
      new Server(loop, std::make_unique<UdpSocket>(std::move(*socket)), limits, std::move(events)));
  server->tls_ = std::move(*context);
  auto keys = ServerKeys::derive(tls.secret ? *tls.secret : generate_server_secret());
  if (!keys) return std::move(keys).error();
  server->keys_ = std::make_shared<const ServerKeys>(*keys);
  server->reset_budget_ = std::make_unique<TokenBucket>(limits.stateless_resets_per_second,
                                                        limits.stateless_resets_per_second);
  PALYRA_TRY(loop.watch_readable(server->socket_->fd(), [s = server.get()] { s->on_readable(); }));
  return server;
}

Status Server::reload_tls(const ServerTlsConfig& tls) {
  auto context = ServerTlsContext::create(tls);
  if (!context) return std::move(context).error();
  // Connections hold their own reference: only new handshakes see the swap.
  tls_ = std::move(*context);
  return {};
}

Server::Server(EventLoop& loop, std::unique_ptr<UdpSocket> socket, const Limits& limits,
               ServerEvents events)
    : loop_(loop), socket_(std::move(socket)), limits_(limits), events_(std::move(events)) {}

Server::~Server() {
  loop_.unwatch(socket_->fd());
  connections_.clear();
}

const SocketAddress& Server::local_address() const noexcept {
  return socket_->local_address();
}

Connection* Server::find_connection(std::uint64_t id) noexcept {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second->connection.get();
}

ServerStats Server::stats() const {
  ServerStats stats = stats_;
  for (const auto& [id, entry] : connections_) {
    const Connection& c = *entry->connection;
    if (c.state() == Connection::State::Handshaking) ++stats.connections_handshaking;
    if (c.state() == Connection::State::Established) ++stats.connections_established;
    stats.streams_open += c.open_stream_count();
  }
  const UdpSocket::Traffic& traffic = socket_->traffic();
  stats.datagrams_in = traffic.datagrams_in;
  stats.bytes_in = traffic.bytes_in;
  stats.datagrams_out = traffic.datagrams_out;
  stats.bytes_out = traffic.bytes_out;
  return stats;
}

void Server::set_impairment(const NetworkImpairment& impairment) {
  impairer_ = std::make_unique<DatagramImpairer>(impairment);
}

void Server::on_readable() {
  in_receive_ = true;
  socket_->receive([this](const SocketAddress& from, std::span<std::uint8_t> datagram) {
    if (impairer_) {
      impairer_->process(
          from, datagram,
          [this](const SocketAddress& f, std::span<const std::uint8_t> d) { on_datagram(f, d); });
    } else {
      on_datagram(from, datagram);
    }
  });
  in_receive_ = false;
  process_dirty();
}

void Server::on_datagram(const SocketAddress& from, std::span<const std::uint8_t> datagram) {
  ngtcp2_version_cid version_cid{};
  int rv = ngtcp2_pkt_decode_version_cid(&version_cid, datagram.data(), datagram.size(),
                                         kServerCidLength);
  if (rv != 0) return;  // not QUIC v1 (or garbage): ignore, as RFC 9000 allows
  auto route = routes_.find(
      std::string(reinterpret_cast<const char*>(version_cid.dcid), version_cid.dcidlen));
  if (route != routes_.end()) {
    auto& entry = *connections_.at(route->second);
    entry.connection->receive(socket_->local_address(), from, datagram, monotonic_ns());
    mark_dirty(route->second);
    return;
  }
  if (!is_long_header(datagram)) {
    answer_unknown_connection(from, {version_cid.dcid, version_cid.dcidlen}, datagram.size());
    return;
  }
  if (!accepting_) return;
  admit_initial(from, datagram);
}

// A new client's Initial: refused at the limits, sent a Retry when its
// address is to be proven first, refused when its token is bad; otherwise
// it becomes a connection. Nothing but the connection keeps state.
void Server::admit_initial(const SocketAddress& from, std::span<const std::uint8_t> datagram) {
  ngtcp2_pkt_hd header{};
  // Not an Initial we could accept (0-RTT, a short Initial, ...): drop it.
  if (ngtcp2_accept(&header, datagram.data(), datagram.size()) != 0) return;
  const std::uint64_t now = monotonic_ns();
  AcceptOptions options;
  options.keys = keys_;
  options.qlog = qlog_;
  if (is_retry_token(header)) {
    auto original_dcid = verify_retry_token(header, from, *keys_, now);
    if (!original_dcid) {
      reject_token(from, header);
      return;
    }
    options.retried = AcceptOptions::Retried{cid_key(*original_dcid), cid_key(header.dcid)};
    ++stats_.retry_tokens_validated;
  }
  // (A token of another kind is not ours to honour: the Initial counts as
  // token-less.)
  if (connections_.size() >= limits_.max_connections || handshakes_ >= limits_.max_handshakes) {
    refuse(from, header);
    return;
  }
  std::string host;
  if (!options.retried) {
    host = from.host();
    auto it = unvalidated_by_host_.find(host);
    const bool host_at_limit =
        it != unvalidated_by_host_.end() && it->second >= limits_.max_handshakes_per_address;
    const bool busy = handshakes_ >= limits_.retry_threshold || host_at_limit;
    if (limits_.retry == RetryPolicy::Always || (limits_.retry == RetryPolicy::Auto && busy)) {
      send_retry(from, header);
      return;
    }
    if (host_at_limit) {
      refuse(from, header);
      return;
    }
  }
  accept(from, datagram, options, std::move(host));
}

void Server::accept(const SocketAddress& from, std::span<const std::uint8_t> datagram,
                    const AcceptOptions& options, std::string unvalidated_host) {
  auto connection = Connection::accept(tls_, limits_, socket_->local_address(), from, datagram,
                                       monotonic_ns(), options);
  if (!connection) return;  // not an Initial packet: nothing to answer
  std::uint64_t id = next_id_++;
  Connection& c = **connection;
  c.user_tag = id;
  c.events.on_established = [this](Connection& conn) {
    ++stats_.accepted;
    ++stats_.handshakes[static_cast<std::size_t>(HandshakeResult::Ok)];
    Entry& entry = *connections_.at(conn.user_tag);
    entry.was_established = true;
    end_handshake(entry);
    if (events_.on_connection) events_.on_connection(conn);
  };
  c.events.on_stream_readable = [this](Connection& conn, Stream& stream) {
    if (events_.on_stream_readable) events_.on_stream_readable(conn, stream);
  };
  c.events.on_stream_writable = [this](Connection& conn, Stream& stream) {
    if (events_.on_stream_writable) events_.on_stream_writable(conn, stream);
  };
  c.events.on_closed = [this](Connection& conn, const Error& error) {
    if (connections_.at(conn.user_tag)->was_established) {
      ++stats_.closes[error.code()];
      if (events_.on_connection_closed) events_.on_connection_closed(conn, error);
    } else {
      ++stats_.failed_handshakes;
      ++stats_.handshakes[static_cast<std::size_t>(conn.handshake_result())];
      if (events_.on_refused) events_.on_refused(conn.remote_address(), error);
    }
  };
  c.on_output_pending = [this](Connection& conn) { mark_dirty(conn.user_tag); };
  auto entry = std::make_unique<Entry>(loop_, *socket_, std::move(*connection));
  ++handshakes_;
  if (!unvalidated_host.empty()) ++unvalidated_by_host_[unvalidated_host];
  entry->unvalidated_host = std::move(unvalidated_host);
  connections_.emplace(id, std::move(entry));
  c.receive(socket_->local_address(), from, datagram, monotonic_ns());
  mark_dirty(id);
}

void Server::end_handshake(Entry& entry) {
  if (!entry.in_handshake) return;
  entry.in_handshake = false;
  --handshakes_;
  if (entry.unvalidated_host.empty()) return;
  auto it = unvalidated_by_host_.find(entry.unvalidated_host);
  if (it != unvalidated_by_host_.end() && --it->second == 0) unvalidated_by_host_.erase(it);
}

// At a limit: answer the Initial with CONNECTION_CLOSE(CONNECTION_REFUSED)
// without creating any state.
void Server::refuse(const SocketAddress& from, const ngtcp2_pkt_hd& header) {
  ++stats_.refused_over_capacity;
  ++stats_.handshakes[static_cast<std::size_t>(HandshakeResult::RefusedAtCap)];
  std::array<std::uint8_t, NGTCP2_MAX_UDP_PAYLOAD_SIZE> buffer{};
  send_stateless(from,
                 {buffer.data(), write_initial_close(buffer, header, NGTCP2_CONNECTION_REFUSED)});
  if (events_.on_refused) {
    events_.on_refused(
        from, Error(Errc::ConnectionClosed,
                    fmt::format("refused: {} connections or {} handshakes in progress is the limit",
                                limits_.max_connections, limits_.max_handshakes)));
  }
}

void Server::send_retry(const SocketAddress& from, const ngtcp2_pkt_hd& header) {
  ++stats_.retries_sent;
  std::array<std::uint8_t, NGTCP2_MAX_UDP_PAYLOAD_SIZE> buffer{};
  send_stateless(from, {buffer.data(), write_retry(buffer, header, from, *keys_, monotonic_ns())});
}

// A Retry token that is forged, expired, or from another address: RFC 9000
// §8.1.3 lets us close at once, and we keep nothing.
void Server::reject_token(const SocketAddress& from, const ngtcp2_pkt_hd& header) {
  ++stats_.invalid_tokens;
  std::array<std::uint8_t, NGTCP2_MAX_UDP_PAYLOAD_SIZE> buffer{};
  send_stateless(from, {buffer.data(), write_initial_close(buffer, header, NGTCP2_INVALID_TOKEN)});
  if (events_.on_refused) {
    events_.on_refused(
        from, Error(Errc::ConnectFailed, "refused: invalid or expired address validation token"));
  }
}

// A short-header packet for a connection we do not know (one of a previous
// life, or long gone): a Stateless Reset tells its sender at once, within
// the rate limit.
void Server::answer_unknown_connection(const SocketAddress& from,
                                       std::span<const std::uint8_t> dcid,
                                       std::size_t datagram_size) {
  if (datagram_size < kMinStatelessResetTrigger) return;
  if (!reset_budget_->take(monotonic_ns())) {
    ++stats_.stateless_resets_suppressed;
    return;
  }
  std::array<std::uint8_t, NGTCP2_MAX_UDP_PAYLOAD_SIZE> buffer{};
  std::size_t n = write_stateless_reset(buffer, dcid, datagram_size, *keys_);
  if (n == 0) return;
  ++stats_.stateless_resets_sent;
  send_stateless(from, {buffer.data(), n});
}

void Server::send_stateless(const SocketAddress& to, std::span<const std::uint8_t> packet) {
  if (packet.empty()) return;
  DatagramBatch& batch = thread_send_batch();
  batch.clear();
  batch.buffer.assign(packet.begin(), packet.end());
  batch.bursts.push_back({to, 0, packet.size(), packet.size()});
  socket_->send(batch);
}

void Server::mark_dirty(std::uint64_t id) {
  dirty_.insert(id);
  // Output queued outside our own receive path (e.g. a posted completion):
  // flush at the end of this loop iteration, once for all of them.
  if (!in_receive_ && !flush_posted_) {
    flush_posted_ = true;
    loop_.post([this, alive = std::weak_ptr<int>(lifetime_)] {
      if (alive.expired()) return;
      flush_posted_ = false;
      process_dirty();
    });
  }
}

void Server::process_dirty() {
  // Flushing can make more connections dirty (callbacks write); loop until quiet.
  while (!dirty_.empty()) {
    std::vector<std::uint64_t> ids(dirty_.begin(), dirty_.end());
    dirty_.clear();
    for (auto id : ids) {
      auto it = connections_.find(id);
      if (it == connections_.end()) continue;
      flush(*it->second);
    }
  }
}

void Server::flush(Entry& entry) {
  Connection& c = *entry.connection;
  std::uint64_t id = c.user_tag;
  entry.driver.flush(c, [this, id] {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    it->second->connection->handle_expiry(monotonic_ns());
    mark_dirty(id);
    process_dirty();
  });
  update_routes(entry);
  if (c.finished()) destroy(id);
}

void Server::update_routes(Entry& entry) {
  Connection& c = *entry.connection;
  for (auto& cid : c.take_new_connection_ids()) {
    routes_[cid] = c.user_tag;
    entry.routes.push_back(std::move(cid));
  }
  for (auto& cid : c.take_retired_connection_ids()) routes_.erase(cid);
}

void Server::destroy(std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  for (const auto& cid : it->second->routes) {
    auto route = routes_.find(cid);
    if (route != routes_.end() && route->second == id) routes_.erase(route);
  }
  end_handshake(*it->second);
  dirty_.erase(id);
  // Deferred: we may be inside this connection's own timer callback chain.
  loop_.post([entry = std::shared_ptr<Entry>(std::move(it->second))] {});
  connections_.erase(it);
}

std::size_t Server::close_revoked_connections() {
  std::size_t closed = 0;
  for (auto& [id, entry] : connections_) {
    Connection& c = *entry->connection;
    if (c.state() == Connection::State::Established && !c.peer().fingerprint.empty() &&
        tls_->is_revoked(c.peer().fingerprint)) {
      c.close(app_error::kRevoked, "client certificate revoked");
      ++closed;
    }
  }
  process_dirty();
  return closed;
}

void Server::close_all(std::uint64_t app_error_code, std::string_view reason) {
  for (auto& [id, entry] : connections_) entry->connection->close(app_error_code, reason);
  process_dirty();
}

}  // namespace palyra::transport
