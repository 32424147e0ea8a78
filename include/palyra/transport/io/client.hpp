// The QUIC client endpoint: one connection on its own UDP socket.
//
// Two ways to use it. Asynchronously, on an application's event loop
// (start(), then ConnectionEvents) — what `palyra bench` does with many
// clients on one loop. Or blocking, for command-line tools: connect() waits
// for the handshake, and open_stream()/read_frame() drive the loop until
// their result is ready or a deadline passes.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "palyra/common/result.hpp"
#include "palyra/transport/connection.hpp"
#include "palyra/transport/io/address_token_store.hpp"
#include "palyra/transport/io/event_loop.hpp"
#include "palyra/transport/io/impairment.hpp"
#include "palyra/transport/limits.hpp"
#include "palyra/transport/socket_address.hpp"
#include "palyra/transport/tls_config.hpp"

namespace palyra::transport {

class UdpSocket;
class ConnectionDriver;
class DatagramImpairer;
class ClientTlsContext;

// Loads certificates once, for many connections with the same identity.
// ClientIdentityIncomplete, InvalidServerName, TlsConfigurationFailed,
// CertificateParsingFailed, PrivateKeyParsingFailed.
Result<std::shared_ptr<const ClientTlsContext>> load_client_tls(const ClientTlsConfig& config);

class Client {
 public:
  // Blocking: connects with its own event loop and waits until the server
  // has accepted us (handshake confirmed) and the pin matched.
  // HandshakeTimeout (with the ms), ConnectFailed (with the TLS alert or the
  // verification failure), PinnedCertificateMismatch { expected, actual }.
  // With `tokens`, the connection presents the server's last NEW_TOKEN
  // token from there and keeps the next one there (address_token_store.hpp).
  static Result<std::unique_ptr<Client>> connect(
      const SocketAddress& server, const ClientTlsConfig& tls, const Limits& limits = {},
      const ConnectOptions& options = {}, std::shared_ptr<AddressTokenStore> tokens = nullptr);

  // Asynchronous: starts the handshake on `loop` and returns at once; the
  // outcome arrives through connection().events. `tokens` as for connect().
  static Result<std::unique_ptr<Client>> start(EventLoop& loop, const SocketAddress& server,
                                               std::shared_ptr<const ClientTlsContext> tls,
                                               const Limits& limits = {},
                                               ConnectOptions options = {},
                                               std::shared_ptr<AddressTokenStore> tokens = nullptr);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Connection& connection() noexcept { return *connection_; }
  EventLoop& loop() noexcept { return loop_; }

  // --- Blocking helpers (drive the loop on the calling thread) ---
  // Waits until the connection is established; its close error otherwise.
  Status wait_established();
  // Opens a stream, waiting (up to `timeout`) while the peer's stream limit
  // is exhausted: the 33rd concurrent stream waits instead of failing.
  Result<Stream*> open_stream(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // The next frame; std::nullopt at a clean end of stream (FIN). Timeout,
  // FrameTooLarge, FrameReadFailed, StreamReset, or the connection's error.
  Result<std::optional<std::string>> read_frame(Stream& stream, std::chrono::milliseconds timeout);
  // Runs the loop until `done()` or the timeout. Timeout, or the
  // connection's close error if it ends first (unless done() is true).
  Status run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  // Closes cleanly (application error 0) and sends the CONNECTION_CLOSE.
  void close();

  // Test hook: a seeded lossy network on the receive path.
  void set_impairment(const NetworkImpairment& impairment);

 private:
  Client(std::unique_ptr<EventLoop> owned_loop, EventLoop& loop);
  void on_readable();
  void flush();
  // Moves a token the server just sent into the store.
  void keep_new_token();

  std::unique_ptr<EventLoop> owned_loop_;
  EventLoop& loop_;
  std::unique_ptr<UdpSocket> socket_;
  std::unique_ptr<Connection> connection_;
  std::unique_ptr<ConnectionDriver> driver_;
  std::unique_ptr<DatagramImpairer> impairer_;
  // Where the server's NEW_TOKEN tokens go, under its address and name; null: dropped.
  std::shared_ptr<AddressTokenStore> tokens_;
  SocketAddress server_;
  std::string server_name_;
  bool flush_posted_ = false;
  // Tasks posted to the loop hold a weak copy: they do nothing once we are gone.
  std::shared_ptr<int> lifetime_ = std::make_shared<int>(0);
};

}  // namespace palyra::transport
