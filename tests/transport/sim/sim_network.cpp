#include "sim_network.hpp"

#include <ngtcp2/ngtcp2.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace palyra::transport::sim {
namespace {

// A step that does not move the clock must not repeat forever.
constexpr int kMaxStepsAtOneInstant = 100'000;

SocketAddress address(const char* text) {
  return std::move(SocketAddress::parse(text)).value();
}

}  // namespace

Network::Network(NetworkConfig config, std::shared_ptr<const ClientTlsContext> client_tls,
                 std::shared_ptr<const ServerTlsContext> server_tls)
    : config_(std::move(config)),
      client_tls_(std::move(client_tls)),
      server_tls_(std::move(server_tls)),
      // Each direction draws from its own generator, both from the one seed.
      to_server_(config_.to_server, config_.seed * 2 + 1),
      to_client_(config_.to_client, config_.seed * 2 + 2),
      client_local_(address("10.0.0.2:40000")),
      client_public_(client_local_),
      server_address_(address("10.0.0.1:7444")),
      // A fixed secret: the same tokens for the same seed.
      server_keys_(std::make_shared<const ServerKeys>(
          std::move(ServerKeys::derive(ServerSecret{})).value())),
      dispatcher_(std::make_unique<DatagramDispatcher>(config_.limits, server_keys_)),
      start_(1'000 * kSecond),
      now_(start_) {}

void Network::connect() {
  server_.reset();
  server_handshaking_ = false;
  server_routes_.clear();
  dispatcher_ = std::make_unique<DatagramDispatcher>(config_.limits, server_keys_);
  // The previous pair's datagrams still in flight would reach the new one.
  in_flight_ = {};
  client_ =
      std::move(Connection::connect(client_tls_, config_.client_limits.value_or(config_.limits),
                                    client_local_, server_address_, now_))
          .value();
}

void Network::rebind_client(const SocketAddress& address) {
  client_public_ = address;
}

void Network::flush(Connection& from, bool from_server) {
  DatagramBatch batch;
  from.write_datagrams(now_, batch);
  for (const auto& burst : batch.bursts) {
    for (std::size_t at = 0; at < burst.length; at += burst.segment_size) {
      std::span<const std::uint8_t> datagram(batch.buffer.data() + burst.offset + at,
                                             std::min(burst.segment_size, burst.length - at));
      if (from_server && on_server_sent) on_server_sent(datagram);
      Link& link = from_server ? to_client_ : to_server_;
      // The client's datagrams leave from wherever the NAT maps it now.
      const SocketAddress& source = from_server ? server_address_ : client_public_;
      for (auto& arrival : link.carry(datagram, now_)) {
        in_flight_.push(
            {arrival.at_ns, order_++, !from_server, source, burst.to, std::move(arrival.bytes)});
      }
    }
  }
  if (from_server) route_new_ids();
}

void Network::send_to_client(std::span<const std::uint8_t> datagram, const SocketAddress& to) {
  if (on_server_sent) on_server_sent(datagram);
  for (auto& arrival : to_client_.carry(datagram, now_)) {
    in_flight_.push(
        {arrival.at_ns, order_++, false, server_address_, to, std::move(arrival.bytes)});
  }
}

void Network::route_new_ids() {
  if (!server_) return;
  for (auto& id : server_->take_new_connection_ids()) {
    dispatcher_->add_route(id, server_serial_);
    server_routes_.insert(std::move(id));
  }
  for (auto& id : server_->take_retired_connection_ids()) {
    dispatcher_->remove_route(id, server_serial_);
    server_routes_.erase(id);
  }
  if (server_handshaking_ && server_->state() != Connection::State::Handshaking) {
    end_server_handshake();
  }
}

void Network::end_server_handshake() {
  server_handshaking_ = false;
  dispatcher_->handshake_ended("");
}

void Network::deliver_to_server(const InFlight& datagram) {
  if (on_server_received) on_server_received(datagram.bytes);
  std::array<std::uint8_t, NGTCP2_MAX_UDP_PAYLOAD_SIZE> answer;
  auto verdict =
      dispatcher_->dispatch(datagram.from, datagram.bytes, now_, server_ ? 1 : 0, answer);
  switch (verdict.action) {
    case DatagramDispatcher::Action::Deliver:
      server_->receive(server_address_, datagram.from, datagram.bytes, now_);
      return;
    case DatagramDispatcher::Action::Accept: {
      if (server_) return;  // one connection per simulation
      AcceptOptions options = verdict.accept_options;
      options.worker_cids = config_.worker_cids;
      auto accepted = Connection::accept(server_tls_, config_.limits, server_address_,
                                         datagram.from, datagram.bytes, now_, options);
      if (!accepted) return;  // not an acceptable Initial
      server_ = std::move(accepted).value();
      ++server_serial_;
      server_handshaking_ = true;
      dispatcher_->handshake_began("");
      route_new_ids();
      if (on_server_accepted) on_server_accepted(*server_);
      server_->receive(server_address_, datagram.from, datagram.bytes, now_);
      return;
    }
    default:  // answered statelessly, or dropped
      if (verdict.answer_length > 0) {
        send_to_client({answer.data(), verdict.answer_length}, datagram.from);
      }
      return;
  }
}

void Network::deliver(InFlight datagram) {
  if (datagram.to_server) {
    deliver_to_server(datagram);
    route_new_ids();
    return;
  }
  // Behind the NAT only the current mapping reaches the client.
  if (!(datagram.to == client_public_) || !client_) return;
  client_->receive(client_local_, datagram.from, datagram.bytes, now_);
}

void Network::discard_finished_server() {
  if (!server_ || !server_->finished()) return;
  server_endings_.push_back(server_->close_error() ? server_->close_error()->describe() : "closed");
  if (server_handshaking_) end_server_handshake();
  for (const auto& id : server_routes_) dispatcher_->remove_route(id, server_serial_);
  server_routes_.clear();
  server_.reset();
}

void Network::handle_expiries() {
  if (client_ && client_->expiry() <= now_) client_->handle_expiry(now_);
  if (server_ && server_->expiry() <= now_) {
    server_->handle_expiry(now_);
    route_new_ids();
  }
}

std::uint64_t Network::next_event_ns() const {
  std::uint64_t next = UINT64_MAX;
  if (!in_flight_.empty()) next = in_flight_.top().at_ns;
  if (client_ && !client_->finished()) next = std::min(next, client_->expiry());
  if (server_ && !server_->finished()) next = std::min(next, server_->expiry());
  return next;
}

bool Network::run_until(const std::function<bool()>& done, std::uint64_t limit_ns) {
  const std::uint64_t deadline = now_ + limit_ns;
  int steps_at_this_instant = 0;
  while (true) {
    if (client_) flush(*client_, false);
    if (server_) flush(*server_, true);
    discard_finished_server();
    if (done()) return true;
    const std::uint64_t next = std::max(next_event_ns(), now_);
    if (next == UINT64_MAX || next > deadline) return false;
    if (next == now_) {
      if (++steps_at_this_instant > kMaxStepsAtOneInstant) {
        throw std::logic_error("the simulation makes no progress: an expiry that never passes");
      }
    } else {
      steps_at_this_instant = 0;
    }
    now_ = next;
    while (!in_flight_.empty() && in_flight_.top().at_ns <= now_) {
      InFlight datagram = in_flight_.top();
      in_flight_.pop();
      deliver(std::move(datagram));
    }
    handle_expiries();
  }
}

void Network::run_for(std::uint64_t duration_ns) {
  const std::uint64_t until = now_ + duration_ns;
  run_until([] { return false; }, duration_ns);
  now_ = until;  // nothing was due before it: run_until stopped at the next event after it
}

}  // namespace palyra::transport::sim
