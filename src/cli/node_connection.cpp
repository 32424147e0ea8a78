#include "node_connection.hpp"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "gateway_failover.hpp"
#include "grpc_channel.hpp"
#include "palyra/fallback/mapping.hpp"
#include "palyra/identity/certificate.hpp"
#include "palyra/identity/fingerprint.hpp"
#include "palyra/node/v1/node_transport.grpc.pb.h"
#include "palyra/transport/io/client.hpp"
#include "palyra/transport/io/fallback.hpp"
#include "palyra/transport/stream.hpp"

namespace palyra::cli {

std::atomic<bool>& stop_requested() {
  static std::atomic<bool> flag{false};
  return flag;
}

std::atomic<bool>& reconnect_requested() {
  static std::atomic<bool> flag{false};
  return flag;
}

namespace {
void request_stop(int) {
  stop_requested().store(true);
}
}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

bool call_interrupted() {
  return stop_requested().load() || reconnect_requested().load();
}

namespace {

using Clock = std::chrono::steady_clock;
namespace pb = node::v1;

Result<Next> deliver(const std::string& frame, const FrameHandler& on_frame) {
  auto response = runtime::parse_response(frame);
  if (!response) {
    return Error(Errc::FrameReadFailed, fmt::format("the daemon sent a malformed response: {}",
                                                    response.error().message()));
  }
  return on_frame(*response, frame);
}

class QuicNodeConnection final : public NodeConnection {
 public:
  explicit QuicNodeConnection(std::unique_ptr<transport::Client> client)
      : client_(std::move(client)) {}

  Status call(const std::string& request, std::chrono::milliseconds timeout, bool wait_forever,
              const FrameHandler& on_frame) override {
    auto stream = client_->open_stream(timeout);
    if (!stream) return std::move(stream).error();
    PALYRA_TRY((*stream)->write_frame(request));
    (*stream)->finish();
    const auto slice = std::chrono::milliseconds(200);
    auto deadline = Clock::now() + timeout;
    while (true) {
      if (call_interrupted()) return {};
      auto frame = client_->read_frame(**stream, wait_forever ? slice : std::min(slice, timeout));
      if (!frame) {
        if (frame.error().code() != Errc::Timeout) return std::move(frame).error();
        if (!wait_forever && Clock::now() >= deadline) {
          return Error(Errc::Timeout, fmt::format("no response within {} ms", timeout.count()));
        }
        continue;
      }
      if (!*frame) return {};  // the daemon finished the stream
      deadline = Clock::now() + timeout;
      auto next = deliver(**frame, on_frame);
      if (!next) return std::move(next).error();
      if (*next == Next::Stop) return {};
    }
  }
  void close() override { client_->close(); }
  const char* transport_name() const override { return "QUIC"; }

 private:
  std::unique_ptr<transport::Client> client_;
};

// The same calls over palyra.node.v1.NodeTransport. Responses come back as
// the exact frames QUIC would have carried (fallback::to_response_frame).
// For enrollment (tls.ca_spki_sha256) the channel goes to the enrollment
// listener and connects before the first call: a server whose chain does
// not end in the token's CA is refused in the handshake, before any request
// is sent, and the error names both hashes.
class GrpcNodeConnection final : public NodeConnection {
 public:
  static Result<std::unique_ptr<NodeConnection>> open(const ResolvedConnection& c) {
    auto channel = open_grpc_channel(c);
    if (!channel) return std::move(channel).error();
    std::unique_ptr<GrpcNodeConnection> connection(new GrpcNodeConnection());
    connection->stub_ = std::move(channel->stub);
    connection->refusal_ = std::move(channel->refusal);
    connection->address_ = c.grpc_address;
    if (connection->refusal_) {
      PALYRA_TRY(connection->connect_checked(*channel->channel, c.timeout, c.tls.server_name));
    }
    if (c.tls.pinned_sha256) PALYRA_TRY(connection->check_pin(*c.tls.pinned_sha256, c.timeout));
    return std::unique_ptr<NodeConnection>(std::move(connection));
  }

