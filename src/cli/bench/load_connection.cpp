#include "load_connection.hpp"

#include <fmt/format.h>

#include "figures.hpp"
#include "palyra/runtime/protocol.hpp"

namespace palyra::cli::bench {

using transport::Connection;
using transport::Stream;

Result<std::unique_ptr<LoadConnection>> LoadConnection::start(
    transport::EventLoop& loop, const transport::SocketAddress& server,
    std::shared_ptr<const transport::ClientTlsContext> tls, const transport::Limits& limits,
    const transport::ConnectOptions& options, Handlers handlers) {
  std::unique_ptr<LoadConnection> self(new LoadConnection(std::move(handlers)));
  auto client = transport::Client::start(loop, server, std::move(tls), limits, options);
  if (!client) return std::move(client).error();
  self->client_ = std::move(*client);
  LoadConnection* raw = self.get();
  auto& events = self->client_->connection().events;
  events.on_established = [raw](Connection&) {
    raw->send_waiting();
    if (raw->handlers_.on_established) raw->handlers_.on_established();
  };
  events.on_stream_readable = [raw](Connection&, Stream& stream) {
    raw->on_stream_readable(stream);
  };
  events.on_streams_available = [raw](Connection&) { raw->send_waiting(); };
  events.on_closed = [raw](Connection&, const Error& error) {
    raw->fail_all(error);
    if (raw->handlers_.on_closed) raw->handlers_.on_closed(error);
  };
  return self;
}

bool LoadConnection::established() const noexcept {
  return client_->connection().state() == Connection::State::Established;
}

bool LoadConnection::closed() const noexcept {
  return client_->connection().state() == Connection::State::Closed;
}

void LoadConnection::call(std::string request, OnFrame on_frame, OnDone on_done) {
  waiting_.push_back(
      std::make_unique<Call>(Call{std::move(request), std::move(on_frame), std::move(on_done)}));
  if (established()) send_waiting();
}

void LoadConnection::send_waiting() {
  while (!waiting_.empty()) {
    auto stream = client_->connection().open_stream();
    if (!stream) {
      if (stream.error().code() == Errc::StreamLimitReached) return;  // on_streams_available
      fail_all(stream.error());
      return;
    }
    std::unique_ptr<Call> call = std::move(waiting_.front());
    waiting_.pop_front();
    Status written = (*stream)->write_frame(call->request);
    if (!written) {
      (*stream)->reset();
      call->on_done(written);
      continue;
    }
    (*stream)->finish();
    (*stream)->user_tag = next_tag_++;
    active_.emplace((*stream)->user_tag, std::move(call));
  }
}

void LoadConnection::on_stream_readable(Stream& stream) {
  auto found = active_.find(stream.user_tag);
  if (found == active_.end()) return;
  Call* call = found->second.get();
  while (auto frame = stream.take_frame()) call->on_frame(std::move(*frame));
  if (!stream.read_ended()) return;
  auto finished = active_.extract(stream.user_tag);
  if (finished.empty()) return;  // on_frame closed the connection and failed it already
  Status outcome = stream.read_error() ? Status(*stream.read_error()) : Status();
  finished.mapped()->on_done(outcome);
}

void LoadConnection::fail_all(const Error& error) {
  auto active = std::move(active_);
  auto waiting = std::move(waiting_);
  active_.clear();
  waiting_.clear();
  for (auto& [tag, call] : active) call->on_done(error);
  for (auto& call : waiting) call->on_done(error);
}

void call_health(LoadConnection& connection,
                 std::function<void(const Status& outcome, bool healthy)> done) {
  auto healthy = std::make_shared<bool>(false);
  connection.call(
      runtime::encode_health_request(),
      [healthy](std::string&& frame) {
        auto response = runtime::parse_response(frame);
        *healthy = response && response->kind == "health" && response->ok;
      },
      [healthy, done = std::move(done)](const Status& outcome) { done(outcome, *healthy); });
}

Status run_until(transport::EventLoop& loop, const std::function<bool()>& done,
                 std::chrono::seconds time_limit, std::string_view what) {
  const auto deadline = Clock::now() + time_limit;
  while (!done()) {
    if (Clock::now() >= deadline) {
      return Error(Errc::Timeout, fmt::format("{} did not finish within the time limit of {} s "
                                              "(--time-limit)",
                                              what, time_limit.count()));
    }
    PALYRA_TRY(loop.run_once(std::chrono::milliseconds(50)));
  }
  return {};
}

}  // namespace palyra::cli::bench
