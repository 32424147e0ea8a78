// The daemon's QUIC side: a transport::Server whose streams carry node.*
// calls to a NodeService (one call per stream, PROTOCOL.md §4), and one log
// line per connection accepted, refused or closed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#include "palyra/common/result.hpp"
#include "palyra/runtime/node_service.hpp"
#include "palyra/transport/io/server.hpp"

namespace palyra::runtime {

class QuicFrontend {
 public:
  // Binds the QUIC listener on `loop`; its calls go to `service`, which must
  // outlive the frontend and run on the same loop. `worker`: this listener
  // is one of several on the port (transport::Server::bind).
  static Result<std::unique_ptr<QuicFrontend>> start(transport::EventLoop& loop,
                                                     const transport::SocketAddress& address,
                                                     const transport::ServerTlsConfig& tls,
                                                     const transport::Limits& limits,
                                                     NodeService& service,
                                                     transport::ServerWorker worker = {});
  ~QuicFrontend();
  QuicFrontend(const QuicFrontend&) = delete;
  QuicFrontend& operator=(const QuicFrontend&) = delete;

  const transport::SocketAddress& local_address() const noexcept;
  std::size_t connection_count() const noexcept { return server_->connection_count(); }
  transport::ServerStats stats() const { return server_->stats(); }

  // After the revocation index was reloaded: closes the connections of
  // devices that are now revoked (application error 0x11).
  std::size_t close_revoked_connections() { return server_->close_revoked_connections(); }
  // New handshakes use the certificate, key and CA bundle of `tls`; live
  // connections are untouched. On error the previous ones stay.
  Status reload_tls(const transport::ServerTlsConfig& tls) { return server_->reload_tls(tls); }
  // Connections accepted from now on are traced (Server::set_qlog).
  void set_qlog(transport::QlogSinkFactory factory) { server_->set_qlog(std::move(factory)); }
  // Draining: new handshakes are ignored, live calls go on.
  void stop_accepting() noexcept { server_->stop_accepting(); }
  // Closes every connection with the shutting-down code (0x10).
  void close_all();

 private:
  class StreamSink;
  explicit QuicFrontend(NodeService& service) : service_(service) {}
  void on_stream_readable(transport::Connection& connection, transport::Stream& stream);
  void on_stream_writable(transport::Connection& connection, transport::Stream& stream);
  void on_connection_closed(transport::Connection& connection, const Error& reason);
  void wake_writers_of(std::uint64_t connection_id);

  NodeService& service_;
  std::unique_ptr<transport::Server> server_;
  std::uint64_t next_call_id_ = 1;
  // Event streams waiting for their backlog to drain: (connection, stream) -> resume.
  std::map<std::pair<std::uint64_t, std::int64_t>, std::function<void()>> waiting_writers_;
  // Sinks outlive us in posted completions; they check this first.
  std::shared_ptr<int> lifetime_ = std::make_shared<int>(0);
};

}  // namespace palyra::runtime
