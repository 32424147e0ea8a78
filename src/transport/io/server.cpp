#include "palyra/transport/io/server.hpp"

#include <fmt/format.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <array>
#include <vector>

#include "connection_driver.hpp"
#include "core/address_tokens.hpp"
#include "core/datagram_dispatcher.hpp"
#include "core/tls_context.hpp"
#include "core/worker_cids.hpp"
#include "palyra/identity/revocation.hpp"
#include "udp_socket.hpp"
#include "worker_inbox.hpp"

namespace palyra::transport {
namespace {

// Datagrams other workers may queue for one worker before it drains them:
// a burst of rebound clients, not a steady stream (most datagrams land on
// their owner).
constexpr std::size_t kWorkerInboxDatagrams = 1024;

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
                                             ServerEvents events, ServerWorker worker) {
  PALYRA_TRY(limits.validate());
  auto context = ServerTlsContext::create(tls);
  if (!context) return std::move(context).error();
  ServerWorkers* workers = worker.workers.get();
  if (workers != nullptr && worker.index >= workers->count()) {
    return Error(Errc::InvalidArgument,
                 fmt::format("worker {} of {}", worker.index, workers->count()));
  }
  // Worker 0 binds what it is asked, the others the port it got, and all
  // share its keys: any worker recognises the CIDs, resets and tokens of
  // another. The lock orders concurrent binds after worker 0's.
  std::unique_lock<std::mutex> bind_lock;
  if (workers != nullptr) bind_lock = std::unique_lock(workers->bind_mutex_);
  if (workers != nullptr && worker.index > 0 && !workers->address_) {
    return Error(Errc::InvalidArgument, "worker 0 binds its port before the other workers");
  }
  SocketAddress bind_address =
      workers != nullptr && worker.index > 0 ? *workers->address_ : address;
  if (workers != nullptr && worker.index == 0) {
    // SO_REUSEPORT would let a second server of the same user share the
    // port without a word: an exclusive bind first fails as it would then
    // (and resolves port 0), and only its port is reused.
    auto probe = UdpSocket::bind(address, false, PortSharing::Exclusive);
    if (!probe) return std::move(probe).error();
    bind_address = probe->local_address();
  }
  auto socket =
      UdpSocket::bind(bind_address, limits.use_gso,
                      workers != nullptr ? PortSharing::SharedWithWorkers : PortSharing::Exclusive);
  if (!socket) return std::move(socket).error();
  std::unique_ptr<Server> server(
      new Server(loop, std::make_unique<UdpSocket>(std::move(*socket)), limits, std::move(events)));
  server->tls_ = std::move(*context);
  if (workers != nullptr && worker.index > 0) {
    server->keys_ = workers->keys_;
  } else {
    auto keys = ServerKeys::derive(tls.secret ? *tls.secret : generate_server_secret());
    if (!keys) return std::move(keys).error();
    server->keys_ = std::make_shared<const ServerKeys>(*keys);
  }
  if (workers != nullptr && worker.index == 0) {
    workers->address_ = server->socket_->local_address();
    workers->keys_ = server->keys_;
  }
  if (bind_lock) bind_lock.unlock();
  server->clock_ = tls.clock ? tls.clock : system_clock();
  DatagramDispatcher::WorkerRole role;
  if (workers != nullptr) {
    auto cids = WorkerCids::make(server->keys_->worker_cid_key(), worker.index, workers->count());
    if (!cids) return std::move(cids).error();
    role.cids = std::make_shared<const WorkerCids>(*cids);
    role.admission = workers->admission_;
  }
  server->dispatcher_ =
      std::make_unique<DatagramDispatcher>(limits, server->keys_, server->clock_, std::move(role));
  if (workers != nullptr) PALYRA_TRY(server->join_workers(std::move(worker)));
  PALYRA_TRY(loop.watch_readable(server->socket_->fd(), [s = server.get()] { s->on_readable(); }));
  return server;
}

// Our inbox: the datagrams other workers' sockets got for our connections
// arrive on our loop and take the same way as our socket's.
Status Server::join_workers(ServerWorker worker) {
  auto inbox =
      WorkerInbox::create(loop_, kWorkerInboxDatagrams,
                          [this](const SocketAddress& from, std::span<std::uint8_t> datagram) {
                            ++stats_.datagrams_from_workers;
                            on_datagram(from, datagram);
                          });
  if (!inbox) return std::move(inbox).error();
  inbox_ = std::move(*inbox);
  worker_ = std::move(worker);
  worker_.workers->attach(worker_.index, inbox_.get());
  return {};
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
  if (worker_.workers) worker_.workers->detach(worker_.index);
  loop_.unwatch(socket_->fd());
  // The daemon-wide counts outlive a worker: give back what ours hold.
  for (auto& [id, entry] : connections_) {
    end_handshake(*entry);
    dispatcher_->connection_gone();
  }
  connections_.clear();
}

std::size_t Server::handshake_count() const noexcept {
  return dispatcher_->handshakes();
}

void Server::stop_accepting() noexcept {
  dispatcher_->stop_accepting();
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
    const IncompleteFrameStats frames = c.incomplete_frames();
    stats.incomplete_frame_bytes += frames.held_bytes;
    stats.request_streams_stopped_over_budget += frames.stopped_over_budget;
    stats.request_streams_stopped_stalled += frames.stopped_stalled;
  }
  const DatagramDispatcher::Counters& counters = dispatcher_->counters();
  stats.datagrams_dropped = counters.dropped;
  stats.refused_over_capacity = counters.refused_over_capacity;
  stats.retries_sent = counters.retries_sent;
  stats.retry_tokens_validated = counters.retry_tokens_validated;
  stats.invalid_tokens = counters.invalid_tokens;
  stats.new_tokens_accepted = counters.new_tokens_accepted;
  stats.new_tokens_ignored = counters.new_tokens_ignored;
  stats.stateless_resets_sent = counters.stateless_resets_sent;
  stats.stateless_resets_suppressed = counters.stateless_resets_suppressed;
  stats.version_negotiations_sent = counters.version_negotiations_sent;
  stats.version_negotiations_suppressed = counters.version_negotiations_suppressed;
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

// The dispatcher decides each datagram's fate (core/datagram_dispatcher.hpp);
// this carries it out on the socket and the connection table.
void Server::on_datagram(const SocketAddress& from, std::span<const std::uint8_t> datagram) {
  std::array<std::uint8_t, NGTCP2_MAX_UDP_PAYLOAD_SIZE> answer;  // written before it is read
  auto verdict = dispatcher_->dispatch(from, datagram, monotonic_ns(), connections_.size(), answer);
  switch (verdict.action) {
    case DatagramDispatcher::Action::Deliver: {
      auto& entry = *connections_.at(verdict.connection_id);
      entry.connection->receive(socket_->local_address(), from, datagram, monotonic_ns());
      mark_dirty(verdict.connection_id);
      return;
    }
    case DatagramDispatcher::Action::Forward:
      if (worker_.workers->forward(verdict.worker, from, datagram)) {
        ++stats_.datagrams_forwarded;
      } else {
        ++stats_.datagrams_forward_dropped;
      }
      return;
    case DatagramDispatcher::Action::Accept:
      verdict.accept_options.qlog = qlog_;
      accept(from, datagram, verdict.accept_options, std::move(verdict.unvalidated_host));
      return;
    case DatagramDispatcher::Action::Refuse:
      ++stats_.handshakes[static_cast<std::size_t>(HandshakeResult::RefusedAtCap)];
      if (events_.on_refused) {
        events_.on_refused(from,
                           Error(Errc::ConnectionClosed,
                                 fmt::format("refused: {} connections or {} handshakes in "
                                             "progress is the limit",
                                             limits_.max_connections, limits_.max_handshakes)));
      }
      break;
    case DatagramDispatcher::Action::RejectToken:
      if (events_.on_refused) {
        events_.on_refused(from, Error(Errc::ConnectFailed,
                                       "refused: invalid or expired address validation token"));
      }
      break;
    case DatagramDispatcher::Action::Retry:
    case DatagramDispatcher::Action::Drop:
      break;
  }
  send_stateless(from, {answer.data(), verdict.answer_length});
}

void Server::accept(const SocketAddress& from, std::span<const std::uint8_t> datagram,
                    const AcceptOptions& options, std::string unvalidated_host) {
  auto connection = Connection::accept(tls_, limits_, socket_->local_address(), from, datagram,
                                       monotonic_ns(), options);
  if (!connection) {
    dispatcher_->accept_abandoned();
    return;  // not an Initial packet: nothing to answer
  }
  std::uint64_t id = next_id_++;
  Connection& c = **connection;
  c.user_tag = id;
  c.events.on_established = [this](Connection& conn) {
    ++stats_.accepted;
    ++stats_.handshakes[static_cast<std::size_t>(HandshakeResult::Ok)];
    Entry& entry = *connections_.at(conn.user_tag);
    entry.was_established = true;
    end_handshake(entry);
    issue_new_token(conn);
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
      auto& closes = conn.closed_by_peer() ? stats_.closes_by_peer : stats_.closes_by_us;
      ++closes[static_cast<std::size_t>(conn.close_cause())];
      if (events_.on_connection_closed) events_.on_connection_closed(conn, error);
    } else {
      ++stats_.failed_handshakes;
      ++stats_.handshakes[static_cast<std::size_t>(conn.handshake_result())];
      if (events_.on_refused) events_.on_refused(conn.remote_address(), error);
    }
  };
  c.on_output_pending = [this](Connection& conn) { mark_dirty(conn.user_tag); };
  auto entry = std::make_unique<Entry>(loop_, *socket_, std::move(*connection));
  dispatcher_->handshake_began(unvalidated_host);
  entry->unvalidated_host = std::move(unvalidated_host);
  connections_.emplace(id, std::move(entry));
  c.receive(socket_->local_address(), from, datagram, monotonic_ns());
  mark_dirty(id);
}

