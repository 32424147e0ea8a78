// The QUIC server endpoint: one UDP socket, many connections, on one loop.
//
// It demultiplexes datagrams by connection ID, accepts new connections up
// to Limits::max_connections and Limits::max_handshakes in progress
// (refusing the next with CONNECTION_REFUSED and leaving existing ones
// untouched), proves a client's address with a Retry first when
// Limits::retry says so (unless the Initial carries the NEW_TOKEN token an
// earlier connection from that address was given), answers packets of
// connections it does not know
// with a rate-limited Stateless Reset (and other QUIC versions with a
// Version Negotiation), drops garbage without allocating, and hands
// established connections and their streams to the application through
// ServerEvents. Each datagram's fate is decided by the sans-I/O
// DatagramDispatcher (src/transport/core). All callbacks run on the loop's
// thread. Several Servers on several loops may serve one port as workers
// (server_workers.hpp): each keeps its connections, and hands a datagram
// naming another worker's connection to that worker.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "palyra/common/result.hpp"
#include "palyra/transport/connection.hpp"
#include "palyra/transport/drop_reason.hpp"
#include "palyra/transport/handshake_result.hpp"
#include "palyra/transport/io/event_loop.hpp"
#include "palyra/transport/io/impairment.hpp"
#include "palyra/transport/io/server_workers.hpp"
#include "palyra/transport/limits.hpp"
#include "palyra/transport/qlog_sink.hpp"
#include "palyra/transport/server_secret.hpp"
#include "palyra/transport/socket_address.hpp"
#include "palyra/transport/tls_config.hpp"