  Status call(const std::string& request, std::chrono::milliseconds timeout, bool wait_forever,
              const FrameHandler& on_frame) override {
    auto parsed = runtime::parse_request(request);
    const auto* r = std::get_if<runtime::Request>(&parsed);
    if (r == nullptr) return Error(Errc::InvalidArgument, "not a valid request frame");
    grpc::ClientContext context;
    if (!wait_forever) context.set_deadline(std::chrono::system_clock::now() + timeout);
    pb::NodeResponse response;
    grpc::Status status;
    switch (r->method) {
      case runtime::Method::Health: {
        pb::HealthRequest message;
        message.set_protocol_version(runtime::kProtocolVersion);
        status = stub_->Health(&context, message, &response);
        break;
      }
      case runtime::Method::PublishEvent: {
        pb::PublishEventRequest message;
        message.set_protocol_version(runtime::kProtocolVersion);
        message.set_name(r->event_name);
        message.set_payload_json(r->event_payload_json);
        if (r->publish_id) message.set_id(*r->publish_id);
        status = stub_->PublishEvent(&context, message, &response);
        break;
      }
      case runtime::Method::Enroll: {
        pb::EnrollRequest message;
        message.set_protocol_version(runtime::kProtocolVersion);
        message.set_token(r->token);
        message.set_csr(r->csr_pem);
        if (r->device_id) message.set_device_id(*r->device_id);
        status = stub_->Enroll(&context, message, &response);
        break;
      }
      case runtime::Method::RenewCertificate: {
        pb::RenewCertificateRequest message;
        message.set_protocol_version(runtime::kProtocolVersion);
        message.set_csr(r->csr_pem);
        status = stub_->RenewCertificate(&context, message, &response);
        break;
      }
      case runtime::Method::StreamEvents:
        return stream_events(*r, context, on_frame);
    }
    if (!status.ok()) return grpc_error(status);
    auto frame = fallback::to_response_frame(response);
    if (!frame) return std::move(frame).error();
    auto next = deliver(*frame, on_frame);
    if (!next) return std::move(next).error();
    return {};
  }
  void close() override {}
  const char* transport_name() const override { return "gRPC over TCP"; }

 private:
  GrpcNodeConnection() = default;

