#include "palyra/runtime/quic_frontend.hpp"

#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "palyra/transport/connection.hpp"
#include "palyra/transport/stream.hpp"

namespace palyra::runtime {

// One call's way back over its QUIC stream. It keeps ids, not pointers: the
// stream or the whole connection may be gone when a journal completion
// comes back.
class QuicFrontend::StreamSink final : public CallSink {
 public:
  StreamSink(QuicFrontend& frontend, std::uint64_t connection_id, std::int64_t stream_id)
      : frontend_(&frontend),
        lifetime_(frontend.lifetime_),
        connection_id_(connection_id),
        stream_id_(stream_id) {}

  bool send(std::string_view frame) override {
    transport::Stream* s = stream();
    return s && s->write_frame(frame).ok();
  }
  bool send_framed(std::string framed) override {
    transport::Stream* s = stream();
    return s && s->write_framed(std::move(framed)).ok();
  }
  void finish() override {
    if (transport::Stream* s = stream()) s->finish();
  }
  std::uint64_t backlog_bytes() const override {
    transport::Stream* s = stream();
    return s ? s->unacknowledged_bytes() : 0;
  }
  void notify_when_writable(std::uint64_t low_water, std::function<void()> resume) override {
    transport::Stream* s = stream();
    if (!s) {
      resume();  // it will find alive() false
      return;
    }
    frontend_->waiting_writers_[{connection_id_, stream_id_}] = std::move(resume);
    s->notify_when_writable(low_water);
  }
  bool alive() const override { return stream() != nullptr; }

 private:
  transport::Stream* stream() const {
    if (lifetime_.expired()) return nullptr;
    transport::Connection* c = frontend_->server_->find_connection(connection_id_);
    if (!c || c->state() != transport::Connection::State::Established) return nullptr;
    return c->find_stream(stream_id_);
  }

  QuicFrontend* frontend_;
  std::weak_ptr<int> lifetime_;
  std::uint64_t connection_id_;
  std::int64_t stream_id_;
};

namespace {

// "node-a" or "-" (insecure mode: no client certificate).
std::string device_of(const transport::Connection& connection) {
  if (connection.is_enrollment()) return "(enrolling)";
  const auto& peer = connection.peer();
  if (!peer.device_id.empty()) return peer.device_id;
  return peer.common_name.empty() ? "-" : peer.common_name;
}

}  // namespace

Result<std::unique_ptr<QuicFrontend>> QuicFrontend::start(transport::EventLoop& loop,
                                                          const transport::SocketAddress& address,
                                                          const transport::ServerTlsConfig& tls,
                                                          const transport::Limits& limits,
                                                          NodeService& service,
                                                          transport::ServerWorker worker) {
  std::unique_ptr<QuicFrontend> frontend(new QuicFrontend(service));
  QuicFrontend* self = frontend.get();
  transport::ServerEvents events;
  events.on_connection = [](transport::Connection& c) {
    spdlog::info("connection accepted peer={} device_id={} cert_sha256={}",
                 c.remote_address().to_string(), device_of(c),
                 c.peer().fingerprint.empty() ? "-" : c.peer().fingerprint);
  };
  events.on_refused = [](const transport::SocketAddress& from, const Error& error) {
    spdlog::warn("connection refused peer={} reason=\"{}\"", from.to_string(), error.describe());
  };
  events.on_stream_readable = [self](transport::Connection& c, transport::Stream& s) {
    self->on_stream_readable(c, s);
  };
  events.on_stream_writable = [self](transport::Connection& c, transport::Stream& s) {
    self->on_stream_writable(c, s);
  };
  events.on_connection_closed = [self](transport::Connection& c, const Error& reason) {
    self->on_connection_closed(c, reason);
  };
  auto server =
      transport::Server::bind(loop, address, tls, limits, std::move(events), std::move(worker));
  if (!server) return std::move(server).error();
  frontend->server_ = std::move(*server);
  return frontend;
}

QuicFrontend::~QuicFrontend() {
  // Sinks held elsewhere see the lifetime token expire and go quiet.
  lifetime_.reset();
  server_.reset();
}

const transport::SocketAddress& QuicFrontend::local_address() const noexcept {
  return server_->local_address();
}

void QuicFrontend::close_all() {
  server_->close_all(transport::app_error::kShuttingDown, "daemon shutting down");
}

void QuicFrontend::on_stream_readable(transport::Connection& connection,
                                      transport::Stream& stream) {
  if (stream.user_tag != 0) {
    // The call already has its request; anything after it is ignored, but
    // taken, so flow control credit flows and the stream can end.
    while (stream.take_frame()) {
    }
    return;
  }
  auto request = stream.take_frame();
  if (!request && !stream.read_ended()) return;  // the request is still arriving
  stream.user_tag = next_call_id_++;
  while (stream.take_frame()) {
  }
  auto sink = std::make_shared<StreamSink>(*this, connection.user_tag, stream.id());
  if (!request) {
    // Too large, cut short, reset, or a FIN without any frame.
    spdlog::debug("unreadable request device_id={} stream={} reason=\"{}\"", device_of(connection),
                  stream.id(),
                  stream.read_error() ? stream.read_error()->describe() : "no request frame");
    NodeService::handle_unreadable(*sink);
    return;
  }
  service_.handle(*request,
                  Caller{connection.peer().device_id, connection.remote_address().to_string(),
                         connection.is_enrollment()},
                  std::move(sink));
}

void QuicFrontend::on_stream_writable(transport::Connection& connection,
                                      transport::Stream& stream) {
  auto it = waiting_writers_.find({connection.user_tag, stream.id()});
  if (it == waiting_writers_.end()) return;
  auto resume = std::move(it->second);
  waiting_writers_.erase(it);
  resume();
}

void QuicFrontend::on_connection_closed(transport::Connection& connection, const Error& reason) {
  spdlog::info("connection closed peer={} device_id={} reason=\"{}\"",
               connection.remote_address().to_string(), device_of(connection), reason.describe());
  wake_writers_of(connection.user_tag);
  service_.drop_dead_streams();
}

// Paused event streams of a closed connection resume once, see that their
// caller is gone, and are forgotten.
void QuicFrontend::wake_writers_of(std::uint64_t connection_id) {
  std::vector<std::function<void()>> resumes;
  auto first = waiting_writers_.lower_bound({connection_id, INT64_MIN});
  auto last = waiting_writers_.upper_bound({connection_id, INT64_MAX});
  for (auto it = first; it != last; ++it) resumes.push_back(std::move(it->second));
  waiting_writers_.erase(first, last);
  for (auto& resume : resumes) resume();
}

}  // namespace palyra::runtime