namespace palyra::transport {

class UdpSocket;
class ConnectionDriver;
class DatagramImpairer;
class DatagramDispatcher;
class WorkerInbox;

struct ServerEvents {
  // A client passed the handshake (its identity is in connection.peer()).
  std::function<void(Connection&)> on_connection;
  std::function<void(Connection&, Stream&)> on_stream_readable;
  std::function<void(Connection&, Stream&)> on_stream_writable;
  // Once per connection that had been established, with the reason.
  std::function<void(Connection&, const Error&)> on_connection_closed;
  // A handshake that failed or was refused (cap reached, bad certificate,
  // revoked): for logging. The connection object is already gone.
  std::function<void(const SocketAddress&, const Error&)> on_refused;
};

// Plain numbers, kept on the loop's thread; read them there (palyrad's
// metrics post a snapshot request to the loop).
struct ServerStats {
  std::uint64_t accepted = 0;
  std::uint64_t refused_over_capacity = 0;  // connection or handshake limits
  std::uint64_t failed_handshakes = 0;
  // Every handshake by how it ended (accepted ones are Ok, refused ones
  // RefusedAtCap), indexed by HandshakeResult.
  std::array<std::uint64_t, kHandshakeResultCount> handshakes{};
  // Established connections that ended, indexed by CloseCause: those we
  // (or a timeout) ended, and those the peer ended.
  std::array<std::uint64_t, kCloseCauseCount> closes_by_us{};
  std::array<std::uint64_t, kCloseCauseCount> closes_by_peer{};
  // Gauges, as of the call to stats().
  std::size_t connections_handshaking = 0;
  std::size_t connections_established = 0;
  std::size_t streams_open = 0;
  // The peers' request frames that have not completed: bytes held now (a
  // gauge), and streams stopped over a connection's budget or because their
  // frame stalled (counters, ended connections included).
  std::size_t incomplete_frame_bytes = 0;
  std::uint64_t request_streams_stopped_over_budget = 0;
  std::uint64_t request_streams_stopped_stalled = 0;
  // The UDP socket's traffic (every connection, and refusals).
  std::uint64_t datagrams_in = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t datagrams_out = 0;
  std::uint64_t bytes_out = 0;
  // Workers (server_workers.hpp): datagrams of another worker's connections
  // handed to it, dropped because its inbox was full, and handed to us.
  std::uint64_t datagrams_forwarded = 0;
  std::uint64_t datagrams_forward_dropped = 0;
  std::uint64_t datagrams_from_workers = 0;
  // Address validation and stateless answers (PROTOCOL.md §8).
  std::uint64_t retries_sent = 0;
  std::uint64_t retry_tokens_validated = 0;  // Initials that came back with a good token
  std::uint64_t invalid_tokens = 0;          // answered with CONNECTION_CLOSE(INVALID_TOKEN)
  // NEW_TOKEN tokens (RFC 9000 §8.1.3): given to established clients, and
  // presented in a later Initial, valid (the address counts as proven, no
  // Retry) or not (forged, expired, another address's: as if token-less).
  std::uint64_t new_tokens_issued = 0;
  std::uint64_t new_tokens_accepted = 0;
  std::uint64_t new_tokens_ignored = 0;
  std::uint64_t stateless_resets_sent = 0;
  std::uint64_t stateless_resets_suppressed = 0;  // over the rate limit
  std::uint64_t version_negotiations_sent = 0;
  std::uint64_t version_negotiations_suppressed = 0;  // over the rate limit
  // Datagrams that reached no connection and left no state, by why.
  std::array<std::uint64_t, kDropReasonCount> datagrams_dropped{};
};

// Adds `more` (another worker's) to `total`: counters and gauges alike.
void add_stats(ServerStats& total, const ServerStats& more);

class Server {
 public:
  // EndpointBindFailed with the address; TLS errors from the configuration.
  // As one of several workers (`worker`): worker 0 binds `address` (port 0
  // resolves to a free port) and the others, bound after it, the port it
  // got, whatever `address` says; all share worker 0's keys.
  static Result<std::unique_ptr<Server>> bind(EventLoop& loop, const SocketAddress& address,
                                              const ServerTlsConfig& tls, const Limits& limits,
                                              ServerEvents events, ServerWorker worker = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const SocketAddress& local_address() const noexcept;
  std::size_t connection_count() const noexcept { return connections_.size(); }
  // Connections whose handshake has not completed yet.
  std::size_t handshake_count() const noexcept;
  // The counters, with the gauges and the socket's traffic as of now.
  ServerStats stats() const;

  // Connection ids are Connection::user_tag; a connection may be gone when a
  // posted completion comes back, so look it up instead of keeping a pointer.
  Connection* find_connection(std::uint64_t id) noexcept;

  // Closes every connection whose client certificate is now in the
  // revocation index (after it was reloaded). Returns how many were closed.
  std::size_t close_revoked_connections();
  // New handshakes use this certificate, key and CA bundle from now on;
  // live connections keep what they started with. On error (naming the
  // file) the previous configuration stays.
  Status reload_tls(const ServerTlsConfig& tls);
  // New handshakes are ignored from now on (draining for shutdown).
  void stop_accepting() noexcept;
  // Closes every connection with an application error code.
  void close_all(std::uint64_t app_error_code, std::string_view reason);

  // Connections accepted from now on are traced into the factory's sinks
  // (io/qlog_files.hpp); an empty factory stops tracing new ones.
  void set_qlog(QlogSinkFactory factory) { qlog_ = std::move(factory); }

  // Test hook: a seeded lossy network on the receive path.
  void set_impairment(const NetworkImpairment& impairment);

 private:
  struct Entry;
  Server(EventLoop& loop, std::unique_ptr<UdpSocket> socket, const Limits& limits,
         ServerEvents events);

  Status join_workers(ServerWorker worker);
  void on_readable();
  void on_datagram(const SocketAddress& from, std::span<const std::uint8_t> datagram);
  void accept(const SocketAddress& from, std::span<const std::uint8_t> datagram,
              const AcceptOptions& options, std::string unvalidated_host);
  void send_stateless(const SocketAddress& to, std::span<const std::uint8_t> packet);
  void end_handshake(Entry& entry);
  void issue_new_token(Connection& connection);
  void mark_dirty(std::uint64_t id);
  void process_dirty();
  void flush(Entry& entry);
  void update_routes(Entry& entry);
  void destroy(std::uint64_t id);

  EventLoop& loop_;
  std::unique_ptr<UdpSocket> socket_;
  std::shared_ptr<const class ServerTlsContext> tls_;
  Limits limits_;
  ServerEvents events_;
  ServerStats stats_;
  std::unique_ptr<DatagramImpairer> impairer_;
  // Routes, the handshake limits and stateless answers: each datagram's fate.
  std::unique_ptr<DatagramDispatcher> dispatcher_;
  std::shared_ptr<const ServerKeys> keys_;  // seals the NEW_TOKEN tokens we issue
  // Calendar time for NEW_TOKEN tokens (ServerTlsConfig::clock at bind).
  std::shared_ptr<const palyra::Clock> clock_;
  QlogSinkFactory qlog_;  // empty: no qlog
  // Set when we are one of several workers: the set, and our inbox in it.
  ServerWorker worker_;
  std::unique_ptr<WorkerInbox> inbox_;

  std::unordered_map<std::uint64_t, std::unique_ptr<Entry>> connections_;
  std::uint64_t next_id_ = 1;
  std::unordered_set<std::uint64_t> dirty_;
  bool flush_posted_ = false;
  bool in_receive_ = false;
  // Tasks posted to the loop hold a weak copy: they do nothing once we are gone.
  std::shared_ptr<int> lifetime_ = std::make_shared<int>(0);
};

}  // namespace palyra::transport