  Status stream_events(const runtime::Request& r, grpc::ClientContext& context,
                       const FrameHandler& on_frame) {
    pb::StreamEventsRequest message;
    message.set_protocol_version(runtime::kProtocolVersion);
    if (r.resume_from) message.set_resume_from(*r.resume_from);
    message.set_follow(r.follow);
    auto reader = stub_->StreamEvents(&context, message);
    // A blocking Read does not notice SIGINT: cancel the call for it.
    std::atomic<bool> done{false};
    std::thread watcher([&] {
      while (!done.load()) {
        if (call_interrupted()) {
          context.TryCancel();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
    Status result;
    pb::NodeResponse response;
    while (reader->Read(&response)) {
      auto frame = fallback::to_response_frame(response);
      if (!frame) {
        result = std::move(frame).error();
        context.TryCancel();
        break;
      }
      auto next = deliver(*frame, on_frame);
      if (!next || *next == Next::Stop) {
        if (!next) result = std::move(next).error();
        context.TryCancel();
        break;
      }
    }
    done.store(true);
    watcher.join();
    auto status = reader->Finish();
    if (!result || call_interrupted()) return result;
    if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED)
      return grpc_error(status);
    if (status.error_code() == grpc::StatusCode::CANCELLED) {
      return Error(Errc::ConnectionClosed,
                   fmt::format("the daemon at {} cancelled the call", address_));
    }
    return {};
  }

  // Connects now, so the server's chain is checked before any call: refused
  // (the verifier's error), or not reachable within `timeout`.
  Status connect_checked(grpc::Channel& channel, std::chrono::milliseconds timeout,
                         const std::string& server_name) {
    if (channel.WaitForConnected(std::chrono::system_clock::now() + timeout)) return {};
    if (auto refused = refusal_->get()) {
      return Error(refused->code(), fmt::format("gRPC enrollment listener {} (server name {}) "
                                                "refused before sending anything: {}",
                                                address_, server_name, refused->message()));
    }
    return Error(Errc::ConnectFailed,
                 fmt::format("no gRPC connection to {} within {} ms", address_, timeout.count()));
  }

  // gRPC offers no hook before the handshake completes: pin on a health call
  // (it changes nothing) before any other call goes out.
  Status check_pin(const std::string& pin, std::chrono::milliseconds timeout) {
    auto expected = identity::normalize_fingerprint(pin);
    if (!expected) return std::move(expected).error();
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout);
    pb::HealthRequest request;
    request.set_protocol_version(runtime::kProtocolVersion);
    pb::NodeResponse response;
    auto status = stub_->Health(&context, request, &response);
    if (!status.ok()) return grpc_error(status);
    auto auth = context.auth_context();
    auto pems = auth ? auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME)
                     : std::vector<grpc::string_ref>{};
    if (pems.empty()) {
      return Error(Errc::MissingPeerIdentity, "the gRPC server presented no certificate to pin");
    }
    auto certificate = identity::Certificate::from_pem(
        std::string_view(pems.front().data(), pems.front().size()), "gRPC server certificate");
    if (!certificate) return std::move(certificate).error();
    if (certificate->fingerprint() != *expected) {
      return Error(
          Errc::PinnedCertificateMismatch,
          fmt::format("server certificate pin mismatch over gRPC: expected sha256 {}, got {}",
                      *expected, certificate->fingerprint()));
    }
    return {};
  }

  Error grpc_error(const grpc::Status& status) const {
    if (auto refused = refusal_ ? refusal_->get() : std::nullopt) {
      return Error(refused->code(), fmt::format("gRPC enrollment listener {} refused: {}", address_,
                                                refused->message()));
    }
    const Errc code = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                              status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
                          ? Errc::ConnectFailed
                          : Errc::ConnectionClosed;
    return Error(code, fmt::format("gRPC call to {} failed: {} (status {})", address_,
                                   status.error_message(), static_cast<int>(status.error_code())));
  }

  std::unique_ptr<pb::NodeTransport::Stub> stub_;
  std::shared_ptr<fallback::HandshakeRefusal> refusal_;  // enrollment only
  std::string address_;
};

}  // namespace

namespace {

// One gateway: QUIC, or the explicit gRPC fallback.
Result<std::unique_ptr<NodeConnection>> open_one_gateway(const ResolvedConnection& c,
                                                         bool privileged) {
  auto outcome = transport::connect_with_explicit_fallback(c.address, c.tls, c.limits, c.fallback,
                                                           privileged, c.quic, c.address_tokens);
  if (!outcome) return std::move(outcome).error();
  if (auto* client = std::get_if<std::unique_ptr<transport::Client>>(&*outcome)) {
    return std::unique_ptr<NodeConnection>(
        std::make_unique<QuicNodeConnection>(std::move(*client)));
  }
  const auto& fallback = std::get<transport::FallbackRequired>(*outcome);
  std::cerr << fmt::format("palyra: {} ({})\n", fallback.reason, c.grpc_address);
  return GrpcNodeConnection::open(c);
}

}  // namespace

Result<std::unique_ptr<NodeConnection>> open_node_connection(const ResolvedConnection& c,
                                                             bool privileged) {
  std::vector<std::pair<std::size_t, Error>> failures;
  for (std::size_t tried = 0; tried < c.gateways.size(); ++tried) {
    const ResolvedConnection one = at_gateway(c, c.gateway + tried);
    auto connection = open_one_gateway(one, privileged);
    if (connection) {
      (*connection)->gateway_ = one.gateway;
      return connection;
    }
    failures.emplace_back(one.gateway, std::move(connection).error());
    if (is_local_failure(failures.back().second)) break;
    if (tried + 1 < c.gateways.size()) {
      std::cerr << fmt::format("palyra: {}: {}; trying {}\n", one.address.to_string(),
                               failures.back().second.describe(),
                               at_gateway(c, one.gateway + 1).address.to_string());
    }
  }
  return no_gateway_answered(c, failures);
}

}  // namespace palyra::cli
