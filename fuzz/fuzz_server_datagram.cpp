// Whatever bytes arrive on the server's socket: the input is a run of
// datagrams, each [source (1 byte)][length (2 bytes, big-endian)][bytes],
// fed through the server's real front door (DatagramDispatcher) and, when
// it says so, into real server Connections with a TLS configuration from a
// throwaway CA — the Server's own path, without the socket. Beyond "no
// crash, no leak, no undefined behaviour" it checks what the server
// promises: no stateless answer larger than its trigger, and the handshake
// count the limits rely on equal to the handshakes really in progress.
#include <ngtcp2/ngtcp2.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/datagram_dispatcher.hpp"
#include "core/tls_context.hpp"
#include "palyra/transport/connection.hpp"
#include "palyra/transport/datagram.hpp"
#include "transport/test_pki.hpp"

namespace {

using palyra::transport::Connection;
using palyra::transport::DatagramBatch;
using palyra::transport::DatagramDispatcher;
using palyra::transport::Limits;
using palyra::transport::ServerKeys;
using palyra::transport::ServerSecret;
using palyra::transport::SocketAddress;

constexpr std::uint64_t kStartNs = 1'000'000'000'000;
constexpr std::uint64_t kStepNs = 1'000'000;  // each datagram arrives 1 ms after the last

// Made once: key generation and PEM files are too slow for every input.
struct Setup {
  palyra::transport::testing::TestPki pki;
  std::shared_ptr<const palyra::transport::ServerTlsContext> tls;
  std::shared_ptr<const ServerKeys> keys;
  Limits limits;
  SocketAddress local = SocketAddress::parse("127.0.0.1:4433").value();
  std::array<SocketAddress, 4> sources = {
      SocketAddress::parse("127.0.0.1:50000").value(),
      SocketAddress::parse("127.0.0.1:50001").value(),
      SocketAddress::parse("192.0.2.7:443").value(),
      SocketAddress::parse("[::1]:50000").value(),
  };

  Setup() {
    palyra::transport::ServerTlsConfig config{pki.ca_cert(), pki.server_chain(), pki.server_key(),
                                              true, nullptr};
    tls = palyra::transport::ServerTlsContext::create(config).value();
    ServerSecret secret{};  // fixed: the same input meets the same keys
    keys = std::make_shared<const ServerKeys>(ServerKeys::derive(secret).value());
    limits.max_connections = 4;
    limits.max_handshakes = 3;
    limits.retry_threshold = 2;
    limits.max_handshakes_per_address = 2;
  }
};

struct Peer {
  std::unique_ptr<Connection> connection;
  std::string unvalidated_host;
  bool in_handshake = true;
  std::vector<std::string> routes;
};

// The Server's bookkeeping after a connection ran (Server::flush and
// destroy): its routes, the end of its handshake, its removal.
class Connections {
 public:
  explicit Connections(DatagramDispatcher& dispatcher) : dispatcher_(dispatcher) {}
  ~Connections() {
    for (auto& [id, peer] : peers_) end_handshake(peer);
  }

  std::size_t size() const { return peers_.size(); }
  std::size_t in_handshake() const {
    std::size_t n = 0;
    for (const auto& [id, peer] : peers_) n += peer.in_handshake ? 1 : 0;
    return n;
  }
  Connection* find(std::uint64_t id) {
    auto it = peers_.find(id);
    return it == peers_.end() ? nullptr : it->second.connection.get();
  }
  std::uint64_t add(std::unique_ptr<Connection> connection, std::string unvalidated_host) {
    const std::uint64_t id = next_id_++;
    dispatcher_.handshake_began(unvalidated_host);
    peers_.emplace(id, Peer{std::move(connection), std::move(unvalidated_host)});
    return id;
  }
  void run(std::uint64_t id, std::uint64_t now_ns) {
    Peer& peer = peers_.at(id);
    Connection& c = *peer.connection;
    DatagramBatch out;
    c.write_datagrams(now_ns, out);
    if (c.expiry() <= now_ns) c.handle_expiry(now_ns);
    for (auto& cid : c.take_new_connection_ids()) {
      dispatcher_.add_route(cid, id);
      peer.routes.push_back(std::move(cid));
    }
    for (auto& cid : c.take_retired_connection_ids()) dispatcher_.remove_route(cid, id);
    if (c.state() != Connection::State::Handshaking) end_handshake(peer);
    if (!c.finished()) return;
    for (const auto& cid : peer.routes) dispatcher_.remove_route(cid, id);
    peers_.erase(id);
  }

 private:
  void end_handshake(Peer& peer) {
    if (!peer.in_handshake) return;
    peer.in_handshake = false;
    dispatcher_.handshake_ended(peer.unvalidated_host);
  }

  DatagramDispatcher& dispatcher_;
  std::map<std::uint64_t, Peer> peers_;
  std::uint64_t next_id_ = 1;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Setup setup;
  DatagramDispatcher dispatcher(setup.limits, setup.keys);
  Connections connections(dispatcher);
  std::array<std::uint8_t, NGTCP2_MAX_UDP_PAYLOAD_SIZE> answer{};
  std::uint64_t now = kStartNs;
  std::span<const std::uint8_t> input(data, size);
  while (input.size() >= 3) {
    const SocketAddress& from = setup.sources[input[0] % setup.sources.size()];
    const std::size_t length = std::min<std::size_t>((input[1] << 8) | input[2], input.size() - 3);
    const auto datagram = input.subspan(3, length);
    input = input.subspan(3 + length);
    now += kStepNs;
    auto verdict = dispatcher.dispatch(from, datagram, now, connections.size(), answer);
    using Action = DatagramDispatcher::Action;
    if (verdict.action == Action::Deliver) {
      if (Connection* c = connections.find(verdict.connection_id)) {
        c->receive(setup.local, from, datagram, now);
        connections.run(verdict.connection_id, now);
      }
    } else if (verdict.action == Action::Accept) {
      auto c = Connection::accept(setup.tls, setup.limits, setup.local, from, datagram, now,
                                  verdict.accept_options);
      if (c) {
        Connection* raw = c->get();
        const auto id = connections.add(std::move(*c), std::move(verdict.unvalidated_host));
        raw->receive(setup.local, from, datagram, now);
        connections.run(id, now);
      }
    } else if (verdict.answer_length > datagram.size()) {
      std::abort();  // a stateless answer that amplifies
    }
    if (dispatcher.handshakes() != connections.in_handshake()) std::abort();
    if (connections.size() > setup.limits.max_connections) std::abort();
  }
  return 0;
}
