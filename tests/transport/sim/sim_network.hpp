// Two sans-I/O Connections, a client and a server, on a simulated network:
// one Link each way, an event queue of datagrams in flight, and one
// simulated clock that both connections read through the `now` of every
// call. Nothing sleeps: the clock jumps to the next arrival or expiry, so a
// minute of simulated time costs what its packets cost to process.
//
// Datagrams to the server pass the same front door as on the I/O layer's
// socket, the DatagramDispatcher: routed by destination connection ID, a
// new connection accepted from a v1 Initial (or answered with a Retry,
// under the limits' retry policy), stateless answers sent back over the
// link. A finished server connection is discarded (as after
// NGTCP2_ERR_DROP_CONN for an Initial it could not decrypt), so the
// client's next Initial starts a fresh one. The client sees every datagram that
// reaches its address. A NAT rebinding (rebind_client) changes the address the server sees the
// client's datagrams come from; datagrams the server still sends to the old address are lost, as
// behind a real NAT.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "datagram_dispatcher.hpp"
#include "palyra/transport/connection.hpp"
#include "sim_link.hpp"

namespace palyra::transport::sim {

struct NetworkConfig {
  std::uint64_t seed = 1;
  LinkConfig to_server;  // the client's uplink
  LinkConfig to_client;  // the server's downlink
  Limits limits;         // the server's, and the client's unless client_limits is set
  std::optional<Limits> client_limits;
  // The server as one of several workers: its CIDs name it; null: random CIDs.
  std::shared_ptr<const WorkerCids> worker_cids;
};

class Network {
 public:
  using Observer = std::function<void(std::span<const std::uint8_t> datagram)>;

  Network(NetworkConfig config, std::shared_ptr<const ClientTlsContext> client_tls,
          std::shared_ptr<const ServerTlsContext> server_tls);

  // A new client connection, and a fresh server side for it (the previous
  // pair is dropped). Its first flight leaves at the next step.
  void connect();
  Connection* client() noexcept { return client_.get(); }
  Connection* server() noexcept { return server_.get(); }
  // Called on each server connection as it is accepted, before it reads its
  // first datagram: the place to install its events.
  std::function<void(Connection&)> on_server_accepted;
  // Every datagram the server sends, and every one that reaches it.
  Observer on_server_sent;
  Observer on_server_received;

  // Runs until `done` holds (true) or until the simulated clock passes
  // `limit_ns` from now or nothing is left to happen (false).
  bool run_until(const std::function<bool()>& done, std::uint64_t limit_ns);
  // Runs whatever happens in the next `duration_ns`; the clock then reads
  // exactly that much later.
  void run_for(std::uint64_t duration_ns);
  // From now on the client's datagrams reach the server from `address`.
  void rebind_client(const SocketAddress& address);

  // What the server's front door decided since the last connect().
  const DatagramDispatcher::Counters& dispatched() const noexcept {
    return dispatcher_->counters();
  }
  // Why each discarded server connection ended, oldest first.
  const std::vector<std::string>& server_endings() const noexcept { return server_endings_; }

  std::uint64_t now_ns() const noexcept { return now_; }
  // Simulated time since the network was made.
  std::uint64_t elapsed_ns() const noexcept { return now_ - start_; }
  Link& to_server() noexcept { return to_server_; }
  Link& to_client() noexcept { return to_client_; }
  const SocketAddress& server_address() const noexcept { return server_address_; }
  const SocketAddress& client_public_address() const noexcept { return client_public_; }

 private:
  struct InFlight {
    std::uint64_t at_ns;
    std::uint64_t order;  // ties arrive in the order they were sent
    bool to_server;
    SocketAddress from;
    SocketAddress to;
    std::vector<std::uint8_t> bytes;
    bool operator>(const InFlight& other) const {
      return at_ns != other.at_ns ? at_ns > other.at_ns : order > other.order;
    }
  };

  void flush(Connection& from, bool from_server);
  void send_to_client(std::span<const std::uint8_t> datagram, const SocketAddress& to);
  void end_server_handshake();
  void deliver(InFlight datagram);
  void deliver_to_server(const InFlight& datagram);
  void route_new_ids();
  void handle_expiries();
  void discard_finished_server();
  std::uint64_t next_event_ns() const;

  NetworkConfig config_;
  std::shared_ptr<const ClientTlsContext> client_tls_;
  std::shared_ptr<const ServerTlsContext> server_tls_;
  Link to_server_;
  Link to_client_;
  SocketAddress client_local_;   // where the client thinks it is
  SocketAddress client_public_;  // where the server sees it (after the NAT)
  SocketAddress server_address_;
  std::unique_ptr<Connection> client_;
  std::unique_ptr<Connection> server_;
  std::shared_ptr<const ServerKeys> server_keys_;
  std::unique_ptr<DatagramDispatcher> dispatcher_;
  std::uint64_t server_serial_ = 0;      // the dispatcher's id of server_
  std::set<std::string> server_routes_;  // connection IDs routed to server_
  bool server_handshaking_ = false;
  std::vector<std::string> server_endings_;
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> in_flight_;
  std::uint64_t order_ = 0;
  std::uint64_t start_;
  std::uint64_t now_;
};

}  // namespace palyra::transport::sim