// Every established client gets a token for its next connection, so that
// it reconnects without a Retry even while we are busy (RFC 9000 §8.1.3).
void Server::issue_new_token(Connection& connection) {
  const std::string token = make_new_token(connection.remote_address(), *keys_, clock_->now());
  if (token.empty()) return;  // sealing failed: the client pays a Retry next time
  if (connection.send_new_token(token)) ++stats_.new_tokens_issued;
}

void Server::end_handshake(Entry& entry) {
  if (!entry.in_handshake) return;
  entry.in_handshake = false;
  dispatcher_->handshake_ended(entry.unvalidated_host);
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
    dispatcher_->add_route(cid, c.user_tag);
    entry.routes.push_back(std::move(cid));
  }
  for (const auto& cid : c.take_retired_connection_ids())
    dispatcher_->remove_route(cid, c.user_tag);
}

void Server::destroy(std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  for (const auto& cid : it->second->routes) dispatcher_->remove_route(cid, id);
  end_handshake(*it->second);
  dispatcher_->connection_gone();
  // Its counters outlive it in ours.
  const IncompleteFrameStats frames = it->second->connection->incomplete_frames();
  stats_.request_streams_stopped_over_budget += frames.stopped_over_budget;
  stats_.request_streams_stopped_stalled += frames.stopped_stalled;
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
