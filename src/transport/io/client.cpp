#include "palyra/transport/io/client.hpp"

#include <fmt/format.h>

#include "connection_driver.hpp"
#include "core/tls_context.hpp"
#include "udp_socket.hpp"

namespace palyra::transport {

Result<std::shared_ptr<const ClientTlsContext>> load_client_tls(const ClientTlsConfig& config) {
  return ClientTlsContext::create(config);
}

Client::Client(std::unique_ptr<EventLoop> owned_loop, EventLoop& loop)
    : owned_loop_(std::move(owned_loop)), loop_(loop) {}

Client::~Client() {
  driver_.reset();
  if (socket_) loop_.unwatch(socket_->fd());
}

Result<std::unique_ptr<Client>> Client::start(EventLoop& loop, const SocketAddress& server,
                                              std::shared_ptr<const ClientTlsContext> tls,
                                              const Limits& limits, ConnectOptions options,
                                              std::shared_ptr<AddressTokenStore> tokens) {
  PALYRA_TRY(limits.validate());
  auto socket = UdpSocket::connect(server, limits.use_gso);
  if (!socket) return std::move(socket).error();
  std::unique_ptr<Client> client(new Client(nullptr, loop));
  client->socket_ = std::make_unique<UdpSocket>(std::move(*socket));
  client->server_ = server;
  client->server_name_ = tls->server_name();
  client->tokens_ = std::move(tokens);
  if (client->tokens_ && options.address_token.empty()) {
    options.address_token = client->tokens_->token_for(server, client->server_name_).value_or("");
  }
  auto connection = Connection::connect(std::move(tls), limits, client->socket_->local_address(),
                                        server, monotonic_ns(), options);
  if (!connection) return std::move(connection).error();
  client->connection_ = std::move(*connection);
  client->driver_ = std::make_unique<ConnectionDriver>(loop, *client->socket_);
  Client* self = client.get();
  client->connection_->on_output_pending = [self](Connection&) {
    if (self->flush_posted_) return;
    self->flush_posted_ = true;
    self->loop_.post([self, alive = std::weak_ptr<int>(self->lifetime_)] {
      if (alive.expired()) return;
      self->flush_posted_ = false;
      self->flush();
    });
  };
  PALYRA_TRY(loop.watch_readable(client->socket_->fd(), [self] { self->on_readable(); }));
  client->flush();  // the first flight
  return client;
}

Result<std::unique_ptr<Client>> Client::connect(const SocketAddress& server,
                                                const ClientTlsConfig& tls, const Limits& limits,
                                                const ConnectOptions& options,
                                                std::shared_ptr<AddressTokenStore> tokens) {
  auto context = load_client_tls(tls);
  if (!context) return std::move(context).error();
  auto loop = EventLoop::create();
  if (!loop) return std::move(loop).error();
  EventLoop& loop_ref = **loop;
  auto client = start(loop_ref, server, std::move(*context), limits, options, std::move(tokens));
  if (!client) return std::move(client).error();
  (*client)->owned_loop_ = std::move(*loop);
  PALYRA_TRY((*client)->wait_established());
  return client;
}

void Client::set_impairment(const NetworkImpairment& impairment) {
  impairer_ = std::make_unique<DatagramImpairer>(impairment);
}

void Client::on_readable() {
  const SocketAddress& local = socket_->local_address();
  socket_->receive([this, &local](const SocketAddress& from, std::span<std::uint8_t> datagram) {
    auto deliver = [this, &local](const SocketAddress& f, std::span<const std::uint8_t> d) {
      connection_->receive(local, f, d, monotonic_ns());
    };
    if (impairer_) {
      impairer_->process(from, datagram, deliver);
    } else {
      deliver(from, datagram);
    }
  });
  keep_new_token();
  flush();
}

void Client::keep_new_token() {
  auto token = connection_->take_new_token();
  if (token && tokens_) tokens_->keep(server_, server_name_, std::move(*token));
}

void Client::flush() {
  driver_->flush(*connection_, [this] {
    connection_->handle_expiry(monotonic_ns());
    flush();
  });
}

Status Client::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (connection_->state() == Connection::State::Closed && connection_->finished()) {
      return *connection_->close_error();
    }
    auto now = Clock::now();
    if (now >= deadline) {
      return Error(Errc::Timeout,
                   fmt::format("no answer from {} within {} ms",
                               connection_->remote_address().to_string(), timeout.count()));
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                std::chrono::milliseconds(1);
    PALYRA_TRY(loop_.run_once(std::min(wait, std::chrono::milliseconds(100))));
  }
  return {};
}

Status Client::wait_established() {
  // The handshake timeout is enforced by the connection itself (ngtcp2's
  // handshake timer), so this only bounds a wedged loop.
  auto status = run_until([this] { return connection_->state() != Connection::State::Handshaking; },
                          std::chrono::hours(24));
  if (!status) return status;
  if (connection_->state() == Connection::State::Closed) {
    // Let the CONNECTION_CLOSE go out before reporting.
    flush();
    return *connection_->close_error();
  }
  return {};
}

Result<Stream*> Client::open_stream(std::chrono::milliseconds timeout) {
  Result<Stream*> opened = connection_->open_stream();
  if (opened || opened.error().code() != Errc::StreamLimitReached) return opened;
  auto status = run_until(
      [&] {
        opened = connection_->open_stream();
        return opened.ok() || opened.error().code() != Errc::StreamLimitReached;
      },
      timeout);
  if (!status) return std::move(status).error();
  return opened;
}

Result<std::optional<std::string>> Client::read_frame(Stream& stream,
                                                      std::chrono::milliseconds timeout) {
  if (auto frame = stream.take_frame()) return std::optional<std::string>(std::move(frame));
  if (stream.read_error()) return *stream.read_error();
  if (stream.read_ended()) return std::optional<std::string>();
  PALYRA_TRY(run_until([&] { return stream.has_frame() || stream.read_ended(); }, timeout));
  if (auto frame = stream.take_frame()) return std::optional<std::string>(std::move(frame));
  if (stream.read_error()) return *stream.read_error();
  return std::optional<std::string>();
}

void Client::close() {
  if (connection_->state() != Connection::State::Closed) {
    connection_->close(app_error::kNoError, "done");
    flush();
  }
}

}  // namespace palyra::transport
